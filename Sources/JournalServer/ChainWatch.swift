import Journal
import JournalStore
import Logging
import ServiceLifecycle
import Synchronization

/// Verifies the hash chain in the background, each time from the position verified last up to the
/// head, and keeps what it found for `/healthz`: a server that serves a journal altered in its file
/// says so.
final class ChainWatch: Sendable {
    struct State: Sendable {
        /// Every event up to here hashed as stored when last checked.
        var verifiedThrough: Int64 = 0
        /// The first altered event found; once found, it stays (the file does not heal).
        var failure: VerificationFailure?
    }

    private let store: EventStore
    private let state = Mutex(State())

    init(store: EventStore) {
        self.store = store
    }

    var current: State { state.withLock { $0 } }

    /// Verifies the events recorded since the last check.
    func check() throws {
        let from = state.withLock { $0.failure == nil ? $0.verifiedThrough + 1 : nil }
        guard let from, from <= (try store.head()) else { return }
        let report = try store.verify(from: from)
        state.withLock { state in
            if let failure = report.failure {
                state.failure = failure
            } else {
                state.verifiedThrough = max(state.verifiedThrough, report.last)
            }
        }
    }

    /// The `chain` member of `/healthz`.
    var document: JSONValue {
        let state = current
        var members = [
            JSONMember("intact", .bool(state.failure == nil)),
            JSONMember("verifiedThrough", .number(JSONNumber(state.verifiedThrough))),
        ]
        if let failure = state.failure {
            members.append(JSONMember("failure", ["position": .number(JSONNumber(failure.position)), "reason": .string(failure.reason)]))
        }
        return .object(members)
    }

    /// Checks at start and then every `interval` seconds until the server stops; a check that cannot
    /// read the journal is tried again next time.
    struct Service: ServiceLifecycle.Service {
        let watch: ChainWatch
        let interval: Double
        let logger: Logger

        func run() async throws {
            let watch = watch, interval = interval, logger = logger
            // Stops on graceful shutdown, and on cancellation (another service failed).
            await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    do {
                        let before = watch.current.failure
                        try await offload { try watch.check() }
                        if before == nil, let failure = watch.current.failure {
                            logger.critical("the journal was altered", metadata: ["position": "\(failure.position)", "reason": "\(failure.reason)"])
                        }
                    } catch {
                        logger.error("checking the hash chain failed; trying again", metadata: ["error": "\(error)"])
                    }
                    do { try await Task.sleep(for: .seconds(interval)) } catch { return }
                }
            }
        }
    }
}
