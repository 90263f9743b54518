/// Writes one JSON object straight into bytes, member by member, for documents too hot to build
/// as a ``JSONValue`` first (a timeline is read per request).
///
/// The members are written in the order given: give them in canonical order (see ``CanonicalJSON``)
/// and the bytes are canonical. Optional values that are nil are left out.
///
/// ```swift
/// var output: [UInt8] = []
/// JSONObjectWriter.append(to: &output) { object in
///     object.string("customerId", "C-1001")
///     object.json("payload", storedCanonicalPayload)
/// }
/// // {"customerId":"C-1001","payload":{…}}
/// ```
public struct JSONObjectWriter {
    private var bytes: [UInt8] = []
    private var isEmpty = true

    /// Appends an object with the members `write` gives to `output`.
    public static func append(to output: inout [UInt8], _ write: (inout JSONObjectWriter) throws -> Void) rethrows {
        var object = JSONObjectWriter()
        // The writer borrows the buffer, so that nothing is copied.
        swap(&object.bytes, &output)
        defer { swap(&object.bytes, &output) }
        object.bytes.append(UInt8(ascii: "{"))
        try write(&object)
        object.bytes.append(UInt8(ascii: "}"))
    }

    public mutating func string(_ key: StaticString, _ value: String?) {
        guard let value else { return }
        name(key)
        CanonicalJSON.writeString(value, into: &bytes)
    }

    public mutating func integer(_ key: StaticString, _ value: Int64?) {
        guard let value else { return }
        name(key)
        bytes.append(contentsOf: String(value).utf8)
    }

    public mutating func number(_ key: StaticString, _ value: JSONNumber?) {
        guard let value else { return }
        name(key)
        bytes.append(contentsOf: value.canonicalText.utf8)
    }

    public mutating func bool(_ key: StaticString, _ value: Bool?) {
        guard let value else { return }
        name(key)
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    public mutating func strings(_ key: StaticString, _ values: [String]) {
        name(key)
        bytes.append(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            CanonicalJSON.writeString(value, into: &bytes)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// An instant as an RFC 3339 string (``Timestamp/rfc3339``).
    public mutating func instant(_ key: StaticString, _ value: Timestamp?) {
        guard let value else { return }
        name(key)
        bytes.append(UInt8(ascii: "\""))
        value.writeRFC3339(into: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    /// A member whose value is JSON text already in canonical form (a stored payload), copied as it is.
    public mutating func json(_ key: StaticString, _ canonicalText: String?) {
        guard var canonicalText else { return }
        name(key)
        canonicalText.withUTF8 { bytes.append(contentsOf: $0) }
    }

    /// A member whose value is the canonical bytes `write` appends.
    public mutating func json(_ key: StaticString, writing write: (inout [UInt8]) throws -> Void) rethrows {
        name(key)
        try write(&bytes)
    }

    private mutating func name(_ key: StaticString) {
        if isEmpty {
            isEmpty = false
        } else {
            bytes.append(UInt8(ascii: ","))
        }
        // Member names are plain ASCII literals: no escapes needed.
        bytes.append(UInt8(ascii: "\""))
        key.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }
}
