import Journal
import PostgresNIO

/// Bearer tokens and the web pages' sessions in the PostgreSQL database that holds the log, so that
/// every server on it knows the same ones: the same rules as the SQLite journal's ``TokenStore``,
/// only hashes of the secrets stored (``AccessSecret``).
public struct PostgresAccessTokens: TokenStore {
    let journal: PostgresJournal

    public init(journal: PostgresJournal) { self.journal = journal }

    public func create(name: String, role: Role) async throws -> (token: AccessToken, secret: String) {
        let trimmed = try AccessSecret.tokenName(name)
        let secret = AccessSecret.newToken()
        let token = AccessToken(id: AccessSecret.newTokenId(), name: trimmed, role: role, created: journal.clock.now())
        let query: PostgresQuery = """
            INSERT INTO access_token (id, name, role, hash, created_at_us)
            VALUES (\(token.id), \(trimmed), \(role.rawValue), \(AccessSecret.hash(secret)), \(token.created.microseconds))
            """
        do {
            try await execute(query)
        } catch {
            // The unique index of active names: another token of that name is active.
            if case .storage(let message) = error, message.contains("access_token_active_name") { throw AccessSecret.nameTaken(trimmed) }
            throw error
        }
        return (token, secret)
    }

    public func list() async throws -> [AccessToken] {
        try await tokens("SELECT \(unescaped: Self.columns) FROM access_token ORDER BY created_at_us DESC, id")
    }

    public func revoke(_ idOrName: String) async throws -> AccessToken {
        let now = journal.clock.now()
        return try await journal.transaction { connection in
            let rows = try await connection.query(
                """
                UPDATE access_token SET revoked_at_us = \(now.microseconds)
                WHERE id = (SELECT id FROM access_token WHERE revoked_at_us IS NULL AND (id = \(idOrName) OR name = \(idOrName))
                            ORDER BY id = \(idOrName) DESC LIMIT 1)
                RETURNING \(unescaped: Self.columns)
                """, logger: journal.logger)
            guard let token = try await Self.decode(rows).first else { throw AccessSecret.noActiveToken(idOrName) }
            _ = try await connection.query("DELETE FROM web_session WHERE token_id = \(token.id)", logger: journal.logger)
            // Every server that keeps answers about tokens forgets them at the commit.
            _ = try await connection.query("SELECT pg_notify(\(Self.channel), \(token.id))", logger: journal.logger)
            return token
        }
    }

    public func identify(_ secret: String) async throws -> AccessToken? {
        guard AccessSecret.isToken(secret) else { return nil }
        return try await tokens(
            "SELECT \(unescaped: Self.columns) FROM access_token WHERE hash = \(AccessSecret.hash(secret)) AND revoked_at_us IS NULL"
        ).first
    }

    public func startSession(for token: AccessToken, seconds: Int) async throws -> String {
        let secret = AccessSecret.newSession()
        let now = journal.clock.now().microseconds
        try await journal.transaction { connection in
            _ = try await connection.query("DELETE FROM web_session WHERE expires_at_us <= \(now)", logger: journal.logger)
            _ = try await connection.query(
                """
                INSERT INTO web_session (hash, token_id, created_at_us, expires_at_us)
                VALUES (\(AccessSecret.hash(secret)), \(token.id), \(now), \(now + Int64(seconds) * 1_000_000))
                """, logger: journal.logger)
        }
        return secret
    }

    public func session(_ secret: String) async throws -> AccessToken? {
        guard AccessSecret.isSession(secret) else { return nil }
        let now = journal.clock.now().microseconds
        return try await tokens(
            """
            SELECT t.id, t.name, t.role, t.created_at_us, t.revoked_at_us FROM web_session s JOIN access_token t ON t.id = s.token_id
            WHERE s.hash = \(AccessSecret.hash(secret)) AND s.expires_at_us > \(now) AND t.revoked_at_us IS NULL
            """
        ).first
    }

    public func endSession(_ secret: String) async throws {
        try await execute("DELETE FROM web_session WHERE hash = \(AccessSecret.hash(secret))")
    }

    public func isActive(id: String) async throws -> Bool {
        let found = try await tokens("SELECT \(unescaped: Self.columns) FROM access_token WHERE id = \(id) AND revoked_at_us IS NULL")
        return !found.isEmpty
    }

    static let columns = "id, name, role, created_at_us, revoked_at_us"

    /// The channel a revocation is announced on (at its commit).
    static let channel = "tpj_tokens"

    /// Calls `revoked` once listening for revocations (a server keeping answers about tokens starts
    /// from nothing), then after each revocation anywhere, until the task is cancelled.
    public func followRevocations(_ revoked: @escaping @Sendable () -> Void) async throws(JournalError) {
        try await journal.whenNotified(on: Self.channel) { _ in
            revoked()
            return !Task.isCancelled
        }
    }

    private func execute(_ query: PostgresQuery) async throws(JournalError) {
        let logger = journal.logger
        try await journal.run { connection in _ = try await connection.query(query, logger: logger) }
    }

    private func tokens(_ query: PostgresQuery) async throws -> [AccessToken] {
        try await journal.run { connection in try await Self.decode(connection.query(query, logger: journal.logger)) }
    }

    private static func decode(_ rows: PostgresRowSequence) async throws -> [AccessToken] {
        var tokens: [AccessToken] = []
        for try await (id, name, role, created, revoked) in rows.decode((String, String, String, Int64, Int64?).self) {
            tokens.append(AccessToken(
                id: id, name: name, role: Role(rawValue: role) ?? .staff, created: Timestamp(microseconds: created),
                revoked: revoked.map(Timestamp.init(microseconds:))))
        }
        return tokens
    }
}
