import Foundation
import GRDB
import Journal
@testable import JournalStore
import JournalTesting
import Testing

/// Sealed values as each reader sees them, and the masking policy file that says how.
@Suite struct MaskingTests {
    /// A journal in memory with one note (free text) and one visit (an employee) of a customer.
    static func store() throws -> EventStore {
        let store = try EventStore(writer: JournalDatabase.inMemory())
        try store.append([
            ProposedEvent(eventId: "00000000-0000-7000-8000-000000000001", type: "note.added", occurredAt: "2024-03-01T10:00:00+01:00",
                          actor: "kam/svogel", payload: ["text": "Ms. Albers prefers calls after 3 pm.", "author": "S. Vogel"]),
        ], to: "C-1")
        return store
    }

    @Test func theStoredEventHoldsCiphertextAndEachModeShowsItsForm() throws {
        let store = try Self.store()
        let stored = try #require(try store.events(after: 0, limit: 1).first)
        #expect(!stored.payload.contains("Albers") && !stored.payload.contains("Vogel") && stored.actor?.hasPrefix(KeyStore.sealedPrefix) == true)
        let plain = store.disclosure(.plain).event(stored)
        #expect(plain.payloadJSON["text"] == "Ms. Albers prefers calls after 3 pm." && plain.actor == "kam/svogel")
        let pseudonymous = store.disclosure(.pseudonym).event(stored)
        let author = try #require(pseudonymous.payloadJSON["author"]?.stringValue)
        #expect(author.hasPrefix("p-") && author == store.keys.pseudonym(of: "S. Vogel", subject: .employee("S. Vogel")))
        #expect(store.disclosure(.hidden).event(stored).payloadJSON["text"] == "[hidden]")
        // Per kind: free text hidden, employees by pseudonym.
        let mixed = store.disclosure(Masking(contact: .plain, employee: .pseudonym, text: .hidden)).event(stored)
        #expect(mixed.payloadJSON["text"] == "[hidden]" && mixed.payloadJSON["author"]?.stringValue == author && mixed.actor?.hasPrefix("p-") == true)
    }

    @Test func aStringThatOnlyBeginsLikeASealedValueStaysAsItIs() throws {
        let store = try Self.store()
        let stored = try #require(try store.events(after: 0, limit: 1).first)
        let sealed = try #require(stored.payloadJSON["text"]?.stringValue)
        // Text that a producer wrote to look sealed, with an escaped quote: disclosing leaves valid JSON.
        let crafted = #"{"a":"sealed:v1:x\", \"admin\": true","c":"\#(sealed)"}"#
        let disclosed = store.disclosure(.plain).json(crafted)
        let document = try JSONParser.parse(disclosed)
        #expect(document["a"] == .string(#"sealed:v1:x", "admin": true"#), "\(disclosed)")
        #expect(document["c"] == "Ms. Albers prefers calls after 3 pm.")
    }

    @Test func aPolicyFileChangesOnlyTheRolesAndKindsItNames() throws {
        let policy = try MaskingPolicy(text: #"{"roles": {"analyst": {"text": "hidden"}, "staff": {"employee": "pseudonym"}}}"#, origin: "policy.json")
        #expect(policy.masking(for: "analyst") == Masking(contact: .pseudonym, employee: .pseudonym, text: .hidden))
        #expect(policy.masking(for: "staff") == Masking(contact: .plain, employee: .pseudonym, text: .plain))
        #expect(policy.masking(for: "auditor") == Masking(.plain) && policy.masking(for: "ingest") == Masking(.hidden))
        #expect(MaskingPolicy.standard.masking(for: "analyst") == Masking(.pseudonym))
    }

    @Test(arguments: [
        (#"{"roles": {"boss": {}}}"#, "/roles/boss: unknown role"),
        (#"{"roles": {"staff": {"txt": "plain"}}}"#, "/roles/staff/txt: unknown kind"),
        (#"{"roles": {"staff": {"text": "blurred"}}}"#, "/roles/staff/text: must be one of plain, pseudonym, hidden"),
        (#"{"role": {}}"#, "/role: unknown member"),
        (#"{}"#, "/roles: required"),
        (#"[1]"#, "/: a policy is an object"),
        ("{", "not JSON"),
    ])
    func aBadPolicyIsRefusedWithItsPath(text: String, message: String) {
        #expect {
            try MaskingPolicy(text: text, origin: "policy.json")
        } throws: { error in
            "\(error)".contains("policy.json") && "\(error)".contains(message)
        }
    }

    @Test func theShippedSchemaAcceptsWhatThePolicyAccepts() throws {
        let schema = try JSONParser.parse(String(contentsOf: TestSupport.repositoryRoot.appendingPathComponent("Schemas/masking-policy.schema.json"), encoding: .utf8))
        let roles = try #require(schema["properties"]?["roles"]?["properties"])
        guard case .object(let members) = roles else { throw CancellationError() }
        #expect(members.map(\.key).sorted() == MaskingPolicy.roles.sorted())
        #expect(schema["$defs"]?["mode"]?["enum"] == .array(DisclosureMode.allCases.map { .string($0.rawValue) }))
    }

    @Test func anErasedValueReadsErasedForEveryReaderWhoCouldSeeIt() throws {
        let store = try Self.store()
        try store.keys.erase(.customer("C-1"))
        let stored = try #require(try store.events(after: 0, limit: 1).first)
        #expect(store.disclosure(.plain).event(stored).payloadJSON["text"] == "[erased]")
        #expect(store.disclosure(.pseudonym).event(stored).payloadJSON["text"] == "[erased]")
        #expect(store.disclosure(Masking(contact: .plain, employee: .plain, text: .pseudonym)).event(stored).payloadJSON["text"] == "[erased]")
        #expect(store.disclosure(.plain).event(stored).payloadJSON["author"] == "S. Vogel", "the employee is another subject")
    }

    @Test func aValueShownBeforeItsErasureReadsErasedAfterIt() throws {
        let store = try Self.store()
        let stored = try #require(try store.events(after: 0, limit: 1).first)
        let disclosure = store.disclosure(.plain)
        #expect(disclosure.event(stored).payloadJSON["text"] == "Ms. Albers prefers calls after 3 pm.")
        #expect(store.disclosure(.pseudonym).event(stored).payloadJSON["text"]?.stringValue?.hasPrefix("p-") == true)
        try store.keys.erase(.customer("C-1"))
        // The same reader, which has shown the value before, and a new one.
        #expect(disclosure.event(stored).payloadJSON["text"] == "[erased]")
        #expect(disclosure.value(try #require(stored.payloadJSON["text"]?.stringValue)) == "[erased]")
        #expect(store.disclosure(.pseudonym).event(stored).payloadJSON["text"] == "[erased]")
    }

    @Test func anErasureByAnotherProcessReachesAReaderThatShowedTheValue() throws {
        let directory = TestSupport.temporaryDirectory()
        let path = directory.appendingPathComponent("journal.sqlite").path
        let store = try EventStore(writer: JournalDatabase.open(path: path))
        try store.append([
            ProposedEvent(eventId: "00000000-0000-7000-8000-000000000001", type: "note.added", occurredAt: "2024-03-01T10:00:00+01:00",
                          payload: ["text": "Ms. Albers prefers calls after 3 pm."]),
        ], to: "C-1")
        let stored = try #require(try store.events(after: 0, limit: 1).first)
        #expect(store.disclosure(.plain).event(stored).payloadJSON["text"] == "Ms. Albers prefers calls after 3 pm.")
        // Another key store on the same file stands for another process.
        try KeyStore(path: KeyStore.path(of: path)).erase(.customer("C-1"))
        #expect(store.disclosure(.plain).event(stored).payloadJSON["text"] == "[erased]")
    }

    @Test func keysLoadedAtOnceForAFullReadForgetWhatIsErasedHereOrElsewhere() throws {
        let directory = TestSupport.temporaryDirectory()
        let path = directory.appendingPathComponent("journal.sqlite").path
        let store = try EventStore(writer: JournalDatabase.open(path: path))
        let notes: [(ProposedEvent, String)] = [
            (ProposedEvent(eventId: "00000000-0000-7000-8000-000000000001", type: "note.added", occurredAt: "2024-03-01T10:00:00+01:00",
                           payload: ["text": "Note of C-1"]), "C-1"),
            (ProposedEvent(eventId: "00000000-0000-7000-8000-000000000002", type: "note.added", occurredAt: "2024-03-01T10:00:00+01:00",
                           payload: ["text": "Note of C-2"]), "C-2"),
            (ProposedEvent(eventId: "00000000-0000-7000-8000-000000000003", type: "note.added", occurredAt: "2024-03-01T10:00:00+01:00",
                           payload: ["text": "Note of C-3"]), "C-3"),
        ]
        for (note, customer) in notes { try store.append([note], to: customer) }
        func texts() throws -> [String] {
            var texts: [String] = []
            try store.forEachEvent(after: 0, disclosedBy: store.disclosure(.plain)) { texts.append($0.payloadJSON["text"]?.stringValue ?? "?"); return true }
            return texts
        }
        #expect(try texts() == ["Note of C-1", "Note of C-2", "Note of C-3"])
        // Erased in this process after every key was loaded, and in another process (another key store on the file).
        try store.keys.erase(.customer("C-1"))
        #expect(try texts() == ["[erased]", "Note of C-2", "Note of C-3"])
        store.keys.loadAllKeys()
        try KeyStore(path: KeyStore.path(of: path)).erase(.customer("C-2"))
        #expect(try texts() == ["[erased]", "[erased]", "Note of C-3"])
        // A key made after the keys were loaded is still found.
        try store.append([
            ProposedEvent(eventId: "00000000-0000-7000-8000-000000000009", type: "note.added", occurredAt: "2024-03-02T10:00:00+01:00",
                          payload: ["text": "Note of C-4"]),
        ], to: "C-4")
        #expect(try texts() == ["[erased]", "[erased]", "Note of C-3", "Note of C-4"])
    }

    @Test func aKeyFileThatCannotBeReadShowsNoValueAndErasesNone() throws {
        let directory = TestSupport.temporaryDirectory()
        let path = directory.appendingPathComponent("journal.sqlite").path, keyPath = KeyStore.path(of: path)
        let writer = try JournalDatabase.open(path: path)
        try EventStore(writer: writer).append([
            ProposedEvent(eventId: "00000000-0000-7000-8000-000000000001", type: "note.added", occurredAt: "2024-03-01T10:00:00+01:00",
                          payload: ["text": "Ms. Albers prefers calls after 3 pm."]),
        ], to: "C-1")
        let store = try EventStore(writer: writer)
        let stored = try #require(try store.events(after: 0, limit: 1).first)
        let text = try #require(stored.payloadJSON["text"]?.stringValue)
        // The keys' table gone from under an open reader (another process broke the file): its values
        // read as unreadable, not as erased,
        let other = try DatabaseQueue(path: keyPath)
        try other.write { db in try db.execute(sql: "ALTER TABLE data_key RENAME TO data_key_away") }
        #expect(store.disclosure(.plain).value(text) == KeyStore.unreadableText)
        #expect(store.disclosure(.pseudonym).value(text) == KeyStore.unreadableText)
        #expect(store.disclosure(.plain).event(stored).payloadJSON["text"] == .string(KeyStore.unreadableText))
        // and once it is back, the same reader shows them again.
        try other.write { db in try db.execute(sql: "ALTER TABLE data_key_away RENAME TO data_key") }
        #expect(store.disclosure(.plain).value(text) == "Ms. Albers prefers calls after 3 pm.")
    }

    @Test func aReadThatDisclosesAsItDecodesShowsWhatDisclosingEachEventShows() throws {
        let store = try Self.store()
        let stored = try store.events(after: 0, limit: 10)
        for masking in [Masking(.plain), Masking(.pseudonym), Masking(.hidden), Masking(contact: .plain, employee: .pseudonym, text: .hidden)] {
            let disclosure = store.disclosure(masking)
            let decoded = try store.events(after: 0, limit: 10, disclosedBy: disclosure)
            #expect(decoded == stored.map(disclosure.event), "\(masking)")
            var visited: [RecordedEvent] = []
            try store.forEachEvent(after: 0, pageSize: 1, disclosedBy: disclosure) { visited.append($0); return true }
            #expect(visited == decoded)
        }
    }

    @Test func sealedTextIsBase64URLWithoutPaddingAndReadsBack() {
        for count in 0...40 {
            let bytes = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 73 &+ count) }
            let foundation = Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            #expect(KeyStore.base64URL(bytes) == foundation)
            #expect(KeyStore.base64URLDecode(Array(foundation.utf8)) == Data(bytes))
        }
        #expect(KeyStore.base64URLDecode(Array("ab+c".utf8)) == nil && KeyStore.base64URLDecode(Array("a".utf8)) == nil)
    }
}
