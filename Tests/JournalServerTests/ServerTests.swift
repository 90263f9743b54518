import Foundation
import GRDB
import Journal
import JournalProjections
import JournalServer
import JournalStore
import JournalTesting
import Testing

/// The HTTP API against a real server on loopback: the route × role matrix, appends and their errors,
/// read-your-writes, reads and their errors, the events feed, health and metrics.
@Suite(.serialized)
struct ServerTests {
    /// Who may call what, as the product defines it (admin may do everything; /healthz needs no token).
    static let matrix: [(method: String, path: String, roles: Set<Role>)] = [
        ("GET", "/metrics", [.admin]),
        ("GET", "/v1/projections", [.admin]),
        ("POST", "/v1/erasures", [.admin]),
        ("POST", "/v1/customers/C-100002/events", [.ingest, .admin]),
        ("GET", "/v1/customers?q=C-10000", [.staff, .admin]),
        ("GET", "/v1/customers/C-100002/timeline", [.staff, .auditor, .admin]),
        ("GET", "/v1/customers/C-100002/moments", [.staff, .auditor, .admin]),
        ("GET", "/v1/customers/{risky}/churn", [.staff, .auditor, .admin]),
        ("GET", "/v1/customers/C-100002/summary", [.staff, .auditor, .admin]),
        ("GET", "/v1/churn?top=3", [.staff, .admin]),
        ("GET", "/v1/segments", [.staff, .admin]),
        ("GET", "/v1/customers/C-100002/history", [.auditor, .admin]),
        ("GET", "/v1/verify", [.auditor, .admin]),
        ("GET", "/v1/access-log?limit=3", [.auditor, .admin]),
        ("GET", "/v1/customers/C-100002/evidence", [.auditor, .admin]),
        ("GET", "/v1/events?after=0&limit=5", [.analyst, .admin]),
        ("GET", "/v1/events/stream?after=0", [.analyst, .admin]),
    ]

    @Test func everyRouteAnswersEveryRoleAsDefined() async throws {
        let server = try await LiveServer.start()
        defer { Task { try await server.stop() } }
        let risky = try #require(try await server.request("GET", "/v1/churn?top=1", role: .staff).document["risks"]?[0]?["customerId"]?.stringValue)
        #expect(try await server.request("GET", "/healthz").status == 200)
        var checked = 0
        for route in Self.matrix {
            let path = route.path.replacingOccurrences(of: "{risky}", with: risky)
            // No token, and a token that does not exist: 401 with the error body and a challenge.
            for token in [nil, "tpj_" + String(repeating: "x", count: 43)] as [String?] {
                let response = try await call(server, route.method, path, token: token)
                #expect(response.status == 401, "\(route.method) \(path) without a valid token")
                #expect(response.headers["www-authenticate"] == #"Bearer realm="tpj""#)
            }
            for role in Role.allCases {
                let response = try await call(server, route.method, path, token: server.tokens[role])
                if route.roles.contains(role) {
                    #expect([200, 201].contains(response.status), "\(route.method) \(path) as \(role): \(response.status) \(response.text.prefix(200))")
                } else {
                    #expect(response.status == 403, "\(route.method) \(path) as \(role)")
                    #expect(response.errorCode == "forbidden")
                }
                checked += 1
            }
        }
        #expect(checked == Self.matrix.count * Role.allCases.count)
    }

    /// The matrix at field level: a note's free text and author as each reading role sees them, under
    /// the standard policy and under a policy file that hides free text from staff.
    @Test(arguments: [false, true])
    func personalValuesAreShownAsEachRoleMaySee(staffTextHidden: Bool) async throws {
        var settings = ServerSettings(host: "127.0.0.1", port: 0)
        if staffTextHidden { settings.masking = try MaskingPolicy(text: #"{"roles": {"staff": {"text": "hidden"}}}"#, origin: "test") }
        let server = try await LiveServer.start(settings: settings)
        defer { Task { try await server.stop() } }
        let text = "Call Ms. Quirina Zander first", author = "R. Unique-Author"
        let body = #"{"events": [{"eventId": "\#(UUID().uuidString.lowercased())", "type": "note.added", "occurredAt": "2024-12-30T10:00:00+01:00", "payload": {"text": "\#(text)", "author": "\#(author)"}}]}"#
        let appended = try await server.request("POST", "/v1/customers/C-100002/events", role: .ingest, body: body)
        #expect(appended.status == 201 && !appended.text.contains("Zander"))
        let position = try #require(appended.document["positions"]?[0]?.number)
        let pseudonym = try #require(server.store.keys.pseudonym(of: author, subject: .employee(author)))
        enum Shown { case plain, pseudonym, hidden }
        let expectations: [(Role, String, text: Shown, author: Shown)] = [
            (.staff, "/v1/customers/C-100002/timeline?waitFor=\(Int(position))", staffTextHidden ? .hidden : .plain, .plain),
            (.auditor, "/v1/customers/C-100002/history", .plain, .plain),
            (.analyst, "/v1/events?customer=C-100002&type=note.added", .pseudonym, .pseudonym),
            (.admin, "/v1/events?customer=C-100002&type=note.added", .plain, .plain),
        ]
        for (role, path, textShown, authorShown) in expectations {
            let answer = try await server.request("GET", path, role: role).text
            #expect(!answer.contains(KeyStore.sealedPrefix), "\(role) \(path) shows a sealed value")
            #expect(answer.contains(text) == (textShown == .plain), "\(role) \(path): text")
            #expect(answer.contains(author) == (authorShown == .plain), "\(role) \(path): author")
            #expect(answer.contains(pseudonym) == (authorShown == .pseudonym), "\(role) \(path): author's pseudonym")
            #expect(answer.contains(#""[hidden]""#) == (textShown == .hidden), "\(role) \(path): hidden text")
        }
    }

    /// One call of the matrix: appends send a new valid event; the stream is read up to its head.
    private func call(_ server: LiveServer, _ method: String, _ path: String, token: String?) async throws -> HTTPTestResponse {
        if path.hasPrefix("/v1/events/stream") {
            // An open stream never ends: read its head only; an error answer has a body to read whole.
            let port = server.port
            let head = try await offloadTest {
                let client = try HTTPTestClient(port: port)
                try client.write(method: method, path: path, headers: token.map { ["Authorization": "Bearer \($0)"] } ?? [:], body: nil)
                let (status, headers) = try client.readHead()
                return HTTPTestResponse(status: status, headers: headers, body: [])
            }
            if head.status == 200 { return head }
        }
        let body = path == "/v1/erasures" ? #"{"customerId": "C-100009", "reason": "route matrix"}"#
            : method == "POST" ? Self.callBody(eventId: UUID().uuidString.lowercased()) : nil
        return try await server.request(method, path, token: token, body: body)
    }

    static func callBody(eventId: String, expectedVersion: Int? = nil, queueWait: Int = 30) -> String {
        let expected = expectedVersion.map { #""expectedVersion": \#($0), "# } ?? ""
        return """
            {\(expected)"events": [{"eventId": "\(eventId)", "type": "hotline.call.received", "occurredAt": "2024-12-30T10:00:00+01:00",
              "caseId": "CASE-TEST-1", "payload": {"queueWaitSeconds": \(queueWait), "durationSeconds": 300, "agent": "Test Agent",
              "topic": "Test", "abandoned": false, "solvedOnCall": true, "machineDown": false}}]}
            """
    }

    @Test func appendsAreIdempotentCheckedAndReadableAtOnce() async throws {
        let server = try await LiveServer.start()
        defer { Task { try await server.stop() } }
        let path = "/v1/customers/C-100003/events"
        let version = try server.store.streamVersion(of: "C-100003")
        let eventId = "0194c1b5-20bb-7275-8a1c-0000000000aa"

        let created = try await server.request("POST", path, role: .ingest, body: Self.callBody(eventId: eventId, expectedVersion: version))
        #expect(created.status == 201)
        let position = try #require(created.document["positions"]?[0]?.number)
        #expect(created.document["streamVersion"]?.number == Double(version + 1))

        // Read-your-writes: the timeline as of that position shows the call, scored.
        let timeline = try await server.request("GET", "/v1/customers/C-100003/timeline?waitFor=\(Int(position))&case=CASE-TEST-1", role: .staff)
        #expect(timeline.status == 200)
        let entry = try #require(timeline.document["entries"]?[0])
        #expect(entry["eventId"]?.stringValue == eventId)
        #expect(entry["score"] != nil)
        // The whole timeline is served from the stored document, a filtered one is assembled from the
        // rows: with a filter that keeps everything, the two are the same bytes, the new call included.
        let whole = try await server.request("GET", "/v1/customers/C-100003/timeline?waitFor=\(Int(position))", role: .staff)
        let assembled = try await server.request("GET", "/v1/customers/C-100003/timeline?from=1900-01-01T00:00:00Z", role: .staff)
        #expect(whole.status == 200 && whole.text.contains(eventId))
        #expect(whole.body == assembled.body)

        // The same event again stores nothing and says so.
        let again = try await server.request("POST", path, role: .ingest, body: Self.callBody(eventId: eventId))
        #expect(again.status == 200)
        #expect(again.document["duplicates"]?.number == 1)
        #expect(again.document["appended"]?.number == 0)

        let head = try server.store.head()
        // A stale expected version: 409, nothing stored.
        let conflict = try await server.request("POST", path, role: .ingest, body: Self.callBody(eventId: UUID().uuidString.lowercased(), expectedVersion: version))
        #expect(conflict.status == 409)
        #expect(conflict.errorCode == "conflict")
        #expect(conflict.document["error"]?["details"]?["streamVersion"]?.number == Double(version + 1))
        // The same eventId with other content: 409 naming the differing field.
        let reused = try await server.request("POST", path, role: .ingest, body: Self.callBody(eventId: eventId, queueWait: 31))
        #expect(reused.status == 409)
        #expect(reused.errorCode == "event_id_reused")
        // A schema violation: 422 with the JSON path and rule.
        let invalid = try await server.request("POST", path, role: .ingest, body: Self.callBody(eventId: UUID().uuidString.lowercased(), queueWait: -5))
        #expect(invalid.status == 422)
        #expect(invalid.errorCode == "invalid_event")
        #expect(invalid.document["error"]?["details"]?["path"]?.stringValue == "/payload/queueWaitSeconds")
        #expect(invalid.document["error"]?["details"]?["rule"]?.stringValue == "minimum")
        // Not JSON, no events, an empty batch, a bad expectedVersion: 400.
        let badBodies = [
            "{", #"{"event": []}"#, #"{"events": []}"#, #"{"events": [{}], "expectedVersion": -1}"#, "[]",
            #"{"events": [{}], "expectedVersion": 1e300}"#, #"{"events": [{}], "expectedVersion": 2.5}"#,
        ]
        for body in badBodies {
            let response = try await server.request("POST", path, role: .ingest, body: body)
            #expect(response.status == 400, "\(body)")
            #expect(response.errorCode == "bad_request")
        }
        // Over the size limit: 413.
        let huge = String(repeating: " ", count: 5 << 20) + Self.callBody(eventId: UUID().uuidString.lowercased())
        let tooLarge = try await server.request("POST", path, role: .ingest, body: huge)
        #expect(tooLarge.status == 413)
        #expect(tooLarge.errorCode == "payload_too_large")
        #expect(try server.store.head() == head, "a rejected request stored something")
    }

    @Test func readsNameWhatIsWrong() async throws {
        let server = try await LiveServer.start()
        defer { Task { try await server.stop() } }
        let unknown = try await server.request("GET", "/v1/customers/C-999999/timeline", role: .staff)
        #expect(unknown.status == 404)
        #expect(unknown.errorCode == "not_found")
        #expect(unknown.text.contains("C-999999"))
        let badTime = try await server.request("GET", "/v1/customers/C-100002/timeline?from=yesterday", role: .staff)
        #expect(badTime.status == 400)
        #expect(badTime.document["error"]?["details"]?["parameter"]?.stringValue == "from")
        let head = try server.store.head()
        let beyond = try await server.request("GET", "/v1/customers/C-100002/moments?waitFor=\(head + 1)", role: .staff)
        #expect(beyond.status == 400)
        #expect(beyond.document["error"]?["details"]?["head"]?.number == Double(head))
        for path in ["/v1/churn?top=0", "/v1/churn?band=extreme", "/v1/segments?aShare=0.9&bShare=0.5", "/v1/events?limit=5000", "/v1/customers"] {
            let response = try await server.request("GET", path, role: .admin)
            #expect(response.status == 400, "\(path)")
        }
        let missing = try await server.request("GET", "/v1/nothing-here", role: .admin)
        #expect(missing.status == 404)
        #expect(missing.errorCode == "not_found")
        let backwards = try await server.request("GET", "/v1/verify?from=100&to=5", role: .auditor)
        #expect(backwards.status == 400)
        #expect(backwards.errorCode == "bad_request")
    }

    @Test func historyKnownAtAndTheFeedAgreeWithTheStore() async throws {
        let server = try await LiveServer.start()
        defer { Task { try await server.stop() } }
        let all = try server.store.history(of: "C-100002")
        let cut = try #require(all.dropLast().last).recorded
        let known = try await server.request("GET", "/v1/customers/C-100002/history?knownAt=\(cut.rfc3339)", role: .auditor)
        let events = try #require(known.document["events"]?.arrayValue)
        #expect(events.count == all.filter { $0.recorded <= cut }.count)
        #expect(events.count < all.count)

        let high = try await server.request("GET", "/v1/churn?band=high&top=1000", role: .staff)
        let listed = try #require(high.document["risks"]?.arrayValue)
        #expect(listed.allSatisfy { $0["band"]?.stringValue == "high" })
        #expect(Double(listed.count) == high.document["bands"]?["high"]?.number)
        #expect((high.document["customers"]?.number ?? 0) >= Double(listed.count))

        let page = try await server.request("GET", "/v1/events?after=10&limit=7", role: .analyst)
        let positions = try #require(page.document["events"]?.arrayValue).compactMap { $0["position"]?.number }
        #expect(positions == (11...17).map(Double.init))
        #expect(page.document["next"]?.number == 17)

        let verify = try await server.request("GET", "/v1/verify", role: .auditor)
        #expect(verify.document["intact"] == .bool(true))
        #expect(verify.document["checked"]?.number == Double(try server.store.head()))
    }

    @Test func everyReadOfACustomerIsInTheAccessLogWithItsToken() async throws {
        let server = try await LiveServer.start(customers: 6)
        defer { Task { try await server.stop() } }
        #expect(try await server.request("GET", "/v1/customers/C-100002/timeline?from=2024-01-01", role: .staff).status == 200)
        #expect(try await server.request("GET", "/v1/customers/C-100002/moments?asOf=2024-06-01", role: .auditor).status == 200)
        #expect(try await server.request("GET", "/v1/customers/C-100003/history", role: .auditor).status == 200)
        #expect(try await server.request("GET", "/v1/customers/C-999999/history", role: .auditor).status == 404)
        // refused for the token: nothing was read, nothing recorded
        #expect(try await server.request("GET", "/v1/customers/C-100002/history", role: .staff).status == 403)
        #expect(try await server.request("GET", "/customers/C-100003", headers: ["Cookie": "tpj_session=\(try server.session(for: .staff))"]).status == 200)
        let log = try await server.request("GET", "/v1/access-log", role: .auditor)
        #expect(log.status == 200, "\(log.text)")
        let rows = try #require(log.document["accesses"]?.arrayValue).map { row in
            "\(row["token"]?.stringValue ?? "?") \(row["role"]?.stringValue ?? "?") \(row["customerId"]?.stringValue ?? "?") \(row["target"]?.stringValue ?? "?") \(Int(row["status"]?.number ?? 0))"
        }
        #expect(rows == [
            "test staff staff C-100002 /v1/customers/C-100002/timeline?from=2024-01-01 200",
            "test auditor auditor C-100002 /v1/customers/C-100002/moments?asOf=2024-06-01 200",
            "test auditor auditor C-100003 /v1/customers/C-100003/history 200",
            "test auditor auditor C-999999 /v1/customers/C-999999/history 404",
            "test staff staff C-100003 /customers/C-100003 200",
        ])
        let one = try await server.request("GET", "/v1/access-log?customer=C-100003&limit=1", role: .admin)
        #expect(one.document["accesses"]?.arrayValue?.count == 1)
        #expect(try await server.request("GET", "/v1/access-log?who=me", role: .auditor).status == 400)
        // Written to the journal by the server (every half second, and at its stop), append-only like the log.
        try await server.stop()
        #expect(try server.store.accesses(customerId: "C-100002").count == 2)
        #expect(throws: (any Error).self) {
            try DatabaseQueue(path: server.store.writer.path).write { db in try db.execute(sql: "DELETE FROM access_log") }
        }
    }

    @Test func searchFindsSerialsCasesQuotesAndCitiesInPagesWithATotal() async throws {
        let server = try await LiveServer.start()
        defer { Task { try await server.stop() } }
        func search(_ query: String) async throws -> JSONValue {
            let answer = try await server.request("GET", "/v1/customers?q=\(query)", role: .staff)
            #expect(answer.status == 200, "\(query): \(answer.text.prefix(300))")
            return answer.document
        }
        // A serial prefix every machine shares, in pages that neither overlap nor leave a gap.
        let events = try server.store.events(after: 0, limit: 1_000_000)
        let owners = Set(events.filter { $0.assetId?.hasPrefix("SN-") == true }.map(\.customerId))
        let first = try await search("sn-&limit=3"), second = try await search("sn-&limit=3&offset=3")
        #expect(owners.count > 6 && first["total"]?.number == Double(owners.count) && second["total"]?.number == Double(owners.count))
        #expect(second["offset"]?.number == 3)
        let firstIds = (first["customers"]?.arrayValue ?? []).compactMap { $0["customerId"]?.stringValue }
        let secondIds = (second["customers"]?.arrayValue ?? []).compactMap { $0["customerId"]?.stringValue }
        #expect(firstIds == Array(owners.sorted().prefix(3)) && secondIds == Array(owners.sorted().dropFirst(3).prefix(3)))
        #expect(first["customers"]?[0]?["matched"]?.stringValue?.hasPrefix("machine SN-") == true)
        // A case id, a quote id and a city each find their customer.
        let withCase = try #require(events.first { $0.caseId != nil })
        let quote = try #require(events.first { $0.type == "quote.sent" })
        let quoteId = try #require(quote.payloadJSON["quoteId"]?.stringValue)
        let registration = try #require(events.first { $0.type == "customer.registered" && $0.payloadJSON["sites"]?[0]?["city"] != nil })
        let city = try #require(registration.payloadJSON["sites"]?[0]?["city"]?.stringValue)
        for (query, customer, matched) in [
            (withCase.caseId!, withCase.customerId, "case \(withCase.caseId!)"), (quoteId.lowercased(), quote.customerId, "quote \(quoteId)"),
            (city.addingPercentEncoding(withAllowedCharacters: .alphanumerics)! + "&limit=100", registration.customerId, "city \(city)"),
        ] {
            let found = try await search(query)
            #expect(found["customers"]?.arrayValue?.contains { $0["customerId"]?.stringValue == customer && $0["matched"]?.stringValue == matched } == true,
                    "\(query): \(found)")
        }
        #expect(try await search("no-such-thing-anywhere")["total"] == 0)
    }

    @Test func churnAsOfADateUsesTheWeightsRecordedByThen() async throws {
        let server = try await LiveServer.start(customers: 6)
        defer { Task { try await server.stop() } }
        guard case .object(var weights) = ConfigurationLog.bundled(.churnWeights) else { throw HTTPTestError("no bundled weights") }
        weights = weights.map { $0.key == "intercept" ? JSONMember("intercept", -3.5) : $0 }
        let position = try #require(try ConfigurationLog(store: server.store).record(.churnWeights, content: .object(weights), source: "test"))
        let instant = server.store.clock.now().rfc3339.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        let now = try await server.request("GET", "/v1/churn?top=1&asOf=\(instant)", role: .staff)
        #expect(now.document["weights"]?.stringValue?.hasPrefix("recorded at position \(position)") == true, "\(now.text.prefix(300))")
        // The day's list, without a date, is as of 00:00 UTC: weights recorded since apply from tomorrow.
        let daily = try await server.request("GET", "/v1/churn?top=1", role: .staff)
        #expect(daily.document["asOf"]?.stringValue == RiskBoard.dayStart(of: server.store.clock.now()).rfc3339, "\(daily.text.prefix(300))")
        #expect(daily.document["weights"] == "bundled defaults", "\(daily.text.prefix(300))")
        let then = try await server.request("GET", "/v1/churn?top=1&asOf=2024-06-01", role: .staff)
        #expect(then.document["weights"] == "bundled defaults", "\(then.text.prefix(300))")
    }

    @Test func theEvidenceFileOverHTTPVerifiesOffline() async throws {
        let server = try await LiveServer.start(customers: 6)
        defer { Task { try await server.stop() } }
        #expect(try await server.request("GET", "/v1/customers/C-100004/evidence?knownAt=2020-01-01", role: .auditor).status == 400)
        let evidence = try await server.request("GET", "/v1/customers/C-100004/evidence", role: .auditor)
        #expect(evidence.status == 200 && evidence.document["customerId"] == "C-100004")
        let file = server.directory.appendingPathComponent("C-100004.evidence.json")
        try Data(evidence.body).write(to: file)
        let verifier = TestSupport.repositoryRoot.appendingPathComponent("tools/verify-evidence").path
        let verified = try TestSupport.run(URL(fileURLWithPath: "/usr/bin/env"), ["python3", verifier, file.path], in: server.directory)
        #expect(verified.status == 0 && verified.stdout.hasPrefix("OK: "), "\(verified.stdout)\(verified.stderr)")
        #expect(try await server.request("GET", "/v1/customers/C-999999/evidence", role: .auditor).status == 404)
    }

    @Test func aReadOfACustomerWithAnAlteredEventIsRefusedCountedAndNamed() async throws {
        let server = try await LiveServer.start(customers: 6)
        defer { Task { try await server.stop() } }
        // Kept once, so the refusal cannot come from a stale cache either.
        #expect(try await server.request("GET", "/v1/customers/C-100002/timeline", role: .staff).status == 200)
        // When one byte of one of C-100002's events is changed in the file (its trigger dropped),
        let position = try #require(try server.store.history(of: "C-100002").last?.position)
        let raw = try DatabaseQueue(path: server.store.writer.path)
        try raw.inDatabase { db in
            try db.execute(sql: "DROP TRIGGER event_no_update")
            try db.execute(sql: "UPDATE event SET payload = ' ' || payload WHERE position = ?", arguments: [position])
        }
        try raw.close()
        // then every read of that customer is refused with the position, its page too,
        for path in ["timeline", "history", "moments", "churn"] {
            let read = try await server.request("GET", "/v1/customers/C-100002/\(path)", role: .admin)
            #expect(read.status == 500 && read.document["error"]?["code"] == "tampered", "\(path): \(read.status) \(read.text.prefix(200))")
            #expect(read.document["error"]?["details"]?["position"]?.number == Double(position))
        }
        let page = try await server.request("GET", "/customers/C-100002", headers: ["Cookie": "tpj_session=\(try server.session(for: .staff))"])
        #expect(page.status == 500 && page.text.contains("altered at position \(position)"))
        // other customers read as before, and the refusals are counted.
        #expect(try await server.request("GET", "/v1/customers/C-100003/timeline", role: .staff).status == 200)
        let metrics = try await server.request("GET", "/metrics", role: .admin)
        #expect(metrics.text.contains("tpj_tampered_reads_total 5\n"), "\(metrics.text.split(separator: "\n").filter { $0.contains("tampered") })")
    }

    @Test func keptTimelinesFollowAppendsHereAndFoldsElsewhere() async throws {
        let server = try await LiveServer.start()
        defer { Task { try await server.stop() } }
        let path = "/v1/customers/C-100005/timeline"
        let first = try await server.request("GET", path, role: .staff)
        let second = try await server.request("GET", path, role: .staff)
        #expect(first.status == 200 && second.body == first.body)
        let metrics = try await server.request("GET", "/metrics", role: .admin)
        #expect(metrics.text.contains("tpj_timeline_cache_misses_total 1\n"))
        #expect(metrics.text.contains("tpj_timeline_cache_hits_total 1\n"))
        #expect(metrics.text.contains("tpj_timeline_cache_responses 1.0\n"))

        // Appended through the server: the read that waits for its position shows it.
        let here = UUID().uuidString.lowercased()
        let created = try await server.request("POST", "/v1/customers/C-100005/events", role: .ingest, body: Self.callBody(eventId: here))
        let position = Int(try #require(created.document["positions"]?[0]?.number))
        let afterAppend = try await server.request("GET", "\(path)?waitFor=\(position)", role: .staff)
        #expect(afterAppend.status == 200 && afterAppend.text.contains(here), "\(afterAppend.status): \(afterAppend.text.prefix(300))")

        // Appended and folded by another process: the server's follower finds the timeline's tables
        // moved on without it and drops every kept timeline.
        _ = try await server.request("GET", path, role: .staff)
        let other = try EventStore(writer: JournalDatabase.open(path: server.store.writer.path, create: false))
        let elsewhere = TestEvents.id(990_001)
        let appended = try other.append([
            AppendBatch(customerId: "C-100005", events: [
                ProposedEvent(eventId: elsewhere, type: "note.added", occurredAt: "2024-12-30T11:00:00+01:00", payload: ["text": "from elsewhere"]),
            ]),
        ])[0]
        try ProjectionRunner.builtIn(store: other).catchUp()
        let afterElsewhere = try await server.request("GET", "\(path)?waitFor=\(appended.positions[0])", role: .staff)
        #expect(afterElsewhere.status == 200 && afterElsewhere.text.contains(elsewhere))
        // The same bytes as the timeline assembled from the rows.
        let assembled = try await server.request("GET", "\(path)?from=1900-01-01T00:00:00Z", role: .staff)
        let same = afterElsewhere.body == assembled.body
        #expect(same, "the whole timeline is not the one assembled from the rows")
    }

    @Test func healthAndMetricsReportTheServer() async throws {
        let server = try await LiveServer.start()
        defer { Task { try await server.stop() } }
        let health = try await server.request("GET", "/healthz")
        #expect(health.document["status"]?.stringValue == "ok")
        #expect(health.document["head"]?.number == Double(try server.store.head()))
        _ = try await server.request("GET", "/v1/customers/C-100002/timeline", role: .staff)
        _ = try await server.request("POST", "/v1/customers/C-100002/events", role: .ingest, body: Self.callBody(eventId: UUID().uuidString.lowercased()))
        let metrics = try await server.request("GET", "/metrics", role: .admin)
        #expect(metrics.headers["content-type"]?.hasPrefix("text/plain") == true)
        #expect(metrics.text.contains(#"tpj_http_requests_total{method="GET",route="/v1/customers/{customerId}/timeline",status="200"} 1"#))
        #expect(metrics.text.contains("tpj_events_appended_total 1"))
        #expect(metrics.text.contains(#"tpj_projection_lag_events{projection="timeline"}"#))
        #expect(metrics.text.contains("tpj_http_request_duration_seconds_bucket"))
        // The scrape itself is not a held read, and no other read is in flight.
        #expect(metrics.text.contains("tpj_reads_running_requests 0.0\n"))
        #expect(metrics.text.contains("tpj_reads_waiting_requests 0.0\n"))
    }

    @Test func revokedTokensStopWorkingAndOnlyHashesAreStored() async throws {
        let server = try await LiveServer.start()
        defer { Task { try await server.stop() } }
        let tokens = AccessTokens(store: server.store)
        let (token, secret) = try tokens.create(name: "desk 7", role: .staff)
        #expect(try await server.request("GET", "/v1/segments", token: secret).status == 200)
        #expect(throws: JournalError.self) { try tokens.create(name: "desk 7", role: .staff) }
        _ = try tokens.revoke(token.id)
        let after = try await server.request("GET", "/v1/segments", token: secret)
        #expect(after.status == 401)
        #expect(after.text.contains("revoked"))
        let stored = try await server.store.writer.read { db in try String.fetchAll(db, sql: "SELECT id || name || role || hash FROM access_token") }
        #expect(!stored.contains { $0.contains(secret) || $0.contains(String(secret.dropFirst(4))) })
        #expect(throws: JournalError.self) { try tokens.revoke("no such token") }
    }
}

extension JSONValue {
    var number: Double? {
        if case .number(let number) = self { return number.value }
        return nil
    }

    var arrayValue: [JSONValue]? {
        if case .array(let items) = self { return items }
        return nil
    }

    subscript(index: Int) -> JSONValue? {
        guard case .array(let items) = self, items.indices.contains(index) else { return nil }
        return items[index]
    }
}
