import Journal

/// One stored event's columns as the UTF-8 bytes the store holds, read in place: exports format
/// events from these without making a `String` per field.
///
/// The buffers are only valid while the scan that hands them out is in its callback.
public struct StoredEventBytes {
    public let position: Int64
    public let eventId: UnsafeRawBufferPointer
    public let customerId: UnsafeRawBufferPointer
    public let streamVersion: Int64
    public let type: UnsafeRawBufferPointer
    public let schemaVersion: Int64
    public let occurredAt: UnsafeRawBufferPointer
    public let recordedAtUs: Int64
    public let sourceRecordedAtUs: Int64?
    public let caseId: UnsafeRawBufferPointer?
    public let assetId: UnsafeRawBufferPointer?
    public let siteId: UnsafeRawBufferPointer?
    public let actor: UnsafeRawBufferPointer?
    public let source: UnsafeRawBufferPointer?
    public let correlationId: UnsafeRawBufferPointer?
    public let causationId: UnsafeRawBufferPointer?
    public let importRef: UnsafeRawBufferPointer?
    /// The payload as stored: canonical JSON.
    public let payload: UnsafeRawBufferPointer

    /// When it became known: the source's recording time for imported history, else the journal's.
    public var knownAt: Timestamp { Timestamp(microseconds: sourceRecordedAtUs ?? recordedAtUs) }

    // MARK: NDJSON

    /// Appends the event as `tpj append` reads it, one line: eventId, type, schemaVersion, occurredAt,
    /// customerId, the envelope fields, payload (stored canonical already), personal values disclosed
    /// by `disclosure`.
    public func writeAppendableNDJSON(into output: inout [UInt8], disclosure: Disclosure) {
        func member(_ key: StaticString, _ value: UnsafeRawBufferPointer?) {
            guard let value else { return }
            output.append(UInt8(ascii: ","))
            output.append(UInt8(ascii: "\""))
            key.withUTF8Buffer { output.append(contentsOf: $0) }
            output.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
            CanonicalJSON.writeString(utf8: value, into: &output)
        }
        output.append(contentsOf: #"{"eventId":"#.utf8)
        CanonicalJSON.writeString(utf8: eventId, into: &output)
        member("type", type)
        output.append(contentsOf: #","schemaVersion":"#.utf8)
        Self.writeInteger(schemaVersion, into: &output)
        member("occurredAt", occurredAt)
        member("customerId", customerId)
        member("caseId", caseId)
        member("assetId", assetId)
        member("siteId", siteId)
        if let actor {
            var disclosed = disclosure.value(String(decoding: actor, as: UTF8.self))
            disclosed.withUTF8 { member("actor", UnsafeRawBufferPointer($0)) }
        }
        member("source", source)
        member("correlationId", correlationId)
        member("causationId", causationId)
        output.append(contentsOf: #","payload":"#.utf8)
        disclosure.write(payload.assumingMemoryBound(to: UInt8.self), into: &output)
        output.append(contentsOf: [UInt8(ascii: "}"), UInt8(ascii: "\n")])
    }

    // MARK: CSV

    /// The CSV columns of ``writeCSVRecord(into:)``.
    public static let csvHeader = [
        "position", "eventId", "customerId", "streamVersion", "type", "schemaVersion", "occurredAt", "knownAt", "recordedAt",
        "caseId", "assetId", "siteId", "actor", "source", "correlationId", "causationId", "importRef", "payload",
    ]

    /// Appends one CSV record (CRLF-terminated): the envelope, knownAt and recordedAt in UTC, the payload as JSON text,
    /// personal values disclosed by `disclosure`.
    public func writeCSVRecord(into output: inout [UInt8], disclosure: Disclosure) {
        func field(_ value: UnsafeRawBufferPointer?) {
            output.append(UInt8(ascii: ","))
            if let value { CSV.writeField(utf8: value, into: &output) }
        }
        Self.writeInteger(position, into: &output)
        field(eventId)
        field(customerId)
        output.append(UInt8(ascii: ","))
        Self.writeInteger(streamVersion, into: &output)
        field(type)
        output.append(UInt8(ascii: ","))
        Self.writeInteger(schemaVersion, into: &output)
        field(occurredAt)
        output.append(UInt8(ascii: ","))
        knownAt.writeRFC3339(into: &output)
        output.append(UInt8(ascii: ","))
        Timestamp(microseconds: recordedAtUs).writeRFC3339(into: &output)
        field(caseId)
        field(assetId)
        field(siteId)
        if let actor {
            var disclosed = disclosure.value(String(decoding: actor, as: UTF8.self))
            disclosed.withUTF8 { field(UnsafeRawBufferPointer($0)) }
        } else {
            field(nil)
        }
        field(source)
        field(correlationId)
        field(causationId)
        field(importRef)
        var disclosed: [UInt8] = []
        disclosure.write(payload.assumingMemoryBound(to: UInt8.self), into: &disclosed)
        disclosed.withUnsafeBytes { field($0) }
        output.append(contentsOf: [0x0D, 0x0A])
    }

    private static func writeInteger(_ value: Int64, into output: inout [UInt8]) {
        if value >= 0, value < 10 {
            output.append(UInt8(ascii: "0") + UInt8(value))
        } else {
            output.append(contentsOf: String(value).utf8)
        }
    }
}
