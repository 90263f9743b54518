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
                customers[index].step(day: day, into: &recorder)
                wake[index] = customers[index].wakeDay
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

    private mutating func night(_ index: Int, _ pending: [Recorder.Pending]) -> WorldNight {
        let recordedAt = Timestamp.seconds(recorder.recordedAt(night: index))
        var batches: [AppendBatch] = []
        var start = 0
        while start < pending.count {
            var end = start + 1
            while end < pending.count, pending[end].customer == pending[start].customer { end += 1 }
            let customerId = customers[Int(pending[start].customer)].id
            batches.append(AppendBatch(customerId: customerId, events: pending[start..<end].map(\.event)))
            start = end
        }
        for event in pending {
            summary.eventsByType[event.event.type, default: 0] += 1
            let occurred = Timestamp.seconds(event.occurred)
            if summary.firstOccurred.map({ occurred < $0 }) ?? true { summary.firstOccurred = occurred }
            if summary.lastOccurred.map({ occurred > $0 }) ?? true { summary.lastOccurred = occurred }
        }
        summary.losses = summary.eventsByType["customer.lost"] ?? 0
        summary.reactivations = summary.eventsByType["customer.reactivated"] ?? 0
        summary.events += pending.count
        summary.nights += 1
        if summary.firstRecorded == nil { summary.firstRecorded = recordedAt }
        summary.lastRecorded = recordedAt
        return WorldNight(index: index, recordedAt: recordedAt, batches: batches, eventCount: pending.count)
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
