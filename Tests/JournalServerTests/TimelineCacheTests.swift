import JournalProjections
import NIOCore
import Testing

@testable import JournalServer

/// The in-memory whole timelines: what is kept, what is dropped, and that a read racing a fold never
/// puts an old timeline back.
struct TimelineCacheTests {
    static func response(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    @Test func aResponseReadBeforeADropIsNotKept() {
        let cache = TimelineCache(limitBytes: 1 << 20)
        let before = cache.ticket
        cache.drop(["C-2"])
        cache.store(Self.response("old"), for: "C-1", ticket: before)
        #expect(cache.response(for: "C-1") == nil)
        cache.store(Self.response("new"), for: "C-1", ticket: cache.ticket)
        #expect(cache.response(for: "C-1") == Self.response("new"))
        let statistics = cache.statistics
        #expect(statistics.hits == 1 && statistics.misses == 1 && statistics.responses == 1 && statistics.bytes == 3)
    }

    @Test func theOldestGoFirstWhenTheLimitIsReached() {
        let cache = TimelineCache(limitBytes: 100)
        for index in 1...7 { cache.store(Self.response(String(repeating: "x", count: 20)), for: "C-\(index)", ticket: cache.ticket) }
        // 7 × 20 bytes over a limit of 100: the two kept first are gone.
        #expect(cache.statistics.bytes == 100)
        #expect(cache.response(for: "C-1") == nil && cache.response(for: "C-2") == nil)
        #expect((3...7).allSatisfy { cache.response(for: "C-\($0)") != nil })
        // A response larger than a quarter of the limit is not kept at all.
        cache.store(Self.response(String(repeating: "y", count: 26)), for: "C-8", ticket: cache.ticket)
        #expect(cache.response(for: "C-8") == nil)
        #expect(TimelineCache(limitBytes: 0).statistics.responses == 0)
    }

    @Test func aResponseKeptAgainCountsAsKeptLast() {
        let cache = TimelineCache(limitBytes: 100)
        let twenty = String(repeating: "x", count: 20)
        for id in ["A", "B", "C", "D"] { cache.store(Self.response(twenty), for: id, ticket: cache.ticket) }
        cache.store(Self.response(String(repeating: "a", count: 20)), for: "A", ticket: cache.ticket)
        cache.store(Self.response(twenty), for: "E", ticket: cache.ticket)
        cache.store(Self.response(twenty), for: "F", ticket: cache.ticket)
        // B is now the one kept longest ago, not A.
        #expect(cache.response(for: "B") == nil)
        #expect(cache.response(for: "A") == Self.response(String(repeating: "a", count: 20)))
        #expect(cache.statistics.bytes == 100)
    }

    @Test func theKeepingOrderStaysInProportionUnderDropsAndRestores() {
        let cache = TimelineCache(limitBytes: 1 << 20)
        for round in 0..<10_000 {
            cache.store(Self.response("timeline \(round)"), for: "C-\(round % 3)", ticket: cache.ticket)
            if round % 2 == 0 { cache.drop(["C-\(round % 3)"]) }
        }
        #expect(cache.statistics.responses <= 3)
        #expect(cache.orderLength <= 2 * 3 + 65)
    }

    @Test func foldsDropTheirCustomersAndChangesElsewhereDropEverything() {
        let cache = TimelineCache(limitBytes: 1 << 20)
        let timeline = JourneyTimeline.projectionName
        cache.catchingUp(timeline, at: ProjectionPosition(generation: 1, checkpoint: 10))
        for id in ["C-1", "C-2", "C-3"] { cache.store(Self.response(id), for: id, ticket: cache.ticket) }

        cache.folded(timeline, customers: ["C-1"], reaching: ProjectionPosition(generation: 1, checkpoint: 12))
        #expect(cache.response(for: "C-1") == nil && cache.response(for: "C-2") != nil)
        // Another projection's folds change no timeline.
        cache.folded("facts", customers: ["C-2"], reaching: ProjectionPosition(generation: 1, checkpoint: 12))
        #expect(cache.response(for: "C-2") != nil)
        // The next catch-up starts where this process left off: everything stays.
        cache.catchingUp(timeline, at: ProjectionPosition(generation: 1, checkpoint: 12))
        #expect(cache.statistics.responses == 2)
        // Another process folded (or a rebuild switched generations): nothing is kept.
        cache.catchingUp(timeline, at: ProjectionPosition(generation: 1, checkpoint: 15))
        #expect(cache.statistics.responses == 0 && cache.statistics.bytes == 0)
        cache.store(Self.response("C-3"), for: "C-3", ticket: cache.ticket)
        cache.catchingUp(timeline, at: ProjectionPosition(generation: 2, checkpoint: 15))
        #expect(cache.response(for: "C-3") == nil)
    }
}
