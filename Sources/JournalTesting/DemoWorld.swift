import Journal
import JournalStore

/// A small hand-made after-sales world: four customers whose journeys use every event type —
/// a breakdown with a broken promise and a technician report typed in a week late, a complaint
/// and its recovery, declined quotes and a lost customer, corrections and a void, a reactivation.
///
/// Each step has the instant it was recorded, so that `--known-at` questions have real answers.
///
/// ```swift
/// let writer = try JournalDatabase.inMemory()
/// try DemoWorld.write { clock in try EventStore(writer: writer, clock: clock) }
/// ```
public enum DemoWorld {
    public struct Step: Sendable {
        public var recordedAt: Timestamp
        public var customerId: String
        public var event: ProposedEvent
    }

    /// Writes the world into an empty journal, replaying each step at its recording time: `makeStore`
    /// receives the clock to record with. Each customer's consecutive steps form one batch.
    ///
    /// - Returns: the number of events stored.
    /// - Throws: ``JournalError/invalidArgument(_:)`` when the journal already holds events.
    @discardableResult
    public static func write(using makeStore: (JournalClock) throws -> EventStore) throws -> Int {
        let (clock, setTime) = JournalClock.manual(steps[0].recordedAt)
        let store = try makeStore(clock)
        let existing = try store.head()
        guard existing == 0 else {
            throw JournalError.invalidArgument("the journal already holds \(existing) events; the demo writes a new journal. Pass --db with a new file.")
        }
        var stored = 0
        var index = 0
        while index < steps.count {
            var end = index + 1
            while end < steps.count, steps[end].customerId == steps[index].customerId,
                steps[end].recordedAt == steps[index].recordedAt
            {
                end += 1
            }
            setTime(steps[index].recordedAt)
            let result = try store.append(steps[index..<end].map(\.event), to: steps[index].customerId)
            stored += result.appended
            index = end
        }
        return stored
    }

    /// The customers of the world and their names.
    public static let customers: [(id: String, name: String)] = [
        ("C-1001", "Hoffmann Präzisionsteile GmbH"),
        ("C-1002", "Nordwerk Anlagenbau AG"),
        ("C-1003", "Bianchi Meccanica S.r.l."),
        ("C-1004", "Dupont Emballage SA"),
    ]

    /// Every step, sorted by recording time.
    public static let steps: [Step] = {
        var builder = Builder()
        builder.hoffmann()
        builder.nordwerk()
        builder.bianchi()
        builder.dupont()
        return builder.steps.enumerated().sorted {
            ($0.element.recordedAt, $0.offset) < ($1.element.recordedAt, $1.offset)
        }.map(\.element)
    }()
}

/// Builds demo steps with short helpers; event ids are derived from a counter, so the world is the same every time.
struct Builder {
    var steps: [DemoWorld.Step] = []
    private var counter: UInt64 = 0

    /// Adds an event that occurred at `occurred` and was recorded `delayMinutes` later.
    @discardableResult
    mutating func add(
        _ customer: String, _ type: String, _ occurred: String, delayMinutes: Int64 = 5, caseId: String? = nil,
        assetId: String? = nil, siteId: String? = nil, actor: String, source: String, causation: EventID? = nil,
        _ payload: JSONValue
    ) -> EventID {
        counter += 1
        let occurredAt = try! Timestamp(rfc3339: occurred)
        let recorded = Timestamp(microseconds: occurredAt.microseconds + delayMinutes * 60_000_000)
        let id = EventID.version7(milliseconds: recorded.microseconds / 1000, random: (counter &* 0x9E37_79B9_7F4A_7C15, counter))
        steps.append(DemoWorld.Step(
            recordedAt: recorded, customerId: customer,
            event: ProposedEvent(
                eventId: id.rawValue, type: type, occurredAt: occurred, caseId: caseId, assetId: assetId,
                siteId: siteId, actor: actor, source: source, correlationId: caseId, causationId: causation?.rawValue,
                payload: payload)))
        return id
    }
}
