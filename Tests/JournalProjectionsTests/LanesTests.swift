import Foundation
import Synchronization
import Testing

@testable import JournalProjections

/// A meeting point for `parties` threads: each arrives and waits for all the others, or until
/// `timeout` seconds pass (then it reports that it met no one, instead of waiting for ever).
final class Meeting: @unchecked Sendable {
    private let condition = NSCondition()
    private let parties: Int
    private var arrived = 0

    init(parties: Int) {
        self.parties = parties
    }

    /// Whether all the parties arrived.
    func arriveAndWait(timeout: Double = 60) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        arrived += 1
        condition.broadcast()
        let deadline = Date().addingTimeInterval(timeout)
        while arrived < parties {
            if !condition.wait(until: deadline) { return arrived >= parties }
        }
        return true
    }
}

struct LanesTests {
    @Test func everyLaneRunsAtTheSameTimeAsTheOthers() {
        // Four lanes that each wait for all four: run one after the other, none would meet the others.
        let meeting = Meeting(parties: 4)
        let met = Mutex<[Int]>([])
        Lanes.run(4) { lane in
            if meeting.arriveAndWait() { met.withLock { $0.append(lane) } }
        }
        #expect(met.withLock { $0.sorted() } == [0, 1, 2, 3])
        // One lane runs on the caller's thread; none runs nothing.
        let caller = pthread_self()
        Lanes.run(1) { _ in #expect(pthread_equal(pthread_self(), caller) != 0) }
        Lanes.run(0) { _ in Issue.record("no lane to run") }
    }

    @Test func anOverlapInsideEachOfSeveralLanesStillOverlapsItsHalves() throws {
        // Three lanes, as a rebuild folds three projections, each running a loop whose two halves meet
        // at every step: with halves run one after the other (as nested `concurrentPerform` calls run
        // them on two cores), no step would meet.
        let steps = Mutex<[Int: Int]>([:])
        Lanes.run(3) { lane in
            let meetings = (0..<4).map { _ in Meeting(parties: 2) }
            _ = try? Overlap.run(first: 0) { step in
                guard meetings[step].arriveAndWait() else { return nil }
                return step + 1 < meetings.count ? step + 1 : nil
            } consume: { step in
                if meetings[step].arriveAndWait() { steps.withLock { $0[lane, default: 0] += 1 } }
            }
        }
        #expect(steps.withLock { $0 } == [0: 4, 1: 4, 2: 4])
    }
}
