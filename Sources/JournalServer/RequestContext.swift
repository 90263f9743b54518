import Foundation
import Hummingbird
import Journal

/// The context of one request: who is asking (from the bearer token or the pages' cookie).
public struct JournalRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The token that authenticated the request, if any.
    public var token: AccessToken?
    /// A token was presented but is unknown or revoked.
    public var presentedUnknownToken = false

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
    }

    /// Fails with 401 without a valid token, 403 when its role is not among `roles` (admin may do everything).
    func require(_ roles: Role...) throws {
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
    }
}

/// Reads the bearer token (or, for the web pages, the `tpj_token` cookie) and identifies it.
struct Authentication: RouterMiddleware {
    let tokens: AccessTokens

    func handle(_ request: Request, context: JournalRequestContext, next: (Request, JournalRequestContext) async throws -> Response) async throws -> Response {
        var context = context
        if let secret = Self.secret(in: request) {
            context.token = try tokens.identify(secret)
            context.presentedUnknownToken = context.token == nil
        }
        return try await next(request, context)
    }

    /// The bearer token, `""` for an Authorization header of another form, or the `tpj_token` cookie.
    /// Parsed without Foundation: it runs on every request.
    static func secret(in request: Request) -> String? {
        if let authorization = request.headers[.authorization] {
            let credentials = authorization[...].trimmingSpaces()
            guard let space = credentials.firstIndex(of: " "), credentials[..<space].lowercased() == "bearer" else { return "" }
            return String(credentials[space...].trimmingSpaces())
        }
        return cookie(named: "tpj_token", in: request)
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
