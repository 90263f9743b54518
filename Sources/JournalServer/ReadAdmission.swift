import Hummingbird
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
/// health and metrics endpoints, the style sheet, the live events stream (open for as long as its client
/// listens) and reads that first wait for the projections (`?waitFor=`, which wait for the follower, not
/// for a core). Appends are never held and keep the request's own priority.
struct ReadAdmissionMiddleware: RouterMiddleware {
    typealias Context = JournalRequestContext
    /// Nil: no limit (the reads are still answered at the lower priority).
    let admission: ReadAdmission?

    func handle(_ request: Request, context: JournalRequestContext, next: (Request, JournalRequestContext) async throws -> Response) async throws -> Response {
        guard Self.isHeld(request) else { return try await next(request, context) }
        guard let admission else { return try await ReadPriority.run { try await next(request, context) } }
        return try await admission.admitted { try await ReadPriority.run { try await next(request, context) } }
    }

    static func isHeld(_ request: Request) -> Bool {
        guard request.method == .get else { return false }
        switch request.uri.path {
        case "/healthz", "/metrics", "/static/tpj.css", "/v1/events/stream": return false
        default: return request.uri.queryParameters["waitFor"] == nil
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
