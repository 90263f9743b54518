import Foundation
import GRDB
import Journal
@testable import JournalProjections
import JournalStore
import JournalTesting
import JournalWorld
import Testing

/// Erasure by crypto-shredding on real files: the subject's values read `[erased]`, the chain and an
/// anchor taken before still verify, and no byte of the erased values or their keys is left in the
/// journal, its projections, the key file or their WAL and journal files.
@Suite struct ErasureTests {
    /// A generated world on files, with the technician projection folded and a note naming a contact
    /// person of one customer.
    struct Journal {
        let directory: URL
        let store: EventStore
        let declared: [DeclaredProjection]

        init() throws {
            directory = TestSupport.temporaryDirectory("tpj-erasure")
            let writer = try JournalDatabase.open(path: directory.appendingPathComponent("journal.sqlite").path)
            _ = try WorldGenerator.write(WorldConfiguration(customers: 30, years: 2, seed: 5, start: "2023-01-01")) { clock in
                try EventStore(writer: writer, clock: clock)
            }
            store = try EventStore(writer: writer)
            declared = [try DeclaredProjection(
                text: String(contentsOf: TestSupport.repositoryRoot.appendingPathComponent("tools/projections/firsttimefix.sql"), encoding: .utf8),
                registry: .bundled)]
        }

        func catchUp() throws { _ = try ProjectionRunner.builtIn(store: store, declared: declared).catchUp() }

        /// Every file of the journal's directory: the journal, projections and key files and their -wal, -shm and -journal files.
        func files() throws -> [URL] {
            try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
        }

        /// The files holding `needle`'s bytes.
        func filesHolding(_ needle: [UInt8]) throws -> [String] {
            try files().filter { file in
                let bytes = [UInt8](try Data(contentsOf: file))
                return needle.count <= bytes.count && (0...(bytes.count - needle.count)).contains { start in
                    bytes[start] == needle[0] && bytes[start..<(start + needle.count)].elementsEqual(needle)
                }
            }.map(\.lastPathComponent)
        }

        /// The plaintext values of `customer`'s events at `field` (payload member), as staff see them.
        func values(_ field: String, of customer: String) throws -> [String] {
            let disclosure = store.disclosure()
            return try store.history(of: customer).compactMap { event in event.payloadJSON[field]?.stringValue.map(disclosure.value) }
        }
    }

    @Test func erasingACustomerAndAnEmployeeLeavesNoByteOfTheirValuesOrKeysAndEveryProofValid() throws {
        let journal = try Journal()
        let store = journal.store
        // Given a note naming a contact person, and a technician who served this customer,
        let contact = "Ms. Erika Quandt-Mustermann, +49 171 5550199"
        try store.append([ProposedEvent(eventId: UUID().uuidString.lowercased(), type: "note.added", occurredAt: "2024-06-03T10:00:00+02:00",
                                        payload: ["text": .string("Call \(contact) before any visit.")])], to: "C-100004")
        let customer = "C-100004"
        let technician = try #require(try journal.store.history(of: "C-100004").lazy.compactMap { event -> String? in
            event.type == "technician.visit.completed" ? event.payloadJSON["technician"]?.stringValue.map(store.disclosure().value) : nil
        }.first)
        try journal.catchUp()
        let anchor = try store.verify()
        let before = try journal.values("text", of: customer)
        // The customer's contact persons, as its registration names them.
        let registration = try #require(try store.history(of: customer).first { $0.type == "customer.registered" })
        guard case .array(let people)? = store.disclosure().event(registration).payloadJSON["contacts"] else { throw CancellationError() }
        let contacts = people.flatMap { person in ["name", "email", "phone"].compactMap { person[$0]?.stringValue } }
        #expect(contacts.count >= 3 && !contacts.contains(KeyStore.erasedText))
        #expect(try journal.values("report", of: customer).contains { report in contacts.contains { report.contains($0) } })
        #expect(before.contains { $0.contains(contact) })
        // the technician's name is in the projection as a pseudonym,
        let pseudonym = try #require(store.keys.pseudonym(of: technician, subject: .employee(technician)))
        let holding = try Eraser(store: store, declared: journal.declared).projectionsHolding([pseudonym])
        #expect(holding == ["firsttimefix"])
        // and the keys that will be destroyed are in the key file (the scan finds what is there).
        let keyBytes = try (store.keys.keyIds(of: .customer(customer)) + store.keys.keyIds(of: .employee(technician))).map { keyId in
            try DatabaseQueue(path: KeyStore.path(of: store.writer.path)).read { db in
                try Data.fetchOne(db, sql: "SELECT key FROM data_key WHERE keyId = ?", arguments: [keyId])!
            }
        }
        #expect(keyBytes.count >= 3)
        let holdingKey = try journal.filesHolding([UInt8](keyBytes[0]))
        #expect(!holdingKey.isEmpty && Set(holdingKey).isSubset(of: ["journal.sqlite-keys", "journal.sqlite-keys-wal"]))
        let input = journal.directory.appendingPathComponent("input.txt")
        try Data(contact.utf8).write(to: input)
        #expect(try journal.filesHolding(Array(contact.utf8)) == ["input.txt"])
        try FileManager.default.removeItem(at: input)

        // When both are erased,
        let eraser = Eraser(store: store, declared: journal.declared)
        let customerErasure = try eraser.erase(.customer(customer), reason: "DSR-2026-0001", actor: "dpo")
        let employeeErasure = try eraser.erase(.employee(technician), reason: "DSR-2026-0002", actor: "dpo")
        #expect(customerErasure.keysDestroyed >= 1 && customerErasure.stream == customer && customerErasure.rebuilt.isEmpty)
        #expect(employeeErasure.keysDestroyed >= 1 && employeeErasure.stream == Eraser.privacyStream && employeeErasure.rebuilt == ["firsttimefix"])
        try journal.catchUp()

        // then their values read [erased] and nothing else changed,
        let after = try journal.values("text", of: customer)
        #expect(after.count == before.count && after.allSatisfy { $0 == KeyStore.erasedText })
        let technicians = try journal.values("technician", of: customer)
        #expect(!technicians.contains(technician) && technicians.contains(KeyStore.erasedText))
        #expect(try journal.values("agent", of: customer).contains { $0 != KeyStore.erasedText }, "other employees stay readable")
        guard case .array(let peopleAfter)? = store.disclosure().event(registration).payloadJSON["contacts"] else { throw CancellationError() }
        #expect(peopleAfter.allSatisfy { $0["name"] == .string(KeyStore.erasedText) && $0["role"] != .string(KeyStore.erasedText) })
        // the erasures are recorded without the person's name,
        let records = try store.events(after: anchor.last, limit: 10)
        #expect(records.map(\.type) == ["erasure.performed", "erasure.performed"])
        #expect(!records.contains { $0.payload.contains(technician) } && records[1].payloadJSON["subjectRef"]?.stringValue?.count == 16)
        // the projection shows [erased] where the pseudonym was,
        let grouped = try store.projectionWriter.read { db in try String.fetchAll(db, sql: "SELECT DISTINCT technician FROM firsttimefix_technician") }
        #expect(!grouped.contains(pseudonym) && grouped.contains(KeyStore.erasedText))
        // the chain and the anchor taken before verify,
        let verified = try store.verify()
        #expect(verified.isIntact && verified.checked == anchor.checked + 2)
        #expect(try store.checkAnchor(position: anchor.last, hash: anchor.lastHash!) == nil)
        // and no byte of the erased values or their keys is left in any file.
        try store.writer.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        for key in keyBytes {
            #expect(try journal.filesHolding([UInt8](key)).isEmpty, "a destroyed key's bytes survive")
        }
        for plaintext in [contact, technician] + before + contacts {
            #expect(try journal.filesHolding(Array(plaintext.utf8)).isEmpty, "\"\(plaintext)\" survives")
        }
        // Erasing the employee again erases nothing and says so.
        #expect(throws: JournalError.self) { try eraser.erase(.employee(technician), reason: "again", actor: nil) }
        // A reason that breaks the record's schema destroys nothing.
        let other = try #require(try journal.values("technician", of: "C-100005").first { $0 != KeyStore.erasedText })
        #expect(throws: JournalError.invalidArgument("the reason has 501 characters; at most 500 (it is recorded in the log); nothing was erased")) {
            try eraser.erase(.employee(other), reason: String(repeating: "x", count: 501), actor: nil)
        }
        #expect(store.keys.pseudonym(of: other, subject: .employee(other)) != nil)
    }
}

/// Retention: values past their period read `[erased]`, each run is recorded, later values stay.
@Suite struct RetentionTests {
    @Test func valuesPastTheirPeriodReadErasedAndEachRunIsRecorded() throws {
        let store = try EventStore(writer: JournalDatabase.inMemory())
        func note(_ id: Int, _ at: String, _ text: String) -> ProposedEvent {
            ProposedEvent(eventId: String(format: "00000000-0000-7000-8000-%012d", id), type: "note.added", occurredAt: at,
                          payload: ["text": .string(text), "author": "S. Vogel"])
        }
        try store.append([note(1, "2021-12-31T23:00:00+00:00", "Old note naming Mr. Alt."),
                          note(2, "2022-01-01T00:30:00+01:00", "Note of 2021 in UTC."),
                          note(3, "2024-05-02T09:00:00+02:00", "Recent note naming Ms. Neu.")], to: "C-1")
        let policy = try RetentionPolicy(text: #"{"years": {"text": 3}}"#, origin: "policy.json")
        // As of 2025-06-01, free text of 2021 and before is past 3 years; the author (an employee) is kept.
        let run = try Retention(store: store, declared: []).apply(policy, today: try Timestamp(utcDate: "2025-06-01"))
        #expect(run.outcomes.map(\.kind) == [.text] && run.outcomes[0].destroyedBefore == 2022 && run.outcomes[0].keysDestroyed == 1)
        let disclosure = store.disclosure()
        let texts = try store.history(of: "C-1").map { disclosure.value($0.payloadJSON["text"]?.stringValue ?? "") }
        #expect(texts == ["[erased]", "[erased]", "Recent note naming Ms. Neu."])
        #expect(try store.history(of: "C-1").allSatisfy { disclosure.value($0.payloadJSON["author"]!.stringValue!) == "S. Vogel" })
        // The run is recorded in journal:privacy with the policy's hash; a second run destroys nothing more.
        let recorded = try store.history(of: Eraser.privacyStream)
        #expect(recorded.map(\.type) == ["retention.applied"] && recorded[0].payloadJSON["policySha256"]?.stringValue == policy.sha256)
        let again = try Retention(store: store, declared: []).apply(policy, today: try Timestamp(utcDate: "2025-06-01"))
        #expect(again.outcomes[0].keysDestroyed == 0 && again.outcomes[0].position == 5)
        #expect(try store.verify().isIntact)
    }

    @Test(arguments: [
        (#"{"years": {"text": 0}}"#, "/years/text: must be a whole number of years from 1 to 200"),
        (#"{"years": {"notes": 3}}"#, "/years/notes: unknown kind"),
        (#"{"year": {}}"#, "/year: unknown member"),
        (#"{}"#, "/years: required"),
    ])
    func aBadPolicyIsRefusedWithItsPath(text: String, message: String) {
        #expect {
            try RetentionPolicy(text: text, origin: "policy.json")
        } throws: { error in
            "\(error)".contains("policy.json: " + message)
        }
    }

    @Test func theNightlyRunIsAt0100UTC() {
        #expect(Retention.secondsUntilNextRun(from: Date(timeIntervalSince1970: 0)) == 3_600)
        #expect(Retention.secondsUntilNextRun(from: Date(timeIntervalSince1970: 3_600)) == 86_400)
        #expect(Retention.secondsUntilNextRun(from: Date(timeIntervalSince1970: 7_200)) == 82_800)
    }

    @Test func theShippedPolicyIsValid() throws {
        let policy = try RetentionPolicy(file: TestSupport.repositoryRoot.appendingPathComponent("tools/policies/retention.json").path)
        #expect(policy.years == [.text: 3, .contact: 6, .employee: 10])
    }
}
