import Foundation
import GRDB
import Journal
import JournalStore
import JournalTesting
import Testing

/// A customer's read checks only the events not checked before, for as long as no other connection has
/// committed; after another connection's commit, it checks the whole history again.
@Suite struct CheckedHistoriesTests {
    enum OwnCommit: String, CaseIterable, Sendable { case none, beforeTheEdit, afterTheEdit }

    /// An edit through another connection is found by the next read, whether or not this process's
    /// writer committed just before or after it.
    @Test(arguments: OwnCommit.allCases)
    func anEditThroughAnotherConnectionIsFoundByTheNextRead(ownCommit: OwnCommit) throws {
        let (store, path) = try makeStore()
        // Read on several connections, so that each has looked once.
        for _ in 1...4 { #expect(try store.checkHistory(of: "C-1")) }
        if ownCommit == .beforeTheEdit { try store.append([Events.call(20)], to: "C-2") }
        try alter(path, position: 4)
        if ownCommit == .afterTheEdit { try store.append([Events.call(21)], to: "C-0") }
        #expect(throws: JournalError.tampered(position: 4, customerId: "C-1")) { try store.checkHistory(of: "C-1") }
        #expect(try store.checkHistory(of: "C-2"), "other customers read as before")
        #expect(try !store.checkHistory(of: "C-9"), "a customer without events")
    }

    /// What the process's own writer commits makes the next read doubt — it checks its customer's whole
    /// history and has the writer look — but not forget: an edit through the writer itself (its trigger
    /// dropped on that connection) is not found by a later read of a customer checked before, only by a
    /// full check. Another connection's commit, noticed by the writer's look, makes reads check everything.
    @Test func onlyAnotherConnectionsCommitMakesReadsCheckEverythingAgain() throws {
        let (store, path) = try makeStore()
        for _ in 1...4 { #expect(try store.checkHistory(of: "C-1")) }
        try store.writer.write { db in
            try db.execute(sql: "DROP TRIGGER event_no_update")
            try db.execute(sql: "UPDATE event SET payload = ' ' || payload WHERE position = 4")
        }
        #expect(try store.checkHistory(of: "C-2"), "doubts, checks C-2 whole, and the writer looks")
        #expect(try store.checkHistory(of: "C-1"), "trusted: checked before, and only this writer committed since")
        #expect(throws: JournalError.tampered(position: 4, customerId: "C-1")) { try store.history(of: "C-1") }
        let other = try DatabaseQueue(path: path)
        try other.write { db in try db.execute(sql: "PRAGMA user_version = 7") }
        try other.close()
        #expect(try store.checkHistory(of: "C-2"), "doubts; the writer's look finds the other connection's commit")
        #expect(throws: JournalError.tampered(position: 4, customerId: "C-1")) { try store.checkHistory(of: "C-1") }
    }

    private func makeStore() throws -> (EventStore, String) {
        let path = TestSupport.temporaryDirectory().appendingPathComponent("journal.sqlite").path
        let store = try EventStore(writer: JournalDatabase.open(path: path), clock: steppingClock())
        for n in 1...9 { try store.append([Events.call(n)], to: "C-\(n % 3)") }
        return (store, path)
    }

    /// Changes the payload of the event at `position` through another connection, its trigger dropped.
    private func alter(_ path: String, position: Int64) throws {
        let other = try DatabaseQueue(path: path)
        try other.write { db in
            try db.execute(sql: "DROP TRIGGER event_no_update")
            try db.execute(sql: "UPDATE event SET payload = ' ' || payload WHERE position = ?", arguments: [position])
        }
        try other.close()
    }
}
