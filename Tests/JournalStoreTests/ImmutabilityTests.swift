import Foundation
import GRDB
import Journal
import JournalStore
import JournalTesting
import Testing

/// The log cannot be changed: not through the store's own connections, not through another connection.
@Suite struct ImmutabilityTests {
    static let columns = """
        position, eventId, customerId, streamVersion, type, schemaVersion, occurredAt, occurredAtUs, recordedAtUs, \
        caseId, assetId, siteId, actor, source, correlationId, causationId, payload, prevHash, hash, sourceRecordedAtUs, importRef
        """

    /// Every write path SQL offers to change or replace a stored row.
    static let attacks: [(name: String, sql: String)] = [
        ("UPDATE", #"UPDATE event SET payload = '{"text":"forged"}' WHERE position = 1"#),
        ("UPDATE OR REPLACE", "UPDATE OR REPLACE event SET position = 2 WHERE position = 1"),
        ("DELETE one", "DELETE FROM event WHERE position = 2"),
        ("DELETE all", "DELETE FROM event"),
        ("INSERT OR REPLACE at a stored position",
         "INSERT OR REPLACE INTO event SELECT position, eventId, customerId, streamVersion, type, schemaVersion, occurredAt, occurredAtUs, recordedAtUs, caseId, assetId, siteId, actor, source, correlationId, causationId, '{\"text\":\"forged\"}', prevHash, hash, sourceRecordedAtUs, importRef FROM event WHERE position = 1"),
        ("REPLACE with a stored eventId at the end",
         "REPLACE INTO event SELECT (SELECT max(position) + 1 FROM event), eventId, customerId, 99, type, schemaVersion, occurredAt, occurredAtUs, (SELECT max(recordedAtUs) FROM event), caseId, assetId, siteId, actor, source, correlationId, causationId, payload, (SELECT hash FROM event ORDER BY position DESC LIMIT 1), hash, sourceRecordedAtUs, importRef FROM event WHERE position = 1"),
        ("INSERT OR REPLACE with a stored stream version at the end",
         "INSERT OR REPLACE INTO event SELECT (SELECT max(position) + 1 FROM event), '00000000-0000-7000-8000-0000000000ff', customerId, streamVersion, type, schemaVersion, occurredAt, occurredAtUs, (SELECT max(recordedAtUs) FROM event), caseId, assetId, siteId, actor, source, correlationId, causationId, payload, (SELECT hash FROM event ORDER BY position DESC LIMIT 1), hash, sourceRecordedAtUs, importRef FROM event WHERE position = 1"),
        ("UPSERT DO UPDATE",
         "INSERT INTO event SELECT \(columns) FROM event WHERE position = 1 ON CONFLICT(eventId) DO UPDATE SET payload = '{\"text\":\"forged\"}'"),
        ("INSERT before the end",
         "INSERT INTO event SELECT 0, '00000000-0000-7000-8000-0000000000fe', 'C-9', 1, type, schemaVersion, occurredAt, occurredAtUs, recordedAtUs, caseId, assetId, siteId, actor, source, correlationId, causationId, payload, prevHash, hash, sourceRecordedAtUs, importRef FROM event WHERE position = 1"),
        ("INSERT at the end with a wrong prevHash",
         "INSERT INTO event SELECT (SELECT max(position) + 1 FROM event), '00000000-0000-7000-8000-0000000000fd', 'C-9', 1, type, schemaVersion, occurredAt, occurredAtUs, (SELECT max(recordedAtUs) FROM event), caseId, assetId, siteId, actor, source, correlationId, causationId, payload, prevHash, hash, sourceRecordedAtUs, importRef FROM event WHERE position = 1"),
        ("INSERT after a gap in positions",
         "INSERT INTO event SELECT (SELECT max(position) + 1000 FROM event), '00000000-0000-7000-8000-0000000000fb', 'C-9', 1, type, schemaVersion, occurredAt, occurredAtUs, (SELECT max(recordedAtUs) FROM event), caseId, assetId, siteId, actor, source, correlationId, causationId, payload, (SELECT hash FROM event ORDER BY position DESC LIMIT 1), hash, sourceRecordedAtUs, importRef FROM event WHERE position = 1"),
        ("INSERT at the end with a version gap",
         "INSERT INTO event SELECT (SELECT max(position) + 1 FROM event), '00000000-0000-7000-8000-0000000000fc', customerId, 7, type, schemaVersion, occurredAt, occurredAtUs, (SELECT max(recordedAtUs) FROM event), caseId, assetId, siteId, actor, source, correlationId, causationId, payload, (SELECT hash FROM event ORDER BY position DESC LIMIT 1), hash, sourceRecordedAtUs, importRef FROM event WHERE position = 1"),
    ]

    func snapshot(_ reader: any DatabaseReader) throws -> [Row] {
        try reader.read { db in try Row.fetchAll(db, sql: "SELECT \(Self.columns) FROM event ORDER BY position") }
    }

    enum Connection: String, CaseIterable, Sendable {
        /// The store's own writer.
        case store
        /// A plain connection that knows nothing of the journal, with recursive triggers off (SQLite's default).
        case foreign
    }

    @Test(arguments: Connection.allCases)
    func everyWritePathIsRefused(through connection: Connection) throws {
        // Given a journal file with events
        let path = TestSupport.temporaryDirectory().appendingPathComponent("journal.sqlite").path
        let store = try EventStore(writer: JournalDatabase.open(path: path))
        try store.append([Events.note(1), Events.note(2)], to: "C-1")
        try store.append([Events.note(3)], to: "C-2")
        let writer: any DatabaseWriter = connection == .store ? store.writer : try DatabaseQueue(path: path)
        let before = try snapshot(writer)
        // When each attack runs, then each fails and nothing changes.
        for attack in Self.attacks {
            // Refused by the journal's triggers, not by some other error.
            #expect("\(attack.name)") {
                try writer.writeWithoutTransaction { db in try db.execute(sql: attack.sql) }
            } throws: { error in
                (error as? DatabaseError)?.message?.hasPrefix("journal events are immutable") == true
            }
        }
        #expect(try snapshot(writer) == before)
        #expect(try store.verify().isIntact)
    }

    @Test func theMigratedSchemasMatchSchemasJournalAndProjectionsSQL() throws {
        // A file journal: the log in one file, the projections' state in the other.
        let path = TestSupport.temporaryDirectory("tpj-schema").appendingPathComponent("journal.sqlite").path
        let store = try EventStore(writer: JournalDatabase.open(path: path))
        for (writer, file) in [(store.writer, "journal.sql"), (store.projectionWriter, "projections.sql")] {
            let dump = try writer.write { db in
                try String.fetchAll(db, sql: "SELECT sql FROM main.sqlite_master WHERE name NOT LIKE 'grdb_%' AND sql IS NOT NULL ORDER BY type DESC, name")
                    .joined(separator: ";\n\n") + ";\n"
            }
            let url = TestSupport.repositoryRoot.appendingPathComponent("Schemas/\(file)")
            if ProcessInfo.processInfo.environment["RECORD_SNAPSHOTS"] == "1" {
                try dump.write(to: url, atomically: true, encoding: .utf8)
            }
            let recorded = try String(contentsOf: url, encoding: .utf8)
            #expect(dump == recorded, "Schemas/\(file) is out of date: run the tests with RECORD_SNAPSHOTS=1")
        }
        // In memory both live in one database.
        let tables = try JournalDatabase.inMemory().read { db in try Set(String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'")) }
        #expect(tables.isSuperset(of: ["event", "projection"]))
    }
}
