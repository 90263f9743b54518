import Foundation
import GRDB
import Journal
import JournalImport
import JournalProjections
import JournalScoring
import JournalStore
import JournalTesting
import JournalWorld
import Testing

/// A generated world recorded night by night, and the same world exported to CSV and imported in one go,
/// answer every as-of question alike: the import keeps each event's source recording time.
@Suite struct MigratedHistoryTests {
    static let columns = [
        "eventId", "customerId", "type", "schemaVersion", "occurredAt", "recordedAt", "caseId", "assetId", "siteId", "actor",
        "source", "correlationId", "causationId", "payload",
    ]

    static let mapping = """
        {
          "name": "journal-export",
          "namespace": "9b2f4d1e-7c3a-4e5b-8f60-1a2b3c4d5e6f",
          "source": {"format": "csv"},
          "customerId": {"column": "customerId"},
          "sourceRecordedAt": {"column": "recordedAt", "convert": "timestamp"},
          "requireRegistered": false,
          "rules": [{
            "type": "placeholder",
            "eventId": {"column": "eventId"},
            "occurredAt": {"column": "occurredAt"},
            "caseId": {"column": "caseId", "optional": true},
            "assetId": {"column": "assetId", "optional": true},
            "siteId": {"column": "siteId", "optional": true},
            "actor": {"column": "actor", "optional": true},
            "source": {"column": "source", "optional": true},
            "correlationId": {"column": "correlationId", "optional": true},
            "causationId": {"column": "causationId", "optional": true},
            "payload": {"column": "payload", "convert": "json"}
          }]
        }
        """

    /// One rule per event type, since a rule names its type.
    static func mapping(types: [String]) throws -> ImportMapping {
        var document = try JSONParser.parse(mapping)
        guard case .object(var members) = document, case .array(let rules)? = document["rules"], case .object(let rule) = rules[0] else {
            throw CancellationError()
        }
        let perType: [JSONValue] = types.map { type in
            .object(rule.map { $0.key == "type" ? JSONMember("type", .string(type)) : $0 } + [
                JSONMember("when", ["column": "type", "equals": .string(type)]),
            ])
        }
        members = members.map { $0.key == "rules" ? JSONMember("rules", .array(perType)) : $0 }
        document = .object(members)
        return try ImportMapping(text: CanonicalJSON.string(document))
    }

    static func csvField(_ text: String?) -> String {
        guard let text else { return "" }
        return text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
    }

    @Test func anImportedHistoryAnswersAsOfQuestionsLikeTheSameHistoryRecordedLive() throws {
        // Given a world of 60 customers over 3 years, recorded night by night
        let directory = TestSupport.temporaryDirectory("tpj-migrated")
        let livePath = directory.appendingPathComponent("live.sqlite").path
        let liveWriter = try JournalDatabase.open(path: livePath)
        _ = try WorldGenerator.write(WorldConfiguration(customers: 60, years: 3, seed: 11, start: "2022-01-01")) { clock in
            try EventStore(writer: liveWriter, clock: clock)
        }
        let live = try EventStore(writer: liveWriter)
        // (exported as an operator sees it: personal values in the clear, to be sealed again by the new journal's keys)
        let events = try live.events(after: 0, limit: 1_000_000).map(live.disclosure().event)
        #expect(events.count > 3_000)
        // exported to CSV with its recording times (a field with commas, quotes and JSON in it),
        var csv = Self.columns.joined(separator: ",") + "\r\n"
        for event in events {
            let fields: [String?] = [
                event.eventId.rawValue, event.customerId, event.type, String(event.schemaVersion), event.occurredAt, event.recorded.rfc3339,
                event.caseId, event.assetId, event.siteId, event.actor, event.source, event.correlationId, event.causationId, event.payload,
            ]
            csv += fields.map(Self.csvField).joined(separator: ",") + "\r\n"
        }
        let csvPath = directory.appendingPathComponent("export.csv").path
        try csv.write(toFile: csvPath, atomically: true, encoding: .utf8)
        // and imported into a new journal today.
        let imported = try EventStore(writer: JournalDatabase.open(path: directory.appendingPathComponent("imported.sqlite").path))
        let mapping = try Self.mapping(types: Array(Set(events.map(\.type))).sorted())
        let report = try Importer(store: imported, mapping: mapping).run(sources: [csvPath], options: .init())
        #expect(report.rowsRead == events.count && report.eventsStored == events.count && report.rowsRejected == 0)
        #expect(try imported.verify().isIntact)
        let importedEvents = try imported.events(after: 0, limit: 1_000_000)
        #expect(importedEvents.allSatisfy { $0.recorded > events.last!.recorded && $0.importRef != nil })
        #expect(importedEvents.map(\.knownAt) == events.map(\.recorded))

        // Then every view, as of several dates, is the same.
        for store in [live, imported] { _ = try ProjectionRunner.builtIn(store: store).catchUp() }
        let insights = Insights(rules: .bundled, model: .bundled)
        var compared = 0
        for date in ["2023-01-01", "2023-07-15", "2024-03-01", "2024-12-31"] {
            let asOf = try Timestamp(utcDate: date)
            func views(_ store: EventStore) throws -> [String] {
                try store.writer.read { db in
                    let segments = try insights.segments(asOf: asOf, in: db)
                    let churn = try insights.churn(asOf: asOf, in: db)
                    var texts = [
                        CanonicalJSON.string(Documents.segments(segments, rules: insights.segmentRules, asOf: asOf)),
                        CanonicalJSON.string(Documents.churn(churn, top: 1_000, asOf: asOf, weights: "bundled")),
                    ]
                    for customer in ["C-100003", "C-100017", "C-100042"] {
                        if let moments = try? insights.moments(of: customer, asOf: asOf, in: db) {
                            texts.append(CanonicalJSON.string(Documents.moments(moments, asOf: asOf)))
                        }
                    }
                    return texts
                }
            }
            let liveViews = try views(live)
            #expect(liveViews.count >= 3 && liveViews[1].contains("\"customers\":"))
            #expect(liveViews == (try views(imported)), "as of \(date)")
            let timeline = JourneyTimeline(registry: .bundled)
            for customer in ["C-100003", "C-100017"] {
                let liveTimeline = try timeline.entries(of: customer, knownAt: asOf, store: live)
                var a: [UInt8] = [], b: [UInt8] = []
                Documents.writeTimeline(liveTimeline, into: &a)
                Documents.writeTimeline(try timeline.entries(of: customer, knownAt: asOf, store: imported), into: &b)
                #expect(live.disclosure().json(a) == imported.disclosure().json(b), "timeline of \(customer) known at \(date)")
                compared += liveTimeline.count
            }
        }
        #expect(compared > 50)
        // The months' segment boundaries, folded from backdated facts, are the ones the live fold stored,
        // and a rebuild in small batches stores them again.
        func boundaries(_ store: EventStore) throws -> [String] {
            try store.writer.read { db in
                try String.fetchAll(db, sql: """
                    SELECT quote(monthStartUs) || ',' || quote(customers) || ',' || quote(lastARevenue) || ',' || quote(lastACustomerId)
                      || ',' || quote(lastBRevenue) || ',' || quote(lastBCustomerId) FROM facts_segment ORDER BY monthStartUs
                    """)
            }
        }
        let liveBoundaries = try boundaries(live)
        let importedBoundaries = try boundaries(imported)
        #expect(liveBoundaries.count >= 30)
        #expect(liveBoundaries == importedBoundaries)
        _ = try ProjectionRunner(store: imported, projections: [CustomerFacts()]).rebuild(batchSize: 97)
        #expect(try boundaries(imported) == liveBoundaries)
        // And churn fitting finds the same snapshots in the imported history.
        let samples = try [live, imported].map { store in
            try store.writer.read { db in try ChurnTraining(insights: insights, horizonDays: 180).samples(in: db) }
        }
        #expect(samples[0].count > 100 && samples[0].count == samples[1].count)
        #expect(samples[0].map(\.features) == samples[1].map(\.features))
    }
}
