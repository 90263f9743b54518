import Foundation
import HTTPTypes
import Hummingbird
import Journal
import JournalStore
import Synchronization
import Testing

@testable import JournalServer

/// Reads are answered a few at a time and at a lower priority; the rest wait, first come first served;
/// appends never wait.
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
        #expect(admission.occupancy == (0, 0))
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
            while admission.occupancy.waiting < index { await Task.yield() }
        }
        #expect(admission.occupancy == (1, 5))
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
        #expect(ReadAdmissionMiddleware.isHeld(request(.get, "/v1/customers/C-1/timeline?waitFor=12")))
        #expect(ReadAdmissionMiddleware.isHeld(request(.get, "/v1/verify?waitFor=x")))
        #expect(!ReadAdmissionMiddleware.isHeld(request(.get, "/v1/events/stream")))
        #expect(!ReadAdmissionMiddleware.isHeld(request(.get, "/healthz")))
        #expect(!ReadAdmissionMiddleware.isHeld(request(.get, "/metrics")))
    }

    @Test func aLoweredBodyRunsAtTheReadPriorityAndPassesItsResultAndErrorOn() async throws {
        struct Failure: Error {}
        // The body reads its priority only after the caller has been waiting for it a while: awaiting
        // the body's task instead of a continuation would have raised it to the caller's by then.
        let (gate, opener) = AsyncStream.makeStream(of: Void.self)
        let (started, starter) = AsyncStream.makeStream(of: Void.self)
        let caller = Task(priority: .medium) {
            try await ReadPriority.run {
                starter.yield()
                for await _ in gate { break }
                return Task.currentPriority
            }
        }
        for await _ in started { break }
        for _ in 0..<100 { await Task.yield() }
        opener.yield()
        let priority = try await caller.value
        #expect(priority == ReadPriority.level)
        #expect(ReadPriority.level < .medium)
        #expect(try await ReadPriority.run { 7 } == 7)
        await #expect(throws: Failure.self) { try await ReadPriority.run { throw Failure() } }
    }

    /// Many lowered bodies at once, each returning its own value (a body outliving its call would trap).
    @Test func manyLoweredBodiesEachReturnTheirOwnResult() async throws {
        let sums = try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    var sum = 0
                    for index in 0..<500 { sum += try await ReadPriority.run { worker * 1_000 + index } }
                    return sum
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(sums == (0..<8).reduce(0) { total, worker in total + (0..<500).reduce(0) { $0 + worker * 1_000 + $1 } })
    }

    #if os(Linux)
    /// libdispatch on Linux names its worker threads after the global queue they serve; the names end
    /// in the queue's QoS.
    @Test func aReadsOffloadedWorkRunsOnTheLowerQueueAndAnAppendsDoesNot() async throws {
        @Sendable func threadName() -> String {
            ((try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let read = try await Task(priority: .medium) { try await ReadPriority.run { try await offload { threadName() } } }.value
        let other = try await Task(priority: .medium) { try await offload { threadName() } }.value
        #expect(read.hasSuffix("utility-qos"), "\(read)")
        #expect(other.hasSuffix("default-qos"), "\(other)")
    }
    #endif

    @Test func cancellingTheCallerCancelsTheLoweredBody() async throws {
        let (started, starter) = AsyncStream.makeStream(of: Void.self)
        let caller = Task {
            try await ReadPriority.run {
                starter.yield()
                try await Task.sleep(for: .seconds(60))
            }
        }
        for await _ in started { break }
        caller.cancel()
        await #expect(throws: CancellationError.self) { try await caller.value }
    }

    /// A router behind the middleware (and a token for every request, as ``Authentication`` would
    /// set), served on a loopback port while `body` runs.
    static func serving(
        _ middleware: ReadAdmissionMiddleware, routes: (Router<JournalRequestContext>) -> Void, _ body: (Int) async throws -> Void
    ) async throws {
        let router = Router(context: JournalRequestContext.self)
        router.add(middleware: SignedIn())
        router.add(middleware: middleware)
        routes(router)
        try await LoopbackServer.serving(router, body)
    }

    struct SignedIn: RouterMiddleware {
        func handle(_ request: Request, context: JournalRequestContext, next: (Request, JournalRequestContext) async throws -> Response) async throws -> Response {
            var context = context
            context.token = AccessToken(id: "t", name: "test", role: .staff, created: Timestamp(microseconds: 0), revoked: nil)
            return try await next(request, context)
        }
    }

    static func projectionsAt(_ position: Int64) -> ProjectionWait {
        let progress = PositionProgress()
        progress.publish(position)
        return ProjectionWait(progress: progress, head: { position }, timeout: 5)
    }

    static func get(_ port: Int, _ path: String, method: String = "GET") async throws -> HTTPTestResponse {
        let body: [UInt8]? = method == "POST" ? [] : nil
        return try await offloadTest { try HTTPTestClient.send(port: port, method: method, path: path, headers: [:], body: body) }
    }

    /// A real server whose routes answer the priority they run at: held reads answer at the read
    /// priority, with and without a limit, also those that first wait for the projections; appends do not.
    @Test(arguments: [ReadAdmission(limit: 2), nil])
    func heldReadsRunAtTheReadPriorityAppendsDoNot(admission: ReadAdmission?) async throws {
        let middleware = ReadAdmissionMiddleware(admission: admission, projections: Self.projectionsAt(3))
        try await Self.serving(middleware) { router in
            router.get("/v1/churn") { _, _ in "\(Task.currentPriority.rawValue)" }
            router.post("/v1/churn") { _, _ in "\(Task.currentPriority.rawValue)" }
        } _: { port in
            let read = UInt8(try await Self.get(port, "/v1/churn").text)
            let append = UInt8(try await Self.get(port, "/v1/churn", method: "POST").text)
            let readWaitingForProjections = UInt8(try await Self.get(port, "/v1/churn?waitFor=1").text)
            #expect(read == ReadPriority.level.rawValue)
            let appendPriority = try #require(append)
            #expect(appendPriority > ReadPriority.level.rawValue)
            #expect(readWaitingForProjections == ReadPriority.level.rawValue)
        }
    }

    /// `waitFor` opens no way around the limit: once the projections are there, the read waits for its
    /// turn behind the reads admitted; a route that reads no projection refuses the parameter.
    @Test func aReadWithWaitForTakesItsTurnAndOtherRoutesRefuseIt() async throws {
        let admission = ReadAdmission(limit: 1)
        let (release, releaser) = AsyncStream.makeStream(of: Void.self)
        let middleware = ReadAdmissionMiddleware(admission: admission, projections: Self.projectionsAt(3))
        try await Self.serving(middleware) { router in
            router.get("/v1/segments") { _, _ in
                for await _ in release { break }
                return "held"
            }
            router.get("/v1/churn") { _, _ in "answered" }
            router.get("/v1/verify") { _, _ in "verified" }
        } _: { port in
            let holder = Task { try await Self.get(port, "/v1/segments") }
            try await eventually("the held read is admitted") { admission.occupancy.running == 1 }
            let waiting = Task { try await Self.get(port, "/v1/churn?top=1&waitFor=0") }
            // The read that waited for position 0 (reached at once) now waits for the one place.
            try await eventually("the read that waited for position 0 waits its turn") { admission.occupancy.waiting == 1 }
            #expect(admission.occupancy == (1, 1))
            releaser.yield()
            #expect(try await holder.value.text == "held")
            #expect(try await waiting.value.text == "answered")

            let refused = try await Self.get(port, "/v1/verify?waitFor=x")
            #expect(refused.status == 400)
            #expect(refused.text.contains("waitFor is not accepted here"))
            let beyond = try await Self.get(port, "/v1/churn?waitFor=4")
            #expect(beyond.status == 400)
            #expect(beyond.text.contains("beyond the newest event"))
            #expect(admission.occupancy == (0, 0))
        }
    }

    @Test func theReadsThatAcceptWaitForAreThoseOfTheProjections() {
        for path in ["/v1/customers", "/v1/churn", "/v1/segments", "/v1/customers/C-1/timeline", "/v1/customers/C-1/moments", "/v1/customers/C-1/churn"] {
            #expect(ProjectionWait.isAccepted(byPath: path), "\(path)")
        }
        for path in ["/v1/verify", "/v1/events", "/v1/customers/C-1/history", "/customers", "/v1/customers/C-1/timeline/x", "/v1/projections"] {
            #expect(!ProjectionWait.isAccepted(byPath: path), "\(path)")
        }
    }
}
