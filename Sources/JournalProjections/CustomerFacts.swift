import GRDB
import Journal
import JournalStore

/// The business facts that segments and churn risk are computed from, kept as revisions so that
/// any past answer can be reproduced.
///
/// Each event that carries a fact (an invoice, a parts order, a quote answer, a complaint, a survey,
/// a contract, the customer's registration, loss or return) adds revision 0 of its facts. A
/// correction adds the next revision with the corrected values; a void adds a revision without facts.
/// Facts as known at T are the latest revision of each event recorded by T.
///
/// It also keeps where the ABC segments divide at the start of every month (``MonthlySegments``), so
/// that one customer's segment costs that customer's facts, not the portfolio's.
public struct CustomerFacts: Projection {
    public let name = "facts"
    /// 2: an index of customers' names for the customer search. 4: the segments' monthly boundaries.
    /// 5: the search terms — machines' serials, case and quote ids, sites' cities. 6: the indexes the
    /// segments' boundaries are computed from hold what they read. 7: a correction that spells its
    /// target's id in capitals is merged in too.
    public let version = 7
    public let tables = ["fact", "segment", "term"]

    public init() {}

    public func createTables(_ db: Database, _ names: ProjectionTables) throws {
        let fact = names["fact"]
        try db.execute(sql: """
            CREATE TABLE \(fact) (
                position     INTEGER NOT NULL,
                revision     INTEGER NOT NULL,
                customerId   TEXT    NOT NULL,
                kind         TEXT    NOT NULL,
                occurredAtUs INTEGER NOT NULL,
                knownAtUs INTEGER NOT NULL,
                amount       REAL,
                key          TEXT,
                detail       TEXT,
                PRIMARY KEY (position, revision, kind)
            ) STRICT;
            CREATE INDEX \(fact)_revenue ON \(fact) (occurredAtUs, position, revision, customerId, knownAtUs, amount) WHERE kind = 'revenue';
            CREATE INDEX \(fact)_revised ON \(fact) (occurredAtUs, position, revision, kind, knownAtUs) WHERE revision > 0;
            """)
        try MonthlySegments.createTable(db, names["segment"])
        // What a customer can be found by besides its id and name, lower-cased for a prefix search.
        try db.execute(sql: """
            CREATE TABLE \(names["term"]) (
                term       TEXT NOT NULL,
                kind       TEXT NOT NULL,
                value      TEXT NOT NULL,
                customerId TEXT NOT NULL,
                PRIMARY KEY (term, kind, customerId)
            ) STRICT, WITHOUT ROWID
            """)
    }

    /// A customer's facts, customers by name, and the segments' monthly boundaries, which a rebuild's
    /// fold leaves to be computed once from all its facts.
    public func completeTables(_ db: Database, _ names: ProjectionTables) throws {
        let fact = names["fact"]
        try db.execute(sql: """
            CREATE INDEX \(fact)_customer ON \(fact) (customerId, position, revision);
            CREATE INDEX \(fact)_name ON \(fact) (kind, key, customerId, position, revision) WHERE kind = 'registered';
            """)
        let known = try Row.fetchOne(db, sql: "SELECT min(knownAtUs), max(knownAtUs) FROM \(fact)")
        if let earliest = known?[0] as Int64?, let latest = known?[1] as Int64? {
            try MonthlySegments(facts: fact, boundaries: names["segment"]).update(changed: [], earliestKnown: earliest, latestKnown: latest, db)
        }
    }

    public func apply(_ events: [RecordedEvent], _ db: Database, _ names: ProjectionTables) throws {
        let fact = names["fact"]
        var rows = try FactRows(db, names)
        func write(_ facts: [Fact], position: Int64, revision: Int, customerId: String, occurredAtUs: Int64, knownAtUs: Int64) throws {
            try rows.insert(facts, position: position, revision: revision, customerId: customerId, occurredAtUs: occurredAtUs, knownAtUs: knownAtUs)
        }
        // Revenue facts known at or before a stored month start change that month's boundaries.
        var changedMonths: [Range<Int64>] = [], earliestKnown: Int64?, latestKnown: Int64?
        func noteKnown(_ facts: [Fact], occurredAtUs: Int64, knownAtUs: Int64, revises: Bool) {
            guard !facts.isEmpty else { return }
            earliestKnown = min(earliestKnown ?? knownAtUs, knownAtUs)
            latestKnown = max(latestKnown ?? knownAtUs, knownAtUs)
            if revises || facts.contains(where: { $0.kind == "revenue" }) {
                changedMonths.append(MonthlySegments.affectedMonths(occurredAtUs: occurredAtUs, knownAtUs: knownAtUs))
            }
        }
        for event in events {
            switch event.type {
            case "touchpoint.corrected", "touchpoint.voided":
                let payload = event.payloadJSON
                let voided = event.type == "touchpoint.voided"
                guard let target = (voided ? payload["voidedEventId"] : payload["correctedEventId"])?.stringValue?.lowercased(),
                    let source = try Row.fetchOne(
                        db, sql: "SELECT position, type, payload, occurredAtUs FROM event WHERE eventId = ?", arguments: [target])
                else { continue }
                let position: Int64 = source["position"]
                guard let last = try Row.fetchOne(
                    db, sql: "SELECT revision, kind FROM \(fact) WHERE position = ? ORDER BY revision DESC LIMIT 1", arguments: [position])
                else { continue }
                let revision: Int = last["revision"]
                if (last["kind"] as String) == "void" { continue }
                var facts: [Fact] = [Fact(kind: "void")]
                if !voided {
                    let current = try Corrections.correctedPayload(
                        source["payload"], target: target, customerId: event.customerId, through: event.position, db)
                    facts = Self.facts(type: source["type"], payload: current)
                    if facts.isEmpty { facts = [Fact(kind: "void")] }
                }
                try write(facts, position: position, revision: revision + 1, customerId: event.customerId,
                          occurredAtUs: source["occurredAtUs"], knownAtUs: event.knownAt.microseconds)
                noteKnown(facts, occurredAtUs: source["occurredAtUs"], knownAtUs: event.knownAt.microseconds, revises: true)
            default:
                // Most events carry no facts: their payloads are not parsed.
                let payload: JSONValue? = Self.carriesFacts(event.type) ? event.payloadJSON : nil
                for (kind, value) in Self.searchTerms(event, payload: payload) {
                    try rows.insertTerm(kind: kind, value: value, customerId: event.customerId)
                }
                let facts = payload.map { Self.facts(type: event.type, payload: $0) } ?? []
                try write(facts, position: event.position, revision: 0, customerId: event.customerId,
                          occurredAtUs: event.occurred.microseconds, knownAtUs: event.knownAt.microseconds)
                noteKnown(facts, occurredAtUs: event.occurred.microseconds, knownAtUs: event.knownAt.microseconds, revises: false)
            }
        }
        if let earliestKnown, let latestKnown {
            try MonthlySegments(facts: fact, boundaries: names["segment"])
                .update(changed: changedMonths, earliestKnown: earliestKnown, latestKnown: latestKnown, db)
        }
    }

    /// A customer's facts come from its own events and the corrections and voids of them (which name
    /// an earlier event of the same customer); the segments' boundaries are computed once the fold is
    /// done (``completeTables(_:_:)``).
    public var foldsCustomersApart: Bool { true }

    /// Folds each customer's events in memory as ``apply(_:_:_:)`` folds them into the tables: the
    /// same rows, each written once.
    public func fold(customers group: CustomerEvents) throws -> any FoldedCustomers {
        var folded = FoldedFacts()
        for customer in group.customers { Self.fold(customer: customer, of: group, into: &folded) }
        return folded
    }

    /// Folds one customer's events (at `indices` of `group`, in position order) into `folded`.
    private static func fold(customer indices: Range<Int>, of group: CustomerEvents, into folded: inout FoldedFacts) {
        let events = group.events, payloads = group.payloads
        // Where each event is, and each fact-carrying event's latest revision and its kind.
        var byEvent: [String: Int] = [:], latest: [Int64: (revision: Int, kind: String)] = [:]
        // The payloads of the corrections so far, in log order, by the corrected event's id (lower-cased).
        var corrections: [String: [JSONValue]] = [:]
        func add(_ facts: [Fact], position: Int64, revision: Int, of event: RecordedEvent, occurredAtUs: Int64) {
            for fact in facts {
                folded.facts.append(FactRow(
                    position: position, revision: revision, customerId: event.customerId, fact: fact, occurredAtUs: occurredAtUs,
                    knownAtUs: event.knownAt.microseconds))
            }
            if let last = facts.last { latest[position] = (revision, last.kind) }
        }
        for index in indices {
            let event = events[index]
            byEvent[event.eventId.rawValue] = index
            switch event.type {
            case "touchpoint.corrected", "touchpoint.voided":
                let voided = event.type == "touchpoint.voided"
                let targetKey = voided ? "voidedEventId" : "correctedEventId"
                let payload = payloads[index]
                let target = payload[targetKey]?.stringValue?.lowercased()
                if !voided, let target { corrections[target, default: []].append(payload) }
                guard let target, let sourceIndex = byEvent[target] else { continue }
                let source = events[sourceIndex]
                guard let last = latest[source.position], last.kind != "void" else { continue }
                var facts: [Fact] = [Fact(kind: "void")]
                if !voided {
                    // The source's payload with every correction of it so far merged in, in log order.
                    facts = Self.facts(type: source.type, payload: Corrections.merged(payloads[sourceIndex], corrections: corrections[target] ?? []))
                    if facts.isEmpty { facts = [Fact(kind: "void")] }
                }
                add(facts, position: source.position, revision: last.revision + 1, of: event, occurredAtUs: source.occurred.microseconds)
            default:
                let payload: JSONValue? = Self.carriesFacts(event.type) ? payloads[index] : nil
                // In log order: the table's INSERT OR IGNORE keeps a term's first value, as a catch-up does.
                for (kind, value) in Self.searchTerms(event, payload: payload) {
                    folded.terms.append((kind, value, event.customerId))
                }
                add(payload.map { Self.facts(type: event.type, payload: $0) } ?? [], position: event.position, revision: 0, of: event,
                    occurredAtUs: event.occurred.microseconds)
            }
        }
    }

    /// The facts and search terms of a group of customers, folded in memory.
    private struct FoldedFacts: FoldedCustomers {
        var facts: [FactRow] = []
        var terms: [(kind: String, value: String, customerId: String)] = []

        func write(_ db: Database, _ names: ProjectionTables) throws {
            var rows = try FactRows(db, names)
            for fact in facts {
                try rows.insert(CollectionOfOne(fact.fact), position: fact.position, revision: fact.revision, customerId: fact.customerId,
                                occurredAtUs: fact.occurredAtUs, knownAtUs: fact.knownAtUs)
            }
            for term in terms { try rows.insertTerm(kind: term.kind, value: term.value, customerId: term.customerId) }
        }
    }

    /// A row of the `fact` table.
    private struct FactRow {
        var position: Int64
        var revision: Int
        var customerId: String
        var fact: Fact
        var occurredAtUs: Int64
        var knownAtUs: Int64
    }

    /// Writes rows of the `fact` and `term` tables.
    private struct FactRows {
        private var insertFact: BoundStatement
        private var insertTerm: BoundStatement

        init(_ db: Database, _ names: ProjectionTables) throws {
            insertFact = try BoundStatement(db, sql: """
                INSERT INTO \(names["fact"]) (position, revision, customerId, kind, occurredAtUs, knownAtUs, amount, key, detail)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            insertTerm = try BoundStatement(db, sql: "INSERT OR IGNORE INTO \(names["term"]) (term, kind, value, customerId) VALUES (?, ?, ?, ?)")
        }

        mutating func insert(_ facts: some Sequence<Fact>, position: Int64, revision: Int, customerId: String, occurredAtUs: Int64, knownAtUs: Int64) throws {
            for fact in facts {
                insertFact.bind(position)
                insertFact.bind(revision)
                insertFact.bind(customerId)
                insertFact.bind(fact.kind)
                insertFact.bind(occurredAtUs)
                insertFact.bind(knownAtUs)
                insertFact.bind(fact.amount)
                insertFact.bind(fact.key)
                insertFact.bind(fact.detail)
                try insertFact.run()
            }
        }

        /// A search term, lower-cased for a prefix search; the first value of a term is kept.
        mutating func insertTerm(kind: String, value: String, customerId: String) throws {
            insertTerm.bind(value.lowercased())
            insertTerm.bind(kind)
            insertTerm.bind(value)
            insertTerm.bind(customerId)
            try insertTerm.run()
        }
    }

    /// What an event lets its customer be found by: the machine's serial (asset id), the service case,
    /// the quote, and the cities of the sites a registration lists (from its `payload`, parsed when it
    /// carries facts, as quotes and registrations do).
    static func searchTerms(_ event: RecordedEvent, payload: JSONValue?) -> [(kind: String, value: String)] {
        var terms: [(kind: String, value: String)] = []
        if let assetId = event.assetId { terms.append(("machine", assetId)) }
        if let caseId = event.caseId { terms.append(("case", caseId)) }
        if event.type.hasPrefix("quote."), let quoteId = payload?["quoteId"]?.stringValue { terms.append(("quote", quoteId)) }
        if event.type == "customer.registered", case .array(let sites)? = payload?["sites"] {
            for site in sites { if let city = site["city"]?.stringValue { terms.append(("city", city)) } }
        }
        return terms.filter { !$0.value.isEmpty }
    }

    struct Fact {
        var kind: String
        var amount: Double? = nil
        var key: String? = nil
        var detail: String? = nil
    }

    /// The types of event that carry facts: those ``facts(type:payload:)`` has facts for.
    static let typesWithFacts = Set(SchemaRegistry.bundled.types.filter { !facts(type: $0, payload: .null).isEmpty })

    static func carriesFacts(_ type: String) -> Bool { typesWithFacts.contains(type) }

    /// The facts an event carries.
    static func facts(type: String, payload: JSONValue) -> [Fact] {
        func string(_ key: String) -> String? { payload[key]?.stringValue }
        func number(_ key: String) -> Double? {
            if case .number(let number)? = payload[key] { return number.value }
            return nil
        }
        switch type {
        case "invoice.issued": return [Fact(kind: "revenue", amount: number("amount"), key: string("invoiceId"), detail: string("category"))]
        case "part.ordered": return [Fact(kind: "order", amount: number("amount"), key: string("orderId"))]
        case "quote.sent": return [Fact(kind: "quote", amount: number("amount"), key: string("quoteId"))]
        case "quote.accepted": return [Fact(kind: "quote.accepted", key: string("quoteId"))]
        case "quote.declined": return [Fact(kind: "quote.declined", key: string("quoteId"), detail: string("reason"))]
        case "complaint.filed": return [Fact(kind: "complaint", key: string("complaintId"), detail: string("severity"))]
        case "complaint.resolved":
            return [Fact(kind: "complaint.resolved", amount: payload["customerSatisfied"] == .bool(false) ? 0 : 1, key: string("complaintId"))]
        case "hotline.call.received": return [Fact(kind: "call")]
        case "survey.answered":
            return [Fact(kind: "survey", amount: number("recommend"), key: string("surveyId"), detail: number("csi").map { String(Int($0)) })]
        case "contract.signed": return [Fact(kind: "contract", amount: number("annualValue"), key: string("contractId"), detail: string("endDate"))]
        case "contract.renewed": return [Fact(kind: "contract", amount: number("annualValue"), key: string("contractId"), detail: string("newEndDate"))]
        case "contract.cancelled": return [Fact(kind: "contract.cancelled", key: string("contractId"), detail: string("effectiveDate"))]
        case "maintenance.performed", "training.completed": return [Fact(kind: "proactive")]
        case "customer.registered": return [Fact(kind: "registered", key: string("name"))]
        case "customer.lost": return [Fact(kind: "lost", detail: string("reason"))]
        case "customer.reactivated": return [Fact(kind: "reactivated")]
        default: return []
        }
    }
}
