import Foundation
import Journal
import Synchronization

/// Where the journal's `recordedAt` comes from. Injected so tests and the demo control time.
///
/// ```swift
/// let store = try EventStore(database: .inMemory(), clock: .constant(Timestamp.seconds(1_700_000_000)))
/// ```
public struct JournalClock: Sendable {
    public let now: @Sendable () -> Timestamp

    public init(now: @escaping @Sendable () -> Timestamp) {
        self.now = now
    }

    /// The system clock.
    public static let live = JournalClock {
        Timestamp(microseconds: Int64((Date().timeIntervalSince1970 * 1_000_000).rounded()))
    }

    /// Always the same instant.
    public static func constant(_ instant: Timestamp) -> JournalClock {
        JournalClock { instant }
    }

    /// A clock that a caller sets by hand (for replaying a scripted world).
    public static func manual(_ start: Timestamp) -> (clock: JournalClock, set: @Sendable (Timestamp) -> Void) {
        let state = Mutex(start)
        return (JournalClock { state.withLock { $0 } }, { instant in state.withLock { $0 = instant } })
    }
}
