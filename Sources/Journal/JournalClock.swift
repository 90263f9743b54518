import Foundation
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

/// How far a recording time may run ahead of the system clock.
///
/// The journal never stamps a `recordedAt` earlier than the last one, so a single append from a clock
/// set in the future would otherwise drag every later `recordedAt` along with it. An append whose
/// recording time (the journal's clock, or the last `recordedAt` if that is later) is more than
/// `maximumLead` ahead of `system` is refused, with nothing stored.
public struct ClockLimit: Sendable {
    public var system: JournalClock
    public var maximumLeadMicroseconds: Int64

    public init(system: JournalClock = .live, maximumLeadSeconds: Int64) {
        self.system = system
        self.maximumLeadMicroseconds = maximumLeadSeconds * 1_000_000
    }

    /// Five minutes against the system clock.
    public static let standard = ClockLimit(maximumLeadSeconds: 300)

    /// The latest recording time allowed now: the system clock plus the lead.
    public func latestAllowed() -> Timestamp {
        Timestamp(microseconds: system.now().microseconds &+ maximumLeadMicroseconds)
    }

    /// - Throws: ``JournalError/clockAhead(recordedAt:systemTime:maximumLeadSeconds:)``.
    public func check(_ recorded: Timestamp) throws(JournalError) {
        let system = self.system.now()
        guard recorded.microseconds <= system.microseconds &+ maximumLeadMicroseconds else {
            throw .clockAhead(recordedAt: recorded, systemTime: system, maximumLeadSeconds: maximumLeadMicroseconds / 1_000_000)
        }
    }
}
