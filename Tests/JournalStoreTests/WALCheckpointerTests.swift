import Foundation
import GRDB
import Journal
import JournalStore
import JournalTesting
import Testing

/// The background checkpointer on a real WAL file: commits stop copying the log themselves, the
/// checkpointer copies it and starts it over, and detaching gives SQLite's own checkpoints back.
struct WALCheckpointerTests {
    /// Appends `batches` batches of 20 notes of about a page each.
    static func append(_ batches: Int, to store: EventStore, from n: inout Int) throws {
        for _ in 0..<batches {
            let events = (0..<20).map { offset in Events.note(n + offset, String(repeating: "long note ", count: 300)) }
            _ = try store.append([AppendBatch(customerId: "C-1", events: events)])
            n += events.count
        }
    }

    /// Pages the log's file holds (it grows as the log does and is reused when the log starts over).
    static func fileFrames(_ path: String) -> Int {
        let size = (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0
        return max(0, size - 32) / (4_096 + 24)
    }

    /// The log's checkpoint sequence number, from its file's header: one more each time the log starts over.
    static func restarts(_ path: String) throws -> UInt32 {
        let header = try #require(FileHandle(forReadingAtPath: path + "-wal")).readData(ofLength: 16)
        return header[12..<16].reduce(0) { $0 << 8 | UInt32($1) }
    }

    @Test func commitsLeaveTheLogToTheCheckpointerWhichStartsItOver() throws {
        let path = TestSupport.temporaryDirectory("tpj-checkpointer").appendingPathComponent("journal.sqlite").path
        let store = try EventStore(writer: JournalDatabase.open(path: path))
        let checkpointer = try WALCheckpointer(store: store, pages: 100, restartPages: 1_200)
        var n = 1
        try Self.append(1, to: store, from: &n)
        let start = try Self.restarts(path)
        checkpointer.attach()
        // About 1,600 pages: SQLite's own checkpoint would have started the log over at 1,000.
        try Self.append(64, to: store, from: &n)
        #expect(Self.fileFrames(path) >= 1_500)
        #expect(try Self.restarts(path) == start)

        checkpointer.checkpoint()
        try Self.append(1, to: store, from: &n)
        #expect(try Self.restarts(path) == start + 1)

        // Detached: the writer starts the log over at 1,000 pages again.
        checkpointer.detach()
        let grown = Self.fileFrames(path)
        try Self.append(64, to: store, from: &n)
        #expect(try Self.restarts(path) >= start + 2)
        #expect(Self.fileFrames(path) == grown, "the log's file grew although the log was started over")
        #expect(try store.verify().isIntact)
        #expect(try store.head() == Int64(n - 1))
    }
}
