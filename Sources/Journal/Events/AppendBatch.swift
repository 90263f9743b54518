/// The batches of an append and what it stored: the same for every store of the log.

/// One customer's batch of an append.
public struct AppendBatch: Sendable {
    public var customerId: String
    public var expected: ExpectedVersion
    public var events: [ProposedEvent]
    /// Where each event stood in the producer's input, when batches were cut from one mixed input;
    /// errors then name that index instead of the index within the batch.
    public var inputIndices: [Int]?

    public init(customerId: String, expected: ExpectedVersion = .any, events: [ProposedEvent], inputIndices: [Int]? = nil) {
        self.customerId = customerId
        self.expected = expected
        self.events = events
        self.inputIndices = inputIndices
    }
}

/// A batch whose events passed validation.
public struct PreparedBatch: Sendable {
    public var customerId: String
    public var expected: ExpectedVersion
    public var events: [PreparedEvent]
    public var inputIndices: [Int]?

    public init(customerId: String, expected: ExpectedVersion, events: [PreparedEvent], inputIndices: [Int]? = nil) {
        self.customerId = customerId
        self.expected = expected
        self.events = events
        self.inputIndices = inputIndices
    }

    /// The outcome of a batch whose expected version does not match the stream's `version`: a re-send
    /// of events that are all stored already passes, answered with their stored positions; anything
    /// else is a conflict. `stored` holds the stored event with each event's id, nil where there is none.
    ///
    /// - Throws: ``JournalError/concurrencyConflict(customerId:expected:actual:)``, or
    ///   ``JournalError/eventIdReused(index:eventId:position:differingFields:)`` for a re-send with other content.
    public func resent(streamVersion version: Int, stored: [RecordedEvent?]) throws(JournalError) -> AppendResult {
        guard !events.isEmpty else { throw .concurrencyConflict(customerId: customerId, expected: expected, actual: version) }
        var positions: [Int64] = []
        positions.reserveCapacity(events.count)
        for (index, (event, stored)) in zip(events, stored).enumerated() {
            guard let stored else { throw .concurrencyConflict(customerId: customerId, expected: expected, actual: version) }
            try event.requireSameContent(as: stored, index: inputIndex(index))
            positions.append(stored.position)
        }
        return AppendResult(
            customerId: customerId, positions: positions, appended: 0, newPositions: nil, duplicates: events.count, streamVersion: version)
    }

    /// The index to name in an error about event `index` of this batch.
    public func inputIndex(_ index: Int) -> Int { inputIndices?[index] ?? index }
}

/// What an append stored.
public struct AppendResult: Sendable, Hashable {
    public var customerId: String
    /// Position of each event of the batch, in input order (stored earlier for re-sent events).
    public var positions: [Int64]
    /// How many events of the batch were new.
    public var appended: Int
    /// Positions of the new events (nil when every event was a re-send).
    public var newPositions: ClosedRange<Int64>?
    /// How many were re-sends of stored events (no-ops).
    public var duplicates: Int
    /// The customer's stream version after the append.
    public var streamVersion: Int

    public init(customerId: String, positions: [Int64], appended: Int, newPositions: ClosedRange<Int64>?, duplicates: Int, streamVersion: Int) {
        self.customerId = customerId
        self.positions = positions
        self.appended = appended
        self.newPositions = newPositions
        self.duplicates = duplicates
        self.streamVersion = streamVersion
    }
}

public enum HistoryOrder: String, Sendable, CaseIterable {
    /// As recorded: stream version order.
    case stream
    /// As it happened: business time (`occurredAt`) order; late-recorded events land in their place.
    case occurred
}

extension JournalError {
    /// Adds the customer to a batch error when several customers' batches were appended together.
    public func inBatch(of customerId: String) -> JournalError {
        switch self {
        case .invalidEvent(var invalid):
            invalid.message = "customer \(customerId): " + invalid.message
            return .invalidEvent(invalid)
        default:
            return self
        }
    }
}
