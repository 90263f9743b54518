import Foundation
import GRDB
import GRDBSQLite
import JournalStore
import JournalTesting
import Testing

/// SQLite's process-wide options, set as the program loads.
struct SQLiteSettingsTests {
    @Test func sqliteCountsNoMemoryWhileAJournalIsWrittenAndRead() throws {
        #expect(JournalDatabase.sqliteSettingsResult == SQLITE_OK)
        let path = TestSupport.temporaryDirectory("tpj-settings").appendingPathComponent("journal.sqlite").path
        let store = try EventStore(writer: try JournalDatabase.open(path: path))
        try store.append([Events.note(1)], to: "C-1")
        #expect(try store.history(of: "C-1").count == 1)
        // With the count kept, SQLite's page caches alone would hold megabytes.
        #expect(sqlite3_memory_used() == 0 && sqlite3_memory_highwater(0) == 0)
    }
}
