import Journal
import JournalSchemas
import Testing

/// Which payload fields hold personal data, as the schemas declare it with `x-personal`.
@Suite struct PersonalDataTests {
    static let registry = try! SchemaRegistry(files: BundledSchemas.eventSchemaFiles)

    /// The reviewed marking of the bundled schemas: the customer's contact persons (contact), people
    /// named by the value (employee) and free text that may name people (text). A field dropped from a schema's marking fails here.
    @Test func theBundledSchemasMarkEveryFieldThatNamesOrDescribesPeople() {
        var marked: [String: String] = [:]
        for entry in Self.registry.allEntries {
            for field in entry.personalFields { marked["\(entry.type)\(field.pointer)"] = field.kind.rawValue }
        }
        let employees = [
            "case.closed/closedBy", "complaint.acknowledged/acknowledgedBy", "complaint.escalated/escalatedTo",
            "customer.registered/keyAccountManager", "hotline.call.received/agent", "installation.completed/engineer",
            "maintenance.performed/technician", "note.added/author", "technician.visit.completed/technician",
            "technician.visit.scheduled/technician",
        ]
        let texts = [
            "case.closed/note", "case.opened/subject", "complaint.escalated/reason", "complaint.filed/description",
            "complaint.resolved/resolution", "customer.lost/notes", "customer.reactivated/reason", "delivery.completed/notes",
            "installation.completed/notes", "maintenance.performed/findings", "note.added/text", "survey.answered/comment",
            "technician.visit.completed/report", "touchpoint.corrected/reason", "touchpoint.voided/reason",
        ]
        let contacts = ["customer.registered/contacts/*/name", "customer.registered/contacts/*/email", "customer.registered/contacts/*/phone"]
        var expected: [String: String] = [:]
        for field in contacts { expected[field] = "contact" }
        for field in employees { expected[field] = "employee" }
        for field in texts { expected[field] = "text" }
        #expect(marked == expected)
        #expect(PersonalField.envelope == ["actor": .employee])
    }

    @Test func nestedFieldsAreFoundThroughObjectsAndArrays() throws {
        var registry = SchemaRegistry.empty
        try registry.add(path: "x.contacts.v1.json", contents: """
            {"type": "object", "properties": {"contacts": {"type": "array", "items": {"type": "object", "properties": {
              "name": {"type": "string", "x-personal": "contact"}, "role": {"type": "string"}}}}}}
            """)
        let fields = try #require(registry.entry(type: "x.contacts", version: 1)).personalFields
        #expect(fields == [PersonalField(path: [.member("contacts"), .elements, .member("name")], kind: .contact)])
        #expect(fields[0].pointer == "/contacts/*/name")
    }

    @Test func aCorrectedFieldMarkedAsTwoKindsIsSealedOnceUnderTheFirst() throws {
        var registry = try SchemaRegistry(files: BundledSchemas.eventSchemaFiles)
        // `notes` is free text in the bundled schemas; this extension marks a `notes` as a contact.
        try registry.add(path: "x.memo.v1.json", contents: """
            {"type": "object", "properties": {"notes": {"type": "string", "x-personal": "contact"}}}
            """)
        let corrected = try #require(registry.entry(type: "touchpoint.corrected", version: 1))
        let fields = registry.personalFields(of: corrected, payload: ["corrections": ["notes": "Call Ms. Albers"]])
        #expect(fields.filter { $0.pointer == "/corrections/notes" }.map(\.kind) == [.text])
    }

    @Test(arguments: [
        (#"{"type": "object", "properties": {"n": {"type": "integer", "x-personal": "text"}}}"#, "/properties/n/x-personal: only a property of type string"),
        (#"{"type": "object", "properties": {"n": {"type": "string", "x-personal": "secret"}}}"#, "/properties/n/x-personal: must be one of contact, employee, text"),
        (#"{"type": "object", "properties": {"n": {"type": "string", "x-personal": true}}}"#, "/properties/n/x-personal: must be one of"),
        (#"{"type": "object", "x-personal": "text"}"#, "/x-personal: belongs on a string property"),
        (#"{"type": "object", "properties": {"n": {"type": "string", "x-persona": "text"}}}"#, "/properties/n/x-persona: unknown keyword"),
        (#"{"type": "object", "x-touchpoints": "visit"}"#, "/x-touchpoints: unknown keyword"),
        (#"{"type": "object", "properties": {"n": {"type": "string", "x-touchpoint": "visit"}}}"#, "/properties/n/x-touchpoint: belongs at the top"),
        (#"{"type": "object", "$defs": {"name": {"type": "string", "x-personal": "employee"}}}"#, "/$defs/name/x-personal: belongs on a property reached through properties and items"),
        (#"{"type": "object", "properties": {"n": {"anyOf": [{"type": "string", "x-personal": "text"}]}}}"#, "/properties/n/anyOf/0/x-personal: belongs on a property reached"),
        (#"{"type": "object", "properties": {"n": {"not": {"type": "string", "x-persona": "text"}}}}"#, "/properties/n/not/x-persona: unknown keyword"),
        (#"{"type": "object", "additionalProperties": {"type": "string", "x-personal": "text"}}"#, "/additionalProperties/x-personal: belongs on a property reached"),
    ])
    func badMarkingIsRefusedWithItsPlace(schema: String, message: String) {
        var registry = SchemaRegistry.empty
        #expect {
            try registry.add(path: "x.bad.v1.json", contents: schema)
        } throws: { error in
            guard let error = error as? SchemaRegistryError else { return false }
            return error.path == "x.bad.v1.json" && error.message.hasPrefix(message)
        }
    }
}
