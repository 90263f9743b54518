import Foundation
import Journal
import JournalProjections
import JournalStore
import Logging
import ServiceLifecycle
import Synchronization

/// Keeps the built-in projections folded as appends arrive, on a thread of its own, and publishes
/// each checkpoint to its ``PositionProgress``. Stops on graceful shutdown.
struct ProjectionFollower: Service {
    /// The most events folded per transaction. Folds write the projections' own file, so an append
    /// never waits for one, however large; a bulk import by another process is folded in few of them.
    static let batchSize = 256

    let runner: ProjectionRunner
    let progress: PositionProgress
    let logger: Logger

    func run() async throws {
        let watcher = try JournalWatcher(watching: runner.store)
        let stopping = StopFlag()
        let runner = runner, progress = progress, logger = logger
        // Stops on graceful shutdown, and on cancellation (another service failed, e.g. the port was taken).
        let thread = ThreadService(name: "fold-follower") {
            while !stopping.value.load(ordering: .acquiring) {
                do {
                    try runner.follow(watcher, batchSize: ProjectionFollower.batchSize) { reached in
                        if let least = reached.values.min() { progress.publish(least) }
                        return !stopping.value.load(ordering: .acquiring)
                    }
                } catch {
                    logger.error("projection follower failed; retrying on the next append", metadata: ["error": "\(error)"])
                    watcher.wait(timeout: 1)
                }
            }
        } stop: {
            stopping.value.store(true, ordering: .releasing)
            watcher.interrupt()
        }
        try await thread.run()
    }
}

/// A flag one thread raises and another reads.
private final class StopFlag: Sendable {
    let value = Atomic<Bool>(false)
}
