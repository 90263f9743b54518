import Journal

/// Holds the events that are waiting for the night they will be recorded in.
///
/// A calendar queue: one bucket per night. The simulation adds an event when it decides that the
/// touchpoint happens (possibly days ahead, for the later steps of a service case, or a report typed
/// in late); the night's bucket is taken once the day before it has been simulated. Only events not
/// yet recorded are held, so memory stays bounded by a few weeks of the world.
struct Recorder {
    /// An event and the order it takes within its night.
    struct Pending {
        var customer: Int32
        var occurred: Int64
        var sequence: UInt64
        var event: ProposedEvent

        /// Moves the event out, leaving an empty one behind (cheaper than copying its strings and payload).
        mutating func takeEvent() -> ProposedEvent {
            var taken = Self.placeholder
            swap(&taken, &event)
            return taken
        }

        private static let placeholder = ProposedEvent(eventId: "", type: "", occurredAt: "", payload: .null)
    }

    let startDay: Int
    /// The last night of the world: night `n` is recorded at 02:00 UTC of day `n` of the world.
    let lastNight: Int
    private var buckets: [[Pending]]
    private var sequence: UInt64 = 0
    /// The last night taken: nothing can be added to it or before it any more.
    private var taken = 0
    /// Emptied buckets of nights already recorded, reused for later nights instead of growing new ones.
    private var spare: [[Pending]] = []

    init(startDay: Int, lastNight: Int) {
        self.startDay = startDay
        self.lastNight = lastNight
        buckets = Array(repeating: [], count: lastNight + 1)
    }

    /// The night in which a touchpoint that occurred at `occurred` is recorded, `lateDays` after the normal one.
    func night(occurred: Int64, lateDays: Int) -> Int {
        Int(occurred / WorldCalendar.secondsPerDay) - startDay + 1 + lateDays
    }

    /// Queues `event` for `night`; returns false (dropping it) when the night is after the end of the world.
    @discardableResult
    mutating func add(_ event: consuming ProposedEvent, customer: Int, occurred: Int64, night: Int) -> Bool {
        guard night <= lastNight else { return false }
        assert(night > taken, "an event was added to night \(night), which is already recorded")
        // Only the next nights get a large reused bucket; far ones collect few events.
        if buckets[night].capacity == 0, night - taken <= 2, let reused = spare.popLast() { buckets[night] = reused }
        sequence &+= 1
        buckets[night].append(Pending(customer: Int32(customer), occurred: occurred, sequence: sequence, event: event))
        return true
    }

    /// The events of `night`, in the order they were added; see ``recordingOrder(_:)``.
    mutating func take(night: Int) -> [Pending] {
        var events: [Pending] = []
        swap(&events, &buckets[night])
        taken = night
        return events
    }

    /// Keeps an emptied bucket for a later night.
    mutating func recycle(_ bucket: consuming [Pending]) {
        bucket.removeAll(keepingCapacity: true)
        if spare.count < 3 { spare.append(bucket) }
    }

    /// The positions of `events` in customer order and, per customer, in order of occurrence.
    static func recordingOrder(_ events: [Pending]) -> [Int] {
        // Sorting keys, not the events: an event is large, and moving it costs more than comparing.
        var keys: [(customer: Int32, occurred: Int64, sequence: UInt64, index: Int)] = []
        keys.reserveCapacity(events.count)
        for index in events.indices {
            keys.append((events[index].customer, events[index].occurred, events[index].sequence, index))
        }
        keys.sort { ($0.customer, $0.occurred, $0.sequence) < ($1.customer, $1.occurred, $1.sequence) }
        return keys.map(\.index)
    }

    /// The instant a night is recorded at (seconds since 1970, UTC).
    func recordedAt(night: Int) -> Int64 {
        Int64(startDay + night) * WorldCalendar.secondsPerDay + 2 * 3600
    }
}
