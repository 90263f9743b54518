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

/// Counts and extent of a generated world.
public struct WorldSummary: Sendable, Hashable {
    public var configuration: WorldConfiguration
    public var events = 0
    /// Customers registered in the journal (customers still to be won at the end are not counted).
    public var customers = 0
    /// Customers whose last word is `customer.lost`.
    public var lostCustomers = 0
    /// `customer.lost` events, including those of customers that came back later.
    public var losses = 0
    public var reactivations = 0
    /// Nights with at least one event: the append transactions.
    public var nights = 0
    public var firstOccurred: Timestamp?
    public var lastOccurred: Timestamp?
    public var firstRecorded: Timestamp?
    public var lastRecorded: Timestamp?
    /// Events per type.
    public var eventsByType: [String: Int] = [:]

    public init(configuration: WorldConfiguration) {
        self.configuration = configuration
    }
}
