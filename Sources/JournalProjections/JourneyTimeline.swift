import GRDB
import Journal

/// The journey timeline: every touchpoint of a customer with corrections and voids applied.
///
/// One row per touchpoint event, keyed by its position. A `touchpoint.corrected` event merges its
/// corrected fields into the touchpoint's payload (the original payload is kept) and marks it
/// `corrected`; `touchpoint.voided` marks it `voided`. Corrections and voids are not rows of their own.
/// Rows are read in business-time order, so late-recorded touchpoints land in their place.
public struct JourneyTimeline: Projection {
    public let name = "timeline"
    public let version = 1
    public let tables = ["entry"]
    public let registry: SchemaRegistry

    public init(registry: SchemaRegistry) {
        self.registry = registry
    }

    public func createTables(_ db: Database, _ names: ProjectionTables) throws {
        let entry = names["entry"]
        try db.execute(sql: """
            CREATE TABLE \(entry) (
                position        INTEGER PRIMARY KEY,
                eventId         TEXT    NOT NULL UNIQUE,
                customerId      TEXT    NOT NULL,
                occurredAtUs    INTEGER NOT NULL,
                occurredAt      TEXT    NOT NULL,
                recordedAtUs    INTEGER NOT NULL,
                type            TEXT    NOT NULL,
                kind            TEXT    NOT NULL,
                caseId          TEXT,
                assetId         TEXT,
                siteId          TEXT,
                actor           TEXT,
                payload         TEXT    NOT NULL,
                originalPayload TEXT,
                status          TEXT    NOT NULL CHECK (status IN ('recorded', 'corrected', 'voided')),
                amendedBy       TEXT,
                amendedAtUs     INTEGER
            ) STRICT;
            CREATE INDEX \(entry)_customer ON \(entry) (customerId, occurredAtUs, position);
            """)
    }

    public func apply(_ events: [RecordedEvent], _ db: Database, _ names: ProjectionTables) throws {
        let entry = names["entry"]
        let insert = try db.cachedStatement(sql: """
            INSERT INTO \(entry) (position, eventId, customerId, occurredAtUs, occurredAt, recordedAtUs, type, kind,
              caseId, assetId, siteId, actor, payload, status)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'recorded')
            """)
        for event in events {
            switch event.type {
            case "touchpoint.corrected":
                try correct(event, entry: entry, db)
            case "touchpoint.voided":
                guard let target = event.payloadJSON["voidedEventId"]?.stringValue else { continue }
                try db.execute(
                    sql: "UPDATE \(entry) SET status = 'voided', amendedBy = ?, amendedAtUs = ? WHERE eventId = ?",
                    arguments: [event.eventId.rawValue, event.recorded.microseconds, target.lowercased()])
            default:
                let kind = registry.entry(type: event.type, version: event.schemaVersion)?.touchpointKind ?? "other"
                try insert.execute(arguments: [
                    event.position, event.eventId.rawValue, event.customerId, event.occurred.microseconds, event.occurredAt,
                    event.recorded.microseconds, event.type, kind, event.caseId, event.assetId, event.siteId, event.actor,
                    event.payload,
                ])
            }
        }
    }

    /// Merges the corrected fields into the touchpoint's current payload; keeps the first original.
    private func correct(_ event: RecordedEvent, entry: String, _ db: Database) throws {
        let payload = event.payloadJSON
        guard let target = payload["correctedEventId"]?.stringValue?.lowercased(),
            case .object(let corrections)? = payload["corrections"],
            let current = try String.fetchOne(db, sql: "SELECT payload FROM \(entry) WHERE eventId = ?", arguments: [target]),
            case .object(var members) = try JSONParser.parse(current)
        else { return }
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
            arguments: [CanonicalJSON.string(.object(members)), event.eventId.rawValue, event.recorded.microseconds, target])
    }
}
