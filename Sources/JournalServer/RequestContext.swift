import Foundation
import Hummingbird
import Journal
import JournalStore
import NIOCore

/// The context of one request: who is asking (from the bearer token or the pages' cookie).
public struct JournalRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The token that authenticated the request, if any.
    public var token: AccessToken?
    /// A token was presented but is unknown or revoked.
    public var presentedUnknownToken = false
    /// The connection the request came on.
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }

    /// The customer id of the path (`:customerId`), percent-decoded once and checked against the
    /// journal's identifier rules (``EventValidator/identifierProblem(_:)``), which the CLI applies too.
    func customerId() throws -> String {
        let raw = try parameters.require("customerId")
        guard let id = raw.removingPercentEncoding else {
            throw APIError(.badRequest, "bad_request", "the customer id in the path is not valid percent-encoding (got \"\(raw)\")",
                           details: ["parameter": "customerId", "rule": "encoding"])
        }
        if let problem = EventValidator.identifierProblem(id) {
            throw APIError(.badRequest, "bad_request", "the customer id \(problem)", details: ["parameter": "customerId", "rule": "identifier"])
        }
        return id
    }

    /// How this request's reader sees personal values under `policy`; hidden without a token.
    func disclosure(_ store: EventStore, _ policy: MaskingPolicy) -> Disclosure {
        store.disclosure(token.map { policy.masking(for: $0.role.rawValue) } ?? Masking(.hidden))
    }

    /// The token, if its role is among `roles` (admin may do everything); fails with 401 without a
    /// valid token, 403 with another role.
    @discardableResult
    func require(_ roles: Role...) throws -> AccessToken {
        guard let token else {
            throw presentedUnknownToken
                ? APIError(.unauthorized, "unauthorized", "the token is not known or was revoked; create one with `tpj token create`")
                : APIError(.unauthorized, "unauthorized", "send a token: `Authorization: Bearer tpj_…` (create one with `tpj token create --role R --name N`)")
        }
        guard token.role == .admin || roles.contains(token.role) else {
            throw APIError(
                .forbidden, "forbidden",
                "the token \"\(token.name)\" has the role \(token.role.rawValue); this needs \(roles.map(\.rawValue).joined(separator: " or ")) (or admin)")
        }
        return token
    }
}

/// Identifies who is asking: the bearer token of the `Authorization` header, or — for the web pages
/// only — the session of the `tpj_session` cookie (``TokenStore/startSession(for:seconds:)``).
///
/// The cookie never authenticates the JSON API or the metrics, whatever the method: a page of another
/// site, or of another port of the same host (same-site for `SameSite=Strict`), cannot make a browser
/// append or read through the API as its signed-in user.
struct Authentication: RouterMiddleware {
    let tokens: any TokenStore

    /// The name of the pages' session cookie.
    static let sessionCookie = "tpj_session"

    func handle(_ request: Request, context: JournalRequestContext, next: (Request, JournalRequestContext) async throws -> Response) async throws -> Response {
        var context = context
        if let secret = Self.bearer(in: request) {
            context.token = try await tokens.identify(secret)
            context.presentedUnknownToken = context.token == nil
        } else if Self.acceptsSession(request), let session = Self.cookie(named: Self.sessionCookie, in: request) {
            context.token = try await tokens.session(session)
            context.presentedUnknownToken = context.token == nil
        }
        return try await next(request, context)
    }

    /// The bearer token, `""` for an Authorization header of another form, nil without the header.
    /// Parsed without Foundation: it runs on every request.
    static func bearer(in request: Request) -> String? {
        guard let authorization = request.headers[.authorization] else { return nil }
        let credentials = authorization[...].trimmingSpaces()
        guard let space = credentials.firstIndex(of: " "), credentials[..<space].lowercased() == "bearer" else { return "" }
        return String(credentials[space...].trimmingSpaces())
    }

    /// Whether the session cookie counts: for reading the pages, never for the API or the metrics.
    static func acceptsSession(_ request: Request) -> Bool {
        guard request.method == .get || request.method == .head else { return false }
        let path = request.uri.path
        return path != "/v1" && !path.hasPrefix("/v1/") && path != "/metrics"
    }

    static func cookie(named name: String, in request: Request) -> String? {
        for header in request.headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.count == 2, parts[0].trimmingSpaces() == name {
                    return String(parts[1].trimmingSpaces())
                }
            }
        }
        return nil
    }
}

extension Substring {
    /// Without the spaces and tabs (HTTP's optional whitespace) at either end.
    func trimmingSpaces() -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return self[endIndex...] }
        return self[first...last]
    }
}

/// Query parameters read with errors that name the parameter and the rule.
struct Query {
    private var parameters: [String: [String]] = [:]

    init(_ request: Request) {
        for (key, value) in request.uri.queryParameters {
            parameters[String(key), default: []].append(String(value))
        }
    }

    /// Refuses parameters other than `names` (and `waitFor`, which the read admission handles).
    func allowOnly(_ names: Set<String>) throws {
        for name in parameters.keys.sorted() where !names.contains(name) && name != "waitFor" {
            throw APIError(.badRequest, "bad_request", "unknown parameter \(name); this route takes \(names.sorted().joined(separator: ", "))",
                           details: ["parameter": .string(name), "rule": "unknownParameter"])
        }
    }

    /// The first value of `name`.
    func string(_ name: String) -> String? {
        parameters[name]?.first
    }

    /// Every value of `name`, repeated or comma-separated.
    func strings(_ name: String) -> [String] {
        (parameters[name] ?? []).flatMap { $0.split(separator: ",").map(String.init) }
    }

    /// A time: RFC 3339 with offset, or a date YYYY-MM-DD meaning 00:00 UTC.
    func time(_ name: String) throws -> Timestamp? {
        guard let text = string(name) else { return nil }
        if let instant = Timestamp(instantOrDate: text) { return instant }
        throw APIError(.badRequest, "bad_request", "\(name) must be an RFC 3339 time with offset or a date YYYY-MM-DD (got \"\(text)\")",
                       details: ["parameter": .string(name), "rule": "format"])
    }

    func integer(_ name: String, in range: ClosedRange<Int64>) throws -> Int64? {
        guard let text = string(name) else { return nil }
        guard let value = Int64(text), range.contains(value) else {
            throw APIError(.badRequest, "bad_request", "\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound) (got \"\(text)\")",
                           details: ["parameter": .string(name), "rule": "range"])
        }
        return value
    }

    func number(_ name: String, in range: ClosedRange<Double>) throws -> Double? {
        guard let text = string(name) else { return nil }
        guard let value = Double(text), value.isFinite, range.contains(value) else {
            throw APIError(.badRequest, "bad_request", "\(name) must be a number from \(range.lowerBound) to \(range.upperBound) (got \"\(text)\")",
                           details: ["parameter": .string(name), "rule": "range"])
        }
        return value
    }

    func oneOf(_ name: String, _ allowed: [String]) throws -> String? {
        guard let text = string(name) else { return nil }
        guard allowed.contains(text) else {
            throw APIError(.badRequest, "bad_request", "\(name) must be one of \(allowed.joined(separator: ", ")) (got \"\(text)\")",
                           details: ["parameter": .string(name), "rule": "enum"])
        }
        return text
    }
}
