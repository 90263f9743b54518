import Journal
import JournalStore

/// A deterministic after-sales world: customers with ABC behaviour and installed machines, the
/// touchpoints of deliveries, breakdowns, parts, maintenance, contracts and complaints, and a hidden
/// satisfaction per customer that drives quotes declined, silence, detractor answers, contracts not
/// renewed and, in the end, customers lost.
///
/// The world is simulated a day at a time for all customers. Each customer keeps a compact state and
/// its own random stream; only events not yet recorded are held. ``nextNight()`` returns each
/// night's append transaction in recording order.
///
/// ```swift
/// var world = try WorldGenerator(WorldConfiguration(customers: 1_000, years: 3, seed: 7))
/// while let night = world.nextNight() {
///     print(night.recordedAt, night.eventCount)
/// }
/// print(world.summary.events)
/// ```
///
/// ## Topics
/// - ``generate(_:_:)``
/// - ``write(_:using:progress:)``
public struct WorldGenerator: Sendable {
    public let configuration: WorldConfiguration
    /// What has been generated so far.
    public private(set) var summary: WorldSummary
    private var customers: [Customer] = []
    private var wake: [Int]
    private var recorder: Recorder
    private var day = 0
    private let dayCount: Int

    /// - Throws: ``JournalError/invalidArgument(_:)`` when the configuration has a ``WorldConfiguration/problem``.
    public init(_ configuration: WorldConfiguration) throws(JournalError) {
        if let problem = configuration.problem { throw .invalidArgument(problem) }
        self.configuration = configuration
        summary = WorldSummary(configuration: configuration)
        dayCount = configuration.dayCount
        recorder = Recorder(startDay: configuration.startDay, lastNight: dayCount)
        customers.reserveCapacity(configuration.customers)
        for index in 0..<configuration.customers {
            customers.append(Customer(index: index, configuration: configuration))
        }
        wake = customers.map(\.wakeDay)
    }

    /// How far the simulation has come, from 0 to 1.
    public var progress: Double { Double(day) / Double(dayCount) }

    /// Simulates up to the next night that records events and returns it; nil when the world has ended.
    public mutating func nextNight() -> WorldNight? {
        while day < dayCount {
            for index in customers.indices where wake[index] <= day {
                wake[index] = customers[index].step(day: day, into: &recorder)
            }
            day += 1
            let pending = recorder.take(night: day)
            if !pending.isEmpty { return night(day, pending) }
        }
        finish()
        return nil
    }

    private mutating func finish() {
        summary.customers = customers.count { $0.status != .prospect }
        summary.lostCustomers = customers.count { $0.status == .lost }
    }

    /// Puts a night's events in recording order, one batch per customer.
    private mutating func night(_ index: Int, _ pending: consuming [Recorder.Pending]) -> WorldNight {
        let recordedAt = Timestamp.seconds(recorder.recordedAt(night: index))
        let count = pending.count
        var batches: [AppendBatch] = []
        var first = Int64.max, last = Int64.min
        var customer: Int32 = -1
        var events: [ProposedEvent] = []
        let order = Recorder.recordingOrder(pending)
        for (rank, position) in order.enumerated() {
            let occurred = pending[position].occurred
            if pending[position].customer != customer {
                if !events.isEmpty { batches.append(AppendBatch(customerId: events[0].customerId!, events: events)) }
                customer = pending[position].customer
                var end = rank + 1
                while end < order.count, pending[order[end]].customer == customer { end += 1 }
                events = []
                events.reserveCapacity(end - rank)
            }
            first = min(first, occurred)
            last = max(last, occurred)
            summary.eventsByType[pending[position].event.type, default: 0] += 1
            events.append(pending[position].takeEvent())
        }
        if !events.isEmpty { batches.append(AppendBatch(customerId: events[0].customerId!, events: events)) }
        recorder.recycle(pending)
        if summary.firstOccurred.map({ first < $0.microseconds / 1_000_000 }) ?? true { summary.firstOccurred = .seconds(first) }
        if summary.lastOccurred.map({ last > $0.microseconds / 1_000_000 }) ?? true { summary.lastOccurred = .seconds(last) }
        summary.losses = summary.eventsByType["customer.lost"] ?? 0
        summary.reactivations = summary.eventsByType["customer.reactivated"] ?? 0
        summary.events += count
        summary.nights += 1
        if summary.firstRecorded == nil { summary.firstRecorded = recordedAt }
        summary.lastRecorded = recordedAt
        return WorldNight(index: index, recordedAt: recordedAt, batches: batches, eventCount: count)
    }

    /// Generates the whole world into `body`, night by night, without storing it.
    ///
    /// - Returns: the summary of the world.
    @discardableResult
    public static func generate(
        _ configuration: WorldConfiguration, _ body: (WorldNight) throws -> Void
    ) throws -> WorldSummary {
        var world = try WorldGenerator(configuration)
        while let night = world.nextNight() { try body(night) }
        return world.summary
    }
}
