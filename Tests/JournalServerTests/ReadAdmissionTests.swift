import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ServiceLifecycle
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
        #expect(!ReadAdmissionMiddleware.isHeld(request(.get, "/v1/customers/C-1/timeline?waitFor=12")))
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

    /// A real server whose routes answer the priority they run at: held reads answer at the read
    /// priority, with and without a limit; appends and reads that wait for the projections do not.
    @Test(arguments: [ReadAdmission(limit: 2), nil])
    func heldReadsRunAtTheReadPriorityAppendsDoNot(admission: ReadAdmission?) async throws {
        let router = Router(context: JournalRequestContext.self)
        router.add(middleware: ReadAdmissionMiddleware(admission: admission))
        router.get("/v1/probe") { _, _ in "\(Task.currentPriority.rawValue)" }
        router.post("/v1/probe") { _, _ in "\(Task.currentPriority.rawValue)" }
        var logger = Logger(label: "tpj-test")
        logger.logLevel = .warning
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let application = Application(
            router: router, configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) }, logger: logger)
        let group = ServiceGroup(services: [application], logger: logger)
        let running = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        func priority(_ method: String, _ path: String) async throws -> UInt8? {
            let body: [UInt8]? = method == "POST" ? [] : nil
            return UInt8(try await offloadTest { try HTTPTestClient.send(port: port, method: method, path: path, headers: [:], body: body) }.text)
        }
        let read = try await priority("GET", "/v1/probe")
        let append = try await priority("POST", "/v1/probe")
        let readWaitingForProjections = try await priority("GET", "/v1/probe?waitFor=1")
        await group.triggerGracefulShutdown()
        try await running.value
        #expect(read == ReadPriority.level.rawValue)
        let appendPriority = try #require(append)
        #expect(appendPriority > ReadPriority.level.rawValue)
        #expect(readWaitingForProjections == appendPriority)
    }
}
