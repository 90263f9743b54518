import Hummingbird
import Journal
import Synchronization

/// Lets at most `limit` reads run at once; the others wait their turn, suspended, first come first served.
///
/// A waiting read costs no CPU; the reads admitted run below appends (``ReadPriority``). Without a
/// limit reads answer faster, with it the appends' tail is shorter.
final class ReadAdmission: Sendable {
    fileprivate struct State {
        var running = 0
        var waiting: [CheckedContinuation<Void, Never>] = []
    }
    private let state = Mutex(State())
    let limit: Int

    init(limit: Int) {
        precondition(limit > 0, "a read admission needs a limit of at least 1")
        self.limit = limit
    }

    /// Reads admitted and not yet done, and reads waiting for their turn.
    var occupancy: (running: Int, waiting: Int) { state.withLock { ($0.running, $0.waiting.count) } }

    /// Runs `body` once fewer than `limit` others are running.
    func admitted<T>(_ body: () async throws -> T) async rethrows -> T {
        await enter()
        defer { leave() }
        return try await body()
    }

    private func enter() async {
        if state.withLock({ $0.admitted(limit: limit) }) { return }
        await withCheckedContinuation { continuation in
            let admitted = state.withLock { state -> Bool in
                if state.admitted(limit: limit) { return true }
                state.waiting.append(continuation)
                return false
            }
            if admitted { continuation.resume() }
        }
    }

    private func leave() {
        // The place passes straight to the first one waiting, if any.
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard state.waiting.isEmpty else { return state.waiting.removeFirst() }
            state.running -= 1
            return nil
        }
        next?.resume()
    }
}

extension ReadAdmission.State {
    fileprivate mutating func admitted(limit: Int) -> Bool {
        guard running < limit else { return false }
        running += 1
        return true
    }
}

/// Holds GET requests in a ``ReadAdmission`` and answers them at ``ReadPriority/level`` — all but the
/// health and metrics endpoints, the style sheet and the live events stream (open for as long as its
/// client listens; it takes its turn for each page it reads, ``JournalServer/addFeedRoutes(to:)``).
/// Appends are never held and keep the request's own priority.
///
/// A read with `?waitFor=POSITION` first waits for the projections outside the limit (it waits for the
/// follower, not for a core), then takes its turn like every read. Routes that do not read projections
/// refuse `waitFor` with 400, so the parameter opens no way around the limit.
struct ReadAdmissionMiddleware: RouterMiddleware {
    typealias Context = JournalRequestContext
    /// Nil: no limit (the reads are still answered at the lower priority).
    let admission: ReadAdmission?
    /// How `?waitFor=` waits (nil: the parameter is refused everywhere).
    let projections: ProjectionWait?

    func handle(_ request: Request, context: JournalRequestContext, next: (Request, JournalRequestContext) async throws -> Response) async throws -> Response {
        guard Self.isHeld(request) else { return try await next(request, context) }
        if let position = request.uri.queryParameters["waitFor"] {
            guard let projections, ProjectionWait.isAccepted(byPath: request.uri.path) else {
                throw APIError(.badRequest, "bad_request", "waitFor is not accepted here: only reads of the projections wait for them",
                               details: ["parameter": "waitFor", "rule": "not_accepted"])
            }
            // Only a known token may park a wait; the route answers 401 or 403 to the others.
            if context.token != nil { try await projections.wait(for: String(position)) }
        }
        return try await ReadPriority.held(by: admission) { try await next(request, context) }
    }

    static func isHeld(_ request: Request) -> Bool {
        guard request.method == .get || request.method == .head else { return false }
        switch request.uri.path {
        case "/healthz", "/metrics", "/static/tpj.css", "/v1/events/stream": return false
        default: return true
        }
    }
}

/// `?waitFor=POSITION` (read-your-writes): waits until the projections have folded the log up to a
/// position, at most `timeout` seconds (then 503 with Retry-After).
struct ProjectionWait: Sendable {
    let progress: PositionProgress
    /// The newest position of the log: a position beyond it is refused rather than waited for.
    let head: @Sendable () async throws -> Int64
    let timeout: Double

    /// The reads that accept `waitFor`: those of the projections (customer search, a customer's timeline,
    /// moments and churn, the churn list, the segments and a declared projection's rows).
    static func isAccepted(byPath path: String) -> Bool {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        switch parts.count {
        case 3: return path == "/v1/customers" || path == "/v1/churn" || path == "/v1/segments"
        case 5:
            return parts[1] == "v1"
                && ((parts[2] == "customers" && ["timeline", "moments", "churn"].contains(parts[4])) || (parts[2] == "projections" && parts[4] == "rows"))
        default: return false
        }
    }

    func wait(for text: String) async throws {
        guard let position = Int64(text), position >= 0 else {
            throw APIError(.badRequest, "bad_request", "waitFor must be a whole number from 0 to \(Int64.max) (got \"\(text)\")",
                           details: ["parameter": "waitFor", "rule": "range"])
        }
        let head = try await head()
        guard position <= head else {
            throw APIError(.badRequest, "bad_request", "waitFor \(position) is beyond the newest event of the log (\(head))",
                           details: ["parameter": "waitFor", "rule": "maximum", "head": .number(JSONNumber(head))])
        }
        guard await progress.wait(for: position, timeout: timeout) else {
            var error = APIError(.serviceUnavailable, "not_caught_up",
                                 "the projections have not reached position \(position) within \(Int(timeout)) s; retry shortly")
            error.headers[.retryAfter] = "1"
            throw error
        }
    }
}

/// Reads are answered at a lower task priority than appends.
///
/// On Linux the executor runs each priority on Dispatch threads of its own, so an append whose commit
/// has just returned continues at once instead of queueing behind the jobs of dozens of reads.
enum ReadPriority {
    /// The priority reads run at.
    static let level = TaskPriority.low

    /// Runs `body` as a read: when `admission` lets it in (nil: at once), and at ``level``.
    static func held<T: Sendable>(by admission: ReadAdmission?, _ body: () async throws -> T) async throws -> T {
        guard let admission else { return try await run(body) }
        return try await admission.admitted { try await run(body) }
    }

    /// Runs `body` in a task at ``level`` and returns its result; cancelling the caller cancels it.
    ///
    /// The caller waits on a continuation rather than on the task itself: awaiting a task (or a group's
    /// child) escalates it to the awaiting task's priority, which would undo the lowering.
    static func run<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        try await withoutActuallyEscaping(body) { body in
            let handoff = Handoff(body)
            let task = Mutex<Task<Void, Never>?>(nil)
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { continuation in
                    let started = Task(priority: level) { continuation.resume(with: await handoff.run()) }
                    task.withLock { $0 = started }
                    if Task.isCancelled { started.cancel() }
                }
            } onCancel: {
                task.withLock { $0?.cancel() }
            }
        }
    }

    /// Hands the caller's body to the lowered task, which lets go of it before the caller resumes, so
    /// that the body does not outlive `withoutActuallyEscaping`. Only that task touches it once made.
    private final class Handoff<T>: @unchecked Sendable {
        private var body: (() async throws -> T)?

        init(_ body: @escaping () async throws -> T) { self.body = body }

        /// Runs the body once; it is released when this returns.
        func run() async -> Result<T, any Error> {
            guard let body = self.body.take() else { preconditionFailure("a lowered body runs once") }
            do { return .success(try await body()) } catch { return .failure(error) }
        }
    }
}
