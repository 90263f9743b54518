import Foundation
import Journal
import JournalImport
import JournalStore
import JournalTesting
import Testing

@Suite struct ImporterTests {
    static let fixtures = TestSupport.repositoryRoot.appendingPathComponent("Tests/JournalImportTests/Fixtures")
    static let mappings = TestSupport.repositoryRoot.appendingPathComponent("tools/mappings")

    static func store() throws -> EventStore {
        try EventStore(writer: JournalDatabase.open(path: TestSupport.temporaryDirectory("tpj-import").appendingPathComponent("journal.sqlite").path))
    }

    static func mapping(_ name: String) throws -> ImportMapping {
        try ImportMapping(text: String(contentsOf: mappings.appendingPathComponent(name), encoding: .utf8))
    }

    static func write(_ text: String, encoding: String.Encoding = .utf8) throws -> String {
        let path = TestSupport.temporaryDirectory("tpj-import-src").appendingPathComponent("source.csv").path
        try text.write(toFile: path, atomically: true, encoding: encoding)
        return path
    }

    static let small = """
        {"name": "small", "namespace": "1f0e2d3c-4b5a-4978-8685-746352413021", "source": {"format": "csv", "timeZone": "Europe/Berlin"},
         "customerId": {"column": "customer"}, "recordingLag": "PT1H", "requireRegistered": false,
         "ignore": [{"when": {"column": "kind", "equals": "test"}, "reason": "test ticket"}],
         "rules": [{"when": {"column": "kind", "equals": "call"}, "type": "hotline.call.received",
                    "sourceKey": {"template": "{ticket}"}, "occurredAt": {"column": "when", "convert": "timestamp", "format": "dd.MM.yyyy HH:mm"},
                    "caseId": {"column": "ticket"},
                    "payload": {"queueWaitSeconds": {"column": "wait", "convert": "duration"}, "abandoned": {"const": false},
                                "solvedOnCall": {"column": "solved", "convert": "boolean"}, "machineDown": {"column": "down", "convert": "boolean"},
                                "topic": {"column": "topic", "optional": true}}}]}
        """

    @Test func theShippedHelpdeskMappingImportsTheRealLogAndASecondRunStoresNothing() throws {
        let store = try Self.store()
        let importer = Importer(store: store, mapping: try Self.mapping("helpdesk.json"))
        let source = Self.fixtures.appendingPathComponent("helpdesk-sample.csv").path
        let first = try importer.run(sources: [source], options: .init())
        #expect(first.rowsRead == 300 && first.rowsRejected == 0 && first.rowsIgnored == 0)
        #expect(first.rowsImported + first.rowsAlreadyRecorded == 300 && first.eventsStored > 300)
        // Ticket times are Rome local time: 2012/10/09 14:50:17.000 is summer time.
        let history = try store.history(of: "HD-Value 1")
        #expect(history.first?.type == "customer.registered" && history.contains { $0.occurredAt == "2012-10-09T14:50:17+02:00" })
        #expect(history.allSatisfy { $0.knownAt == $0.occurred && $0.importRef?.hasPrefix("\(first.importNumber)/1:") == true })
        #expect(history.contains { $0.type == "case.closed" })
        let head = try store.head()
        let again = try importer.run(sources: [source], options: .init())
        #expect(try store.head() == head)
        #expect(again.eventsStored == 0 && again.rowsAlreadyRecorded == 300)
        #expect(try store.imports().count == 1)
        #expect(try store.verify().isIntact)
    }

    @Test func theShippedComplaintsMappingReadsLatin1AndSemicolons() throws {
        let store = try Self.store()
        let report = try Importer(store: store, mapping: try Self.mapping("complaints.json"))
            .run(sources: [Self.fixtures.appendingPathComponent("complaints.csv").path], options: .init())
        #expect(report.rowsRead == 289 && report.rowsImported == 289 && report.rowsRejected == 0)
        #expect(report.eventsStored == 289 + 226)
        let texts = try store.events(after: 0, limit: 10_000).map(\.payload).joined()
        // Free text is stored sealed, and reads back as the Latin-1 source had it.
        #expect(!texts.contains("ë") && store.disclosure().json(texts).contains("ë"))
        // Recorded by the source a day after the contact date.
        let filed = try #require(try store.events(after: 0, limit: 10_000).first { $0.type == "complaint.filed" })
        #expect(filed.knownAt.microseconds - filed.occurred.microseconds == 86_400_000_000)
    }

    @Test func anOverlappingLaterExportAddsOnlyItsNewRows() throws {
        let store = try Self.store()
        let importer = Importer(store: store, mapping: try ImportMapping(text: Self.small))
        let header = "ticket,kind,customer,when,wait,solved,down,topic\n"
        let a = "T-1,call,C-1,01.03.2024 09:00,1:30,ja,nein,\"Pump, left\"\nT-2,call,C-1,02.03.2024 10:00,PT2M,no,yes,\n"
        _ = try importer.run(sources: [try Self.write(header + a)], options: .init())
        #expect(try store.head() == 2)
        let later = try importer.run(sources: [try Self.write(header + a + "T-3,call,C-2,31.03.2024 02:30,45 s,y,n,\n")], options: .init())
        #expect(try later.eventsStored == 1 && later.rowsAlreadyRecorded == 2 && store.head() == 3)
        let events = try store.events(after: 0, limit: 10)
        #expect(events[0].payloadJSON["queueWaitSeconds"] == 5_400 && events[0].payloadJSON["topic"] == "Pump, left")
        #expect(events[0].occurredAt == "2024-03-01T09:00:00+01:00" && events[2].occurredAt == "2024-03-31T02:30:00+01:00")  // in the spring gap: read with the offset before the change
        #expect(events[0].knownAt.microseconds - events[0].occurred.microseconds == 3_600_000_000)
    }

    @Test func rejectedRowsRefuseTheImportWholeUnlessAllowedAndAreWrittenWithTheirReason() throws {
        let store = try Self.store()
        let importer = Importer(store: store, mapping: try ImportMapping(text: Self.small))
        let source = try Self.write("""
            ticket,kind,customer,when,wait,solved,down,topic
            T-1,call,C-1,01.03.2024 09:00,90,ja,nein,
            T-2,call,C-1,2024-03-02,90,ja,nein,
            T-3,visit,C-1,03.03.2024 09:00,90,ja,nein,
            T-4,call,C-1,04.03.2024 09:00,90,vielleicht,nein,
            T-5,test,C-1,05.03.2024 09:00,,,,

            """)
        // Refused: three rows rejected, none allowed; nothing stored.
        let refused = #expect(throws: ImportRefused.self) { try importer.run(sources: [source], options: .init()) }
        #expect(refused?.report.rowsRejected == 3 && refused?.report.rowsIgnored == 1)
        #expect(refused?.report.rejected["no rule matched"]?.examples.first?.line == 4)
        #expect(refused?.report.rejected["bad value in when"]?.examples.first?.message.contains("dd.MM.yyyy HH:mm") == true)
        #expect(refused?.report.rejected["bad value in solved"]?.examples.first?.message.contains("vielleicht") == true)
        #expect(try store.head() == 0)
        // A dry run stores nothing either.
        var options = Importer.Options()
        options.maximumRejected = .share(0.75)
        options.dryRun = true
        #expect(try importer.run(sources: [source], options: options).eventsStored == 1)
        #expect(try store.head() == 0)
        // Allowed: the good row is stored, the rejected ones are written with their reason.
        options.dryRun = false
        let rejectsPath = TestSupport.temporaryDirectory("tpj-rejects").appendingPathComponent("rejects.csv").path
        let report = try importer.run(sources: [source], options: options, rejects: try RejectsWriter(path: rejectsPath))
        #expect(try report.eventsStored == 1 && store.head() == 1)
        let rejects = try String(contentsOfFile: rejectsPath, encoding: .utf8).split(separator: "\r\n")
        #expect(rejects.count == 4 && rejects[0] == "file,line,reason,ticket,kind,customer,when,wait,solved,down,topic")
        #expect(rejects[2].contains(",4,no rule matched: ") && rejects[2].hasSuffix("T-3,visit,C-1,03.03.2024 09:00,90,ja,nein,"))
    }

    @Test func unregisteredCustomersAreRejectedWhenRegistrationIsRequired() throws {
        let store = try Self.store()
        var options = Importer.Options()
        options.requireRegistered = true
        let source = try Self.write("ticket,kind,customer,when,wait,solved,down,topic\nT-1,call,C-1,01.03.2024 09:00,90,ja,nein,\n")
        let refused = #expect(throws: ImportRefused.self) {
            try Importer(store: store, mapping: try ImportMapping(text: Self.small)).run(sources: [source], options: options)
        }
        #expect(refused?.report.rejected["unknown customer"]?.rows == 1)
    }

    @Test func aCustomerMasterImportedFirstRegistersTheCustomersOfTheEventExport() throws {
        let store = try Self.store()
        let master = """
            {"name": "customers", "namespace": "5c1d0b7e-3f2a-4e6b-9c8d-7a6b5c4d3e2f", "source": {"format": "csv", "timeZone": "Europe/Berlin"},
             "customerId": {"column": "Nr"}, "recordingLag": "PT0S",
             "rules": [{"type": "customer.registered", "sourceKey": {"column": "Nr"},
                        "occurredAt": {"column": "Seit", "convert": "timestamp", "format": "dd.MM.yyyy"},
                        "payload": {"name": {"column": "Name"}, "country": {"column": "Land"},
                                    "customerSince": {"column": "Seit", "convert": "date", "format": "dd.MM.yyyy"}}}]}
            """
        let customers = try Self.write("Nr,Name,Land,Seit\nC-1,Müller Anlagenbau,DE,15.01.2020\n")
        var options = Importer.Options()
        options.requireRegistered = true
        let tickets = "ticket,kind,customer,when,wait,solved,down,topic\nT-1,call,C-1,01.03.2024 09:00,90,ja,nein,\n"
        // Before the master: the call's customer is unknown, and nothing is stored.
        #expect(throws: ImportRefused.self) {
            try Importer(store: store, mapping: try ImportMapping(text: Self.small)).run(sources: [try Self.write(tickets)], options: options)
        }
        let registered = try Importer(store: store, mapping: try ImportMapping(text: master)).run(sources: [customers], options: options)
        #expect(registered.eventsStored == 1)
        let calls = try Importer(store: store, mapping: try ImportMapping(text: Self.small)).run(sources: [try Self.write(tickets)], options: options)
        #expect(calls.eventsStored == 1 && calls.rejected.isEmpty)
        let history = try store.history(of: "C-1")
        #expect(history.map(\.type) == ["customer.registered", "hotline.call.received"])
        #expect(history.first?.payloadJSON["customerSince"] == "2020-01-15" && history.first?.payloadJSON["name"] == "Müller Anlagenbau")
    }

    @Test(arguments: [
        ("T-1,call,\"C-1,01.03.2024 09:00,90\n", "a quoted field is not closed"),
        ("T-1,call,\"C-1\"x,01.03.2024 09:00,90,ja,nein,\n", "a character follows the closing quote"),
    ])
    func aMalformedFileIsRefusedWithItsLine(body: String, message: String) throws {
        let store = try Self.store()
        let source = try Self.write("ticket,kind,customer,when,wait,solved,down,topic\nT-0,call,C-1,01.03.2024 08:00,90,ja,nein,\n" + body)
        let error = #expect(throws: SourceError.self) {
            try Importer(store: store, mapping: try ImportMapping(text: Self.small)).run(sources: [source], options: .init())
        }
        #expect(error?.line == 3 && error?.message.contains(message) == true, "\(String(describing: error))")
        #expect(try store.head() == 0)
    }

    @Test func csvFieldsMayHoldDelimitersQuotesAndLineBreaksAndLatin1IsDecoded() throws {
        let store = try Self.store()
        let text = "ticket,kind,customer,when,wait,solved,down,topic\r\nT-1,call,C-1,01.03.2024 09:00,90,ja,nein,\"Motor \"\"M2\"\", Lärm\r\nzweite Zeile\"\r\nT-2,call,C-1,01.03.2024 10:00,90,ja,nein,x\r\n"
        var mapping = Self.small.replacingOccurrences(of: "\"format\": \"csv\"", with: "\"format\": \"csv\", \"encoding\": \"latin-1\"")
        let report = try Importer(store: store, mapping: try ImportMapping(text: mapping)).run(sources: [try Self.write(text, encoding: .isoLatin1)], options: .init())
        #expect(report.rowsImported == 2)
        let events = try store.events(after: 0, limit: 10)
        #expect(events[0].payloadJSON["topic"] == "Motor \"M2\", Lärm\r\nzweite Zeile")
        #expect(events[1].importRef?.hasSuffix(":4") == true)
        // The same bytes read as UTF-8 are refused with a hint.
        mapping = Self.small
        let error = #expect(throws: SourceError.self) {
            try Importer(store: try Self.store(), mapping: try ImportMapping(text: mapping)).run(sources: [try Self.write(text, encoding: .isoLatin1)], options: .init())
        }
        #expect(error?.message.contains("latin-1") == true)
    }

    @Test func aBadMappingIsRefusedWithItsJSONPath() throws {
        let noType = #expect(throws: MappingError.self) {
            try ImportMapping(text: Self.small.replacingOccurrences(of: "\"type\": \"hotline.call.received\",", with: ""))
        }
        #expect(noType?.path == "/rules/0" && noType?.message.contains("type") == true)
        let badZone = #expect(throws: MappingError.self) {
            try ImportMapping(text: Self.small.replacingOccurrences(of: "Europe/Berlin", with: "Mars/Olympus"))
        }
        #expect(badZone?.path == "/source/timeZone")
        let noTime = #expect(throws: MappingError.self) {
            try ImportMapping(text: Self.small.replacingOccurrences(of: "\"recordingLag\": \"PT1H\",", with: ""))
        }
        #expect(noTime?.path == "/sourceRecordedAt")
        let missingColumn = try Self.write("ticket,kind,customer,when,wait,solved,down\n")
        let error = #expect(throws: SourceError.self) {
            try Importer(store: try Self.store(), mapping: try ImportMapping(text: Self.small)).run(sources: [missingColumn], options: .init())
        }
        #expect(error?.message.contains("\"topic\"") == true)
    }

    @Test func aLiveProducerCannotBackDateAnEvent() throws {
        let event: JSONValue = ["eventId": "0190f7a2-0000-7000-8000-000000000001", "type": "note.added", "occurredAt": "2024-01-01T00:00:00Z",
                                "sourceRecordedAt": "2020-01-01T00:00:00Z", "payload": ["text": "x"]]
        let error = #expect(throws: JournalError.self) { try ProposedEvent(json: event, index: 0) }
        #expect(error?.description.contains("set only by `tpj import`") == true)
    }

    @Test func aRecordingTimeFarAheadOfTheSystemClockIsRefused() throws {
        let writer = try JournalDatabase.inMemory()
        let future = JournalClock.constant(Timestamp(microseconds: JournalClock.live.now().microseconds + 3_600_000_000))
        let store = try EventStore(writer: writer, clock: future)
        let note = ProposedEvent(eventId: "0190f7a2-0000-7000-8000-000000000002", type: "note.added", occurredAt: "2024-01-01T00:00:00Z", payload: ["text": "x"])
        let error = #expect(throws: JournalError.self) { try store.append([note], to: "C-1") }
        guard case .clockAhead? = error else { Issue.record("expected clockAhead, got \(String(describing: error))"); return }
        #expect(try store.head() == 0)
        // Within the allowed lead it is stored.
        var lenient = store
        lenient.clockLimit = ClockLimit(maximumLeadSeconds: 7_200)
        #expect(try lenient.append([note], to: "C-1").appended == 1)
    }
}

@Suite struct ImportMappingDetailTests {
    static let orders = """
        {"name": "orders", "namespace": "2a3b4c5d-6e7f-4809-9a1b-2c3d4e5f6071",
         "source": {"format": "csv", "delimiter": ";", "decimalComma": true, "timeZone": "Europe/Berlin"},
         "customerId": {"template": "KD-{Kunde}"}, "recordingLag": "PT0S",
         "rules": [
           {"type": "customer.registered", "firstOnly": true, "sourceKey": {"template": "kunde|{Kunde}"},
            "occurredAt": {"column": "Datum", "convert": "timestamp", "format": "dd.MM.yyyy HH:mm"},
            "payload": {"name": {"template": "Kunde {Kunde}"}, "country": {"column": "Land"}}},
           {"type": "part.ordered", "sourceKey": {"template": "{Auftrag}|{Pos}"},
            "occurredAt": {"column": "Datum", "convert": "timestamp", "format": "dd.MM.yyyy HH:mm"},
            "payload": {"orderId": {"template": "{Auftrag}-{Pos}"}, "express": {"column": "Eil", "convert": "boolean"},
                        "promisedDeliveryDate": {"column": "Termin", "convert": "date", "format": "dd.MM.yyyy"},
                        "amount": {"column": "Betrag", "convert": "number"}, "currency": {"const": "EUR"},
                        "lines": [{"partNumber": {"column": "Artikel"}, "quantity": {"column": "Menge", "convert": "integer"}}]}}
         ]}
        """
    static let header = "Auftrag;Pos;Kunde;Land;Datum;Eil;Termin;Betrag;Artikel;Menge\n"

    @Test func nestedPayloadFieldsDecimalCommasAndFirstOnlyRowsAreCountedAsRepeats() throws {
        let store = try ImporterTests.store()
        let importer = Importer(store: store, mapping: try ImportMapping(text: Self.orders))
        let source = try ImporterTests.write(Self.header + """
            A-1;1;100;DE;03.11.2023 14:05;ja;10.11.2023;1.234,50;7730-114;2
            A-1;2;100;DE;03.11.2023 14:05;nein;10.11.2023;12,00;7730-200;10
            A-2;1;101;AT;04.11.2023 09:00;nein;12.11.2023;99;4711;1

            """)
        let first = try importer.run(sources: [source], options: .init())
        #expect(first.rowsImported == 3 && first.eventsStored == 5 && first.rowsAlreadyRecorded == 0)
        let order = try #require(try store.history(of: "KD-100").first { $0.type == "part.ordered" })
        #expect(order.payloadJSON["amount"] == 1234.5 && order.payloadJSON["express"] == true)
        #expect(order.payloadJSON["lines"] == [["partNumber": "7730-114", "quantity": 2]])
        #expect(order.payloadJSON["promisedDeliveryDate"] == "2023-11-10" && order.occurredAt == "2023-11-03T14:05:00+01:00")
        // Every row of a second run is counted as already recorded, including those whose only news was a repeat.
        let again = try importer.run(sources: [source], options: .init())
        #expect(again.rowsAlreadyRecorded == 3 && again.rowsImported == 0 && again.eventsStored == 0)
    }

    @Test func rowsSharingASourceKeyAndBadPayloadValuesAreRejectedWithWhatTheyHeld() throws {
        var options = Importer.Options()
        options.maximumRejected = .count(10)
        let store = try ImporterTests.store()
        let source = try ImporterTests.write(Self.header + """
            A-1;1;100;DE;03.11.2023 14:05;ja;10.11.2023;5;7730-114;2
            A-1;1;100;DE;03.11.2023 14:05;ja;10.11.2023;6;7730-114;2
            A-3;1;102;Deutschland;05.11.2023 08:00;ja;10.11.2023;5;1;1

            """)
        let report = try Importer(store: store, mapping: try ImportMapping(text: Self.orders)).run(sources: [source], options: options)
        #expect(report.rejected["source key repeated"]?.examples.first?.line == 3)
        let country = try #require(report.rejected["customer.registered /payload/country [pattern]"]?.examples.first)
        #expect(country.line == 4 && country.message.contains("(value: \"Deutschland\")"), "\(country.message)")
    }

    @Test(arguments: [
        ("\"convert\": \"boolean\"", "\"convert\": \"bool\"", "/rules/1/payload/express/convert"),
        ("\"format\": \"dd.MM.yyyy\"}", "\"format\": \"dd.mm.yyyy\"}", "/rules/1/payload/promisedDeliveryDate/format"),
        ("\"column\": \"Artikel\"", "\"colum\": \"Artikel\"", "/rules/1/payload/lines/0/partNumber"),
    ])
    func mappingMistakesInPayloadFieldsNameTheirPath(original: String, mistake: String, path: String) throws {
        let text = Self.orders.replacingOccurrences(of: original, with: mistake)
        #expect(text != Self.orders)
        let error = #expect(throws: MappingError.self) { try ImportMapping(text: text) }
        #expect(error?.path.hasPrefix(path) == true, "\(String(describing: error))")
    }
}
