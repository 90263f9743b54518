/// An event that passed validation: identifiers checked, payload valid against its schema and in
/// canonical bytes. What is left to record it is the position, stream version, time and hash.
@dynamicMemberLookup
public struct PreparedEvent: Sendable, Hashable {
    public var envelope: EventEnvelope
    /// False when the producer left `schemaVersion` out and the newest version was taken.
    public var schemaVersionGiven: Bool = true
    /// Canonical JSON of the payload: the stored and hashed bytes.
    public var payload: [UInt8]
    /// Event ids this event points at (e.g. the event a correction corrects), with the payload field naming each.
    public var references: [(field: String, eventId: EventID)]
    /// Set only by an import: when the source system recorded the event (see ``RecordedEvent/sourceRecordedAt``).
    public var sourceRecordedAt: Timestamp? = nil
    /// Set only by an import: `<import number>/<file number>:<line>` of the source row.
    public var importRef: String? = nil

    public init(
        envelope: EventEnvelope, schemaVersionGiven: Bool = true, payload: [UInt8], references: [(field: String, eventId: EventID)] = [],
        sourceRecordedAt: Timestamp? = nil, importRef: String? = nil
    ) {
        self.envelope = envelope
        self.schemaVersionGiven = schemaVersionGiven
        self.payload = payload
        self.references = references
        self.sourceRecordedAt = sourceRecordedAt
        self.importRef = importRef
    }

    /// The envelope's fields, read and written as the event's own.
    @inlinable
    public subscript<T>(dynamicMember field: WritableKeyPath<EventEnvelope, T>) -> T {
        get { envelope[keyPath: field] }
        set { envelope[keyPath: field] = newValue }
    }

    /// The fields in which this event differs from a recorded one; empty for an identical re-send.
    ///
    /// Text is compared byte for byte (Swift's `==` would equate canonically equivalent Unicode).
    /// A re-send that left `schemaVersion` out matches whatever version was recorded.
    public func sameContent(as recorded: RecordedEvent) -> [String] {
        var differences = envelope.differences(from: recorded.envelope, comparingVersion: schemaVersionGiven)
        if !payload.elementsEqual(recorded.payload.utf8) { differences.append("payload") }
        // The import reference is where the event was first learned from; a later import of the same row only repeats it.
        if sourceRecordedAt != recorded.sourceRecordedAt { differences.append("sourceRecordedAt") }
        return differences
    }

    /// Refuses a re-send whose content differs from `stored`, the event recorded with its id;
    /// `index` is where the event stood in its input.
    ///
    /// - Throws: ``JournalError/eventIdReused(index:eventId:position:differingFields:)``.
    public func requireSameContent(as stored: RecordedEvent, index: Int) throws(JournalError) {
        let differences = sameContent(as: stored)
        guard differences.isEmpty else {
            throw .eventIdReused(index: index, eventId: envelope.eventId, position: stored.position, differingFields: differences)
        }
    }

    public static func == (lhs: PreparedEvent, rhs: PreparedEvent) -> Bool {
        lhs.envelope == rhs.envelope && lhs.payload == rhs.payload && lhs.sourceRecordedAt == rhs.sourceRecordedAt
            && lhs.importRef == rhs.importRef
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(envelope.eventId)
        hasher.combine(payload)
    }
}
