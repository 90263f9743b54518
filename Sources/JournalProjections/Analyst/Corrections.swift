import GRDB
import Journal

/// The corrections and voids of the log applied to the events they point at, kept as revisions so
/// that an event's content as known at any time can be read back.
///
/// A `touchpoint.corrected` adds the next revision of its target with the target's payload and every
/// correction so far merged in (each correction's fields replace the payload's top-level fields); a
/// `touchpoint.voided` adds a revision marked void. The analyst views read the latest revision known
/// by their as-of time (``AnalystSurface``).
public struct Corrections: Projection {
    public let name = "corrections"
    /// 2: a correction that spells its target's id in capitals is merged in too.
    public let version = 2
    public let tables = ["revision"]
    /// Only corrections and voids are read: the events they point at are looked up in the log.
    public var eventTypes: Set<String>? { Self.amendments }

    static let amendments: Set<String> = ["touchpoint.corrected", "touchpoint.voided"]

    public init() {}

    public func createTables(_ db: Database, _ names: ProjectionTables) throws {
        try db.execute(sql: """
            CREATE TABLE \(names["revision"]) (
                position   INTEGER NOT NULL,
                revision   INTEGER NOT NULL CHECK (revision >= 1),
                knownAtUs  INTEGER NOT NULL,
                voided     INTEGER NOT NULL CHECK (voided IN (0, 1)),
                payload    TEXT CHECK ((payload IS NULL) = (voided = 1)),
                byPosition INTEGER NOT NULL,
                PRIMARY KEY (position, revision)
            ) STRICT
            """)
    }

    public func apply(_ events: [RecordedEvent], _ db: Database, _ names: ProjectionTables) throws {
        let table = names["revision"]
        for event in events where Self.amendments.contains(event.type) {
            let voided = event.type == "touchpoint.voided"
            let payload = event.payloadJSON
            guard let target = (voided ? payload["voidedEventId"] : payload["correctedEventId"])?.stringValue?.lowercased(),
                let source = try Row.fetchOne(
                    db, sql: "SELECT position, payload FROM event WHERE eventId = ?", arguments: [target])
            else { continue }
            let position: Int64 = source["position"]
            let last = try Row.fetchOne(
                db, sql: "SELECT revision, voided FROM \(table) WHERE position = ? ORDER BY revision DESC LIMIT 1", arguments: [position])
            // A void is final: later corrections of a voided event change nothing.
            if let last, (last["voided"] as Int) == 1 { continue }
            let revision = (last?["revision"] as Int? ?? 0) + 1
            let corrected: String? = voided
                ? nil
                : CanonicalJSON.string(
                    try Self.correctedPayload(source["payload"], target: target, customerId: event.customerId, through: event.position, db))
            try db.execute(
                sql: "INSERT INTO \(table) (position, revision, knownAtUs, voided, payload, byPosition) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [position, revision, event.knownAt.microseconds, voided ? 1 : 0, corrected, event.position])
        }
    }

    /// The payload `stored` of the event `target` (lower-cased) with every correction of it up to
    /// `position` merged in, in log order, however each correction spells the target's id.
    static func correctedPayload(_ stored: String, target: String, customerId: String, through position: Int64, _ db: Database) throws -> JSONValue {
        let corrections = try String.fetchAll(db, sql: """
            SELECT payload FROM event WHERE type = 'touchpoint.corrected' AND customerId = ? AND position <= ?
              AND lower(json_extract(payload, '$.correctedEventId')) = ? ORDER BY position
            """, arguments: [customerId, position, target])
        return merged(try JSONParser.parse(stored), corrections: try corrections.map { try JSONParser.parse($0) })
    }

    /// `payload` with the `corrections` of each correction's payload merged in, in order: each field
    /// replaces the payload's top-level field of its name, or is added.
    static func merged(_ payload: JSONValue, corrections: [JSONValue]) -> JSONValue {
        var current = payload
        for correction in corrections {
            guard case .object(let changes)? = correction["corrections"], case .object(var members) = current else { continue }
            for change in changes {
                if let index = members.firstIndex(where: { $0.key == change.key }) { members[index].value = change.value } else { members.append(change) }
            }
            current = .object(members)
        }
        return current
    }
}
