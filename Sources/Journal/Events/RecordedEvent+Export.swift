/// Events as exports write them: NDJSON that `tpj append` reads back, and CSV for analysis tools.
extension RecordedEvent {
    /// The CSV columns of ``csvRecord``.
    public static let csvHeader = [
        "position", "eventId", "customerId", "streamVersion", "type", "schemaVersion", "occurredAt", "knownAt", "recordedAt",
        "caseId", "assetId", "siteId", "actor", "source", "correlationId", "causationId", "importRef", "payload",
    ]

    /// One CSV record (CRLF-terminated): the envelope, knownAt and recordedAt in UTC, the payload as JSON text.
    public var csvRecord: String {
        CSV.record([
            String(position), eventId.rawValue, customerId, String(streamVersion), type, String(schemaVersion), occurredAt,
            knownAt.rfc3339, recorded.rfc3339, caseId ?? "", assetId ?? "", siteId ?? "", actor ?? "", source ?? "",
            correlationId ?? "", causationId ?? "", importRef ?? "", payload,
        ])
    }

    /// The event as `tpj append` reads it, one line: eventId, type, schemaVersion, occurredAt,
    /// customerId, the envelope fields, payload (the stored payload text is canonical JSON already).
    public var appendableNDJSON: String {
        var bytes: [UInt8] = []
        writeAppendableNDJSON(into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends ``appendableNDJSON`` to `output`, newline included.
    public func writeAppendableNDJSON(into output: inout [UInt8]) {
        func member(_ key: StaticString, _ value: String?) {
            guard let value else { return }
            output.append(UInt8(ascii: ","))
            output.append(UInt8(ascii: "\""))
            key.withUTF8Buffer { output.append(contentsOf: $0) }
            output.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
            CanonicalJSON.writeString(value, into: &output)
        }
        output.append(contentsOf: #"{"eventId":"#.utf8)
        CanonicalJSON.writeString(eventId.rawValue, into: &output)
        member("type", type)
        output.append(contentsOf: #","schemaVersion":"#.utf8)
        output.append(contentsOf: String(schemaVersion).utf8)
        member("occurredAt", occurredAt)
        member("customerId", customerId)
        member("caseId", caseId)
        member("assetId", assetId)
        member("siteId", siteId)
        member("actor", actor)
        member("source", source)
        member("correlationId", correlationId)
        member("causationId", causationId)
        output.append(contentsOf: #","payload":"#.utf8)
        output.append(contentsOf: payload.utf8)
        output.append(contentsOf: [UInt8(ascii: "}"), UInt8(ascii: "\n")])
    }
}
