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
        writeEnvelopeHead(e, importRef: importRef, payload: payload, into: &buffer)
        writeEnvelopeMiddle(position: position, recordedAt: recordedAt, into: &buffer)
        writeEnvelopeTail(e, streamVersion: streamVersion, sourceRecordedAt: sourceRecordedAt, into: &buffer)
    }

    /// Appends the envelope's members before `position`'s value: from `{` up to and including
    /// `"position":`. With ``writeEnvelopeMiddle(position:recordedAt:into:)`` and
    /// ``writeEnvelopeTail(_:streamVersion:sourceRecordedAt:into:)`` it makes the whole envelope, so
    /// that a store which learns the position and recording time last (PostgreSQL, under its head's
    /// lock) can fill in only those.
    public static func writeEnvelopeHead(_ e: EventEnvelope, importRef: String?, payload: some Collection<UInt8>, into buffer: inout [UInt8]) {
        var members = MemberWriter(first: true)
        buffer.append(UInt8(ascii: "{"))
        members.text("actor", e.actor, &buffer)
        members.text("assetId", e.assetId, &buffer)
        members.text("caseId", e.caseId, &buffer)
        members.text("causationId", e.causationId, &buffer)
        members.text("correlationId", e.correlationId, &buffer)
        members.text("customerId", e.customerId, &buffer)
        members.text("eventId", e.eventId.rawValue, &buffer)
        members.text("importRef", importRef, &buffer)
        members.text("occurredAt", e.occurredAt, &buffer)
        members.key("payload", &buffer)
        buffer.append(contentsOf: payload)
        members.key("position", &buffer)
    }

    /// Appends `position`'s value and the `recordedAt` member: `1,"recordedAt":"2026-03-02T07:15:00.000000Z"`.
    public static func writeEnvelopeMiddle(position: Int64, recordedAt: String, into buffer: inout [UInt8]) {
        var members = MemberWriter(first: false)
        buffer.append(contentsOf: String(position).utf8)
        members.text("recordedAt", recordedAt, &buffer)
    }

    /// Appends the members after `recordedAt`, and the closing `}`.
    public static func writeEnvelopeTail(_ e: EventEnvelope, streamVersion: Int, sourceRecordedAt: String?, into buffer: inout [UInt8]) {
        var members = MemberWriter(first: false)
        members.integer("schemaVersion", Int64(e.schemaVersion), &buffer)
        members.text("siteId", e.siteId, &buffer)
        members.text("source", e.source, &buffer)
        members.text("sourceRecordedAt", sourceRecordedAt, &buffer)
        members.integer("streamVersion", Int64(streamVersion), &buffer)
        members.text("type", e.type, &buffer)
        buffer.append(UInt8(ascii: "}"))
    }

    /// Writes an object's members, a comma before each but the first.
    private struct MemberWriter {
        var first: Bool

        mutating func key(_ name: StaticString, _ buffer: inout [UInt8]) {
            if !first { buffer.append(UInt8(ascii: ",")) }
            first = false
            buffer.append(UInt8(ascii: "\""))
            buffer.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
            buffer.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
        }

        /// Leaves an absent member out.
        mutating func text(_ name: StaticString, _ value: String?, _ buffer: inout [UInt8]) {
            guard let value else { return }
            key(name, &buffer)
            CanonicalJSON.writeString(value, into: &buffer)
        }

        mutating func integer(_ name: StaticString, _ value: Int64, _ buffer: inout [UInt8]) {
            key(name, &buffer)
            buffer.append(contentsOf: String(value).utf8)
        }
    }

    /// `SHA-256(prevHash ‖ envelope)`.
    public static func hash(prevHash: [UInt8], envelope: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: prevHash)
        hasher.update(data: envelope)
        return Array(hasher.finalize())
    }

    /// `SHA-256(prevHash ‖ head ‖ middle ‖ tail)`: the hash of an envelope written in its three parts
    /// (``writeEnvelopeHead(_:importRef:payload:into:)`` and the two after it).
    public static func hash(prevHash: [UInt8], head: [UInt8], middle: [UInt8], tail: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: prevHash)
        hasher.update(data: head)
        hasher.update(data: middle)
        hasher.update(data: tail)
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
