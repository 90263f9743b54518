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

    /// Writes the canonical envelope bytes into `buffer` (which is cleared first): the event's
    /// ``EventEnvelope``, where and when the journal recorded it, and its payload's stored bytes.
    /// `recordedAt` and `sourceRecordedAt` come formatted (``Timestamp/rfc3339``), so that a caller
    /// hashing many events formats each instant once.
    public static func writeCanonicalEnvelope(
        _ e: EventEnvelope, position: Int64, streamVersion: Int, recordedAt: String, sourceRecordedAt: String?,
        importRef: String?, payload: some Collection<UInt8>, into buffer: inout [UInt8]
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
        text("eventId", e.eventId.rawValue)
        text("importRef", importRef)
        text("occurredAt", e.occurredAt)
        key("payload")
        buffer.append(contentsOf: payload)
        integer("position", position)
        text("recordedAt", recordedAt)
        integer("schemaVersion", Int64(e.schemaVersion))
        text("siteId", e.siteId)
        text("source", e.source)
        text("sourceRecordedAt", sourceRecordedAt)
        integer("streamVersion", Int64(streamVersion))
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

    /// Writes the canonical envelope bytes of a recorded event into `buffer` (which is cleared first).
    public static func writeCanonicalEnvelope(of event: RecordedEvent, into buffer: inout [UInt8]) {
        writeCanonicalEnvelope(
            event.envelope, position: event.position, streamVersion: event.streamVersion, recordedAt: event.recorded.rfc3339,
            sourceRecordedAt: event.sourceRecordedAt?.rfc3339, importRef: event.importRef, payload: event.payload.utf8, into: &buffer)
    }

    /// Recomputes the hash a recorded event should have, from its stored fields and `prevHash`.
    public static func expectedHash(of event: RecordedEvent, buffer: inout [UInt8]) -> [UInt8] {
        writeCanonicalEnvelope(of: event, into: &buffer)
        return hash(prevHash: event.prevHash, envelope: buffer)
    }
}
