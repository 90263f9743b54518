import Journal
import Synchronization
import Testing

@testable import JournalProjections

struct OverlapTests {
    @Test func consumesEveryItemInOrderAndReturnsTheLast() throws {
        let consumed = Mutex<[Int]>([])
        let made = Mutex<[Int]>([])
        let last = try Overlap.run(first: 1) { item in
            made.withLock { $0.append(item + 1) }
            return item < 5 ? item + 1 : nil
        } consume: { item in
            consumed.withLock { $0.append(item) }
        }
        #expect(last == 5)
        #expect(consumed.withLock { $0 } == [1, 2, 3, 4, 5])
        // Each item was made from the one before, once; the last call found nothing more.
        #expect(made.withLock { $0 } == [2, 3, 4, 5, 6])
        // Nothing to start with consumes nothing.
        #expect(try Overlap.run(first: Int?.none) { _ in Issue.record("nothing to make from"); return nil } consume: { _ in Issue.record("nothing to consume") } == nil)
    }

    @Test func theProducerWorksAheadOfASlowConsumer() throws {
        // A consumer that, on item 1, waits for the producer to make item 3: a producer that waited
        // for each item to be consumed before it made the next would never get there.
        let meeting = Meeting(parties: 2)
        let met = Mutex(false)
        try Overlap.run(first: 1, ahead: 2) { item in
            if item == 2 { _ = meeting.arriveAndWait() }
            return item < 4 ? item + 1 : nil
        } consume: { item in
            if item == 1 { met.withLock { $0 = meeting.arriveAndWait() } }
        }
        #expect(met.withLock { $0 })
    }

    @Test func anErrorOfEitherHalfEndsTheLoop() {
        // A consumer that fails on 3: what was made after it is never consumed.
        let consumed = Mutex<[Int]>([])
        #expect(throws: JournalError.storage("consuming 3 failed")) {
            try Overlap.run(first: 1) { $0 < 9 ? $0 + 1 : nil } consume: { item in
                if item == 3 { throw JournalError.storage("consuming 3 failed") }
                consumed.withLock { $0.append(item) }
            }
        }
        #expect(consumed.withLock { $0 } == [1, 2])
        // A producer that fails making 4: the items made before it, through 3, are consumed first.
        consumed.withLock { $0 = [] }
        #expect(throws: JournalError.storage("making 4 failed")) {
            try Overlap.run(first: 1) { item in
                if item == 3 { throw JournalError.storage("making 4 failed") }
                return item + 1
            } consume: { item in consumed.withLock { $0.append(item) } }
        }
        #expect(consumed.withLock { $0 } == [1, 2, 3])
        // When both fail, the consumer's error is the one thrown.
        #expect(throws: JournalError.storage("consumer")) {
            try Overlap.run(first: 1) { _ in throw JournalError.storage("producer") } consume: { _ in throw JournalError.storage("consumer") }
        }
    }
}
