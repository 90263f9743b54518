import GRDB
import Journal
import JournalScoring

/// The journey timeline: every touchpoint of a customer with corrections and voids applied, and
/// each scored touchpoint's moment-of-truth score and reasons.
///
/// Tables:
/// - `entry`: one row per touchpoint event, keyed by its position. A `touchpoint.corrected` event
///   merges its corrected fields into the payload (the original is kept) and marks it `corrected`;
///   `touchpoint.voided` marks it `voided`. Rows are read in business-time order, so late-recorded
///   touchpoints land in their place. Scored rows carry their current score.
/// - `score`: the score history, append-only. A touchpoint is scored again when something it
///   depends on arrives (a survey about it, a correction, the case's next step, an earlier visit
///   recorded late); each new score is a row stamped with the recording time of the event that
///   caused it, so scores can be answered as known at any instant.
/// - `doc`: per customer, the whole timeline as the API writes it (the JSON array of its entries,
///   flags included), so that the most frequent read is one lookup. Triggers on `entry` mark a
///   customer's document stale (`entries` NULL) in the transaction that changes any of its rows;
///   ``settle(_:_:limit:)`` writes it again. A stale or missing document is never served: readers
///   then assemble the timeline from `entry`.
public struct JourneyTimeline: Projection {
    public static let projectionName = "timeline"
    public let name = JourneyTimeline.projectionName
    /// Code version × 10,000 + rules version: changing either rebuilds the projection.
    public let version: Int
    public let tables = ["entry", "score", "doc"]
    public let registry: SchemaRegistry
    public let rules: MomentRules

    /// The version of this code; the rules version is added to it.
    /// 6: the entry's source (whether its report is expected).
    static let codeVersion = 6

    public init(registry: SchemaRegistry, rules: MomentRules = .bundled) {
        self.registry = registry
        self.rules = rules
        self.version = Self.codeVersion * 10_000 + rules.version
    }

    public func createTables(_ db: Database, _ names: ProjectionTables) throws {
        let entry = names["entry"], score = names["score"], doc = names["doc"]
        try db.execute(sql: """
            CREATE TABLE \(entry) (
                position        INTEGER PRIMARY KEY,
                eventId         TEXT    NOT NULL UNIQUE,
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
            CREATE INDEX \(entry)_case ON \(entry) (customerId, caseId, occurredAtUs, position) WHERE caseId IS NOT NULL;
            CREATE INDEX \(entry)_ref ON \(entry) (customerId, ref, occurredAtUs, position) WHERE ref IS NOT NULL;
            CREATE TABLE \(score) (
                seq          INTEGER PRIMARY KEY,
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

    /// A customer's entries in time order and score history, and the triggers that mark a customer's
    /// document stale when an entry changes; a customer with entries and no document gets a stale one.
    public func completeTables(_ db: Database, _ names: ProjectionTables) throws {
        let entry = names["entry"], score = names["score"], doc = names["doc"]
        try db.execute(sql: """
            CREATE INDEX \(entry)_customer ON \(entry) (customerId, occurredAtUs, position);
            CREATE INDEX \(score)_customer ON \(score) (customerId, seq);
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
        let doc = names["doc"]
        let stale = try String.fetchAll(db.cachedStatement(sql: "SELECT customerId FROM \(doc) WHERE entries IS NULL LIMIT ?"), arguments: [limit])
        let update = try db.cachedStatement(sql: "UPDATE \(doc) SET entries = ? WHERE customerId = ?")
        var body: [UInt8] = []
        for customerId in stale {
            let entries = try Self.entries(of: customerId, filter: TimelineFilter(), table: names["entry"], db)
            body.removeAll(keepingCapacity: true)
            Documents.writeTimeline(entries, into: &body)
            try update.execute(arguments: [String(decoding: body, as: UTF8.self), customerId])
        }
        return stale.count
    }

    public func apply(_ events: [RecordedEvent], _ db: Database, _ names: ProjectionTables) throws {
        let tables = TimelineTables(entry: names["entry"], score: names["score"])
        let insert = try db.cachedStatement(sql: """
            INSERT INTO \(tables.entry) (position, eventId, customerId, occurredAtUs, occurredAt, knownAtUs, type, kind,
              caseId, assetId, siteId, actor, ref, payload, source, status)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'recorded')
            """)
        let scoring = CaseScoring(scorer: TouchpointScorer(rules: rules), tables: tables)
        for event in events {
            let knownAtUs = event.knownAt.microseconds
            switch event.type {
            case "touchpoint.corrected":
                if let target = try correct(event, entry: tables.entry, db) {
                    try scoring.amended(target, knownAtUs: knownAtUs, db)
                }
            case "touchpoint.voided":
                guard let target = event.payloadJSON["voidedEventId"]?.stringValue?.lowercased() else { continue }
                let void = try db.cachedStatement(sql: "UPDATE \(tables.entry) SET status = 'voided', amendedBy = ?, amendedAtUs = ? WHERE eventId = ?")
                try void.execute(arguments: [event.eventId.rawValue, knownAtUs, target])
                try scoring.amended(target, knownAtUs: knownAtUs, db)
            default:
                let kind = registry.entry(type: event.type, version: event.schemaVersion)?.touchpointKind ?? "other"
                let payload = event.payloadJSON
                let reference = Self.reference(type: event.type, payload: payload)
                try insert.execute(arguments: [
                    event.position, event.eventId.rawValue, event.customerId, event.occurred.microseconds, event.occurredAt,
                    knownAtUs, event.type, kind, event.caseId, event.assetId, event.siteId, event.actor, reference, event.payload, event.source,
                ])
                scoring.inserted(
                    CaseScoring.Row(position: event.position, eventId: event.eventId.rawValue, type: event.type, occurred: event.occurred,
                                    payload: payload, voided: false, valence: nil, reasons: nil, ref: reference, source: event.source),
                    customerId: event.customerId, caseId: event.caseId)
                if event.type == "survey.answered", let related = reference {
                    scoring.surveyAdded(about: related)
                    try scoring.rescore(around: related, knownAtUs: knownAtUs, db)
                }
                if event.caseId != nil || rules.rule(for: event.type) != nil {
                    try scoring.rescore(
                        customerId: event.customerId, caseId: event.caseId, eventId: event.eventId.rawValue, knownAtUs: knownAtUs, db)
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
    private func correct(_ event: RecordedEvent, entry: String, _ db: Database) throws -> String? {
        let payload = event.payloadJSON
        guard let target = payload["correctedEventId"]?.stringValue?.lowercased(),
            case .object(let corrections)? = payload["corrections"],
            let current = try String.fetchOne(db, sql: "SELECT payload FROM \(entry) WHERE eventId = ?", arguments: [target]),
            case .object(var members) = try JSONParser.parse(current)
        else { return nil }
        for correction in corrections {
            if let index = members.firstIndex(where: { $0.key == correction.key }) {
                members[index].value = correction.value
            } else {
                members.append(correction)
            }
        }
        try db.execute(
            sql: """
                UPDATE \(entry) SET originalPayload = coalesce(originalPayload, payload), payload = ?,
                  status = CASE status WHEN 'voided' THEN 'voided' ELSE 'corrected' END, amendedBy = ?, amendedAtUs = ?
                WHERE eventId = ?
                """,
            arguments: [CanonicalJSON.string(.object(members)), event.eventId.rawValue, event.knownAt.microseconds, target])
        return target
    }
}

/// The physical tables of one generation of the timeline.
struct TimelineTables {
    let entry: String
    let score: String
}
