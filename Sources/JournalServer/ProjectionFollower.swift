import Foundation
import JournalProjections
import JournalStore
import Logging
import ServiceLifecycle
import Synchronization

/// The position the server's projections have reached, and the requests waiting for it.
///
/// The follower publishes each checkpoint it reaches; a request with `?waitFor=P` or a live feed
/// suspends here until the projections (and so the log seen by them) have reached P — no polling.
final class ProjectionProgress: Sendable {
    private struct State {
        var reached: Int64 = 0
        var closed = false
        var nextWaiter = 0
        var waiters: [Int: (target: Int64, continuation: CheckedContinuation<Bool, Never>)] = [:]
        /// Waits that timed out or were cancelled before they were registered.
        var expired: Set<Int> = []
    }
    private let state = Mutex(State())

    /// The position every projection has folded up to.
    var reached: Int64 { state.withLock { $0.reached } }

    /// True once the server is shutting down: waits return false at once.
    var isClosed: Bool { state.withLock { $0.closed } }

    /// Ends every wait (with false), now and from now on.
    func close() {
        let woken = state.withLock { state -> [CheckedContinuation<Bool, Never>] in
            state.closed = true
            defer { state.waiters = [:] }
            return state.waiters.values.map(\.continuation)
        }
        for continuation in woken { continuation.resume(returning: false) }
    }

    /// Records a reached position and wakes the waiters it satisfies.
    func publish(_ position: Int64) {
        let woken = state.withLock { state -> [CheckedContinuation<Bool, Never>] in
            guard position > state.reached else { return [] }
            state.reached = position
            let due = state.waiters.filter { $0.value.target <= position }
            for key in due.keys { state.waiters[key] = nil }
            return due.values.map(\.continuation)
        }
        for continuation in woken { continuation.resume(returning: true) }
    }

    /// Waits until `position` is reached; false when `timeout` seconds pass first or the task is cancelled.
    func wait(for position: Int64, timeout: Double) async -> Bool {
        if reached >= position { return true }
        let id = state.withLock { state -> Int in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        defer { state.withLock { _ = $0.expired.remove(id) } }
        return await withTaskCancellationHandler {
            await withTaskGroup(of: Void.self) { group -> Bool in
                group.addTask { [self] in
                    try? await Task.sleep(for: .seconds(timeout))
                    if !Task.isCancelled { resume(id, with: false) }
                }
                let result = await withCheckedContinuation { continuation in
                    let ready = state.withLock { state -> Bool? in
                        if state.reached >= position { return true }
                        if state.closed || state.expired.remove(id) != nil { return false }
                        state.waiters[id] = (position, continuation)
                        return nil
                    }
                    if let ready { continuation.resume(returning: ready) }
                }
                group.cancelAll()
                return result
            }
        } onCancel: {
            resume(id, with: false)
        }
    }

    /// Ends the wait `id` — or, when it is not registered yet, makes it end as soon as it is.
    private func resume(_ id: Int, with value: Bool) {
        let waiter = state.withLock { state in
            let waiter = state.waiters.removeValue(forKey: id)
            if waiter == nil { state.expired.insert(id) }
            return waiter
        }
        waiter?.continuation.resume(returning: value)
    }
}

/// Keeps the built-in projections folded as appends arrive, on a thread of its own, and publishes
/// each checkpoint to ``ProjectionProgress``. Stops on graceful shutdown.
struct ProjectionFollower: Service {
    /// The most events folded per transaction. Folds write the projections' own file, so an append
    /// never waits for one, however large; a bulk import by another process is folded in few of them.
    static let batchSize = 256

    let runner: ProjectionRunner
    let progress: ProjectionProgress
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
