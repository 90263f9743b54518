import Synchronization

/// A position some work has reached in the log — a server's projections, a node's copy of a shared
/// log — and the tasks waiting for it: each waits until its position is reached, with no polling.
///
/// ```swift
/// let progress = PositionProgress()
/// progress.publish(42)                                   // the worker, as it goes
/// let reached = await progress.wait(for: 40, timeout: 10) // a reader
/// ```
public final class PositionProgress: Sendable {
    private struct State {
        var reached: Int64 = 0
        var closed = false
        var nextWaiter = 0
        var waiters: [Int: (target: Int64, continuation: CheckedContinuation<Bool, Never>)] = [:]
        /// Waits that timed out or were cancelled before they were registered.
        var expired: Set<Int> = []
    }
    private let state = Mutex(State())

    public init() {}

    /// The position reached.
    public var reached: Int64 { state.withLock { $0.reached } }

    /// True once closed (the work is stopping): waits return false at once.
    public var isClosed: Bool { state.withLock { $0.closed } }

    /// Ends every wait (with false), now and from now on.
    public func close() {
        let woken = state.withLock { state -> [CheckedContinuation<Bool, Never>] in
            state.closed = true
            defer { state.waiters = [:] }
            return state.waiters.values.map(\.continuation)
        }
        for continuation in woken { continuation.resume(returning: false) }
    }

    /// Records a reached position and wakes the waiters it satisfies.
    public func publish(_ position: Int64) {
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
    public func wait(for position: Int64, timeout: Double) async -> Bool {
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
