import Journal
import JournalStore

/// The events recorded in one night of the world: one append transaction.
///
/// The world is recorded by nightly synchronisation: what occurred on a day, and the reports that
/// were typed in late and are due that night, are appended at 02:00 UTC of the next day, one batch
/// per customer, each customer's events in order of occurrence.
public struct WorldNight: Sendable {
    /// Night `n` is recorded at 02:00 UTC of day `n` of the world (day 0 is the first day).
    public var index: Int
    public var recordedAt: Timestamp
    public var batches: [AppendBatch]
    public var eventCount: Int
}
