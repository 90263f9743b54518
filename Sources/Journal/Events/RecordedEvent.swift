/// An event as the journal stores it: the envelope, the canonical payload and the chain hashes.
public struct RecordedEvent: Sendable, Hashable {
    /// Global order in the journal, strictly increasing from 1.
    public var position: Int64
    public var eventId: EventID
    public var customerId: String
    /// 1, 2, 3 … within the customer's stream.
    public var streamVersion: Int
    public var type: String
    public var schemaVersion: Int
    /// Business time as the producer wrote it (ISO-8601 with offset).
    public var occurredAt: String
    public var occurred: Timestamp
    /// When the journal stored the event; never decreasing along positions.
    public var recorded: Timestamp
    /// For an event migrated from another system: when that system recorded it (never after `recorded`).
    public var sourceRecordedAt: Timestamp?
    /// For a migrated event: the import, source file and line it came from, `<import number>/<file number>:<line>`.
    public var importRef: String?
    public var caseId: String?
    public var assetId: String?
    public var siteId: String?
    public var actor: String?
    public var source: String?
    public var correlationId: String?
    public var causationId: String?
    /// Canonical JSON text of the payload, exactly the hashed bytes.
    public var payload: String
    public var prevHash: [UInt8]
    public var hash: [UInt8]

    public init(
        position: Int64, eventId: EventID, customerId: String, streamVersion: Int, type: String, schemaVersion: Int,
        occurredAt: String, occurred: Timestamp, recorded: Timestamp, caseId: String?, assetId: String?,
        siteId: String?, actor: String?, source: String?, correlationId: String?, causationId: String?,
        payload: String, prevHash: [UInt8], hash: [UInt8], sourceRecordedAt: Timestamp? = nil, importRef: String? = nil
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
        self.occurred = occurred
        self.recorded = recorded
        self.caseId = caseId
        self.assetId = assetId
        self.siteId = siteId
        self.actor = actor
        self.source = source
        self.correlationId = correlationId
        self.causationId = causationId
        self.payload = payload
        self.prevHash = prevHash
        self.hash = hash
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
            JSONMember("eventId", .string(eventId.rawValue)),
            JSONMember("customerId", .string(customerId)),
            JSONMember("streamVersion", .number(JSONNumber(Int64(streamVersion)))),
            JSONMember("type", .string(type)),
            JSONMember("schemaVersion", .number(JSONNumber(Int64(schemaVersion)))),
            JSONMember("occurredAt", .string(occurredAt)),
            JSONMember("recordedAt", .string(recorded.rfc3339)),
        ]
        let optional: [(String, String?)] = [
            ("sourceRecordedAt", sourceRecordedAt?.rfc3339), ("importRef", importRef), ("caseId", caseId), ("assetId", assetId), ("siteId", siteId), ("actor", actor), ("source", source),
            ("correlationId", correlationId), ("causationId", causationId),
        ]
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
