/// An event as the journal stores it: where and when it was recorded, its envelope (whose fields it
/// reads as its own: `event.customerId`), the canonical payload and the chain hashes.
@dynamicMemberLookup
public struct RecordedEvent: Sendable, Hashable {
    /// Global order in the journal, strictly increasing from 1.
    public var position: Int64
    /// 1, 2, 3 … within the customer's stream.
    public var streamVersion: Int
    public var envelope: EventEnvelope
    /// When the journal stored the event; never decreasing along positions.
    public var recorded: Timestamp
    /// For an event migrated from another system: when that system recorded it (never after `recorded`).
    public var sourceRecordedAt: Timestamp?
    /// For a migrated event: the import, source file and line it came from, `<import number>/<file number>:<line>`.
    public var importRef: String?
    /// Canonical JSON text of the payload, exactly the hashed bytes.
    public var payload: String
    public var prevHash: [UInt8]
    public var hash: [UInt8]

    public init(
        position: Int64, streamVersion: Int, envelope: EventEnvelope, recorded: Timestamp,
        sourceRecordedAt: Timestamp? = nil, importRef: String? = nil, payload: String, prevHash: [UInt8], hash: [UInt8]
    ) {
        self.position = position
        self.streamVersion = streamVersion
        self.envelope = envelope
        self.recorded = recorded
        self.sourceRecordedAt = sourceRecordedAt
        self.importRef = importRef
        self.payload = payload
        self.prevHash = prevHash
        self.hash = hash
    }

    /// The envelope's fields, read and written as the event's own.
    @inlinable
    public subscript<T>(dynamicMember field: WritableKeyPath<EventEnvelope, T>) -> T {
        get { envelope[keyPath: field] }
        set { envelope[keyPath: field] = newValue }
    }

    /// When the organisation knew the event: the source's recording time for a migrated event, else
    /// `recorded`. Every "as known at T" view reads this time.
    public var knownAt: Timestamp { sourceRecordedAt ?? recorded }

    /// The parsed payload.
    public var payloadJSON: JSONValue {
        (try? JSONParser.parse(payload)) ?? .null
    }

    /// The whole stored event as one JSON object (the envelope fields plus `payload`, `prevHash`, `hash`).
    public var json: JSONValue {
        var members: [JSONMember] = [
            JSONMember("position", .number(JSONNumber(position))),
            JSONMember("eventId", .string(envelope.eventId.rawValue)),
            JSONMember("customerId", .string(envelope.customerId)),
            JSONMember("streamVersion", .number(JSONNumber(Int64(streamVersion)))),
            JSONMember("type", .string(envelope.type)),
            JSONMember("schemaVersion", .number(JSONNumber(Int64(envelope.schemaVersion)))),
            JSONMember("occurredAt", .string(envelope.occurredAt)),
            JSONMember("recordedAt", .string(recorded.rfc3339)),
        ]
        let optional: [(name: String, value: String?)] = [("sourceRecordedAt", sourceRecordedAt?.rfc3339), ("importRef", importRef)] + envelope.links
        for (key, value) in optional { if let value { members.append(JSONMember(key, .string(value))) } }
        members.append(JSONMember("payload", payloadJSON))
        members.append(JSONMember("prevHash", .string(Hex.encode(prevHash))))
        members.append(JSONMember("hash", .string(Hex.encode(hash))))
        return .object(members)
    }
}

/// Lower-case hexadecimal text of bytes.
public enum Hex {
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// The bytes of lowercase or uppercase hexadecimal text, or nil when it is not such text.
    public static func decode(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        func value(_ digit: UInt8) -> UInt8? {
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = value(digits[index]), let low = value(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }
}
