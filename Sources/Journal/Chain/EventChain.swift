import Crypto

/// The tamper-evident hash chain: `hash = SHA-256(prevHash ‖ canonical envelope bytes)` over the global order.
///
/// The canonical envelope is a JSON object with its members in sorted order and no white space;
/// absent optional fields are left out, `recordedAt` (and a migrated event's `sourceRecordedAt`) is
/// UTC with six fractional digits, and the payload is embedded as its stored bytes:
/// ```
/// {"actor":…,"assetId":…,"caseId":…,"causationId":…,"correlationId":…,"customerId":…,"eventId":…,
///  "occurredAt":…,"payload":{…},"position":1,"recordedAt":"2026-03-02T07:15:00.000000Z",
///  "schemaVersion":1,"siteId":…,"source":…,"streamVersion":1,"type":…}
/// ```
/// The first event's `prevHash` is 32 zero bytes.
public enum EventChain {
    public static let genesisHash = [UInt8](repeating: 0, count: 32)

    /// The fields that make up an event's canonical envelope.
    public struct Envelope {
        public var position: Int64
        public var eventId: String
        public var customerId: String
        public var streamVersion: Int
        public var type: String
        public var schemaVersion: Int
        public var occurredAt: String
        /// `recordedAt` already formatted (``Timestamp/rfc3339``).
        public var recordedAt: String
        public var caseId: String?
        public var assetId: String?
        public var siteId: String?
        public var actor: String?
        public var source: String?
        public var correlationId: String?
        public var causationId: String?
        /// Migrated events only: the source's recording time (formatted like `recordedAt`) and the import reference.
        public var sourceRecordedAt: String?
        public var importRef: String?

        public init(
            position: Int64, eventId: String, customerId: String, streamVersion: Int, type: String,
            schemaVersion: Int, occurredAt: String, recordedAt: String, caseId: String?, assetId: String?,
            siteId: String?, actor: String?, source: String?, correlationId: String?, causationId: String?,
            sourceRecordedAt: String? = nil, importRef: String? = nil
        ) {
            self.sourceRecordedAt = sourceRecordedAt
            self.importRef = importRef
            self.position = position
            self.eventId = eventId
            self.customerId = customerId
            self.streamVersion = streamVersion
            self.type = type
            self.schemaVersion = schemaVersion
            self.occurredAt = occurredAt
            self.recordedAt = recordedAt
            self.caseId = caseId
            self.assetId = assetId
            self.siteId = siteId
            self.actor = actor
            self.source = source
            self.correlationId = correlationId
            self.causationId = causationId
        }
    }

    /// Writes the canonical envelope bytes into `buffer` (which is cleared first).
    public static func writeCanonicalEnvelope(
        _ e: Envelope, payload: some Collection<UInt8>, into buffer: inout [UInt8]
    ) {
        buffer.removeAll(keepingCapacity: true)
        buffer.append(UInt8(ascii: "{"))
        var first = true
        func key(_ name: StaticString) {
            if !first { buffer.append(UInt8(ascii: ",")) }
            first = false
            buffer.append(UInt8(ascii: "\""))
            buffer.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
            buffer.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
        }
        func text(_ name: StaticString, _ value: String?) {
            guard let value else { return }
            key(name)
            CanonicalJSON.writeString(value, into: &buffer)
        }
        func integer(_ name: StaticString, _ value: Int64) {
            key(name)
            buffer.append(contentsOf: String(value).utf8)
        }
        text("actor", e.actor)
        text("assetId", e.assetId)
        text("caseId", e.caseId)
        text("causationId", e.causationId)
        text("correlationId", e.correlationId)
        text("customerId", e.customerId)
        text("eventId", e.eventId)
        text("importRef", e.importRef)
        text("occurredAt", e.occurredAt)
        key("payload")
        buffer.append(contentsOf: payload)
        integer("position", e.position)
        text("recordedAt", e.recordedAt)
        integer("schemaVersion", Int64(e.schemaVersion))
        text("siteId", e.siteId)
        text("source", e.source)
        text("sourceRecordedAt", e.sourceRecordedAt)
        integer("streamVersion", Int64(e.streamVersion))
        text("type", e.type)
        buffer.append(UInt8(ascii: "}"))
    }

    /// `SHA-256(prevHash ‖ envelope)`.
    public static func hash(prevHash: [UInt8], envelope: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: prevHash)
        hasher.update(data: envelope)
        return Array(hasher.finalize())
    }

    /// The canonical envelope of a recorded event.
    public static func envelope(of event: RecordedEvent) -> Envelope {
        Envelope(
            position: event.position, eventId: event.eventId.rawValue, customerId: event.customerId,
            streamVersion: event.streamVersion, type: event.type, schemaVersion: event.schemaVersion,
            occurredAt: event.occurredAt, recordedAt: event.recorded.rfc3339, caseId: event.caseId,
            assetId: event.assetId, siteId: event.siteId, actor: event.actor, source: event.source,
            correlationId: event.correlationId, causationId: event.causationId,
            sourceRecordedAt: event.sourceRecordedAt?.rfc3339, importRef: event.importRef)
    }

    /// Recomputes the hash a recorded event should have, from its stored fields and `prevHash`.
    public static func expectedHash(of event: RecordedEvent, buffer: inout [UInt8]) -> [UInt8] {
        writeCanonicalEnvelope(envelope(of: event), payload: event.payload.utf8, into: &buffer)
        return hash(prevHash: event.prevHash, envelope: buffer)
    }
}
