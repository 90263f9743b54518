import Foundation
import GRDB
import Journal
import JournalProjections
import JournalStore
import JournalTesting
import Testing

/// A flag shared between a test and the thread it started.
final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}

/// Runs `body` on a thread of its own; the returned semaphore is signalled when it ends.
func onThread(_ body: @escaping @Sendable () -> Void) -> DispatchSemaphore {
    let done = DispatchSemaphore(value: 0)
    Thread {
        body()
        done.signal()
    }.start()
    return done
}

/// A second connection pool on the same journal file: what another process would have.
func secondStore(of store: EventStore) throws -> EventStore {
    try EventStore(writer: JournalDatabase.open(path: store.writer.path, create: false))
}

func appendMore(to store: EventStore, customers: Range<Int>, seed: UInt64) throws {
    var generator = TouchpointGenerator(seed: seed)
    for customer in customers {
        try store.append(generator.events(forCustomer: customer, count: 5), to: TouchpointGenerator.customerId(customer))
    }
}

@Suite struct FollowTests {
    @Test func aWatcherWakesOnAnAppendByAnotherConnectionEvenBeforeItWaits() throws {
        let store = try generatedStore(customers: 2, perCustomer: 3, seed: 1)
        let watcher = try JournalWatcher(watching: store)
        // Nothing changed since the watcher was made: a short wait runs out.
        #expect(watcher.wait(timeout: 0.2) == false)
        // An append made before the wait starts is still seen.
        try appendMore(to: try secondStore(of: store), customers: 5..<6, seed: 2)
        #expect(watcher.wait(timeout: 30) == true)
        // interrupt() wakes a wait without any change.
        watcher.interrupt()
        #expect(watcher.wait(timeout: 30) == true)
    }

    /// A journal in memory has no file to watch: appends through its connections wake a watcher by
    /// themselves (as everywhere without inotify), from any store made on them; a refused append does not.
    @Test func anAppendThroughTheSameConnectionsWakesAWatcherWithoutAFileEvent() throws {
        let store = try EventStore(writer: JournalDatabase.inMemory())
        let watcher = try JournalWatcher(watching: store)
        #expect(watcher.wait(timeout: 0.2) == false)
        let appended = onThread { _ = try? store.append([Events.call(1)], to: "C-1") }
        #expect(watcher.wait(timeout: 30) == true)
        #expect(appended.wait(timeout: .now() + 30) == .success)
        #expect(try store.head() == 1)

        // Refused (a stale expected version): nothing committed, nothing wakes the watcher.
        #expect(throws: JournalError.self) { try store.append([Events.call(2)], to: "C-1", expecting: .exactly(0)) }
        #expect(watcher.wait(timeout: 0.2) == false)

        // Another store on the same connections shares their signal.
        let other = try EventStore(writer: store.writer)
        try other.append([Events.call(3)], to: "C-1")
        #expect(watcher.wait(timeout: 30) == true)
    }

    @Test func aFollowerFoldsAppendsOfOtherWritersAsTheyArrive() throws {
        let store = try generatedStore(customers: 5, perCustomer: 4, seed: 3)
        let follower = ProjectionRunner(store: store, projections: [CallCount()])
        let watcher = try JournalWatcher(watching: store)
        let stop = Flag()
        let failure = Flag()
        let finished = onThread {
            do {
                try follower.follow(watcher, batchSize: 7) { _ in !stop.isSet }
            } catch {
                failure.set()
            }
        }
        // Another writer appends in three rounds; a reader waits for each position the writer got back.
        let writer = try secondStore(of: store)
        let reader = ProjectionRunner(store: try secondStore(of: store), projections: [CallCount()])
        let readerWatcher = try JournalWatcher(watching: reader.store)
        for round in 0..<3 {
            try appendMore(to: writer, customers: (10 + round * 4)..<(14 + round * 4), seed: UInt64(10 + round))
            let head = try writer.head()
            #expect(try reader.wait(until: head, timeout: 60, watcher: readerWatcher))
            let counted = try reader.store.writer.read { db in try Int64.fetchOne(db, sql: "SELECT sum(events) FROM callcount_total") }
            #expect(counted == head)
        }
        stop.set()
        watcher.interrupt()
        #expect(finished.wait(timeout: .now() + 60) == .success)
        #expect(!failure.isSet)
    }

    @Test func waitingWithoutAFollowerRunsOutAndFoldsNothing() throws {
        let store = try generatedStore(customers: 3, perCustomer: 3, seed: 4)
        let runner = ProjectionRunner(store: store, projections: [CallCount()])
        let watcher = try JournalWatcher(watching: store)
        #expect(try runner.wait(until: 1, timeout: 0.3, watcher: watcher) == false)
        #expect(try runner.status().first?.checkpoint == 0)
        try runner.catchUp()
        #expect(try runner.wait(until: try store.head(), timeout: 0.3, watcher: watcher) == true)
        #expect(try runner.wait(until: try store.head() + 1, timeout: 0.3, watcher: watcher) == false)
    }

    @Test func aSecondRebuildWaitsForTheFirstAndLeavesOneCompleteGeneration() throws {
        let store = try generatedStore(customers: 40, perCustomer: 25, seed: 8)
        let timeline = JourneyTimeline(registry: .bundled)
        try ProjectionRunner(store: store, projections: [timeline, CallCount()]).rebuild()
        let expected = try dump(store.writer, timeline) + dump(store.writer, CallCount())
        // Two "processes" (separate connection pools) rebuild the same projections. The second starts
        // while the first is half-way through, between two of its batches.
        let first = ProjectionRunner(store: try secondStore(of: store), projections: [timeline, CallCount()])
        let second = ProjectionRunner(store: try secondStore(of: store), projections: [timeline, CallCount()])
        let secondFailed = Flag()
        var secondDone: DispatchSemaphore?
        var secondFinishedWhileFirstWasHalfWay = false
        try first.rebuild(batchSize: 50) { progress in
            guard progress.step == .folding, progress.done > 0, secondDone == nil else { return }
            secondDone = onThread {
                do { try second.rebuild(batchSize: 50) } catch { secondFailed.set() }
            }
            // The second rebuild must not run now: it waits for the first one's lock.
            secondFinishedWhileFirstWasHalfWay = secondDone?.wait(timeout: .now() + 1) == .success
        }
        #expect(!secondFinishedWhileFirstWasHalfWay)
        #expect(secondDone?.wait(timeout: .now() + 120) == .success)
        #expect(!secondFailed.isSet)
        #expect(try dump(store.writer, timeline) + dump(store.writer, CallCount()) == expected)
        // Exactly one generation of each projection's tables is left.
        let tables = try store.projectionWriter.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND substr(name, 1, 2) = 'p_' ORDER BY name")
        }
        #expect(tables.count == timeline.tables.count + CallCount().tables.count, "\(tables)")
    }
}
