import Foundation
import GRDB
import Journal
import JournalProjections
import JournalServer
import JournalStore
import Testing

/// The web pages over HTTP: who may see them, signing in and out, and that nothing a customer's
/// records hold can become markup.
@Suite(.serialized)
struct WebPageTests {
    static let pages = ["/customers", "/customers?q=C-1000", "/customers/C-100002", "/at-risk", "/at-risk?band=high&segment=A"]

    /// A customer whose name and note are markup, appended over the API; returns its id once the projections have it.
    static func appendHostileCustomer(_ server: LiveServer) async throws -> String {
        let body = """
            {"events": [
              {"eventId": "\(UUID().uuidString.lowercased())", "type": "customer.registered", "occurredAt": "2024-03-01T10:00:00+01:00",
               "payload": {"name": \(hostileName.jsonQuoted), "country": "DE"}},
              {"eventId": "\(UUID().uuidString.lowercased())", "type": "note.added", "occurredAt": "2024-03-02T10:00:00+01:00",
               "payload": {"text": \(hostileNote.jsonQuoted)}}]}
            """
        let appended = try await server.request("POST", "/v1/customers/C-XSS/events", role: .ingest, body: body)
        try #require(appended.status == 201, "\(appended.text)")
        let last = try #require(appended.document["positions"]?[1]?.number)
        let read = try await server.request("GET", "/v1/customers/C-XSS/timeline?waitFor=\(Int64(last))", role: .staff)
        try #require(read.status == 200, "\(read.status) \(read.text.prefix(300))")
        return "C-XSS"
    }

    static let hostileName = #"<script>window.__xss=1</script> & "Söhne" 'GmbH'"#
    static let hostileNote = #""><img src=x onerror="window.__xss=2"><b>bold</b>"#

    /// A page with the session cookie of a session started for `role`'s token, or with `cookie` as the session.
    func page(_ server: LiveServer, _ path: String, role: Role? = nil, cookie: String? = nil) async throws -> HTTPTestResponse {
        var headers: [String: String] = [:]
        if let session = try cookie ?? role.map({ try server.session(for: $0) }) { headers["Cookie"] = "theme=dark; tpj_session=\(session)" }
        return try await server.request("GET", path, headers: headers)
    }

    @Test func pagesAnswerStaffAndAdminSendOthersToSignInAndRefuseOtherRoles() async throws {
        let server = try await LiveServer.start()
        defer { Task { try await server.stop() } }
        for path in Self.pages {
            let anonymous = try await page(server, path)
            #expect(anonymous.status == 303, "\(path)")
            #expect(anonymous.headers["location"] == "/sign-in?next=" + path.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
            let unknown = try await page(server, path, cookie: "tpjs_" + String(repeating: "x", count: 43))
            #expect(unknown.status == 303 && unknown.headers["set-cookie"]?.contains("Max-Age=0") == true, "a revoked or unknown cookie is cleared")
            for role in Role.allCases {
                let response = try await page(server, path, role: role)
                if role == .staff || role == .admin {
                    #expect(response.status == 200, "\(path) as \(role)")
                    #expect(response.headers["content-type"] == "text/html; charset=utf-8")
                    #expect(response.headers["content-security-policy"]?.contains("default-src 'none'") == true)
                    #expect(response.headers["server-timing"]?.hasPrefix("app;dur=") == true)
                } else {
                    #expect(response.status == 403, "\(path) as \(role)")
                    #expect(response.text.contains("these pages need a staff or admin token"))
                }
            }
        }
        // The bearer header works as well as the cookie (for scripts that fetch a page).
        #expect(try await server.request("GET", "/at-risk", role: .staff).status == 200)
    }

    @Test func theCustomerPageOpensWithTheHotlineSummaryLinkedToItsRows() async throws {
        let server = try await LiveServer.start()
        defer { Task { try await server.stop() } }
        let summary = try await server.request("GET", "/v1/customers/C-100002/summary", role: .staff)
        #expect(summary.status == 200, "\(summary.text.prefix(300))")
        var marks: [Int] = []
        for member in ["lastVisit", "lastContact"] { if let position = summary.document[member]?["position"]?.number { marks.append(Int(position)) } }
        for item in summary.document["openCases"]?.arrayValue ?? [] { if let position = item["lastStep"]?["position"]?.number { marks.append(Int(position)) } }
        for item in summary.document["openComplaints"]?.arrayValue ?? [] { if let position = item["position"]?.number { marks.append(Int(position)) } }
        #expect(!marks.isEmpty, "\(summary.text.prefix(500))")
        let customer = try await page(server, "/customers/C-100002", role: .staff)
        #expect(customer.text.contains(#"<section class="hotline" id="hotline">"#))
        for position in marks {
            #expect(customer.text.contains(##"href="#tp-\##(position)""##) && customer.text.contains(#"id="tp-\#(position)""#), "touchpoint \(position)")
        }
        if let manager = summary.document["keyAccountManager"]?.stringValue { #expect(customer.text.contains(manager)) }
        // The day's list on the page is the API's.
        let list = try await server.request("GET", "/v1/churn?top=25", role: .staff)
        let atRisk = try await page(server, "/at-risk?top=25", role: .staff)
        for risk in list.document["risks"]?.arrayValue ?? [] {
            #expect(atRisk.text.contains(">\(risk["customerId"]?.stringValue ?? "?")</a>"))
        }
    }

    @Test func theCustomerPageHonoursTheTimelinesFiltersAndKnownAt() async throws {
        let server = try await LiveServer.start()
        defer { Task { try await server.stop() } }
        func rows(_ text: String) -> [String] { text.matches(of: /<tr id="tp-\d+"[^>]*><td>[^<]*<\/td><td>([a-z]+)<\/td>/).map { String($0.output.1) } }
        let whole = try await page(server, "/customers/C-100002", role: .staff).text
        let visits = try await page(server, "/customers/C-100002?kind=visit&kind=hotline", role: .staff).text
        #expect(Set(rows(visits)) == ["visit", "hotline"] && rows(visits).count < rows(whole).count, "\(rows(visits))")
        #expect(visits.contains(#"<section class="hotline" id="hotline">"#), "the summary is of the whole customer")
        let api = try await server.request("GET", "/v1/customers/C-100002/timeline?knownAt=2024-06-01", role: .staff)
        let known = try await page(server, "/customers/C-100002?knownAt=2024-06-01", role: .staff).text
        #expect(rows(known).count == (api.document["entries"]?.arrayValue?.count ?? -1) && rows(known).count < rows(whole).count)
        #expect(known.contains("As of 2024-06-01 00:00"))
        #expect(try await page(server, "/customers/C-100002?from=never", role: .staff).status == 400)
    }

    @Test func aLongJourneyOpensOnItsLast24MonthsAndZoomsMovesAndExpands() async throws {
        let server = try await LiveServer.start(customers: 12, years: 4, start: "2021-01-01")
        defer { Task { try await server.stop() } }
        let customerId = try await server.store.writer.read { db in
            try String.fetchOne(db, sql: "SELECT customerId FROM timeline_entry GROUP BY customerId ORDER BY COUNT(*) DESC, customerId LIMIT 1")!
        }
        let all = try await server.store.writer.read { db in try JourneyTimeline.entries(of: customerId, filter: TimelineFilter(), in: db) }
        func positions(_ text: String) -> [Int64] { text.matches(of: /<tr id="tp-(\d+)"/).map { Int64($0.output.1)! } }
        func links(_ text: String) -> [String: String] {
            Dictionary(text.matches(of: /<a href="([^"]+)"[^>]*>([^<]+)<\/a>/).map { (String($0.output.2), String($0.output.1).replacingOccurrences(of: "&amp;", with: "&")) },
                       uniquingKeysWith: { first, _ in first })
        }
        func marks(_ text: String) -> Int { text.matches(of: /<a class="mark\s/).count }

        // By default: the touchpoints of the 24 months up to the journey's last day, newest first.
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let lastDay = calendar.startOfDay(for: Date(timeIntervalSince1970: Double(all.last!.occurred.microseconds) / 1e6))
        let from = calendar.date(byAdding: .month, value: -24, to: calendar.date(byAdding: .day, value: 1, to: lastDay)!)!
        let recent = all.filter { Double($0.occurred.microseconds) / 1e6 >= from.timeIntervalSince1970 }
        #expect(recent.count < all.count && !recent.isEmpty)
        let page = try await page(server, "/customers/\(customerId)", role: .staff)
        #expect(page.status == 200)
        #expect(Set(positions(page.text)) == Set(recent.map(\.position)))
        #expect(page.text.contains("\(recent.count) of \(all.count) touchpoints"))
        // Closed cases are collapsed: only touchpoints of no case or of an open case have marks until `expand=all`.
        let flags = TimelineFlags(all)
        #expect(marks(page.text) == recent.count { $0.caseId.map(flags.isOpen) ?? true })
        let expanded = try await self.page(server, try #require(links(page.text)["expand all cases"]), role: .staff).text
        #expect(marks(expanded) == recent.count && Set(positions(expanded)) == Set(positions(page.text)))

        // Zoom to the whole journey, then move back and forth by the range's length.
        let whole = try await self.page(server, try #require(links(page.text)["all"]), role: .staff).text
        #expect(Set(positions(whole)) == Set(all.map(\.position)))
        #expect(links(whole)["earlier"] == nil, "the whole journey has nothing earlier")
        let year = try await self.page(server, try #require(links(page.text)["12 months"]), role: .staff).text
        let earlier = try await self.page(server, try #require(links(year)["← earlier"]), role: .staff).text
        let back = try await self.page(server, try #require(links(earlier)["later →"]), role: .staff).text
        #expect(Set(positions(back)) == Set(positions(year)) && !positions(year).isEmpty)
        #expect(Set(positions(earlier)).isDisjoint(with: positions(year)) && !positions(earlier).isEmpty)
        #expect(Set(positions(year)).isSubset(of: positions(page.text)))

        // The summary links a touchpoint outside the range to the journey from that touchpoint's day on.
        let summary = try await server.request("GET", "/v1/customers/\(customerId)/summary", role: .staff).document
        var linked: [Int64] = (summary["openCases"]?.arrayValue ?? []).compactMap { $0["lastStep"]?["position"]?.number.map(Int64.init) }
        for member in ["lastVisit", "lastContact"] { if let position = summary[member]?["position"]?.number { linked.append(Int64(position)) } }
        #expect(!linked.isEmpty)
        for position in linked {
            if recent.contains(where: { $0.position == position }) {
                #expect(page.text.contains(##"href="#tp-\##(position)""##))
            } else {
                let href = try #require(page.text.firstMatch(of: try Regex("href=\"(/customers/[^\"#]+)#tp-\(position)\""))?.output[1].substring)
                let target = try await self.page(server, String(href).replacingOccurrences(of: "&amp;", with: "&"), role: .staff).text
                #expect(positions(target).contains(position), "touchpoint \(position) is on the page its link opens")
            }
        }

        // A range that ends before it starts is refused with the rule it breaks.
        let backwards = try await self.page(server, "/customers/\(customerId)?from=2024-06-01&to=2024-05-01", role: .staff)
        #expect(backwards.status == 400 && backwards.text.contains("from must be before to"))
        let empty = try await self.page(server, "/customers/\(customerId)?from=1990-01-01&to=1990-02-01", role: .staff).text
        #expect(positions(empty).isEmpty && empty.contains("No touchpoint in this range."))
    }

    @Test func searchResultsArePagedWithTheirCount() async throws {
        let server = try await LiveServer.start()
        defer { Task { try await server.stop() } }
        let api = try await server.request("GET", "/v1/customers?q=sn-&limit=100", role: .staff)
        let total = try #require(api.document["total"]?.number)
        let first = try await page(server, "/customers?q=sn-", role: .staff).text
        #expect(first.contains("1–\(min(50, Int(total))) of \(Int(total)) customers"), "\(first.prefix(2_000))")
        #expect(first.contains("machine SN-") && !first.contains("rel=\"prev\""))
        #expect(first.contains("href=\"/customers?q=sn-&amp;page=2\" rel=\"next\"") == (total > 50))
        let beyond = try await page(server, "/customers?q=sn-&page=9999", role: .staff)
        #expect(beyond.status == 200 && beyond.text.contains("No customer has"))
        #expect(try await page(server, "/customers?q=sn-&page=0", role: .staff).status == 400)
    }

    @Test func signInSetsAnHttpOnlyStrictCookieAndSignOutClearsIt() async throws {
        let server = try await LiveServer.start()
        defer { Task { try await server.stop() } }
        let form = ["Content-Type": "application/x-www-form-urlencoded"]
        func signIn(_ token: String, next: String = "/customers/C-100002", headers: [String: String] = [:]) async throws -> HTTPTestResponse {
            let body = "token=\(token.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)&next=\(next.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)"
            return try await server.request("POST", "/sign-in", headers: form.merging(headers) { $1 }, body: body)
        }
        let staff = try #require(server.tokens[.staff])
        let accepted = try await signIn(staff)
        #expect(accepted.status == 303)
        #expect(accepted.headers["location"] == "/customers/C-100002")
        // The cookie holds a session of its own, never the token.
        let setCookie = try #require(accepted.headers["set-cookie"])
        let session = try #require(setCookie.split(separator: ";").first?.split(separator: "=", maxSplits: 1).last.map(String.init))
        #expect(setCookie == "tpj_session=\(session); Path=/; HttpOnly; SameSite=Strict; Max-Age=43200")
        #expect(session.hasPrefix("tpjs_") && session != staff)
        #expect(try await page(server, "/customers", cookie: session).status == 200)
        #expect(try await page(server, "/customers", cookie: staff).status == 303, "the token itself is no session")
        // Behind a TLS proxy that says so, the cookie is Secure.
        #expect(try await signIn(staff, headers: ["X-Forwarded-Proto": "https"]).headers["set-cookie"]?.hasSuffix("; Secure") == true)
        // Same-origin posts (as browsers send them) pass; a form from another site does not.
        #expect(try await signIn(staff, headers: ["Origin": "http://127.0.0.1"]).status == 303)
        let crossSite = try await signIn(staff, headers: ["Origin": "https://evil.example"])
        #expect(crossSite.status == 403 && crossSite.headers["set-cookie"] == nil)
        // Only a path on this server may follow sign-in.
        for next in ["//evil.example/", "https://evil.example/", "/\\evil.example", "customers"] {
            #expect(try await signIn(staff, next: next).headers["location"] == "/customers", "\(next)")
        }
        let refusals: [(String, Int, String)] = [
            ("", 400, "Enter your access token."),
            ("tpj_" + String(repeating: "y", count: 43), 401, "This token is not known or was revoked."),
            (try #require(server.tokens[.ingest]), 403, "This token has the role ingest; the pages need a staff or admin token."),
        ]
        for (token, status, message) in refusals {
            let refused = try await signIn(token)
            #expect(refused.status == status)
            #expect(refused.headers["set-cookie"] == nil)
            #expect(refused.text.contains(message), "\(refused.text)")
            #expect(refused.text.contains(#"name="next" value="/customers/C-100002""#), "the form keeps where to go next")
        }
        let signOut = try await server.request("POST", "/sign-out", headers: ["Cookie": "tpj_session=\(session)"])
        #expect(signOut.status == 303 && signOut.headers["location"] == "/sign-in")
        #expect(signOut.headers["set-cookie"]?.hasPrefix("tpj_session=; ") == true && signOut.headers["set-cookie"]?.contains("Max-Age=0") == true)
        // Signing out ends the session on the server: the same cookie, replayed, signs nobody in.
        let replayed = try await page(server, "/customers", cookie: session)
        #expect(replayed.status == 303 && replayed.headers["location"]?.hasPrefix("/sign-in") == true)
    }

    /// The cookie signs in the pages only: never the API (reads or appends) nor the metrics, so a page
    /// of another site or another port of this host cannot act through the browser's session.
    @Test func theSessionCookieNeverAuthenticatesTheAPIAndDiesWithItsToken() async throws {
        let server = try await LiveServer.start()
        defer { Task { try await server.stop() } }
        let session = try server.session(for: .admin)
        let cookie = ["Cookie": "tpj_session=\(session)"]
        let head = try server.store.head()
        let forged = try await server.request(
            "POST", "/v1/customers/C-100001/events", headers: cookie.merging(["Content-Type": "text/plain"]) { $1 },
            body: ServerTests.callBody(eventId: "0194c1b5-20bb-7275-8a1c-000000000999"))
        #expect(forged.status == 401)
        #expect(try server.store.head() == head, "nothing was appended")
        #expect(try await server.request("GET", "/v1/customers/C-100001/timeline", headers: cookie).status == 401)
        #expect(try await server.request("GET", "/metrics", headers: cookie).status == 401)
        #expect(try await page(server, "/at-risk", cookie: session).status == 200)

        // Revoking the token ends its sessions.
        let tokens = AccessTokens(store: server.store)
        _ = try tokens.revoke("test admin")
        let afterRevoke = try await page(server, "/at-risk", cookie: session)
        #expect(afterRevoke.status == 303 && afterRevoke.headers["set-cookie"]?.contains("Max-Age=0") == true)
    }

    @Test func everythingACustomerRecordHoldsIsEscaped() async throws {
        let server = try await LiveServer.start()
        defer { Task { try await server.stop() } }
        let customerId = try await Self.appendHostileCustomer(server)
        let html = try await page(server, "/customers/\(customerId)", role: .staff).text
        #expect(!html.contains("<script"))
        #expect(!html.contains("<img"))
        #expect(!html.contains("<b>bold"))
        #expect(html.contains("&lt;script&gt;window.__xss=1&lt;/script&gt; &amp; &quot;Söhne&quot; &#39;GmbH&#39;"))
        #expect(html.contains("&quot;&gt;&lt;img src=x onerror=&quot;window.__xss=2&quot;&gt;"))
        // The search echoes the query escaped too.
        let search = try await page(server, "/customers?q=%3Cscript%3Ezz", role: .staff).text
        #expect(search.contains("“&lt;script&gt;zz”") && !search.contains("<script"))
    }

    @Test func badParametersAndUnknownCustomersGetAnErrorPage() async throws {
        let server = try await LiveServer.start()
        defer { Task { try await server.stop() } }
        let cases: [(String, Int, String)] = [
            ("/at-risk?band=extreme", 400, "band must be one of high, medium, low (got &quot;extreme&quot;)"),
            ("/at-risk?top=7", 400, "top must be one of 25, 50, 100, 500"),
            ("/customers/C-NOBODY", 404, "no customer C-NOBODY: the journal holds no events of it"),
        ]
        for (path, status, message) in cases {
            let response = try await page(server, path, role: .staff)
            #expect(response.status == status, "\(path)")
            #expect(response.headers["content-type"] == "text/html; charset=utf-8")
            #expect(response.text.contains(message), "\(response.text)")
        }
        // An exact id goes straight to the customer; the search lists partial matches.
        let exact = try await page(server, "/customers?q=C-100002", role: .staff)
        #expect(exact.status == 303 && exact.headers["location"] == "/customers/C-100002")
        let partial = try await page(server, "/customers?q=C-10000", role: .staff)
        #expect(partial.status == 200 && partial.text.components(separatedBy: "<li>").count - 1 == 9)
    }
}

extension String {
    /// The string as a JSON string literal.
    var jsonQuoted: String { CanonicalJSON.string(.string(self)) }
}
