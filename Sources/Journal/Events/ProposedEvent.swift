/// An event as a producer sends it, before the journal validates and records it.
///
/// Input is one JSON object per event:
/// ```json
/// {"eventId": "0190f7a2-…", "type": "hotline.call.received", "occurredAt": "2026-03-02T08:15:00+01:00",
///  "caseId": "CASE-17", "assetId": "SN-4711", "actor": "hotline/anna", "source": "hotline",
///  "payload": {"queueWaitSeconds": 95, "abandoned": false, "solvedOnCall": false, "machineDown": true}}
/// ```
/// `schemaVersion` defaults to the newest registered version of the type. The journal sets
/// `position`, `streamVersion`, `recordedAt`, `prevHash` and `hash`; sending them is an error. So is
/// sending `sourceRecordedAt` or `importRef`, which only `tpj import` sets: no producer back-dates an event.
public struct ProposedEvent: Sendable, Hashable {
    public var eventId: String
    public var type: String
    public var schemaVersion: Int?
    public var occurredAt: String
    public var customerId: String?
    public var caseId: String?
    public var assetId: String?
    public var siteId: String?
    public var actor: String?
    public var source: String?
    public var correlationId: String?
    public var causationId: String?
    public var payload: JSONValue

    public init(
        eventId: String, type: String, schemaVersion: Int? = nil, occurredAt: String, customerId: String? = nil,
        caseId: String? = nil, assetId: String? = nil, siteId: String? = nil, actor: String? = nil,
        source: String? = nil, correlationId: String? = nil, causationId: String? = nil, payload: JSONValue
    ) {
        self.eventId = eventId
        self.type = type
        self.schemaVersion = schemaVersion
        self.occurredAt = occurredAt
        self.customerId = customerId
        self.caseId = caseId
        self.assetId = assetId
        self.siteId = siteId
        self.actor = actor
        self.source = source
        self.correlationId = correlationId
        self.causationId = causationId
        self.payload = payload
    }

    static let optionalTextFields = ["customerId", "caseId", "assetId", "siteId", "actor", "source", "correlationId", "causationId"]
    static let journalFields: Set<String> = [
        "position", "streamVersion", "recordedAt", "prevHash", "hash", "sourceRecordedAt", "importRef",
    ]

    /// Reads one event object of an input batch.
    ///
    /// - Throws: ``JournalError/invalidEvent(_:)`` naming `index`, the field and the rule.
    public init(json: JSONValue, index: Int) throws(JournalError) {
        func invalid(_ path: String, _ rule: String, _ message: String, eventId: String? = nil) -> JournalError {
            .invalidEvent(InvalidEvent(index: index, eventId: eventId, path: path, rule: rule, message: message))
        }
        guard case .object(let members) = json else {
            throw invalid("", "type", "each event must be a JSON object, got \(json.typeName)")
        }
        let eventId = json["eventId"]?.stringValue
        var required: [String?] = [nil, nil, nil]  // eventId, type, occurredAt
        var optional = [String?](repeating: nil, count: Self.optionalTextFields.count)
        var schemaVersion: Int?
        var payload: JSONValue?
        for member in members {
            switch member.key {
            case "payload":
                payload = member.value
            case "schemaVersion":
                guard case .number(let n) = member.value, n.isInteger, n.value >= 1, n.value <= 1_000_000 else {
                    throw invalid("/schemaVersion", "type", "schemaVersion must be a positive integer", eventId: eventId)
                }
                schemaVersion = Int(n.value)
            case "eventId", "type", "occurredAt":
                guard case .string(let text) = member.value else {
                    throw invalid("/\(member.key)", "type", "\(member.key) must be a string, got \(member.value.typeName)", eventId: eventId)
                }
                required[member.key == "eventId" ? 0 : member.key == "type" ? 1 : 2] = text
            case let key where Self.journalFields.contains(key):
                let message = key == "sourceRecordedAt" || key == "importRef"
                    ? "\(key) is set only by `tpj import` for a migrated history (a live event cannot be back-dated); remove it from the input"
                    : "\(key) is set by the journal; remove it from the input"
                throw invalid("/\(key)", "journalField", message, eventId: eventId)
            default:
                guard let slot = Self.optionalTextFields.firstIndex(of: member.key) else {
                    throw invalid(
                        "/\(member.key)", "unknownField",
                        "unknown field '\(member.key)'; an event has eventId, type, schemaVersion, occurredAt, payload, "
                            + Self.optionalTextFields.joined(separator: ", "),
                        eventId: eventId)
                }
                switch member.value {
                case .null: break
                case .string(let text): optional[slot] = text
                default:
                    throw invalid("/\(member.key)", "type", "\(member.key) must be a string, got \(member.value.typeName)", eventId: eventId)
                }
            }
        }
        for (slot, name) in ["eventId", "type", "occurredAt"].enumerated() where required[slot] == nil {
            throw invalid("/\(name)", "required", "required field '\(name)' is missing", eventId: eventId)
        }
        guard let payload else { throw invalid("/payload", "required", "required field 'payload' is missing", eventId: eventId) }
        self.init(
            eventId: required[0]!, type: required[1]!, schemaVersion: schemaVersion, occurredAt: required[2]!,
            customerId: optional[0], caseId: optional[1], assetId: optional[2], siteId: optional[3], actor: optional[4],
            source: optional[5], correlationId: optional[6], causationId: optional[7], payload: payload)
    }

    /// The event as an input JSON object (the inverse of ``init(json:index:)``).
    public var json: JSONValue {
        var members: [JSONMember] = [JSONMember("eventId", .string(eventId)), JSONMember("type", .string(type))]
        if let schemaVersion { members.append(JSONMember("schemaVersion", .number(JSONNumber(Int64(schemaVersion))))) }
        members.append(JSONMember("occurredAt", .string(occurredAt)))
        let optional: [(String, String?)] = [
            ("customerId", customerId), ("caseId", caseId), ("assetId", assetId), ("siteId", siteId),
            ("actor", actor), ("source", source), ("correlationId", correlationId), ("causationId", causationId),
        ]
        for (key, value) in optional { if let value { members.append(JSONMember(key, .string(value))) } }
        members.append(JSONMember("payload", payload))
        return .object(members)
    }
}
