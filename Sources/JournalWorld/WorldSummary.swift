import Journal

/// Counts and extent of a generated world.
public struct WorldSummary: Sendable, Hashable {
    public var configuration: WorldConfiguration
    public var events = 0
    /// Customers registered in the journal (customers still to be won at the end are not counted);
    /// known once the world has ended.
    public var customers = 0
    /// Customers whose last word is `customer.lost`; known once the world has ended.
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
