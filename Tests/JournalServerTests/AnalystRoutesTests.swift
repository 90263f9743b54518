import Foundation
import Journal
import JournalProjections
import JournalServer
import JournalStore
import JournalTesting
import Testing

@Suite struct AnalystRoutesTests {
    static func hitRate() throws -> DeclaredProjection {
        try DeclaredProjection(
            text: String(contentsOf: TestSupport.repositoryRoot.appendingPathComponent("tools/projections/quotehitrate.sql"), encoding: .utf8),
            registry: .bundled)
    }

    @Test func filteredEventPagesCoverExactlyTheMatchingEvents() async throws {
        let server = try await LiveServer.start()
        defer { Task { try await server.stop() } }
        let types: Set<String> = ["invoice.issued", "quote.sent"]
        var expected: [Int64] = []
        try server.store.scan(EventFilter()) { event in
            if event.customerId == "C-100004", types.contains(event.type) { expected.append(event.position) }
        }
        var seen: [Int64] = [], after: Int64 = 0, pages = 0
        while true {
            let page = try await server.request("GET", "/v1/events?customer=C-100004&type=invoice.issued&type=quote.sent&limit=3&after=\(after)", role: .analyst)
            #expect(page.status == 200)
            guard case .array(let events)? = page.document["events"], case .number(let next)? = page.document["next"] else { break }
            seen += events.compactMap { if case .number(let position)? = $0["position"] { Int64(position.value) } else { nil } }
            pages += 1
            if events.isEmpty || pages > 100 { break }
            after = Int64(next.value)
        }
        #expect(!expected.isEmpty && seen == expected)

        let unknown = try await server.request("GET", "/v1/events?sort=position", role: .analyst)
        #expect(unknown.status == 400 && unknown.document["error"]?["message"]?.stringValue?.contains("unknown parameter sort") == true)
        let badType = try await server.request("GET", "/v1/events?type=hotline.call", role: .analyst)
        #expect(badType.status == 400 && badType.document["error"]?["message"]?.stringValue?.contains("no event type hotline.call") == true)
        let occurred = try await server.request("GET", "/v1/events?occurredAfter=2024-06-03&occurredBefore=2024-06-08&limit=1000", role: .analyst)
        guard case .array(let june)? = occurred.document["events"] else { Issue.record("no events"); return }
        #expect(!june.isEmpty && june.allSatisfy { ($0["occurredAt"]?.stringValue ?? "") >= "2024-06-02" && ($0["occurredAt"]?.stringValue ?? "") < "2024-06-09" })
    }

    @Test func aDeclaredProjectionFollowsAppendsAndPagesAsJSONOrCSV() async throws {
        let server = try await LiveServer.start(declared: [try Self.hitRate()])
        defer { Task { try await server.stop() } }
        let first = try await server.request("GET", "/v1/projections/quotehitrate/rows?limit=2", role: .analyst)
        #expect(first.status == 200 && first.document["table"] == "quotehitrate_quarter" && first.document["next"] == .number(JSONNumber(Int64(2))))
        let csv = try await server.request("GET", "/v1/projections/quotehitrate/rows?limit=2", role: .analyst, headers: ["Accept": "text/csv"])
        let lines = csv.text.split(separator: "\r\n")
        #expect(csv.headers["content-type"]?.hasPrefix("text/csv") == true && lines.count == 3)
        #expect(lines.first == "customerId,quarter,sent,answered,accepted,sentValue,answeredValue,acceptedValue,hitRate,valueHitRate")

        // A quote sent through the API shows up in the projection once the follower has folded it.
        func sent(_ customer: String, _ quarter: String) async throws -> Int64? {
            let all = try await server.request("GET", "/v1/projections/quotehitrate/rows?limit=10000", role: .analyst)
            guard case .array(let rows)? = all.document["rows"] else { return nil }
            let row = rows.first { $0["customerId"]?.stringValue == customer && $0["quarter"]?.stringValue == quarter }
            if case .number(let number)? = row?["sent"] { return Int64(number.value) }
            return 0
        }
        let before = try #require(try await sent("C-100004", "2024-Q4"))
        let body = #"{"events": [{"eventId": "0194c1b5-20bb-7275-8a1c-00000000c0de", "type": "quote.sent", "occurredAt": "2024-11-05T10:00:00+01:00", "payload": {"quoteId": "Q-NEW-1", "subject": "parts", "amount": 120, "currency": "EUR"}}]}"#
        let appended = try await server.request("POST", "/v1/customers/C-100004/events", role: .ingest, body: body)
        #expect(appended.status == 201)
        let position = try server.store.head()
        let after = try await server.request("GET", "/v1/projections/quotehitrate/rows?limit=10000&waitFor=\(position)", role: .analyst)
        guard case .array(let rows)? = after.document["rows"] else { Issue.record("no rows"); return }
        let row = rows.first { $0["customerId"]?.stringValue == "C-100004" && $0["quarter"]?.stringValue == "2024-Q4" }
        #expect(row?["sent"] == .number(JSONNumber(before + 1)))

        let staff = try await server.request("GET", "/v1/projections/quotehitrate/rows", role: .staff)
        #expect(staff.status == 403)
        let missing = try await server.request("GET", "/v1/projections/nothing/rows", role: .analyst)
        #expect(missing.status == 404)
        let table = try await server.request("GET", "/v1/projections/quotehitrate/rows?table=nope", role: .analyst)
        #expect(table.status == 400)
    }
}
