import Foundation
import GRDB
import Journal
import Synchronization

/// Bearer tokens with roles, kept in the journal file beside the log (table `access_token`, made by
/// the journal's migrations). Only their hashes are stored (``AccessSecret``); a lookup costs one
/// indexed read.
public struct AccessTokens: TokenStore {
    let writer: any DatabaseWriter
    let clock: JournalClock
    /// The connections ``identify(_:)`` reads through (nil in memory: the writer's), so that a lookup on
    /// a request's thread never waits for the pool's readers, which requests hold across suspension points.
    private let lookups: LookupConnections?

    public init(store: EventStore) {
        self.writer = store.writer
        self.clock = store.clock
        lookups = (writer as? DatabasePool).map { LookupConnections(path: $0.path) }
    }

    /// Creates a token; returns it with its secret, which cannot be shown again.
    public func create(name: String, role: Role) throws -> (token: AccessToken, secret: String) {
        let trimmed = try AccessSecret.tokenName(name)
        let secret = AccessSecret.newToken()
        let token = AccessToken(id: AccessSecret.newTokenId(), name: trimmed, role: role, created: clock.now(), revoked: nil)
        try writer.write { db in
            let active = try Int.fetchOne(db, sql: "SELECT count(*) FROM access_token WHERE name = ? AND revokedAtUs IS NULL", arguments: [trimmed]) ?? 0
            guard active == 0 else {
                throw AccessSecret.nameTaken(trimmed)
            }
            try db.execute(
                sql: "INSERT INTO access_token (id, name, role, hash, createdAtUs) VALUES (?, ?, ?, ?, ?)",
                arguments: [token.id, token.name, role.rawValue, AccessSecret.hash(secret), token.created.microseconds])
        }
        return (token, secret)
    }

    /// Every token, newest first.
    public func list() throws -> [AccessToken] {
        try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT id, name, role, createdAtUs, revokedAtUs FROM access_token ORDER BY createdAtUs DESC, id")
                .map(Self.token)
        }
    }

    /// Revokes the token with this id, or the active token with this name. Returns the token revoked.
    public func revoke(_ idOrName: String) throws -> AccessToken {
        try writer.write { db in
            let row = try Row.fetchOne(
                db, sql: """
                    SELECT id, name, role, createdAtUs, revokedAtUs FROM access_token
                    WHERE revokedAtUs IS NULL AND (id = ? OR name = ?)
                    """,
                arguments: [idOrName, idOrName])
            guard var token = row.map(Self.token) else {
                throw AccessSecret.noActiveToken(idOrName)
            }
            token.revoked = clock.now()
            try db.execute(sql: "UPDATE access_token SET revokedAtUs = ? WHERE id = ?", arguments: [token.revoked!.microseconds, token.id])
            try db.execute(sql: "DELETE FROM web_session WHERE tokenId = ?", arguments: [token.id])
            return token
        }
    }

    /// The active token with this secret, if any: one indexed read, short enough to run on the caller's
    /// thread (handing it to another thread cost more than the read). It runs on every request, so it
    /// is a single statement in its own implicit transaction: an explicit one (`read`) cost as much again.
    public func identify(_ secret: String) throws -> AccessToken? {
        guard AccessSecret.isToken(secret) else { return nil }
        let hash = AccessSecret.hash(secret)
        func find(_ db: Database) throws -> AccessToken? {
            let statement = try db.cachedStatement(
                sql: "SELECT id, name, role, createdAtUs, revokedAtUs FROM access_token WHERE hash = ? AND revokedAtUs IS NULL")
            return try Row.fetchOne(statement, arguments: [hash]).map(Self.token)
        }
        guard let lookups else { return try writer.unsafeReentrantRead(find) }
        return try lookups.read(find)
    }

    // MARK: Sessions of the web pages

    /// Starts a session of the pages for `token`, valid `seconds` (or until the token is revoked or the
    /// session ended); returns its secret for the cookie. Only its hash is stored, like a token's.
    public func startSession(for token: AccessToken, seconds: Int) throws -> String {
        let secret = AccessSecret.newSession()
        let now = clock.now()
        try writer.write { db in
            try db.execute(sql: "DELETE FROM web_session WHERE expiresAtUs <= ?", arguments: [now.microseconds])
            try db.execute(
                sql: "INSERT INTO web_session (hash, tokenId, createdAtUs, expiresAtUs) VALUES (?, ?, ?, ?)",
                arguments: [AccessSecret.hash(secret), token.id, now.microseconds, now.microseconds + Int64(seconds) * 1_000_000])
        }
        return secret
    }

    /// The token of a live session: not expired, not ended, its token not revoked.
    public func session(_ secret: String) throws -> AccessToken? {
        guard AccessSecret.isSession(secret) else { return nil }
        let hash = AccessSecret.hash(secret), now = clock.now().microseconds
        func find(_ db: Database) throws -> AccessToken? {
            let statement = try db.cachedStatement(sql: """
                SELECT t.id, t.name, t.role, t.createdAtUs, t.revokedAtUs FROM web_session s JOIN access_token t ON t.id = s.tokenId
                WHERE s.hash = ? AND s.expiresAtUs > ? AND t.revokedAtUs IS NULL
                """)
            return try Row.fetchOne(statement, arguments: [hash, now]).map(Self.token)
        }
        guard let lookups else { return try writer.unsafeReentrantRead(find) }
        return try lookups.read(find)
    }

    /// Ends a session (signing out): its cookie no longer signs anyone in.
    public func endSession(_ secret: String) throws {
        let hash = AccessSecret.hash(secret)
        try writer.write { db in try db.execute(sql: "DELETE FROM web_session WHERE hash = ?", arguments: [hash]) }
    }

    /// Whether the token with this id is still active (not revoked): asked again by long-lived requests.
    public func isActive(id: String) throws -> Bool {
        func find(_ db: Database) throws -> Bool {
            let statement = try db.cachedStatement(sql: "SELECT 1 FROM access_token WHERE id = ? AND revokedAtUs IS NULL")
            return try Bool.fetchOne(statement, arguments: [id]) ?? false
        }
        guard let lookups else { return try writer.unsafeReentrantRead(find) }
        return try lookups.read(find)
    }

    static func token(_ row: Row) -> AccessToken {
        AccessToken(
            id: row["id"], name: row["name"], role: Role(rawValue: row["role"]) ?? .staff,
            created: Timestamp(microseconds: row["createdAtUs"]), revoked: (row["revokedAtUs"] as Int64?).map(Timestamp.init(microseconds:)))
    }

}

/// Read-only connections to the journal file, each used by one lookup at a time and kept for the next.
///
/// Requests of different priorities look tokens up (reads run below appends, ``ReadPriority``); with one
/// shared connection an append could wait for a read that holds it while the cores run other work.
/// Here a lookup takes an idle connection, or opens one when none is idle, so there are never more
/// connections than lookups that once ran at the same moment.
final class LookupConnections: Sendable {
    let path: String
    private let connections = Mutex((idle: [DatabaseQueue](), opened: 0))

    init(path: String) { self.path = path }

    /// Connections opened so far.
    var opened: Int { connections.withLock { $0.opened } }

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        let connection = try connections.withLock { $0.idle.popLast() } ?? open()
        defer { connections.withLock { $0.idle.append(connection) } }
        return try connection.unsafeReentrantRead(body)
    }

    private func open() throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(5)
        configuration.label = "tokens"
        let connection = try DatabaseQueue(path: path, configuration: configuration)
        connections.withLock { $0.opened += 1 }
        return connection
    }
}
