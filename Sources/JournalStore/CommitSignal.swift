import GRDB
import Synchronization

/// Tells the watchers of a journal in this process that a write committed, the moment it commits:
/// a follower in the process that appended needs no file event to learn of it (``JournalWatcher``
/// listens to file events only for other processes' commits).
///
/// The ``EventStore``s made on one connection pool share its signal; another pool on the same file
/// is told as another process is, through file events.
final class CommitSignal: Sendable {
    private let listeners = Mutex<[Int: @Sendable () -> Void]>([:])
    private let nextListener = Atomic<Int>(0)

    /// Each pool's signal, with the pool held weakly: an entry whose pool is gone is replaced.
    private static let signals = Mutex<[ObjectIdentifier: (writer: WeakWriter, signal: CommitSignal)]>([:])

    /// The signal of the journal connections `writer`.
    static func of(_ writer: any DatabaseWriter) -> CommitSignal {
        let key = ObjectIdentifier(writer)
        return signals.withLock { signals in
            if let entry = signals[key], entry.writer.value === writer { return entry.signal }
            signals = signals.filter { $0.value.writer.value != nil }
            let signal = CommitSignal()
            signals[key] = (WeakWriter(value: writer), signal)
            return signal
        }
    }

    /// Calls `wake` after each commit until ``remove(_:)``; returns the listener's key. `wake` runs on
    /// the committing thread and must not block.
    func add(_ wake: @escaping @Sendable () -> Void) -> Int {
        let key = nextListener.add(1, ordering: .relaxed).newValue
        listeners.withLock { $0[key] = wake }
        return key
    }

    /// Stops calling the listener `key`; when it returns, no call of it is running.
    func remove(_ key: Int) {
        listeners.withLock { _ = $0.removeValue(forKey: key) }
    }

    /// Wakes every listener. They run under the lock, so that a removed one is never called after.
    func publish() {
        listeners.withLock { listeners in
            for wake in listeners.values { wake() }
        }
    }
}

struct WeakWriter: @unchecked Sendable {
    weak var value: (any DatabaseWriter)?
}
