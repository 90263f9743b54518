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
        func string(_ text: String) -> String { CanonicalJSON.string(.string(text)) }
        var line = "{\"eventId\":\(string(eventId.rawValue)),\"type\":\(string(type)),\"schemaVersion\":\(schemaVersion)"
        line += ",\"occurredAt\":\(string(occurredAt)),\"customerId\":\(string(customerId))"
        let optional: [(String, String?)] = [
            ("caseId", caseId), ("assetId", assetId), ("siteId", siteId), ("actor", actor),
            ("source", source), ("correlationId", correlationId), ("causationId", causationId),
        ]
        for (key, value) in optional { if let value { line += ",\"\(key)\":\(string(value))" } }
        return line + ",\"payload\":\(payload)}\n"
    }
}
