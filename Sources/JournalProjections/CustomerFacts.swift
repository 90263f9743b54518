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
    /// 5: the search terms — machines' serials, case and quote ids, sites' cities.
    public let version = 5
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
            CREATE INDEX \(fact)_revenue ON \(fact) (occurredAtUs) WHERE kind = 'revenue';
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

    /// A customer's facts, and customers by name.
    public func completeTables(_ db: Database, _ names: ProjectionTables) throws {
        let fact = names["fact"]
        try db.execute(sql: """
            CREATE INDEX \(fact)_customer ON \(fact) (customerId, position, revision);
            CREATE INDEX \(fact)_name ON \(fact) (kind, key, customerId, position, revision) WHERE kind = 'registered';
            """)
    }

    public func apply(_ events: [RecordedEvent], _ db: Database, _ names: ProjectionTables) throws {
        let fact = names["fact"]
        var insert = try BoundStatement(db, sql: """
            INSERT INTO \(fact) (position, revision, customerId, kind, occurredAtUs, knownAtUs, amount, key, detail)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        func write(_ facts: [Fact], position: Int64, revision: Int, customerId: String, occurredAtUs: Int64, knownAtUs: Int64) throws {
            for fact in facts {
                insert.bind(position)
                insert.bind(revision)
                insert.bind(customerId)
                insert.bind(fact.kind)
                insert.bind(occurredAtUs)
                insert.bind(knownAtUs)
                insert.bind(fact.amount)
                insert.bind(fact.key)
                insert.bind(fact.detail)
                try insert.run()
            }
        }
        var insertTerm = try BoundStatement(db, sql: "INSERT OR IGNORE INTO \(names["term"]) (term, kind, value, customerId) VALUES (?, ?, ?, ?)")
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
                    insertTerm.bind(value.lowercased())
                    insertTerm.bind(kind)
                    insertTerm.bind(value)
                    insertTerm.bind(event.customerId)
                    try insertTerm.run()
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
