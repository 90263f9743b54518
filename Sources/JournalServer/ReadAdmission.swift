import Hummingbird
import Synchronization

/// Lets at most `limit` reads run at once; the others wait their turn, suspended, first come first served.
///
/// On two cores, fifty reads running at once do not answer faster than a few: they only lengthen the
/// queue every task waits in for a core — an append's too. Held here, a waiting read costs no CPU, so
/// an append (never held) waits behind at most `limit` reads.
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

    /// Reads waiting for their turn.
    var waiting: Int { state.withLock { $0.waiting.count } }

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

/// Holds GET requests in a ``ReadAdmission`` — all but the health and metrics endpoints, the style
/// sheet, the live events stream (open for as long as its client listens) and reads that first wait for
/// the projections (`?waitFor=`, which wait for the follower, not for a core). Appends are never held.
struct ReadAdmissionMiddleware: RouterMiddleware {
    typealias Context = JournalRequestContext
    let admission: ReadAdmission

    func handle(_ request: Request, context: JournalRequestContext, next: (Request, JournalRequestContext) async throws -> Response) async throws -> Response {
        guard Self.isHeld(request) else { return try await next(request, context) }
        return try await admission.admitted { try await next(request, context) }
    }

    static func isHeld(_ request: Request) -> Bool {
        guard request.method == .get else { return false }
        switch request.uri.path {
        case "/healthz", "/metrics", "/static/tpj.css", "/v1/events/stream": return false
        default: return request.uri.queryParameters["waitFor"] == nil
        }
    }
}
