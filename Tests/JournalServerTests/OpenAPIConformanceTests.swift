import Foundation
import Journal
import JournalProjections
import JournalServer
import JournalStore
import JournalTesting
import Testing

/// Every route's answers — successes and errors — checked against Schemas/openapi.yaml by
/// tools/check-openapi.py (JSON Schema 2020-12 with format checks), which also fails when an
/// operation of the document was not exercised.
@Suite struct OpenAPIConformanceTests {
    @Test func everyAnswerMatchesTheDocument() async throws {
        let hitRate = try DeclaredProjection(
            text: String(contentsOf: TestSupport.repositoryRoot.appendingPathComponent("tools/projections/quotehitrate.sql"), encoding: .utf8),
            registry: .bundled)
        let server = try await LiveServer.start(declared: [hitRate])
        defer { Task { try await server.stop() } }
        let head = try server.store.head()
        let risky = try #require(try await server.request("GET", "/v1/churn?top=1", role: .staff).document["risks"]?[0]?["customerId"]?.stringValue)
        let newEvent = { ServerTests.callBody(eventId: UUID().uuidString.lowercased()) }
        let fixedId = "0194c1b5-20bb-7275-8a1c-0000000000bb"
        let requests: [(String, String, Role?, String?)] = [
            ("GET", "/healthz", nil, nil),
            ("GET", "/metrics", .admin, nil), ("GET", "/metrics", .staff, nil), ("GET", "/metrics", nil, nil),
            ("GET", "/v1/projections", .admin, nil),
            ("POST", "/v1/erasures", .admin, #"{"customerId": "C-100007", "reason": "DSR-1"}"#),
            ("POST", "/v1/erasures", .admin, #"{"subject": "employee:Nobody Known", "reason": "DSR-2"}"#),
            ("POST", "/v1/erasures", .admin, #"{"subject": "C-100007", "reason": "DSR-3"}"#), ("POST", "/v1/erasures", .admin, #"{"reason": "x"}"#),
            ("POST", "/v1/erasures", .admin, String(repeating: " ", count: 70_000) + "{}"), ("POST", "/v1/erasures", .staff, #"{"customerId": "C-100007", "reason": "x"}"#),
            ("POST", "/v1/customers/C-100004/events", .ingest, ServerTests.callBody(eventId: fixedId)),
            ("POST", "/v1/customers/C-100004/events", .ingest, ServerTests.callBody(eventId: fixedId)),
            ("POST", "/v1/customers/C-100004/events", .ingest, ServerTests.callBody(eventId: fixedId, queueWait: 99)),
            ("POST", "/v1/customers/C-100004/events", .ingest, ServerTests.callBody(eventId: UUID().uuidString.lowercased(), expectedVersion: 0)),
            ("POST", "/v1/customers/C-100004/events", .ingest, ServerTests.callBody(eventId: UUID().uuidString.lowercased(), queueWait: -1)),
            ("POST", "/v1/customers/C-100004/events", .ingest, #"{"events": []}"#),
            ("POST", "/v1/customers/C-100004/events", .ingest, String(repeating: " ", count: 5 << 20) + newEvent()),
            ("POST", "/v1/customers/C-100004/events", .staff, newEvent()),
            ("GET", "/v1/customers?q=C-1000", .staff, nil), ("GET", "/v1/customers?q=gmbh&limit=2", .staff, nil),
            ("GET", "/v1/customers?q=sn-&limit=3&offset=2", .staff, nil), ("GET", "/v1/customers?q=x&offset=-1", .staff, nil), ("GET", "/v1/customers", .staff, nil),
            ("GET", "/v1/customers/C-100004/timeline?waitFor=\(head)", .staff, nil),
            ("GET", "/v1/customers/C-100004/timeline?kind=visit,hotline&from=2024-03-01", .staff, nil),
            ("GET", "/v1/customers/C-100004/timeline?knownAt=2024-06-01", .staff, nil),
            ("GET", "/v1/customers/C-999999/timeline", .staff, nil), ("GET", "/v1/customers/C-100004/timeline?to=never", .staff, nil),
            ("GET", "/v1/customers/C-100004/moments", .staff, nil), ("GET", "/v1/customers/C-100004/moments?asOf=2024-06-01", .staff, nil),
            ("GET", "/v1/customers/C-999999/moments", .staff, nil),
            ("GET", "/v1/customers/\(risky)/churn", .staff, nil), ("GET", "/v1/customers/C-999999/churn", .staff, nil),
            ("GET", "/v1/customers/\(risky)/summary", .staff, nil), ("GET", "/v1/customers/C-100002/summary?asOf=2024-06-01", .auditor, nil),
            ("GET", "/v1/customers/C-100002/summary", .analyst, nil), ("GET", "/v1/customers/C-999999/summary", .staff, nil),
            ("GET", "/v1/churn", .staff, nil), ("GET", "/v1/churn?band=high&segment=A&top=5", .staff, nil), ("GET", "/v1/churn?top=0", .staff, nil),
            ("GET", "/v1/segments", .staff, nil), ("GET", "/v1/segments?list=true&aShare=0.7&bShare=0.9", .staff, nil),
            ("GET", "/v1/segments?aShare=2", .staff, nil),
            ("GET", "/v1/customers/C-100004/history", .auditor, nil), ("GET", "/v1/customers/C-100004/history?order=occurred&knownAt=2024-06-01", .auditor, nil),
            ("GET", "/v1/customers/C-999999/history", .auditor, nil), ("GET", "/v1/customers/C-100004/history?order=sideways", .auditor, nil),
            ("GET", "/v1/verify", .auditor, nil), ("GET", "/v1/verify?from=3&to=9", .auditor, nil), ("GET", "/v1/verify?from=9&to=3", .auditor, nil),
            ("GET", "/v1/access-log?customer=C-100001&limit=5", .auditor, nil), ("GET", "/v1/access-log?limit=0", .auditor, nil),
            ("GET", "/v1/customers/C-100001/evidence", .auditor, nil), ("GET", "/v1/customers/C-100001/evidence?knownAt=2001-01-01", .auditor, nil),
            ("GET", "/v1/events?after=5&limit=3", .analyst, nil), ("GET", "/v1/events?limit=0", .analyst, nil),
            ("GET", "/v1/events?customer=C-100004&type=invoice.issued,quote.sent&occurredAfter=2024-03-01&limit=5", .analyst, nil),
            ("GET", "/v1/events?type=no.such.type", .analyst, nil), ("GET", "/v1/events?sort=position", .analyst, nil),
            ("GET", "/v1/projections/quotehitrate/rows?limit=3&waitFor=\(head)", .analyst, nil),
            ("GET", "/v1/projections/quotehitrate/rows?table=quarter&offset=2&limit=2", .analyst, nil),
            ("GET", "/v1/projections/quotehitrate/rows?limit=2#csv", .analyst, nil),
            ("GET", "/v1/projections/quotehitrate/rows?table=other", .analyst, nil), ("GET", "/v1/projections/nothing/rows", .analyst, nil),
            ("GET", "/v1/projections/quotehitrate/rows", .staff, nil),
            ("GET", "/v1/events/stream", .analyst, nil), ("GET", "/v1/events/stream?after=x", .analyst, nil), ("GET", "/v1/events/stream", .staff, nil),
        ]
        var samples = ""
        for (method, path, role, body) in requests {
            let response: HTTPTestResponse
            do {
                if path.hasPrefix("/v1/events/stream"), role == .analyst, !path.contains("x") {
                    let port = server.port, token = try #require(server.tokens[.analyst])
                    response = try await offloadTest {
                        let client = try HTTPTestClient(port: port)
                        try client.write(method: method, path: path, headers: ["Authorization": "Bearer \(token)"], body: nil)
                        let (status, headers) = try client.readHead()
                        return HTTPTestResponse(status: status, headers: headers, body: [])
                    }
                } else if path.hasSuffix("#csv") {
                    response = try await server.request(method, String(path.dropLast(4)), role: role, headers: ["Accept": "text/csv"])
                } else {
                    response = try await server.request(method, path, role: role, body: body)
                }
            } catch {
                throw HTTPTestError("\(method) \(path.prefix(120)): \(error)")
            }
            let contentType = response.headers["content-type"] ?? ""
            let bodyValue: JSONValue = contentType.hasPrefix("application/json") ? response.document : .string(response.text)
            let sample: JSONValue = [
                "method": .string(method), "path": .string(path), "status": .number(JSONNumber(Int64(response.status))),
                "contentType": .string(contentType), "body": bodyValue,
            ]
            samples += CanonicalJSON.string(sample) + "\n"
        }
        let directory = TestSupport.temporaryDirectory("tpj-openapi")
        let file = directory.appendingPathComponent("samples.ndjson")
        try samples.write(to: file, atomically: true, encoding: .utf8)
        let root = TestSupport.repositoryRoot
        let result = try TestSupport.run(
            URL(fileURLWithPath: "/usr/bin/env"),
            ["python3", root.appendingPathComponent("tools/check-openapi.py").path, root.appendingPathComponent("Schemas/openapi.yaml").path, file.path],
            in: directory)
        #expect(result.status == 0, "responses that break Schemas/openapi.yaml:\n\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("\(requests.count) responses checked"), "\(result.stderr)")
    }
}
