import Crypto
import Foundation

/// What a bearer token may do.
public enum Role: String, Sendable, CaseIterable, Codable {
    /// Producers: append events.
    case ingest
    /// Service staff: timelines, moments, churn, segments, customer search, and the web pages.
    case staff
    /// Analysts: the events feed and its live stream.
    case analyst
    /// Auditors: raw and as-known-at history, verification.
    case auditor
    /// Everything, including metrics and projection status.
    case admin
}

/// A token as listed: never the secret, which is shown once at creation and stored only as a hash.
public struct AccessToken: Sendable, Hashable {
    public var id: String
    public var name: String
    public var role: Role
    public var created: Timestamp
    public var revoked: Timestamp?

    public init(id: String, name: String, role: Role, created: Timestamp, revoked: Timestamp? = nil) {
        self.id = id
        self.name = name
        self.role = role
        self.created = created
        self.revoked = revoked
    }
}

/// Where tokens and the web pages' sessions are kept: beside the log, in whichever store holds it,
/// so that every server on that log knows the same tokens.
public protocol TokenStore: Sendable {
    /// Creates a token; returns it with its secret, which cannot be shown again.
    func create(name: String, role: Role) async throws -> (token: AccessToken, secret: String)
    /// Every token, newest first.
    func list() async throws -> [AccessToken]
    /// Revokes the token with this id, or the active token with this name, and ends its sessions.
    func revoke(_ idOrName: String) async throws -> AccessToken
    /// The active token with this secret, if any.
    func identify(_ secret: String) async throws -> AccessToken?
    /// Starts a session of the pages for `token`, valid `seconds`; returns its secret for the cookie.
    func startSession(for token: AccessToken, seconds: Int) async throws -> String
    /// The token of a live session: not expired, not ended, its token not revoked.
    func session(_ secret: String) async throws -> AccessToken?
    /// Ends a session: its cookie no longer signs anyone in.
    func endSession(_ secret: String) async throws
    /// Whether the token with this id is still active (not revoked).
    func isActive(id: String) async throws -> Bool
}

/// The secrets of tokens and sessions, and the rules every ``TokenStore`` applies to them.
///
/// A token is `tpj_` followed by 43 base64url characters (32 random bytes), a session `tpjs_` and the
/// same. Only their SHA-256 is stored: they are unguessable, so a fast hash is enough.
public enum AccessSecret {
    public static func newToken() -> String { "tpj_" + base64url(randomBytes(32)) }
    public static func newSession() -> String { "tpjs_" + base64url(randomBytes(32)) }
    public static func newTokenId() -> String { Hex.encode(randomBytes(4)) }

    /// Whether `secret` has a token's shape (anything else is not looked up).
    public static func isToken(_ secret: String) -> Bool { secret.hasPrefix("tpj_") && secret.utf8.count == 47 }
    /// Whether `secret` has a session's shape.
    public static func isSession(_ secret: String) -> Bool { secret.hasPrefix("tpjs_") && secret.utf8.count == 48 }

    /// What is stored of a secret: its SHA-256 in hexadecimal.
    public static func hash(_ secret: String) -> String { Hex.encode(SHA256.hash(data: Array(secret.utf8))) }

    /// A token's name, trimmed; 1 to 100 characters.
    public static func tokenName(_ name: String) throws(JournalError) -> String {
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, trimmed.count <= 100 else {
            throw .invalidArgument("a token needs a name of 1 to 100 characters (who or what uses it)")
        }
        return trimmed
    }

    public static func nameTaken(_ name: String) -> JournalError {
        .invalidArgument("an active token is already named \"\(name)\"; revoke it first or choose another name")
    }

    public static func noActiveToken(_ idOrName: String) -> JournalError {
        .invalidArgument("no active token has the id or name \"\(idOrName)\"; `tpj token list` shows them")
    }

    private static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    private static func base64url(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
