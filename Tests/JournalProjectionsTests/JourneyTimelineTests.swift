import Foundation
import GRDB
import Journal
import JournalProjections
import JournalStore
import JournalTesting
import Testing

@Suite struct JourneyTimelineTests {
    func demo() throws -> (EventStore, ProjectionRunner) {
        let writer = try JournalDatabase.inMemory()
        try DemoWorld.write { clock in try EventStore(writer: writer, clock: clock) }
        let store = try EventStore(writer: writer)
        let runner = ProjectionRunner(store: store, projections: [JourneyTimeline(registry: .bundled)])
        try runner.catchUp()
        return (store, runner)
    }

    @Test func placesLateReportsByBusinessTimeAndAppliesCorrectionsAndVoids() throws {
        let (store, _) = try demo()
        let hoffmann = try store.writer.read { db in try JourneyTimeline.entries(of: "C-1001", in: db) }
        #expect(hoffmann.map(\.occurred) == hoffmann.map(\.occurred).sorted())
        // The first visit's report, recorded a week late, stands between the dispatch and the part request.
        let visits = hoffmann.filter { $0.type == "technician.visit.completed" }
        #expect(visits.count == 2 && visits[0].recorded > visits[1].recorded)
        let bianchi = try store.writer.read { db in try JourneyTimeline.entries(of: "C-1003", in: db) }
        #expect(!bianchi.contains { $0.type.hasPrefix("touchpoint.") })
        let corrected = try #require(bianchi.first { $0.status == "corrected" })
        #expect(corrected.type == "technician.visit.completed")
        #expect(corrected.payload.contains(#""actualArrival":"2024-11-05T09:20:00+01:00""#))
        #expect(corrected.originalPayload?.contains(#""actualArrival":"2024-11-05T11:40:00+01:00""#) == true)
        let voided = bianchi.filter { $0.status == "voided" }
        #expect(voided.count == 1 && voided[0].type == "note.added")
    }

    @Test func filtersByTimeKindAssetAndCase() throws {
        let (store, _) = try demo()
        func entries(_ filter: TimelineFilter) throws -> [TimelineEntry] {
            try store.writer.read { db in try JourneyTimeline.entries(of: "C-1001", filter: filter, in: db) }
        }
        let all = try entries(TimelineFilter())
        let inCase = try entries(TimelineFilter(caseId: "CASE-1001-01"))
        #expect(!inCase.isEmpty && inCase.count < all.count && inCase.allSatisfy { $0.caseId == "CASE-1001-01" })
        let complaints = try entries(TimelineFilter(kinds: ["complaint"]))
        #expect(complaints.map(\.type) == ["complaint.filed", "complaint.acknowledged", "complaint.resolved"])
        let june = try entries(TimelineFilter(from: try Timestamp(rfc3339: "2024-06-01T00:00:00Z"), to: try Timestamp(rfc3339: "2024-07-01T00:00:00Z")))
        #expect(june.allSatisfy { $0.occurredAt.hasPrefix("2024-06") } && june.count > 5)
        #expect(try entries(TimelineFilter(assetId: "SN-CNC5000-0417")).allSatisfy { $0.assetId == "SN-CNC5000-0417" })
    }

    @Test func theTimelineAsKnownAtAnInstantEqualsTheOneProjectedThen() throws {
        // Given a log projected at instant T …
        let (clock, setTime) = JournalClock.manual(try Timestamp(rfc3339: "2026-03-01T10:00:00Z"))
        let writer = try JournalDatabase.inMemory()
        let store = try EventStore(writer: writer, clock: clock)
        let timeline = JourneyTimeline(registry: .bundled)
        let runner = ProjectionRunner(store: store, projections: [timeline])
        let first = ProposedEvent(
            eventId: TestEvents.id(1), type: "technician.visit.completed", occurredAt: "2026-03-01T09:00:00+01:00",
            payload: ["visitNumber": 1, "promisedArrival": "2026-03-01T08:00:00+01:00", "actualArrival": "2026-03-01T09:00:00+01:00", "fixed": false])
        try store.append([first, Events.call(2)], to: "C-1")
        try runner.catchUp()
        let thenProjected = try writer.read { db in try JourneyTimeline.entries(of: "C-1", in: db) }
        let instant = try Timestamp(rfc3339: "2026-03-01T12:00:00Z")
        // … when later events, a late report and a correction arrive,
        setTime(try Timestamp(rfc3339: "2026-03-05T10:00:00Z"))
        try store.append([
            ProposedEvent(eventId: TestEvents.id(3), type: "touchpoint.corrected", occurredAt: "2026-03-05T09:00:00Z",
                          payload: ["correctedEventId": .string(TestEvents.id(1)), "corrections": ["fixed": true], "reason": "typo"]),
            ProposedEvent(eventId: TestEvents.id(4), type: "note.added", occurredAt: "2026-02-27T09:00:00Z", payload: ["text": "late"]),
        ], to: "C-1")
        try runner.catchUp()
        // then the timeline as known at T is exactly what was projected at T,
        let asKnown = try timeline.entries(of: "C-1", knownAt: instant, store: store)
        #expect(asKnown == thenProjected)
        // while today's timeline has the correction and the late note in its place.
        let today = try writer.read { db in try JourneyTimeline.entries(of: "C-1", in: db) }
        #expect(today.first?.type == "note.added")
        #expect(today.first { $0.eventId == TestEvents.id(1) }?.status == "corrected")
    }

    @Test func theTimelineDocumentIsCanonicalAndCarriesEachEntryWithItsFlags() throws {
        let (store, _) = try demo()
        for customer in ["C-1001", "C-1002", "C-1003", "C-1004"] {
            let entries = try store.writer.read { db in try JourneyTimeline.entries(of: customer, in: db) }
            var bytes: [UInt8] = []
            Documents.writeTimeline(entries, into: &bytes)
            let document = try JSONParser.parse(bytes)
            // Written member by member, yet byte for byte what the canonical writer makes of it.
            #expect(CanonicalJSON.bytes(document) == bytes, "\(customer)")
            guard case .array(let items) = document else { Issue.record("not an array"); continue }
            #expect(items.count == entries.count && !entries.isEmpty)
            let flags = TimelineFlags(entries)
            for (item, entry) in zip(items, entries) {
                #expect(item["position"] == .number(JSONNumber(entry.position)))
                #expect(item["eventId"] == .string(entry.eventId))
                #expect(item["recordedAt"] == .string(entry.recorded.rfc3339))
                #expect(item["payload"] == (try JSONParser.parse(entry.payload)))
                #expect(item["originalPayload"] == (try entry.originalPayload.map { try JSONParser.parse($0) }))
                #expect(item["flags"] == .array(flags.of(entry).map(JSONValue.string)))
                #expect(item["status"] == .string(entry.status))
                if let score = entry.score {
                    #expect(item["score"] == .number(JSONNumber(Int64(score))))
                    #expect(item["reasons"] == .array(entry.reasons.map(JSONValue.string)))
                    #expect(item["momentOfTruth"] == .bool(entry.isMoment))
                } else {
                    #expect(item["score"] == nil && item["reasons"] == nil && item["impact"] == nil)
                }
            }
        }
    }

    @Test func eachCustomersStoredDocumentIsTheTimelineAssembledFromItsRows() throws {
        let (store, runner) = try demo()
        let customers = ["C-1001", "C-1002", "C-1003", "C-1004"]
        /// The stored document of each customer, nil when it is stale or missing.
        func stored() throws -> [String: [UInt8]] {
            try store.writer.read { db in
                var documents: [String: [UInt8]] = [:]
                for customer in customers {
                    var bytes: [UInt8] = []
                    if try JourneyTimeline.appendDocument(of: customer, to: &bytes, in: db) { documents[customer] = bytes }
                }
                return documents
            }
        }
        func assembled() throws -> [String: [UInt8]] {
            try store.writer.read { db in
                try Dictionary(uniqueKeysWithValues: customers.map { customer in
                    var bytes: [UInt8] = []
                    Documents.writeTimeline(try JourneyTimeline.entries(of: customer, in: db), into: &bytes)
                    return (customer, bytes)
                })
            }
        }
        #expect(try stored() == assembled())

        // A change to any row of a customer's timeline makes the document stale in the same
        // transaction: it is not served until it has been written again.
        try store.projectionWriter.write { db in
            let table = try #require(try String.fetchOne(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'p_timeline_g%_entry'"))
            try db.execute(sql: "UPDATE \(table) SET actor = 'someone else' WHERE position = (SELECT min(position) FROM \(table) WHERE customerId = 'C-1002')")
        }
        #expect(try stored().keys.sorted() == ["C-1001", "C-1003", "C-1004"])

        // Appends, a correction, a void and a survey about an earlier touchpoint, folded by a catch-up:
        // every document touched is written again (the stale one too) and matches its rows.
        let c1003 = try store.writer.read { db in try JourneyTimeline.entries(of: "C-1003", in: db) }
        let visit = try #require(c1003.first { $0.type == "technician.visit.completed" })
        let note = try #require(c1003.first { $0.status == "recorded" && $0.type != visit.type })
        try store.append([
            ProposedEvent(eventId: TestEvents.id(901), type: "touchpoint.corrected", occurredAt: "2026-03-04T09:00:00Z",
                          payload: ["correctedEventId": .string(visit.eventId), "corrections": ["fixed": true], "reason": "typo"]),
            ProposedEvent(eventId: TestEvents.id(902), type: "touchpoint.voided", occurredAt: "2026-03-04T09:05:00Z",
                          payload: ["voidedEventId": .string(note.eventId), "reason": "wrong customer"]),
            ProposedEvent(eventId: TestEvents.id(903), type: "survey.answered", occurredAt: "2026-03-05T09:00:00Z",
                          payload: ["surveyId": "S-903", "relatedEventId": .string(visit.eventId), "csi": 2]),
        ], to: "C-1003")
        try store.append([Events.call(904)], to: "C-1001")
        let before = try assembled()
        try runner.catchUp()
        let after = try stored()
        #expect(try assembled() == after)
        #expect(after.keys.sorted() == customers)
        #expect(after["C-1003"] != before["C-1003"] && after["C-1001"] != before["C-1001"])

        // A rebuild writes every document before it switches to the new tables.
        try runner.rebuild()
        #expect(try stored() == assembled())
    }

    @Test func flagsFollowCasesAndComplaintsAsTheyCloseAndCorrectionsChangeThem() throws {
        let writer = try JournalDatabase.inMemory()
        let store = try EventStore(writer: writer)
        let runner = ProjectionRunner(store: store, projections: [JourneyTimeline(registry: .bundled)])
        func flags() throws -> [String: [String]] {
            try runner.catchUp()
            let entries = try writer.read { db in try JourneyTimeline.entries(of: "C-1", in: db) }
            let flags = TimelineFlags(entries)
            return Dictionary(uniqueKeysWithValues: entries.map { ($0.type, flags.of($0)) })
        }
        let visit = ProposedEvent(
            eventId: TestEvents.id(1), type: "technician.visit.completed", occurredAt: "2026-03-02T09:00:00+01:00", caseId: "CASE-1",
            payload: ["visitNumber": 1, "promisedArrival": "2026-03-02T09:00:00+01:00", "actualArrival": "2026-03-02T09:00:00+01:00", "fixed": false])
        let complaint = ProposedEvent(
            eventId: TestEvents.id(2), type: "complaint.filed", occurredAt: "2026-03-03T09:00:00+01:00",
            payload: ["complaintId": "CMP-1", "category": "technician", "severity": "high"])
        try store.append([visit, complaint], to: "C-1")
        #expect(try flags() == ["technician.visit.completed": ["OPEN CASE"], "complaint.filed": ["OPEN COMPLAINT"]])
        // A correction saying the machine was fixed closes the case; the resolution closes the complaint.
        try store.append([
            ProposedEvent(eventId: TestEvents.id(3), type: "touchpoint.corrected", occurredAt: "2026-03-04T09:00:00Z",
                          payload: ["correctedEventId": .string(TestEvents.id(1)), "corrections": ["fixed": true], "reason": "typo"]),
            ProposedEvent(eventId: TestEvents.id(4), type: "complaint.resolved", occurredAt: "2026-03-05T09:00:00+01:00",
                          payload: ["complaintId": "CMP-1", "resolution": "apologised"]),
        ], to: "C-1")
        #expect(try flags() == ["technician.visit.completed": [], "complaint.filed": [], "complaint.resolved": []])
    }
}

enum Events {
    static func call(_ n: Int) -> ProposedEvent {
        ProposedEvent(
            eventId: TestEvents.id(n), type: "hotline.call.received", occurredAt: "2026-03-01T09:30:00+01:00",
            payload: ["queueWaitSeconds": 30, "abandoned": false, "solvedOnCall": true, "machineDown": false])
    }
}
