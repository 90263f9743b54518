/// What an event states about itself besides its payload, checked by the validator: its id, its
/// customer, its type and schema version, its business time and its optional links.
///
/// Declared once: a ``PreparedEvent`` and a ``RecordedEvent`` carry it (and read its fields as their
/// own), and the hash chain writes it into an event's canonical form (``EventChain``).
public struct EventEnvelope: Sendable, Hashable {
    public var eventId: EventID
    public var customerId: String
    public var type: String
    public var schemaVersion: Int
    /// Business time exactly as the producer wrote it (ISO-8601 with offset).
    public var occurredAt: String
    /// `occurredAt` as an instant.
    public var occurred: Timestamp
    public var caseId: String?
    public var assetId: String?
    public var siteId: String?
    public var actor: String?
    public var source: String?
    public var correlationId: String?
    public var causationId: String?

    public init(
        eventId: EventID, customerId: String, type: String, schemaVersion: Int, occurredAt: String, occurred: Timestamp,
        caseId: String? = nil, assetId: String? = nil, siteId: String? = nil, actor: String? = nil, source: String? = nil,
        correlationId: String? = nil, causationId: String? = nil
    ) {
        self.eventId = eventId
        self.customerId = customerId
        self.type = type
        self.schemaVersion = schemaVersion
        self.occurredAt = occurredAt
        self.occurred = occurred
        self.caseId = caseId
        self.assetId = assetId
        self.siteId = siteId
        self.actor = actor
        self.source = source
        self.correlationId = correlationId
        self.causationId = causationId
    }

    /// The optional text fields by name.
    public var links: [(name: String, value: String?)] {
        [("caseId", caseId), ("assetId", assetId), ("siteId", siteId), ("actor", actor), ("source", source),
         ("correlationId", correlationId), ("causationId", causationId)]
    }

    /// The names of the fields in which `other` differs, `schemaVersion` only when `comparingVersion`.
    /// Text is compared byte for byte (Swift's `==` would equate canonically equivalent Unicode).
    public func differences(from other: EventEnvelope, comparingVersion: Bool = true) -> [String] {
        func same(_ a: String?, _ b: String?) -> Bool {
            switch (a, b) {
            case (nil, nil): true
            case (let a?, let b?): a.utf8.elementsEqual(b.utf8)
            default: false
            }
        }
        var differences: [String] = []
        if eventId != other.eventId { differences.append("eventId") }
        if !same(customerId, other.customerId) { differences.append("customerId") }
        if !same(type, other.type) { differences.append("type") }
        if comparingVersion, schemaVersion != other.schemaVersion { differences.append("schemaVersion") }
        if !same(occurredAt, other.occurredAt) { differences.append("occurredAt") }
        for ((name, mine), (_, theirs)) in zip(links, other.links) where !same(mine, theirs) { differences.append(name) }
        return differences
    }
}
