import HTTPTypes
import Hummingbird
import Synchronization
import Testing

@testable import JournalServer

/// Reads are answered a few at a time; the rest wait, first come first served; appends never wait.
struct ReadAdmissionTests {
    /// How many bodies run at once, and the most that ever did.
    final class Occupancy: Sendable {
        private let counts = Mutex((now: 0, most: 0, done: 0))
        func enter() { counts.withLock { $0.now += 1; $0.most = max($0.most, $0.now) } }
        func leave() { counts.withLock { $0.now -= 1; $0.done += 1 } }
        var most: Int { counts.withLock { $0.most } }
        var done: Int { counts.withLock { $0.done } }
    }

    /// The order in which bodies ran.
    final class Order: Sendable {
        private let list = Mutex<[Int]>([])
        func record(_ index: Int) { list.withLock { $0.append(index) } }
        var recorded: [Int] { list.withLock { $0 } }
    }

    @Test func noMoreThanTheLimitRunAtOnceAndEveryOneRuns() async throws {
        let admission = ReadAdmission(limit: 3)
        let occupancy = Occupancy()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<40 {
                group.addTask {
                    try await admission.admitted {
                        occupancy.enter()
                        // Suspends while admitted, so that others would run meanwhile if let in.
                        for _ in 0..<5 { await Task.yield() }
                        try await Task.sleep(for: .milliseconds(1))
                        occupancy.leave()
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(occupancy.most <= 3)
        #expect(occupancy.most >= 2)
        #expect(occupancy.done == 40)
        #expect(admission.waiting == 0)
    }

    @Test func aFailingReadGivesItsPlaceBack() async throws {
        struct Failure: Error {}
        let admission = ReadAdmission(limit: 1)
        await #expect(throws: Failure.self) { try await admission.admitted { throw Failure() } }
        // Had the place not been given back, this would wait for ever.
        #expect(await admission.admitted { 7 } == 7)
    }

    @Test func waitingReadsAreLetInInTheOrderTheyCame() async throws {
        let admission = ReadAdmission(limit: 1)
        let order = Order()
        let (release, releaser) = AsyncStream.makeStream(of: Void.self)
        let first = Task { await admission.admitted { for await _ in release { break } } }
        // Queue the others one by one: each is waiting before the next one comes.
        var waiters: [Task<Void, Never>] = []
        for index in 1...5 {
            waiters.append(Task { await admission.admitted { order.record(index) } })
            while admission.waiting < index { await Task.yield() }
        }
        releaser.yield()
        await first.value
        for waiter in waiters { await waiter.value }
        #expect(order.recorded == [1, 2, 3, 4, 5])
    }

    @Test func onlyBoundedReadsAreHeld() {
        func request(_ method: HTTPRequest.Method, _ path: String) -> Request {
            Request(head: HTTPRequest(method: method, scheme: "http", authority: "localhost", path: path), body: .init(buffer: ByteBuffer()))
        }
        #expect(ReadAdmissionMiddleware.isHeld(request(.get, "/v1/customers/C-1/timeline")))
        #expect(ReadAdmissionMiddleware.isHeld(request(.get, "/customers/C-1")))
        #expect(ReadAdmissionMiddleware.isHeld(request(.get, "/v1/events?after=0")))
        #expect(!ReadAdmissionMiddleware.isHeld(request(.post, "/v1/customers/C-1/events")))
        #expect(!ReadAdmissionMiddleware.isHeld(request(.get, "/v1/customers/C-1/timeline?waitFor=12")))
        #expect(!ReadAdmissionMiddleware.isHeld(request(.get, "/v1/events/stream")))
        #expect(!ReadAdmissionMiddleware.isHeld(request(.get, "/healthz")))
        #expect(!ReadAdmissionMiddleware.isHeld(request(.get, "/metrics")))
    }
}
