/// Turns proposed events into prepared ones: checks identifiers and timestamps, validates each
/// payload against its schema and writes its canonical bytes. Pure; safe to run on any thread.
///
/// ```swift
/// let validator = EventValidator(registry: registry)
/// let prepared = try validator.prepare(batch, customerId: "C-1001")
/// ```
public struct EventValidator: Sendable {
    /// Largest canonical payload accepted, in bytes.
    public static let maximumPayloadBytes = 64 * 1024
    /// Longest identifier (customerId, caseId, assetId, siteId, actor, source, correlation and causation ids).
    public static let maximumIdentifierLength = 128

    public let registry: SchemaRegistry
    /// Seals the personal values (``SchemaRegistry/Entry/personalFields`` and the envelope's `actor`)
    /// after validation; without one they are stored as given.
    public let sealer: (any PersonalDataSealer)?

    public init(registry: SchemaRegistry, sealer: (any PersonalDataSealer)? = nil) {
        self.registry = registry
        self.sealer = sealer
    }

    /// Validates a batch for one customer.
    ///
    /// - Throws: ``JournalError/invalidEvent(_:)`` for the first event that breaks a rule.
    ///
    /// - Parameter inputIndices: where each event stood in the producer's input, for error messages.
    public func prepare(
        _ events: [ProposedEvent], customerId: String, inputIndices: [Int]? = nil
    ) throws(JournalError) -> [PreparedEvent] {
        if let problem = Self.identifierProblem(customerId) {
            throw .invalidEvent(InvalidEvent(index: 0, eventId: nil, path: "/customerId", rule: "identifier",
                                             message: "customer id \(problem)"))
        }
        var prepared: [PreparedEvent] = []
        prepared.reserveCapacity(events.count)
        var seen: [EventID: Int] = [:]
        for (offset, event) in events.enumerated() {
            let index = inputIndices?[offset] ?? offset
            let next = try prepare(event, index: index, customerId: customerId)
            if let earlier = seen.updateValue(index, forKey: next.eventId) {
                throw .invalidEvent(InvalidEvent(
                    index: index, eventId: event.eventId, path: "/eventId", rule: "duplicateEventId",
                    message: "eventId repeats event \(earlier) of the same batch; every event needs its own eventId"))
            }
            prepared.append(next)
        }
        return prepared
    }

    /// Validates one event at `index` of its batch.
    public func prepare(_ event: ProposedEvent, index: Int, customerId: String) throws(JournalError) -> PreparedEvent {
        func invalid(_ path: String, _ rule: String, _ message: String, more: [SchemaViolation] = []) -> JournalError {
            .invalidEvent(InvalidEvent(index: index, eventId: event.eventId, path: path, rule: rule, message: message, more: more))
        }
        guard let eventId = EventID(event.eventId) else {
            throw invalid("/eventId", "format", "eventId must be a UUID (8-4-4-4-12 hexadecimal digits), got \"\(event.eventId)\"")
        }
        if let given = event.customerId, given != customerId {
            throw invalid("/customerId", "customerMismatch", "customerId \"\(given)\" differs from the batch's customer \"\(customerId)\"")
        }
        guard let version = event.schemaVersion ?? registry.latestVersion(of: event.type) else {
            throw invalid("/type", "unknownType", "unknown event type \"\(event.type)\"; see `tpj types` for the registered types")
        }
        guard let entry = registry.entry(type: event.type, version: version) else {
            let known = registry.latestVersion(of: event.type).map { "; the newest is v\($0)" } ?? ""
            throw invalid("/schemaVersion", "unknownType", "\(event.type) has no schema version \(version)\(known)")
        }
        let occurred: Timestamp
        do {
            occurred = try Timestamp(rfc3339: event.occurredAt)
        } catch {
            throw invalid("/occurredAt", "timestamp", "occurredAt \(error)")
        }
        let optional: [(String, String?)] = [
            ("caseId", event.caseId), ("assetId", event.assetId), ("siteId", event.siteId), ("actor", event.actor),
            ("source", event.source), ("correlationId", event.correlationId), ("causationId", event.causationId),
        ]
        for (field, value) in optional {
            if let value, let problem = Self.identifierProblem(value) {
                throw invalid("/\(field)", "identifier", "\(field) \(problem)")
            }
            if value == nil, entry.requiredEnvelopeFields.contains(field) {
                throw invalid("/\(field)", "required", "a \(event.type) event needs \(field)")
            }
        }
        guard case .object = event.payload else {
            throw invalid("/payload", "type", "payload must be a JSON object, got \(event.payload.typeName)")
        }
        let violations = entry.schema.validate(event.payload)
        if let first = violations.first {
            throw invalid("/payload" + first.path, first.rule, first.message, more: Array(violations.dropFirst()))
        }
        var stored = (payload: event.payload, actor: event.actor)
        if let sealer {
            stored = try sealer.seal(
                payload: event.payload, actor: event.actor, entry: entry, registry: registry, customerId: customerId, occurred: occurred)
        }
        let (payload, repeatedName) = CanonicalJSON.bytesCheckingNames(stored.payload)
        if let repeatedName {
            throw invalid("/payload", "duplicateKey", "an object in the payload has the member name \"\(repeatedName)\" twice")
        }
        guard payload.count <= Self.maximumPayloadBytes else {
            throw invalid("/payload", "payloadTooLarge",
                          "payload is \(payload.count) bytes; the limit is \(Self.maximumPayloadBytes) bytes. Store documents elsewhere and reference them.")
        }
        var references: [(field: String, eventId: EventID)] = []
        for field in entry.referenceFields {
            guard let value = event.payload[field] else { continue }
            guard let text = value.stringValue, let referenced = EventID(text) else {
                throw invalid("/payload/\(field)", "reference", "\(field) must be the eventId (a UUID) of an earlier event of this customer")
            }
            if referenced == eventId {
                throw invalid("/payload/\(field)", "reference", "an event cannot refer to itself")
            }
            references.append((field, referenced))
        }
        let envelope = EventEnvelope(
            eventId: eventId, customerId: customerId, type: event.type, schemaVersion: version, occurredAt: event.occurredAt,
            occurred: occurred, caseId: event.caseId, assetId: event.assetId, siteId: event.siteId, actor: stored.actor,
            source: event.source, correlationId: event.correlationId, causationId: event.causationId)
        return PreparedEvent(envelope: envelope, schemaVersionGiven: event.schemaVersion != nil, payload: payload, references: references)
    }

    /// Why `text` is not an acceptable identifier, or nil: 1–128 characters, no control characters,
    /// no leading or trailing white space.
    public static func identifierProblem(_ text: String) -> String? {
        // Fast path: printable ASCII.
        let utf8 = text.utf8
        if utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) {
            if utf8.isEmpty { return "must not be empty" }
            if utf8.count > maximumIdentifierLength { return "is longer than \(maximumIdentifierLength) characters" }
            if utf8.first == 0x20 || utf8.last == 0x20 { return "must not start or end with white space" }
            return nil
        }
        let scalars = text.unicodeScalars
        if scalars.isEmpty { return "must not be empty" }
        if scalars.count > maximumIdentifierLength { return "is longer than \(maximumIdentifierLength) characters" }
        if scalars.contains(where: { $0.properties.generalCategory == .control }) { return "contains a control character" }
        if scalars.first!.properties.isWhitespace || scalars.last!.properties.isWhitespace {
            return "must not start or end with white space"
        }
        return nil
    }
}
