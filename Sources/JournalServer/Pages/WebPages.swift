import Foundation
import HTTPTypes
import Hummingbird
import Journal
import JournalProjections
import JournalScoring
import JournalStore
import Mustache

/// Renders the web pages from ``PageTemplates``: each page's body, then the layout around it.
struct PageRenderer: Sendable {
    let library: MustacheLibrary

    init() throws {
        library = MustacheLibrary(templates: try PageTemplates.all.mapValues { try MustacheTemplate(string: $0) })
    }

    func render(_ template: String, _ model: Any, title: String, viewer: AccessToken?, head: Int64, projected: Int64) -> String {
        let body = library.render(model, withTemplate: template) ?? ""
        let layout = PageModels.Layout(
            title: title, viewer: viewer.map { PageModels.Viewer(name: $0.name, role: $0.role.rawValue) },
            head: PageModels.grouped(Int(head)), projected: PageModels.grouped(Int(projected)), body: body)
        return library.render(layout, withTemplate: "layout") ?? ""
    }
}

/// The web pages for service staff: sign in with a token, find a customer, the customer's journey,
/// moments of truth and churn risk, and the customers at risk. Pages need the staff (or admin)
/// role; without a valid cookie they send the browser to the sign-in page.
extension JournalServer {
    /// How long a session of the pages lives.
    static let sessionSeconds = 12 * 3600
    /// Removes the session cookie.
    static let clearedCookie = "\(Authentication.sessionCookie)=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"

    func addPageRoutes(to router: Router<JournalRequestContext>) {
        router.get("/") { _, _ in Self.redirect(to: "/customers") }
        router.get("/static/tpj.css") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "max-age=3600"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: PageTemplates.styleSheet)))
        }
        router.get("/sign-in") { request, context in
            try await page(context, status: .ok, title: "Sign in", template: "sign-in",
                           PageModels.SignIn(message: nil, next: Self.safeNext(Query(request).string("next"))))
        }
        router.post("/sign-in") { request, context in try await signIn(request, context) }
        router.post("/sign-out") { request, context in
            try Self.requireSameOrigin(request)
            if let session = Authentication.cookie(named: Authentication.sessionCookie, in: request) { try await tokens.endSession(session) }
            var response = Self.redirect(to: "/sign-in")
            response.headers[.setCookie] = Self.clearedCookie
            return response
        }
        router.get("/customers") { request, context in
            try await staffPage(request, context) {
                let query = String((Query(request).string("q") ?? "").trimmingCharacters(in: .whitespaces).prefix(CustomerDirectory.longestQuery))
                let pageNumber = Int(try Query(request).integer("page", in: 1...10_000) ?? 1)
                var found = CustomerDirectory.Page(matches: [], total: 0)
                if !query.isEmpty {
                    let text = query
                    found = try await store.readProjections { snapshot in
                        try snapshot.search(text, limit: PageModels.Customers.pageSize, offset: (pageNumber - 1) * PageModels.Customers.pageSize)
                    }
                    if pageNumber == 1, let exact = found.matches.first, exact.customerId == query {
                        return Self.redirect(to: PageModels.customerHref(exact.customerId))
                    }
                }
                return try await page(context, status: .ok, title: query.isEmpty ? "Find a customer" : "Search: \(query)", template: "customers",
                    PageModels.Customers(query: query, searched: !query.isEmpty, page: pageNumber, found: found))
            }
        }
        router.get("/customers/:customerId") { request, context in
            try await staffPage(request, context) {
                let customerId = try context.customerId()
                // The touchpoints shown: `from` and `to` (by default the last 24 months of the journey), `kind` (repeatable),
                // `asset` and `case` as for the API's timeline; `expand` draws closed cases with their touchpoints (a case id,
                // repeatable, or `all`); `knownAt` shows the page as the journal knew it then.
                let query = Query(request)
                let from = try query.time("from"), to = try query.time("to")
                let knownAt = try query.time("knownAt")
                let asOf = knownAt ?? store.clock.now()
                let disclosure = context.disclosure(store, settings.masking)
                try await requireCustomer(customerId)
                var known: [TimelineEntry]?
                if let knownAt { known = try await timelineEntries(of: customerId, knownAt: knownAt, filter: TimelineFilter()) }
                let (insights, _) = try await churnInsights(asOf: asOf)
                let model = try await store.readProjections { [known] snapshot -> PageModels.Customer? in
                    guard try snapshot.hasEvents(of: customerId) else { return nil }
                    let all = try (known ?? snapshot.timeline(of: customerId)).map { $0.disclosed(by: disclosure) }
                    let window = JourneyWindow(
                        customerId: customerId, entries: all, asOf: asOf, from: from, to: to, kinds: query.strings("kind"),
                        assetId: query.string("asset"), caseId: query.string("case"), knownAt: query.string("knownAt"), expand: query.strings("expand"))
                    guard window.from < window.to else {
                        throw APIError(.badRequest, "bad_request", "from must be before to (got from \(JourneyWindow.text(window.from)), to \(JourneyWindow.text(window.to)))",
                                       details: ["parameter": "from", "rule": "order"])
                    }
                    let filter = window.filter
                    let moments = try snapshot.moments(of: customerId, asOf: asOf, insights)
                    let risk = try snapshot.churn(asOf: asOf, customerId: customerId, insights).first
                    let name = try snapshot.names(of: [customerId])[customerId]
                    return PageModels.customer(
                        customerId, name: name, all: all, shown: all.filter(filter.admits), window: window, moments: moments, risk: risk,
                        asOf: asOf, summary: HotlineSummary(entries: all, asOf: asOf))
                }
                guard let model else { throw APIError.notFound("The journal holds no events of customer \(customerId).") }
                return try await page(context, status: .ok, title: "\(model.name) (\(customerId))", template: "customer", model)
            }
        }
        router.get("/at-risk") { request, context in
            try await staffPage(request, context) {
                let query = Query(request)
                // An empty choice (the form's "any") means no filter.
                let band = query.string("band") == "" ? "" : try query.oneOf("band", ["high", "medium", "low"]) ?? ""
                let segment = query.string("segment") == "" ? "" : try query.oneOf("segment", ["A", "B", "C"]) ?? ""
                let top = Int(try query.oneOf("top", ["25", "50", "100", "500"]) ?? "50")!
                let (asOf, _, all) = try await dailyRanking()
                // Counted and cut without copying the portfolio (a copy retains every risk's arrays).
                let matches = { (item: CustomerRisk) in (band.isEmpty || item.risk.band == band) && (segment.isEmpty || item.segment == segment) }
                let matching = band.isEmpty && segment.isEmpty ? all.count : all.count(where: matches)
                let listed = Array(all.lazy.filter(matches).prefix(top))
                let names = try await store.readProjections { try $0.names(of: listed.map(\.customerId)) }
                func options(_ values: [(String, String)], _ chosen: String) -> [PageModels.Option] {
                    values.map { PageModels.Option(value: $0.0, label: $0.1, selected: $0.0 == chosen) }
                }
                let model = PageModels.AtRisk(
                    bands: options([("", "any"), ("high", "high"), ("medium", "medium"), ("low", "low")], band),
                    segments: options([("", "any"), ("A", "A"), ("B", "B"), ("C", "C")], segment),
                    tops: options(["25", "50", "100", "500"].map { ($0, "top \($0)") }, String(top)),
                    customers: PageModels.grouped(all.count), asOf: PageModels.minute(asOf.rfc3339),
                    high: PageModels.grouped(all.count { $0.risk.band == "high" }), medium: PageModels.grouped(all.count { $0.risk.band == "medium" }),
                    low: PageModels.grouped(all.count { $0.risk.band == "low" }),
                    matching: PageModels.grouped(matching), shown: PageModels.grouped(listed.count), cut: matching > top,
                    risks: listed.map { item in
                        PageModels.Risk(
                            customerId: item.customerId, name: names[item.customerId] ?? "", href: PageModels.customerHref(item.customerId),
                            segment: item.segment, probability: String(format: "%.0f %%", item.risk.probability * 100), band: item.risk.band,
                            reason: item.risk.reasons.first?.sentence ?? "")
                    },
                    hasRisks: !listed.isEmpty)
                return try await page(context, status: .ok, title: "Customers at risk", template: "at-risk", model)
            }
        }
    }

    /// Checks the token, starts a session for it in the cookie (never the token itself) and sends the browser on.
    private func signIn(_ request: Request, _ context: JournalRequestContext) async throws -> Response {
        try Self.requireSameOrigin(request)
        let form = try await Self.form(request)
        let next = Self.safeNext(form["next"])
        let secret = (form["token"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let token = secret.isEmpty ? nil : try await tokens.identify(secret)
        guard let token, token.role == .staff || token.role == .admin else {
            let (status, message): (HTTPResponse.Status, String) = switch token {
            case nil where secret.isEmpty: (.badRequest, "Enter your access token.")
            case nil: (.unauthorized, "This token is not known or was revoked.")
            case let token?: (.forbidden, "This token has the role \(token.role.rawValue); the pages need a staff or admin token.")
            }
            return try await page(context, status: status, title: "Sign in", template: "sign-in", PageModels.SignIn(message: message, next: next))
        }
        let session = try await tokens.startSession(for: token, seconds: Self.sessionSeconds)
        let secure = switch settings.secureCookies {
        case .always: true
        case .never: false
        case .auto: request.headers[HTTPField.Name("X-Forwarded-Proto")!]?.lowercased() == "https"
        }
        var response = Self.redirect(to: next)
        response.headers[.setCookie] = "\(Authentication.sessionCookie)=\(session); Path=/; HttpOnly; SameSite=Strict; Max-Age=\(Self.sessionSeconds)"
            + (secure ? "; Secure" : "")
        return response
    }

    /// Runs a page for staff: without a valid token the browser goes to the sign-in page; a role
    /// that may not read customers, a bad parameter or an unknown customer gets an error page.
    private func staffPage(
        _ request: Request, _ context: JournalRequestContext, _ body: () async throws -> Response
    ) async throws -> Response {
        let started = ContinuousClock.now
        guard let token = context.token else {
            let target = request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
            var response = Self.redirect(to: "/sign-in?next=" + (target.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "/"))
            if context.presentedUnknownToken { response.headers[.setCookie] = Self.clearedCookie }
            return response
        }
        var response: Response
        do {
            guard token.role == .staff || token.role == .admin else {
                throw APIError(.forbidden, "forbidden", "The token \"\(token.name)\" has the role \(token.role.rawValue); these pages need a staff or admin token.")
            }
            response = try await body()
        } catch let caught where caught is APIError || caught is JournalError {
            // A journal error (an altered event) gets the page its API answer describes.
            let error = (caught as? APIError) ?? APIError.from(caught as! JournalError)
            let heading = switch error.status {
            case .notFound: "Not found"
            case .forbidden: "Not allowed"
            case .badRequest: "Bad request"
            default: "Something went wrong"
            }
            response = try await page(context, status: error.status, title: heading, template: "error", PageModels.Problem(heading: heading, message: error.message))
        }
        let elapsed = ContinuousClock.now - started
        let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        response.headers[.init("Server-Timing")!] = String(format: "app;dur=%.1f", milliseconds)
        return response
    }

    /// A rendered page with the headers every page carries.
    private func page(_ context: JournalRequestContext, status: HTTPResponse.Status, title: String, template: String, _ model: Any) async throws -> Response {
        let store = store
        let head = try await offload { try store.head() }
        let html = pages.render(template, model, title: title, viewer: context.token, head: head, projected: progress.reached)
        return Response(status: status, headers: Self.pageHeaders, body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    static let pageHeaders: HTTPFields = [
        .contentType: "text/html; charset=utf-8",
        .cacheControl: "no-store",
        .init("Content-Security-Policy")!: "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        .init("X-Content-Type-Options")!: "nosniff",
        .init("Referrer-Policy")!: "same-origin",
    ]

    static func redirect(to location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
    }

    /// Only a path on this server may follow sign-in: it starts with one `/`, and holds only visible
    /// ASCII without a backslash. Browsers drop tabs and newlines and read `\` as `/` before they
    /// resolve a URL, so `/<TAB>/host` or `/\host` would lead to another host.
    static func safeNext(_ next: String?) -> String {
        guard let next, next.utf8.count <= 2_048, next.hasPrefix("/"), !next.hasPrefix("//"),
              next.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\\") })
        else { return "/customers" }
        return next
    }

    /// A form posted from another site is refused (the cookie is SameSite=Strict as well).
    static func requireSameOrigin(_ request: Request) throws {
        guard let origin = request.headers[.origin] else { return }
        let authority = request.head.authority ?? ""
        let url = URL(string: origin)
        guard let host = url?.host(percentEncoded: false),
              (host.contains(":") ? "[\(host)]" : host) + (url?.port.map { ":\($0)" } ?? "") == authority
        else {
            throw APIError(.forbidden, "forbidden", "a form from \(origin) may not post to this server")
        }
    }

    /// The fields of an `application/x-www-form-urlencoded` body (at most 16 KiB).
    static func form(_ request: Request) async throws -> [String: String] {
        let body = try await request.body.collect(upTo: 16 << 10)
        var fields: [String: String] = [:]
        for pair in String(buffer: body).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String { String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            if let key = parts.first { fields[decode(key)] = parts.count > 1 ? decode(parts[1]) : "" }
        }
        return fields
    }
}
