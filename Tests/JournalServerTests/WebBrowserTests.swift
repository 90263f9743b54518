import Foundation
import GRDB
import Journal
import JournalProjections
import JournalServer
import JournalStore
import Testing

/// The web pages in a real headless Chromium: sign in through the form, find a customer, read the
/// journey on its time axis and click a touchpoint, filter the customers at risk, sign out. The
/// assertions read the rendered DOM; screenshots go to `.build/screenshots/` for a person to look at.
@Suite(.serialized)
struct WebBrowserTests {
    static let screenshots = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(".build/screenshots")

    /// The customer with the most touchpoints among those with a broken promise.
    static func busyCustomerWithBrokenPromise(_ store: EventStore) throws -> String {
        try store.writer.read { db in
            try String.fetchOne(db, sql: """
                SELECT customerId FROM timeline_entry GROUP BY customerId
                HAVING SUM(promiseKept = 0 AND status <> 'voided') > 0 ORDER BY COUNT(*) DESC, customerId LIMIT 1
                """)!
        }
    }

    @Test func staffUseThePagesInARealBrowser() async throws {
        let server = try await LiveServer.start(customers: 40)
        defer { Task { try await server.stop() } }
        let hostile = try await WebPageTests.appendHostileCustomer(server)
        let browser = try await HeadlessBrowser.launch()
        let base = "http://127.0.0.1:\(server.port)"
        let customerId = try Self.busyCustomerWithBrokenPromise(server.store)

        // Not signed in: the customer page sends the browser to the sign-in form, which keeps where to go next.
        try await browser.open("\(base)/customers/\(customerId)")
        #expect(try await browser.evaluate("location.pathname") == "/sign-in")
        #expect(try await browser.evaluate("document.querySelector('input[name=next]').value") == .string("/customers/\(customerId)"))
        try await browser.screenshot(to: Self.screenshots.appendingPathComponent("sign-in.png"))

        // A wrong token is refused on the page; the staff token signs in and lands on the customer.
        try await browser.evaluateAndWaitForLoad(Self.submitSignIn("tpj_wrong"))
        #expect(try await browser.evaluate("document.querySelector('.error').textContent") == "This token is not known or was revoked.")
        try await browser.evaluateAndWaitForLoad(Self.submitSignIn(try #require(server.tokens[.staff])))
        #expect(try await browser.evaluate("location.pathname") == .string("/customers/\(customerId)"))
        let cookie = try #require(try await browser.cookies(for: base).first { $0["name"] == "tpj_session" })
        #expect(cookie["httpOnly"] == .bool(true))
        #expect(cookie["sameSite"] == "Strict")
        #expect(try await browser.evaluate("document.cookie.includes('tpj_session')") == .bool(false), "scripts cannot read the session")
        #expect(cookie["value"] != .string(try #require(server.tokens[.staff])), "the cookie holds a session, not the token")

        // The journey: a lane for the account and one per machine; each case an episode bar; a mark per touchpoint of no
        // case or of an open case (a closed case is collapsed), rings on broken promises and open complaints.
        let entries = try await server.store.writer.read { db in try JourneyTimeline.entries(of: customerId, filter: TimelineFilter(), in: db) }
        let flags = TimelineFlags(entries)
        let cases = Set(entries.compactMap(\.caseId))
        let closed = cases.filter { !flags.isOpen(caseId: $0) }
        #expect(!closed.isEmpty, "a busy customer has closed cases")
        var caseAsset: [String: String] = [:]
        for entry in entries { if let caseId = entry.caseId, caseAsset[caseId] == nil, let assetId = entry.assetId { caseAsset[caseId] = assetId } }
        let lanes = Set(entries.map { entry in entry.caseId.map { caseAsset[$0] ?? "account" } ?? entry.assetId ?? "account" })
        func marksShown() async throws -> Double? { try await browser.evaluate("document.querySelectorAll('#timeline-chart a.mark').length").number }
        let onChart = entries.filter { $0.caseId.map { !closed.contains($0) } ?? true }
        #expect(try await marksShown() == Double(onChart.count))
        #expect(try await browser.evaluate("document.querySelectorAll('#touchpoints tbody tr').length").number == Double(entries.count))
        #expect(try await browser.evaluate("document.querySelectorAll('#timeline-chart .lane:not(.axis)').length").number == Double(lanes.count))
        #expect(try await browser.evaluate("document.querySelectorAll('#timeline-chart a.episode').length").number == Double(cases.count))
        #expect(try await browser.evaluate("document.querySelectorAll('#timeline-chart a.episode.open').length").number == Double(cases.count - closed.count))
        let rings = onChart.count { ($0.promiseBroken && $0.status != "voided") || flags.of($0).contains("OPEN COMPLAINT") }
        #expect(try await browser.evaluate("document.querySelectorAll('#timeline-chart a.mark.ring').length").number == Double(rings))
        #expect(try await browser.evaluate("document.querySelectorAll('#timeline-chart a.mark.moment').length").number == Double(onChart.count(where: \.isMoment)))
        // Marks are coloured by score: the rendered colours of a strongly negative and of an unscored mark differ.
        let fills = try await browser.evaluate("[...new Set([...document.querySelectorAll('#timeline-chart a.mark')].map(m => getComputedStyle(m).backgroundColor))].length")
        #expect((fills.number ?? 0) >= 3, "at least three score colours on a busy journey")
        // Episode bars do not overlap on a row.
        let overlapping = try await browser.evaluate("""
            [...document.querySelectorAll('#timeline-chart .row.cases')].filter(row => {
              const boxes = [...row.querySelectorAll('a.episode')].map(a => a.getBoundingClientRect()).sort((a, b) => a.left - b.left);
              return boxes.some((box, i) => i > 0 && box.left < boxes[i - 1].right);
            }).length
            """)
        #expect(overlapping.number == 0)
        #expect(try await browser.evaluate("document.querySelector('#segment').textContent.length").number == 1)

        // A broken promise's case, when closed, opens by a click on its bar: its touchpoints join the chart.
        let broken = try #require(entries.last { $0.promiseBroken && $0.status != "voided" })
        if let caseId = broken.caseId, closed.contains(caseId) {
            try await browser.evaluateAndWaitForLoad("document.querySelector('#timeline-chart a.episode[data-case=\(caseId.jsonQuoted)]').click()")
            #expect(try await browser.evaluate("location.search").stringValue?.contains("expand=\(caseId)") == true)
            #expect(try await marksShown() == Double(onChart.count + entries.count { $0.caseId == caseId }))
            #expect(try await browser.evaluate("document.querySelector('#timeline-chart a.episode[data-case=\(caseId.jsonQuoted)]').classList.contains('expanded')") == .bool(true))
        }
        // Clicking the broken promise opens its details in the touchpoint list (hidden before the click).
        #expect(try await browser.evaluate("getComputedStyle(document.querySelector('#tp-\(broken.position) .meta')).display") == "none")
        let clicked = try await browser.evaluate("""
            new Promise(resolve => {
              addEventListener('hashchange', () => {
                const row = document.getElementById('tp-\(broken.position)');
                resolve({hash: location.hash, detail: getComputedStyle(row.querySelector('.meta')).display,
                         flag: row.querySelector('.flag').textContent, text: row.querySelector('.details').textContent});
              }, {once: true});
              document.querySelector('#timeline-chart a.mark[data-position="\(broken.position)"]')
                .dispatchEvent(new MouseEvent('click', {bubbles: true, cancelable: true, view: window}));
            })
            """)
        #expect(clicked["hash"] == .string("#tp-\(broken.position)"))
        #expect(clicked["detail"] == "block")
        #expect(clicked["flag"] == "PROMISE BROKEN")
        #expect(clicked["text"]?.stringValue?.contains(broken.eventId) == true)
        try await browser.screenshot(to: Self.screenshots.appendingPathComponent("customer.png"))
        // On a phone's width the page does not scroll sideways; the chart's lanes put their labels above the marks.
        try await browser.setViewport(width: 390, height: 844, mobile: true)
        try await browser.open("\(base)/customers/\(customerId)")
        #expect(try await browser.evaluate("document.documentElement.scrollWidth <= innerWidth") == .bool(true))
        #expect(try await browser.evaluate("""
            [...document.querySelectorAll('#timeline-chart .lane:not(.axis)')].every(lane =>
              lane.querySelector('.lane-label').getBoundingClientRect().bottom <= lane.querySelector('.rows').getBoundingClientRect().top + 1)
            """) == .bool(true))
        try await browser.screenshot(to: Self.screenshots.appendingPathComponent("customer-390.png"))
        try await browser.setViewport(width: 1280, height: 900, mobile: false)
        let serverTime = try await browser.evaluate("performance.getEntriesByType('navigation')[0].serverTiming.map(t => t.duration)[0]")
        #expect(serverTime.number != nil, "the page reports its server time")

        // Find a customer by part of the name; an exact id goes straight to the customer.
        let name = try #require(try await server.store.writer.read { db in try CustomerDirectory.names(of: [customerId], in: db)[customerId] })
        let part = String(name.split(separator: " ").first!)
        try await browser.open("\(base)/customers")
        try await browser.evaluateAndWaitForLoad("document.querySelector('input[name=q]').value = \(part.jsonQuoted); document.querySelector('form.search').submit()")
        let listed = try await browser.evaluate("[...document.querySelectorAll('.matches li a')].map(a => a.textContent)")
        #expect(listed.arrayValue?.contains(.string(customerId)) == true, "\(part) finds \(customerId)")
        try await browser.screenshot(to: Self.screenshots.appendingPathComponent("search.png"))
        try await browser.evaluateAndWaitForLoad("document.querySelector('input[name=q]').value = \(customerId.jsonQuoted); document.querySelector('form.search').submit()")
        #expect(try await browser.evaluate("location.pathname") == .string("/customers/\(customerId)"))

        // At risk, filtered by band: every row is in the band, and the count matches the API's.
        try await browser.open("\(base)/at-risk")
        try await browser.evaluateAndWaitForLoad("document.querySelector('select[name=band]').value = 'high'; document.querySelector('select[name=top]').value = '500'; document.querySelector('form.filters').submit()")
        #expect(try await browser.evaluate("location.search").stringValue?.contains("band=high") == true)
        let bands = try await browser.evaluate("[...document.querySelectorAll('#risks tbody tr .band')].map(b => b.textContent)")
        let high = try await server.request("GET", "/v1/churn?band=high&top=1000", role: .staff).document["risks"]?.arrayValue?.count
        #expect(bands.arrayValue?.count == high && (high ?? 0) > 0)
        #expect(bands.arrayValue?.allSatisfy { $0 == "high" } == true)
        #expect(try await browser.evaluate("document.querySelector('select[name=band]').value") == "high", "the form shows the filter applied")
        try await browser.screenshot(to: Self.screenshots.appendingPathComponent("at-risk.png"))

        // Markup in a customer's records stays text: nothing ran, nothing was inserted.
        try await browser.open("\(base)/customers/\(hostile)")
        #expect(try await browser.evaluate("document.querySelector('h1 .name').textContent") == .string(WebPageTests.hostileName))
        #expect(try await browser.evaluate("document.querySelectorAll('main script, main img, main b').length").number == 0)
        #expect(try await browser.evaluate("typeof window.__xss") == "undefined")
        #expect(try await browser.evaluate("document.body.textContent.includes(\(WebPageTests.hostileNote.jsonQuoted))") == .bool(true))

        // Signing out removes the cookie; the pages send the browser back to the sign-in form.
        try await browser.evaluateAndWaitForLoad("document.querySelector('form.sign-out').submit()")
        #expect(try await browser.cookies(for: base).contains { $0["name"] == "tpj_session" } == false)
        try await browser.open("\(base)/at-risk")
        #expect(try await browser.evaluate("location.pathname") == "/sign-in")
    }

    /// A page on another port of the same host — same-site, so the browser sends the Strict cookie —
    /// posts a form and a script's request to the API as the signed-in user: the API takes neither.
    @Test func aPageOfAnotherOriginCannotAppendThroughTheSignedInBrowser() async throws {
        let server = try await LiveServer.start()
        defer { Task { try await server.stop() } }
        let base = "http://127.0.0.1:\(server.port)"
        let target = "\(base)/v1/customers/C-100001/events"
        let event = #"{"events": [{"eventId": "0194c1b5-20bb-7275-8a1c-00000000cafe", "type": "note.added", "occurredAt": "2024-06-01T10:00:00Z", "payload": {"text": "forged"}}], "x": ""#
        let attack = """
            <!doctype html><html><body>
            <form method="POST" enctype="text/plain" action="\(target)"><input type="hidden" name='\(event)' value='"}'></form>
            </body></html>
            """
        try await OtherOrigin.serving(html: attack) { otherPort in
            let browser = try await HeadlessBrowser.launch()
            try await browser.open("\(base)/sign-in")
            try await browser.evaluateAndWaitForLoad(Self.submitSignIn(try #require(server.tokens[.admin])))
            #expect(try await browser.evaluate("location.pathname") == "/customers")
            let head = try server.store.head()

            try await browser.open("http://127.0.0.1:\(otherPort)/")
            try await browser.evaluateAndWaitForLoad("document.forms[0].submit()")
            let answer = try await browser.evaluate("document.body.textContent")
            #expect(answer.stringValue?.contains("unauthorized") == true, "\(answer)")

            try await browser.open("http://127.0.0.1:\(otherPort)/")
            let status = try await browser.evaluate("""
                fetch(\(target.jsonQuoted), {method: 'POST', credentials: 'include', mode: 'no-cors',
                  headers: {'Content-Type': 'text/plain'}, body: \(String(event.dropLast(8) + "}").jsonQuoted)}).then(() => 'sent', e => 'failed: ' + e)
                """)
            #expect(status == "sent")
            #expect(try await server.request("GET", "/healthz").status == 200)
            #expect(try server.store.head() == head, "the API appended nothing for the other origin")
        }
    }

    static func submitSignIn(_ token: String) -> String {
        "document.querySelector('input[name=token]').value = \(token.jsonQuoted); document.querySelector('.sign-in form').submit()"
    }
}
