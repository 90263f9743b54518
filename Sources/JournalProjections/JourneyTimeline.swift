import GRDB
import Journal
import JournalScoring

/// The journey timeline: every touchpoint of a customer with corrections and voids applied, and
/// each scored touchpoint's moment-of-truth score and reasons.
///
/// Tables:
/// - `entry`: one row per touchpoint event, keyed by its event id. A `touchpoint.corrected` event
///   merges its corrected fields into the payload (the original is kept) and marks it `corrected`;
///   `touchpoint.voided` marks it `voided`. Rows are read in business-time order, so late-recorded
///   touchpoints land in their place. Scored rows carry their current score.
/// - `score`: the score history, append-only. A touchpoint is scored again when something it
///   depends on arrives (a survey about it, a correction, the case's next step, an earlier visit
///   recorded late); each new score is a row stamped with the recording time of the event that
///   caused it, so scores can be answered as known at any instant. Its `seq` is that event's position
///   × 2²⁰ plus the scores the event caused before: a customer's history in the order it was
///   recorded, the same however the log was folded.
/// - `doc`: per customer, the whole timeline as the API writes it (the JSON array of its entries,
///   flags included), so that the most frequent read is one lookup. Triggers on `entry` mark a
///   customer's document stale (`entries` NULL) in the transaction that changes any of its rows;
///   ``settle(_:_:limit:)`` writes it again. A stale or missing document is never served: readers
///   then assemble the timeline from `entry`.
///
/// A catch-up folds into the tables directly (``TimelineTableRows``); a rebuild folds each customer
/// in memory (``CustomerTimelineRows``) and writes its rows once, as the fold left them. Both run the
/// same fold.
public struct JourneyTimeline: Projection {
    public static let projectionName = "timeline"
    public let name = JourneyTimeline.projectionName
    /// Code version × 10,000 + rules version: changing either rebuilds the projection.
    public let version: Int
    public let tables = ["entry", "score", "doc"]
    public let registry: SchemaRegistry
    public let rules: MomentRules

    /// The version of this code; the rules version is added to it.
    /// 6: the entry's source (whether its report is expected). 7: entries and scores are not keyed by
    /// their row ids, and a score's `seq` comes from the event that caused it: customers fold apart.
    static let codeVersion = 7

    public init(registry: SchemaRegistry, rules: MomentRules = .bundled) {
        self.registry = registry
        self.rules = rules
        self.version = Self.codeVersion * 10_000 + rules.version
    }

    public func createTables(_ db: Database, _ names: ProjectionTables) throws {
        let entry = names["entry"], score = names["score"], doc = names["doc"]
        try db.execute(sql: """
            CREATE TABLE \(entry) (
                position        INTEGER NOT NULL,
                eventId         TEXT    NOT NULL,
                customerId      TEXT    NOT NULL,
                occurredAtUs    INTEGER NOT NULL,
                occurredAt      TEXT    NOT NULL,
                knownAtUs    INTEGER NOT NULL,
                type            TEXT    NOT NULL,
                kind            TEXT    NOT NULL,
                caseId          TEXT,
                assetId         TEXT,
                siteId          TEXT,
                actor           TEXT,
                ref             TEXT,
                payload         TEXT    NOT NULL,
                originalPayload TEXT,
                status          TEXT    NOT NULL CHECK (status IN ('recorded', 'corrected', 'voided')),
                amendedBy       TEXT,
                amendedAtUs     INTEGER,
                score           INTEGER,
                valence         REAL,
                impact          REAL,
                moment          INTEGER,
                promiseKind     TEXT,
                promiseKept     INTEGER,
                reasons         TEXT,
                rulesVersion    INTEGER,
                source          TEXT
            ) STRICT;
            CREATE TABLE \(score) (
                seq          INTEGER NOT NULL,
                position     INTEGER NOT NULL,
                customerId   TEXT    NOT NULL,
                caseId       TEXT,
                type         TEXT    NOT NULL,
                occurredAtUs INTEGER NOT NULL,
                knownAtUs INTEGER NOT NULL,
                voided       INTEGER NOT NULL,
                valence      REAL    NOT NULL,
                weighted     REAL    NOT NULL,
                criticality  REAL    NOT NULL,
                severity     REAL    NOT NULL,
                moment       INTEGER NOT NULL,
                promiseKind  TEXT,
                promiseKept  INTEGER,
                lateSeconds  INTEGER,
                reasons      TEXT    NOT NULL,
                rulesVersion INTEGER NOT NULL
            ) STRICT;
            CREATE TABLE \(doc) (
                customerId TEXT PRIMARY KEY,
                entries    TEXT
            ) STRICT;
            CREATE INDEX \(doc)_stale ON \(doc) (customerId) WHERE entries IS NULL;
            """)
    }

    /// Entries by event id (their key), a case's and a business object's entries (which scoring reads),
    /// a customer's entries in time order and score history (its key), and the triggers that mark a
    /// customer's document stale when an entry changes; a customer with entries and no document gets a
    /// stale one. The keys too are built here, once a rebuild has written every customer's rows.
    public func completeTables(_ db: Database, _ names: ProjectionTables) throws {
        let entry = names["entry"], score = names["score"], doc = names["doc"]
        try db.execute(sql: """
            CREATE UNIQUE INDEX \(entry)_event ON \(entry) (eventId);
            CREATE INDEX \(entry)_case ON \(entry) (customerId, caseId, occurredAtUs, position) WHERE caseId IS NOT NULL;
            CREATE INDEX \(entry)_ref ON \(entry) (customerId, ref, occurredAtUs, position) WHERE ref IS NOT NULL;
            CREATE INDEX \(entry)_customer ON \(entry) (customerId, occurredAtUs, position);
            CREATE UNIQUE INDEX \(score)_customer ON \(score) (customerId, seq);
            INSERT OR IGNORE INTO \(doc) (customerId) SELECT DISTINCT customerId FROM \(entry);
            CREATE TRIGGER \(entry)_inserted AFTER INSERT ON \(entry) BEGIN
                INSERT INTO \(doc) (customerId) VALUES (NEW.customerId)
                ON CONFLICT (customerId) DO UPDATE SET entries = NULL WHERE entries IS NOT NULL;
            END;
            CREATE TRIGGER \(entry)_updated AFTER UPDATE ON \(entry) BEGIN
                UPDATE \(doc) SET entries = NULL WHERE customerId IN (OLD.customerId, NEW.customerId) AND entries IS NOT NULL;
            END;
            """)
    }

    /// Writes the documents of up to `limit` customers whose timeline changed since theirs was written.
    public func settle(_ db: Database, _ names: ProjectionTables, limit: Int) throws -> Int {
        let stale = try String.fetchAll(db.cachedStatement(sql: "SELECT customerId FROM \(names["doc"]) WHERE entries IS NULL LIMIT ?"), arguments: [limit])
        let update = try db.cachedStatement(sql: "UPDATE \(names["doc"]) SET entries = ? WHERE customerId = ?")
        for customerId in stale {
            try update.execute(arguments: [try Self.document(of: customerId, table: names["entry"], db), customerId])
        }
        return stale.count
    }

    /// The documents of up to `limit` customers with a stale one, in customer-id order after `piece`.
    public func prepareSettle(_ db: Database, _ names: ProjectionTables, after piece: String?, limit: Int) throws -> (any PreparedSettle)? {
        let stale = try String.fetchAll(
            db.cachedStatement(sql: "SELECT customerId FROM \(names["doc"]) WHERE entries IS NULL AND customerId > ? ORDER BY customerId LIMIT ?"),
            arguments: [piece ?? "", limit])
        guard let last = stale.last else { return nil }
        return try PreparedDocuments(last: last, documents: stale.map { ($0, try Self.document(of: $0, table: names["entry"], db)) })
    }

    /// A customer's whole timeline, as its stored document holds it, from the entry table `table`.
    private static func document(of customerId: String, table: String, _ db: Database) throws -> String {
        var body: [UInt8] = []
        Documents.writeTimeline(try entries(of: customerId, filter: TimelineFilter(), table: table, db), into: &body)
        return String(decoding: body, as: UTF8.self)
    }

    /// Customers' documents prepared off the writer.
    private struct PreparedDocuments: PreparedSettle {
        let last: String
        let documents: [(customerId: String, entries: String)]

        func write(_ db: Database, _ names: ProjectionTables) throws -> Int {
            let update = try db.cachedStatement(sql: "UPDATE \(names["doc"]) SET entries = ? WHERE customerId = ? AND entries IS NULL")
            var written = 0
            for document in documents {
                try update.execute(arguments: [document.entries, document.customerId])
                written += db.changesCount
            }
            return written
        }
    }

    /// A customer's entries and scores come from its own events and the amendments of them.
    public var foldsCustomersApart: Bool { true }

    /// The documents are assembled from the entries; a customer without one is read from them.
    public var cacheTables: [String] { ["doc"] }

    /// Every customer with entries gets a stale document, which the settle work writes.
    public func refillCacheTables(_ db: Database, _ names: ProjectionTables) throws {
        try db.execute(sql: "INSERT OR IGNORE INTO \(names["doc"]) (customerId) SELECT DISTINCT customerId FROM \(names["entry"])")
    }

    public func apply(_ events: [RecordedEvent], _ db: Database, _ names: ProjectionTables) throws {
        try fold(events.lazy.map { ($0, $0.payloadJSON) }, into: TimelineTableRows(db, entry: names["entry"], score: names["score"]),
                 scorer: TouchpointScorer(rules: rules))
    }

    /// Folds each customer's events in memory (``CustomerTimelineRows``); each customer's rows are
    /// written once, as the fold left them.
    public func fold(customers group: CustomerEvents) throws -> any FoldedCustomers {
        let scorer = TouchpointScorer(rules: rules)
        return try FoldedTimelines(customers: group.customers.map { customer in
            let rows = CustomerTimelineRows()
            try fold(zip(group.events[customer], group.payloads[customer]), into: rows, scorer: scorer)
            return rows.rows
        })
    }

    /// The timelines of a group of customers, folded in memory, in customer-id order.
    private struct FoldedTimelines: FoldedCustomers {
        let customers: [FoldedTimelineRows]

        func write(_ db: Database, _ names: ProjectionTables) throws {
            let tables = TimelineTableRows(db, entry: names["entry"], score: names["score"])
            for rows in customers { try rows.write(to: tables) }
        }
    }

    /// Folds `events`, each with its payload parsed.
    private func fold(_ events: some Sequence<(RecordedEvent, JSONValue)>, into rows: any TimelineRows, scorer: TouchpointScorer) throws {
        let scoring = CaseScoring(scorer: scorer, timeline: rows)
        for (event, payload) in events {
            let knownAtUs = event.knownAt.microseconds
            scoring.folding(event.position)
            switch event.type {
            case "touchpoint.corrected":
                if let target = try correct(event, payload: payload, rows) {
                    try scoring.amended(target, knownAtUs: knownAtUs)
                }
            case "touchpoint.voided":
                guard let target = payload["voidedEventId"]?.stringValue?.lowercased() else { continue }
                try rows.amend(target, payload: nil, amendedBy: event.eventId.rawValue, amendedAtUs: knownAtUs)
                try scoring.amended(target, knownAtUs: knownAtUs)
            default:
                let kind = registry.entry(type: event.type, version: event.schemaVersion)?.touchpointKind ?? "other"
                let reference = Self.reference(type: event.type, payload: payload)
                try rows.insert(NewTouchpoint(event: event, kind: kind, reference: reference, payload: payload))
                scoring.inserted(
                    CaseScoring.Row(position: event.position, eventId: event.eventId.rawValue, type: event.type, occurred: event.occurred,
                                    payload: payload, voided: false, valence: nil, reasons: nil, ref: reference, source: event.source),
                    customerId: event.customerId, caseId: event.caseId)
                if event.type == "survey.answered", let related = reference {
                    scoring.surveyAdded(about: related)
                    try scoring.rescore(around: related, knownAtUs: knownAtUs)
                }
                if event.caseId != nil || rules.rule(for: event.type) != nil {
                    try scoring.rescore(customerId: event.customerId, caseId: event.caseId, eventId: event.eventId.rawValue, knownAtUs: knownAtUs)
                }
            }
        }
    }

    /// The id that ties a touchpoint to its business object: complaint, order, quote, or the event a survey is about.
    static func reference(type: String, payload: JSONValue) -> String? {
        switch type {
        case "complaint.filed", "complaint.acknowledged", "complaint.escalated", "complaint.resolved": payload["complaintId"]?.stringValue
        case "part.ordered", "part.delivered", "delivery.completed": payload["orderId"]?.stringValue
        case "quote.sent", "quote.accepted", "quote.declined": payload["quoteId"]?.stringValue
        case "survey.answered": payload["relatedEventId"]?.stringValue?.lowercased()
        default: nil
        }
    }

    /// Merges the corrected fields into the touchpoint's current payload; keeps the first original.
    /// Returns the corrected event's id.
    private func correct(_ event: RecordedEvent, payload: JSONValue, _ rows: any TimelineRows) throws -> String? {
        guard let target = payload["correctedEventId"]?.stringValue?.lowercased(),
            case .object(let corrections)? = payload["corrections"],
            let current = try rows.payload(of: target),
            case .object(var members) = try JSONParser.parse(current)
        else { return nil }
        for correction in corrections {
            if let index = members.firstIndex(where: { $0.key == correction.key }) {
                members[index].value = correction.value
            } else {
                members.append(correction)
            }
        }
        try rows.amend(target, payload: CanonicalJSON.string(.object(members)), amendedBy: event.eventId.rawValue, amendedAtUs: event.knownAt.microseconds)
        return target
    }
}
