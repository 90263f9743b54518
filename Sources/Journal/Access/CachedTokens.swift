import Synchronization

/// Tokens as another ``TokenStore`` keeps them, with the answers to ``identify(_:)`` and
/// ``isActive(id:)`` kept in memory until ``forget()``: a server whose tokens live in a shared
/// database asks it once per token, not once per request. Whoever keeps the tokens must call
/// ``forget()`` whenever a token is revoked anywhere (a database announces it).
///
/// Only tokens found are kept — by the SHA-256 of their secret, never the secret — so a wrong secret
/// is asked again each time. Sessions are not kept: every page request asks for its session.
public final class CachedTokens: TokenStore {
    public let base: any TokenStore
    private struct Kept {
        var identified: [String: AccessToken] = [:]
        var active: [String: Bool] = [:]
        /// Bumped by each ``CachedTokens/forget()``: an answer read before it is not kept after it.
        var generation = 0
    }
    private let kept = Mutex(Kept())
    /// The most answers kept; beyond, all are forgotten and asked again.
    static let limit = 10_000

    public init(_ base: any TokenStore) { self.base = base }

    /// Forgets every answer kept: the next requests ask the tokens' store again.
    public func forget() {
        kept.withLock { kept in
            kept = Kept(generation: kept.generation + 1)
        }
    }

    public func identify(_ secret: String) async throws -> AccessToken? {
        guard AccessSecret.isToken(secret) else { return nil }
        let hash = AccessSecret.hash(secret)
        let (found, generation) = kept.withLock { ($0.identified[hash], $0.generation) }
        if let found { return found }
        let token = try await base.identify(secret)
        if let token { keep(ifStill: generation) { $0.identified[hash] = token } }
        return token
    }

    public func isActive(id: String) async throws -> Bool {
        let (found, generation) = kept.withLock { ($0.active[id], $0.generation) }
        if let found { return found }
        let active = try await base.isActive(id: id)
        keep(ifStill: generation) { $0.active[id] = active }
        return active
    }

    /// Keeps an answer unless a ``forget()`` came since it was asked.
    private func keep(ifStill generation: Int, _ change: (inout Kept) -> Void) {
        kept.withLock { kept in
            guard kept.generation == generation else { return }
            if kept.identified.count + kept.active.count >= Self.limit { kept = Kept(generation: kept.generation) }
            change(&kept)
        }
    }

    public func revoke(_ idOrName: String) async throws -> AccessToken {
        defer { forget() }
        return try await base.revoke(idOrName)
    }

    public func create(name: String, role: Role) async throws -> (token: AccessToken, secret: String) { try await base.create(name: name, role: role) }
    public func list() async throws -> [AccessToken] { try await base.list() }
    public func startSession(for token: AccessToken, seconds: Int) async throws -> String { try await base.startSession(for: token, seconds: seconds) }
    public func session(_ secret: String) async throws -> AccessToken? { try await base.session(secret) }
    public func endSession(_ secret: String) async throws { try await base.endSession(secret) }
}
