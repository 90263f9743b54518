/// An event that passed validation: identifiers checked, payload valid against its schema and in
/// canonical bytes. What is left to record it is the position, stream version, time and hash.
public struct PreparedEvent: Sendable, Hashable {
    public var eventId: EventID
    public var customerId: String
    public var type: String
    public var schemaVersion: Int
    /// False when the producer left `schemaVersion` out and the newest version was taken.
    public var schemaVersionGiven: Bool = true
    /// The business time exactly as the producer wrote it.
    public var occurredAt: String
    public var occurred: Timestamp
    public var caseId: String?
    public var assetId: String?
    public var siteId: String?
    public var actor: String?
    public var source: String?
    public var correlationId: String?
    public var causationId: String?
    /// Canonical JSON of the payload: the stored and hashed bytes.
    public var payload: [UInt8]
    /// Event ids this event points at (e.g. the event a correction corrects), with the payload field naming each.
    public var references: [(field: String, eventId: EventID)]
    /// Set only by an import: when the source system recorded the event (see ``RecordedEvent/sourceRecordedAt``).
    public var sourceRecordedAt: Timestamp? = nil
    /// Set only by an import: `<import number>/<file number>:<line>` of the source row.
    public var importRef: String? = nil

    /// The fields in which this event differs from a recorded one; empty for an identical re-send.
    ///
    /// Text is compared byte for byte (Swift's `==` would equate canonically equivalent Unicode).
    /// A re-send that left `schemaVersion` out matches whatever version was recorded.
    public func sameContent(as recorded: RecordedEvent) -> [String] {
        func same(_ a: String?, _ b: String?) -> Bool {
            switch (a, b) {
            case (nil, nil): true
            case (let a?, let b?): a.utf8.elementsEqual(b.utf8)
            default: false
            }
        }
        var differences: [String] = []
        if !same(customerId, recorded.customerId) { differences.append("customerId") }
        if !same(type, recorded.type) { differences.append("type") }
        if schemaVersionGiven, schemaVersion != recorded.schemaVersion { differences.append("schemaVersion") }
        if !same(occurredAt, recorded.occurredAt) { differences.append("occurredAt") }
        if !same(caseId, recorded.caseId) { differences.append("caseId") }
        if !same(assetId, recorded.assetId) { differences.append("assetId") }
        if !same(siteId, recorded.siteId) { differences.append("siteId") }
        if !same(actor, recorded.actor) { differences.append("actor") }
        if !same(source, recorded.source) { differences.append("source") }
        if !same(correlationId, recorded.correlationId) { differences.append("correlationId") }
        if !same(causationId, recorded.causationId) { differences.append("causationId") }
        if !payload.elementsEqual(recorded.payload.utf8) { differences.append("payload") }
        // The import reference is where the event was first learned from; a later import of the same row only repeats it.
        if sourceRecordedAt != recorded.sourceRecordedAt { differences.append("sourceRecordedAt") }
        return differences
    }

    public static func == (lhs: PreparedEvent, rhs: PreparedEvent) -> Bool {
        lhs.eventId == rhs.eventId && lhs.customerId == rhs.customerId && lhs.type == rhs.type
            && lhs.schemaVersion == rhs.schemaVersion && lhs.occurredAt == rhs.occurredAt && lhs.caseId == rhs.caseId
            && lhs.assetId == rhs.assetId && lhs.siteId == rhs.siteId && lhs.actor == rhs.actor
            && lhs.source == rhs.source && lhs.correlationId == rhs.correlationId && lhs.causationId == rhs.causationId
            && lhs.payload == rhs.payload && lhs.sourceRecordedAt == rhs.sourceRecordedAt && lhs.importRef == rhs.importRef
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(eventId)
        hasher.combine(payload)
    }
}
