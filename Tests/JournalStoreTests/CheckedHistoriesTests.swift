import Foundation
import GRDB
import Journal
@testable import JournalStore
import JournalTesting
import Testing

/// A customer's read checks only the events not checked before, for as long as no other connection has
/// committed and the schema is the one the migrations made; otherwise it checks the whole history again.
///
/// Sequential reads run on the pool's first reader connection. A read that doubts has the writer look
/// without waiting for it; `settle` waits for that look (the writer's queue runs in order).
@Suite struct CheckedHistoriesTests {
    enum OwnCommit: String, CaseIterable, Sendable { case none, beforeTheEdit, afterTheEdit }

    /// An edit through another connection is found by the next read, whether or not this process's
    /// writer committed just before or after it.
    @Test(arguments: OwnCommit.allCases)
    func anEditThroughAnotherConnectionIsFoundByTheNextRead(ownCommit: OwnCommit) throws {
        let (store, path) = try makeStore()
        for _ in 1...3 { #expect(try store.checkHistory(of: "C-1")) }
        settle(store)
        if ownCommit == .beforeTheEdit { try store.append([Events.call(20)], to: "C-2") }
        try alter(path, position: 4)
        if ownCommit == .afterTheEdit { try store.append([Events.call(21)], to: "C-0") }
        #expect(throws: JournalError.tampered(position: 4, customerId: "C-1")) { try store.checkHistory(of: "C-1") }
        settle(store)
        #expect(throws: JournalError.tampered(position: 4, customerId: "C-1")) { try store.checkHistory(of: "C-1") }
        #expect(try store.checkHistory(of: "C-2"), "other customers read as before")
        #expect(try !store.checkHistory(of: "C-9"), "a customer without events")
    }

    /// What the process's own writer commits makes the next read doubt — it checks its customer's whole
    /// history and has the writer look — but not forget: the writer's commits start no new epoch, and
    /// what was checked stays remembered. Another connection's commit, noticed by the writer's look,
    /// starts a new epoch: nothing checked before counts.
    @Test func onlyAnotherConnectionsCommitMakesReadsCheckEverythingAgain() throws {
        let (store, path) = try makeStore()
        for _ in 1...3 { #expect(try store.checkHistory(of: "C-1")) }
        settle(store)
        let memory = try CheckedHistories.of(store.writer)
        let epoch = memory.epoch
        #expect(memory.checkedEvents(of: "C-1", in: epoch) == 3)
        try store.append([Events.call(20)], to: "C-1")
        #expect(try store.checkHistory(of: "C-1"), "doubts, checks C-1 whole, and asks the writer to look")
        settle(store)
        #expect(try store.checkHistory(of: "C-1"))
        #expect(memory.epoch == epoch && memory.checkedEvents(of: "C-1", in: epoch) == 4)
        let other = try DatabaseQueue(path: path)
        try other.write { db in try db.execute(sql: "PRAGMA user_version = 7") }
        try other.close()
        #expect(try store.checkHistory(of: "C-2"), "doubts; the writer's look finds the other connection's commit")
        settle(store)
        #expect(memory.epoch == epoch + 1 && memory.checkedEvents(of: "C-1", in: memory.epoch) == 0)
    }

    enum Planted: String, CaseIterable, Sendable { case beforeTheFirstRead, afterIt }

    /// A trigger planted by someone else makes the writer's own append edit an earlier event: no other
    /// connection commits then, but reads trust nothing while the triggers are not the migrations' own.
    @Test(arguments: Planted.allCases)
    func aPlantedTriggerMakesReadsCheckEverything(planted: Planted) throws {
        let (store, path) = try makeStore()
        func plant() throws {
            let other = try DatabaseQueue(path: path)
            try other.write { db in
                try db.execute(sql: "DROP TRIGGER event_no_update")
                try db.execute(sql: """
                    CREATE TRIGGER planted AFTER INSERT ON event
                    BEGIN UPDATE event SET payload = ' ' || payload WHERE position = 4; END
                    """)
            }
            try other.close()
        }
        if planted == .beforeTheFirstRead { try plant() }
        for _ in 1...3 { #expect(try store.checkHistory(of: "C-1")) }
        settle(store)
        if planted == .afterIt {
            try plant()
            // The planting commit starts a new epoch; C-1 is checked again in it.
            for _ in 1...2 {
                #expect(try store.checkHistory(of: "C-1"), "nothing edited yet")
                settle(store)
            }
        }
        try store.append([Events.call(20)], to: "C-2")
        #expect(try store.checkHistory(of: "C-2"))
        settle(store)
        #expect(throws: JournalError.tampered(position: 4, customerId: "C-1")) { try store.checkHistory(of: "C-1") }
    }

    private func makeStore() throws -> (EventStore, String) {
        let path = TestSupport.temporaryDirectory().appendingPathComponent("journal.sqlite").path
        let store = try EventStore(writer: JournalDatabase.open(path: path), clock: steppingClock())
        for n in 1...9 { try store.append([Events.call(n)], to: "C-\(n % 3)") }
        return (store, path)
    }

    /// Waits for the writer's queue, and so for any look a read asked of it.
    private func settle(_ store: EventStore) {
        store.writer.writeWithoutTransaction { _ in }
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
