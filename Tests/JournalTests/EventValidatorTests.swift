import Journal
import JournalSchemas
import Testing

@Suite struct EventValidatorTests {
    let validator = EventValidator(registry: try! SchemaRegistry(files: BundledSchemas.eventSchemaFiles))

    func call(_ id: String = "0190f7a2-5b1c-7c3e-9a41-3f2b8d9e0a11", payload: JSONValue? = nil) -> ProposedEvent {
        ProposedEvent(
            eventId: id, type: "hotline.call.received", occurredAt: "2026-03-02T08:15:00+01:00",
            payload: payload ?? ["queueWaitSeconds": 95, "abandoned": false, "solvedOnCall": false, "machineDown": true])
    }

    @Test func preparesCanonicalPayloadAndNewestSchemaVersion() throws {
        let prepared = try validator.prepare(call("0190F7A2-5B1C-7C3E-9A41-3F2B8D9E0A11"), index: 0, customerId: "C-1")
        #expect(prepared.eventId.rawValue == "0190f7a2-5b1c-7c3e-9a41-3f2b8d9e0a11")
        #expect(prepared.schemaVersion == 1)
        #expect(String(decoding: prepared.payload, as: UTF8.self)
            == #"{"abandoned":false,"machineDown":true,"queueWaitSeconds":95,"solvedOnCall":false}"#)
        #expect(prepared.occurred.rfc3339 == "2026-03-02T07:15:00.000000Z")
    }

    @Test func namesIndexEventIdPathAndRule() {
        let bad = call(payload: ["queueWaitSeconds": -5, "abandoned": false, "solvedOnCall": false, "machineDown": true])
        #expect {
            try validator.prepare([call("0190f7a2-5b1c-7c3e-9a41-3f2b8d9e0a12"), bad], customerId: "C-1")
        } throws: { error in
            guard case .invalidEvent(let invalid) = error as? JournalError else { return false }
            return invalid.index == 1 && invalid.path == "/payload/queueWaitSeconds" && invalid.rule == "minimum"
                && invalid.eventId == bad.eventId && invalid.description.contains("Nothing of this batch was stored")
        }
    }

    @Test(arguments: [
        ("eventId", "format"), ("type", "unknownType"), ("occurredAt", "timestamp"), ("caseId", "identifier"),
        ("customerId", "customerMismatch"), ("schemaVersion", "unknownType"), ("payloadSize", "payloadTooLarge"),
    ])
    func rejectsEnvelopeProblems(field: String, rule: String) {
        var event = call()
        switch field {
        case "eventId": event.eventId = "not-a-uuid"
        case "type": event.type = "hotline.call.invented"
        case "occurredAt": event.occurredAt = "2026-03-02T08:15:00"
        case "caseId": event.caseId = " padded"
        case "customerId": event.customerId = "C-2"
        case "schemaVersion": event.schemaVersion = 9
        default:
            event.type = "note.added"
            event.payload = ["text": .string(String(repeating: "x", count: 8000)), "author": "a"]
            event.payload = .object((0..<10).map { JSONMember("k\($0)", .string(String(repeating: "y", count: 8000))) })
            event.type = "touchpoint.corrected"
            event.payload = ["correctedEventId": "0190f7a2-5b1c-7c3e-9a41-3f2b8d9e0a99", "reason": "big", "corrections": event.payload]
        }
        #expect {
            try validator.prepare(event, index: 0, customerId: "C-1")
        } throws: { error in
            guard case .invalidEvent(let invalid) = error as? JournalError else { return false }
            return invalid.rule == rule
        }
    }

    @Test func referenceFieldsMustHoldAnEventId() {
        let void = ProposedEvent(
            eventId: "0190f7a2-5b1c-7c3e-9a41-3f2b8d9e0a11", type: "touchpoint.voided", occurredAt: "2026-03-02T08:15:00Z",
            payload: ["voidedEventId": "0190f7a2-5b1c-7c3e-9a41-3f2b8d9e0a11", "reason": "self"])
        #expect(throws: JournalError.self) { try validator.prepare(void, index: 0, customerId: "C-1") }
        var registry = SchemaRegistry.empty
        #expect(throws: SchemaRegistryError.self) {
            try registry.add(path: "x.ref.v1.json", contents: #"{"type":"object","x-references-event":[1]}"#)
        }
        #expect(throws: Never.self) {
            try registry.add(path: "x.ref.v1.json", contents: #"{"type":"object","x-references-event":"target"}"#)
        }
        let custom = EventValidator(registry: registry)
        let event = ProposedEvent(eventId: "0190f7a2-5b1c-7c3e-9a41-3f2b8d9e0a12", type: "x.ref", occurredAt: "2026-03-02T08:15:00Z", payload: ["target": "nope"])
        #expect {
            try custom.prepare(event, index: 0, customerId: "C-1")
        } throws: { error in
            guard case .invalidEvent(let invalid) = error as? JournalError else { return false }
            return invalid.rule == "reference" && invalid.path == "/payload/target"
        }
    }

    @Test func aRegisteredVersionCannotBeReplaced() throws {
        var registry = try SchemaRegistry(files: BundledSchemas.eventSchemaFiles)
        #expect(throws: SchemaRegistryError.self) {
            try registry.add(path: "note.added.v1.json", contents: #"{"type":"object"}"#)
        }
        try registry.add(path: "note.added.v2.json", contents: #"{"type":"object"}"#)
        #expect(registry.latestVersion(of: "note.added") == 2)
    }

    @Test func rejectsPayloadsBuiltWithARepeatedMemberName() {
        var event = call()
        event.payload = .object([
            JSONMember("queueWaitSeconds", 1), JSONMember("queueWaitSeconds", 2), JSONMember("abandoned", false),
            JSONMember("solvedOnCall", false), JSONMember("machineDown", true),
        ])
        #expect {
            try validator.prepare(event, index: 0, customerId: "C-1")
        } throws: { error in
            guard case .invalidEvent(let invalid) = error as? JournalError else { return false }
            return invalid.rule == "duplicateKey" && invalid.message.contains("\"queueWaitSeconds\" twice")
        }
    }

    @Test func rejectsDuplicateEventIdsInsideOneBatch() {
        #expect {
            try validator.prepare([call(), call()], customerId: "C-1")
        } throws: { error in
            guard case .invalidEvent(let invalid) = error as? JournalError else { return false }
            return invalid.rule == "duplicateEventId" && invalid.index == 1
        }
    }

    @Test func readsInputAsJSONArrayOrNDJSON() throws {
        let line = CanonicalJSON.string(call().json)
        #expect(try EventInput.parse(Array("[\(line)]".utf8)).map { CanonicalJSON.string($0.json) } == [line])
        #expect(try EventInput.parse(Array("\n\(line)\n\n".utf8)).map { CanonicalJSON.string($0.json) } == [line])
        #expect {
            try EventInput.parse(Array("\(line)\n{broken\n".utf8))
        } throws: { error in
            if case .malformedInput(let lineNumber, _) = error as? JournalError { return lineNumber == 2 }
            return false
        }
    }

    @Test func refusesFieldsTheJournalSets() {
        #expect {
            try ProposedEvent(json: ["eventId": "x", "type": "note.added", "occurredAt": "x", "position": 3, "payload": [:]], index: 4)
        } throws: { error in
            guard case .invalidEvent(let invalid) = error as? JournalError else { return false }
            return invalid.rule == "journalField" && invalid.path == "/position" && invalid.index == 4
        }
    }
}
