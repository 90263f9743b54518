import Foundation
import Journal
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Synchronization

/// The log in a PostgreSQL database, under the same contract as the SQLite journal (``JournalLog``):
/// gapless positions in commit order, gapless stream versions, atomic batches, expected versions,
/// idempotent re-sends, the same canonical form and hash chain, and a schema that refuses any change
/// to a recorded event (``PostgresSchema``).
///
/// ```swift
/// try await PostgresJournal.withJournal(url: "postgres://tpj@db.example/journal") { journal in
///     let results = try await journal.record(prepared)
/// }
/// ```
public final class PostgresJournal: JournalLog {
    let client: PostgresClient
    /// The threads of the client's connections and of the followers'.
    let loops: any EventLoopGroup
    let location: PostgresURL
    public let clock: JournalClock
    /// How far ahead of the system clock a recording time may be.
    public let clockLimit: ClockLimit
    let logger: Logger

    init(client: PostgresClient, loops: any EventLoopGroup, location: PostgresURL, clock: JournalClock, clockLimit: ClockLimit, logger: Logger) {
        self.client = client
        self.loops = loops
        self.location = location
        self.clock = clock
        self.clockLimit = clockLimit
        self.logger = logger
    }

    /// Runs `body` with the journal in the database at `url`, making its schema when the database has
    /// none; the connections close when `body` returns.
    ///
    /// `url` is `postgres://user[:password]@host[:port]/database`; `?host=/directory` connects through
    /// the server's Unix socket in that directory instead (as libpq's URLs do).
    public static func withJournal<T: Sendable>(
        url: String, clock: JournalClock = .live, clockLimit: ClockLimit = .standard,
        _ body: (PostgresJournal) async throws -> T
    ) async throws -> T {
        let location = try PostgresURL(url)
        try await location.checkReachable()
        // The log's connections on a thread of their own: an append that locks the head first (a large
        // one, or one whose plans went stale) holds it across its round trips, which a server busy
        // answering reads on its other threads must not stretch.
        let loops = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let client = PostgresClient(configuration: location.configuration, eventLoopGroup: loops)
        do {
            let result = try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await client.run() }
                defer { group.cancelAll() }
                let journal = PostgresJournal(
                    client: client, loops: loops, location: location, clock: clock, clockLimit: clockLimit, logger: Logger(label: "tpj.postgres"))
                try await journal.migrate()
                return try await body(journal)
            }
            try? await loops.shutdownGracefully()
            return result
        } catch {
            try? await loops.shutdownGracefully()
            throw error
        }
    }

    /// A location as output may show it: the password of a `postgres://` URL replaced by `***`;
    /// anything else as it is.
    public static func redacted(_ text: String) -> String {
        guard let at = text.firstIndex(of: "@"), let scheme = text.range(of: "://"), scheme.upperBound < at else { return text }
        let credentials = text[scheme.upperBound..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return text }
        return String(text[..<credentials.index(after: colon)]) + "***" + String(text[at...])
    }

    /// Applies the migrations this database has not seen, together in one transaction, one process at
    /// a time. A database whose schema is current is only read, so an application role without the
    /// right to change the schema (``grantAccess(to:)``) opens it.
    func migrate() async throws(JournalError) {
        let applied = try await run { connection in try await Self.appliedMigrations(connection, logger: self.logger) }
        guard PostgresSchema.migrations.contains(where: { !applied.contains($0.name) }) else { return }
        do {
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query("SELECT pg_advisory_xact_lock(7262853)", logger: logger)
                try await connection.query(
                    "CREATE TABLE IF NOT EXISTS tpj_migration (name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
                    logger: logger)
                let applied = try await Self.appliedMigrations(connection, logger: logger)
                for (name, statements) in PostgresSchema.migrations where !applied.contains(name) {
                    for statement in statements { try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger) }
                    try await connection.query("INSERT INTO tpj_migration (name) VALUES (\(name))", logger: logger)
                }
            }
        } catch {
            let cause = (error as? PostgresTransactionError).flatMap { $0.closureError ?? $0.commitError } ?? error
            // 42501: insufficient privilege.
            guard let refused = cause as? PSQLError, refused.serverInfo?[.sqlState] == "42501" else { throw Self.translate(cause) }
            let pending = PostgresSchema.migrations.map(\.name).filter { !applied.contains($0) }
            throw .storage(
                "the journal's schema needs \(pending.joined(separator: ", ")), which this role may not apply "
                    + "(\(refused.serverInfo?[.message] ?? "permission denied")): open it once as the role that owns the schema")
        }
    }

    /// The names of the migrations applied to the database; none when it has no journal yet.
    static func appliedMigrations(_ connection: PostgresConnection, logger: Logger) async throws -> Set<String> {
        let exists = try await connection.query("SELECT to_regclass('tpj_migration') IS NOT NULL", logger: logger)
            .decode(Bool.self).first { _ in true } ?? false
        guard exists else { return [] }
        var applied: Set<String> = []
        for try await name in try await connection.query("SELECT name FROM tpj_migration", logger: logger).decode(String.self) {
            applied.insert(name)
        }
        return applied
    }

    /// Lets `role` read the log and append to it, and nothing more: it cannot change or remove an
    /// event, move the head, or alter or drop the schema, which stays its owner's. Run as the owner.
    ///
    /// - Throws: ``JournalError/storage(_:)`` when the role does not exist or this role may not grant.
    public func grantAccess(to role: String) async throws(JournalError) {
        try await transaction { connection in
            for statement in PostgresSchema.grants(to: role) {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: self.logger)
            }
        }
    }

    // MARK: JournalLog

    public func record(_ batches: [PreparedBatch]) async throws(JournalError) -> [AppendResult] {
        try await appendEach([batches])[0].get()
    }

    /// Records several independent calls together — one statement, one commit, one wait for the
    /// disk and one hold of the head for all of them — each still all or nothing: a call that fails
    /// (a stale expected version, a reused id, an unknown reference) is left out alone and gets its
    /// error, the others are recorded. A failure of the statement itself fails every call.
    public func recordEach(_ calls: [[PreparedBatch]]) async -> [Result<[AppendResult], JournalError>] {
        do {
            return try await appendEach(calls)
        } catch {
            return calls.map { _ in .failure(error) }
        }
    }

    /// Plans made stale by other appends before the head is locked for the next one.
    static let unlockedAttempts = 3

    /// How one plan ended.
    private enum Attempt: Sendable {
        case recorded([Result<[AppendResult], JournalError>])
        /// Another append committed between the reads and the statement.
        case stale
    }

    /// Plans `calls` against the log as read and records their new events in one statement
    /// (``PostgresAppend``). A plan made stale by another append is made again, up to
    /// ``unlockedAttempts`` times; then, and for an append of more rows than one statement takes, the
    /// reads and the inserts run in one transaction that locks the head first, where nothing can make
    /// the plan stale.
    private func appendEach(_ calls: [[PreparedBatch]]) async throws(JournalError) -> [Result<[AppendResult], JournalError>] {
        let batches = calls.flatMap { $0 }
        let clock = clock, limit = clockLimit, logger = logger
        /// `head` is the head as locked by the transaction `connection` is in; nil outside one.
        @Sendable func attempt(_ connection: PostgresConnection, head: PostgresAppend.LockedHead?) async throws -> Attempt {
            var append = try await PostgresAppend.load(batches, on: connection, logger: logger)
            let outcomes = calls.map { batches in
                let before = append
                do throws(JournalError) {
                    return Result<[AppendResult], JournalError>.success(try append.plan(call: batches))
                } catch {
                    append = before
                    return .failure(error)
                }
            }
            guard !append.isEmpty else { return .recorded(outcomes) }
            if let head {
                try await append.commit(on: connection, under: head, clock: clock, limit: limit, logger: logger)
            } else {
                do {
                    try await append.commit(on: connection, clock: clock, limit: limit, logger: logger)
                } catch where PostgresAppend.isStale(error) {
                    return .stale
                }
            }
            return .recorded(outcomes.map { outcome in outcome.map { results in results.map(append.resolve) } })
        }
        // More events than one statement takes (re-sends among them or not) go under the lock at once.
        if batches.reduce(0, { $0 + $1.events.count }) <= PostgresEventRow.rowsPerStatement {
            for _ in 0..<Self.unlockedAttempts {
                if case .recorded(let outcomes) = try await run({ connection in try await attempt(connection, head: nil) }) {
                    return outcomes
                }
            }
        }
        return try await transaction { connection in
            let head = try await PostgresAppend.LockedHead.lock(on: connection, logger: logger)
            guard case .recorded(let outcomes) = try await attempt(connection, head: head) else {
                throw JournalError.storage("an append found the log changed while it held the head")
            }
            return outcomes
        }
    }

    public func recordVerbatim(_ events: [RecordedEvent]) async throws(JournalError) {
        guard !events.isEmpty else { return }
        try await transaction { connection in
            let head = try await PostgresAppend.LockedHead.lock(on: connection, logger: self.logger)
            var walk = ChainWalk(after: head.position, hash: head.hash, recordedUs: head.recorded.microseconds)
            for event in events {
                if let reason = walk.step(event) {
                    throw JournalError.invalidArgument("event \(event.position) does not extend this journal: \(reason)")
                }
            }
            try await PostgresEventRow.insert(events, on: connection, logger: self.logger)
        }
    }

    public func head() async throws(JournalError) -> Int64 {
        try await run { connection in
            try await connection.query("SELECT position FROM log_head", logger: self.logger).decode(Int64.self).first { _ in true } ?? 0
        }
    }

    public func readEvents(after position: Int64, limit: Int) async throws(JournalError) -> [RecordedEvent] {
        guard limit >= 0 else { throw .invalidArgument("limit must be 0 or more, got \(limit)") }
        return try await run { connection in
            try await PostgresEventRow.fetch(
                "SELECT \(unescaped: PostgresEventRow.columns) FROM event WHERE position > \(position) ORDER BY position LIMIT \(limit)",
                on: connection, logger: self.logger)
        }
    }

    public func readHistory(of customerId: String) async throws(JournalError) -> [RecordedEvent] {
        try await run { connection in
            try await PostgresEventRow.fetch(
                "SELECT \(unescaped: PostgresEventRow.columns) FROM event WHERE customer_id = \(customerId) ORDER BY stream_version",
                on: connection, logger: self.logger)
        }
    }

    public func verifyChain() async throws(JournalError) -> VerificationReport {
        try await transaction { connection in
            // One snapshot for the whole walk.
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: self.logger)
            let head = try await connection.query("SELECT position FROM log_head", logger: self.logger)
                .decode(Int64.self).first { _ in true } ?? 0
            var report = VerificationReport(first: 1, last: head, checked: 0, head: head, lastHash: nil, failure: nil)
            var walk = ChainWalk()
            let rows = try await connection.query(
                "SELECT \(unescaped: PostgresEventRow.columns) FROM event ORDER BY position", logger: self.logger)
            for try await row in rows {
                let event: RecordedEvent
                do {
                    event = try PostgresEventRow.decode(row)
                } catch {
                    report.failure = VerificationFailure(position: walk.position + 1, reason: "\(error)")
                    return report
                }
                if let reason = walk.step(event) {
                    report.failure = VerificationFailure(position: event.position, reason: reason)
                    return report
                }
                report.checked += 1
            }
            if report.checked > 0 { report.lastHash = walk.hash }
            if walk.position < head {
                report.failure = VerificationFailure(position: walk.position + 1, reason: "event \(walk.position + 1) is missing: the log ends at \(walk.position)")
            }
            return report
        }
    }

    /// Vacuums and analyzes the tables a copy fills: the planner's statistics, and the new rows marked
    /// visible to all once rather than by the autovacuum that a million new rows set off, which would
    /// rewrite the whole table while the first nodes serve. A role that does not own the tables is
    /// warned by the server and changes nothing.
    public func settleAfterBulkLoad() async throws(JournalError) {
        try await run { connection in
            _ = try await connection.query("VACUUM (ANALYZE) event, key_subject, data_key", logger: self.logger)
        }
    }

    // MARK: Following

    /// Follows the log after `position`: calls `body` with each page of newer events, in position
    /// order, as they commit, until `body` returns false or the task is cancelled.
    ///
    /// Woken by the notification each append sends at commit (`LISTEN tpj_log`), not by polling. The
    /// follower listens before it reads, on a connection of its own, so no commit falls between a read
    /// and the wait; positions commit in their order, so a read after a notification never skips one.
    public func follow(
        after position: Int64, pageSize: Int = 1_000, _ body: ([RecordedEvent]) async throws -> Bool
    ) async throws(JournalError) {
        guard position >= 0, pageSize > 0 else { throw .invalidArgument("follow needs a position of 0 or more and a page size above 0") }
        var after = position
        try await whenNotified(on: "tpj_log") { connection in
            var page: [RecordedEvent]
            repeat {
                page = try await PostgresEventRow.fetch(
                    "SELECT \(unescaped: PostgresEventRow.columns) FROM event WHERE position > \(after) ORDER BY position LIMIT \(pageSize)",
                    on: connection, logger: self.logger)
                guard let last = page.last else { break }
                after = last.position
                guard try await body(page) else { return false }
            } while page.count == pageSize
            return true
        }
    }

    /// Calls `body` once listening on `channel`, then after each notification on it, until `body`
    /// returns false or the task is cancelled; `body` reads on the same connection, one of its own.
    func whenNotified(on channel: String, _ body: (PostgresConnection) async throws -> Bool) async throws(JournalError) {
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(
                on: loops.any(), configuration: location.connection, id: Self.followers.add(1, ordering: .relaxed).newValue, logger: logger)
        } catch {
            throw Self.translate(error)
        }
        do {
            try await connection.listen(on: channel) { notifications in
                var notified = notifications.makeAsyncIterator()
                repeat {
                    guard try await body(connection) else { return }
                } while try await notified.next() != nil
            }
            try? await connection.close()
        } catch {
            try? await connection.close()
            if error is CancellationError || Task.isCancelled { return }
            throw Self.translate(error)
        }
    }

    private static let followers = Atomic<Int>(1)

    // MARK: Connections

    /// Runs `body` on a connection; any error comes out as a ``JournalError``.
    func run<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws(JournalError) -> T {
        do {
            return try await client.withConnection { connection in try await body(connection) }
        } catch {
            throw Self.translate(error)
        }
    }

    /// Runs `body` in a transaction, committed when it returns and rolled back when it throws; any
    /// error comes out as a ``JournalError``.
    func transaction<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws(JournalError) -> T {
        do {
            return try await client.withTransaction(logger: logger) { connection in try await body(connection) }
        } catch let error as PostgresTransactionError {
            throw Self.translate(error.closureError ?? error.commitError ?? error.beginError ?? error)
        } catch {
            throw Self.translate(error)
        }
    }

    static func translate(_ error: any Error) -> JournalError {
        if let error = error as? JournalError { return error }
        if let error = error as? PSQLError, let message = error.serverInfo?[.message] {
            return .storage("PostgreSQL refused: \(message)")
        }
        return .storage("PostgreSQL: \(String(reflecting: error))")
    }
}

/// A `postgres://` URL taken apart into what the client needs.
struct PostgresURL {

    let configuration: PostgresClient.Configuration
    /// The same, for one connection of its own.
    let connection: PostgresConnection.Configuration
    /// Where the server is, as an error names it.
    let endpoint: String

    /// Opens one connection and closes it: the pool retries a server it cannot reach for a minute
    /// and then says only that it gave up, where this says at once what went wrong.
    ///
    /// - Throws: ``JournalError/storage(_:)`` naming the server and the reason.
    func checkReachable() async throws(JournalError) {
        do {
            let connection = try await PostgresConnection.connect(configuration: connection, id: 0, logger: Logger(label: "tpj.postgres"))
            try await connection.close()
        } catch let error as PSQLError {
            let reason = error.serverInfo?[.message] ?? error.underlying.map { "\($0)" } ?? "\(error.code)"
            throw .storage("cannot connect to PostgreSQL at \(endpoint): \(reason)")
        } catch {
            throw .storage("cannot connect to PostgreSQL at \(endpoint): \(error)")
        }
    }

    init(_ text: String) throws(JournalError) {
        guard let url = URLComponents(string: text), url.scheme == "postgres" || url.scheme == "postgresql" else {
            throw .invalidArgument("a PostgreSQL journal is named by a URL postgres://user@host[:port]/database, got \"\(PostgresJournal.redacted(text))\"")
        }
        let database = url.path.hasPrefix("/") ? String(url.path.dropFirst()) : url.path
        guard !database.isEmpty else { throw .invalidArgument("the URL \"\(PostgresJournal.redacted(text))\" names no database (postgres://user@host/database)") }
        let user = url.user ?? ProcessInfo.processInfo.environment["USER"] ?? "postgres"
        let socketDirectory = url.queryItems?.first { $0.name == "host" }?.value
        let port = url.port ?? 5432
        if let socketDirectory, socketDirectory.hasPrefix("/") {
            let socket = socketDirectory + "/.s.PGSQL.\(port)"
            configuration = PostgresClient.Configuration(unixSocketPath: socket, username: user, password: url.password, database: database)
            connection = PostgresConnection.Configuration(unixSocketPath: socket, username: user, password: url.password, database: database)
            endpoint = "\(socket), database \(database)"
        } else {
            guard let host = url.host, !host.isEmpty else {
                throw .invalidArgument("the URL \"\(PostgresJournal.redacted(text))\" names no host (postgres://user@host/database, or ?host=/socket/directory)")
            }
            configuration = PostgresClient.Configuration(
                host: host, port: port, username: user, password: url.password, database: database, tls: .disable)
            connection = PostgresConnection.Configuration(
                host: host, port: port, username: user, password: url.password, database: database, tls: .disable)
            endpoint = "\(host):\(port), database \(database)"
        }
    }
}
