import Foundation
import GRDB
import GRDBSQLite
import Journal
import Synchronization

/// The touchpoint log: append-only, hash-chained and bitemporal, in one SQLite file.
///
/// ```swift
/// let store = try EventStore(writer: JournalDatabase.open(path: "journal.sqlite"))
/// let result = try store.append(events, to: "C-1001", expecting: .exactly(4))
/// let history = try store.history(of: "C-1001", knownAt: try Timestamp(rfc3339: "2025-01-01T00:00:00Z"))
/// ```
///
/// ## Topics
/// - ``append(_:to:expecting:)``
/// - ``append(_:)``
/// - ``history(of:order:knownAt:occurredAfter:occurredBefore:)``
/// - ``events(after:limit:)``
/// - ``verify(from:through:progress:)``
public struct EventStore: Sendable {
    /// The log's connections; its readers also see the projections (``JournalDatabase``).
    public let writer: any DatabaseWriter
    /// Where projections are written: the projections' own file, or `writer` for a journal in memory.
    public let projectionWriter: any DatabaseWriter
    public let validator: EventValidator
    /// The data keys that seal personal values (``KeyStore``): the journal's `-keys` file, or a copy of shared keys.
    public let keys: KeyStore
    public let clock: JournalClock
    /// Tells this process's watchers of the journal that an append committed.
    let commits: CommitSignal
    /// How far ahead of the system clock a recording time may be (five minutes unless set).
    public var clockLimit: ClockLimit = .standard
    /// Whether appends extend the stored Merkle tree: off only to measure what it costs (`tools/bench-append`).
    @_spi(Benchmarks) public var extendsTree = true

    /// The journal file's path (`:memory:` for a journal in memory).
    public var path: String { writer.path }

    public init(writer: any DatabaseWriter, registry: SchemaRegistry = .bundled, clock: JournalClock = .live) throws(JournalError) {
        try self.init(writer: writer, registry: registry, clock: clock, sealing: true)
    }

    /// A store that, with `sealing: false`, stores personal values in the clear: only for measuring
    /// what sealing costs (`tools/bench-append`).
    @_spi(Benchmarks)
    public init(writer: any DatabaseWriter, registry: SchemaRegistry = .bundled, clock: JournalClock = .live, sealing: Bool) throws(JournalError) {
        try self.init(writer: writer, keys: KeyStore.keys(for: writer, clock: clock), registry: registry, clock: clock, sealing: sealing)
    }

    /// A store whose personal values are sealed with `keys` rather than its own key file: a node's
    /// copy of a shared log, whose keys are shared too (``KeyStore/init(copying:clock:)``).
    public init(writer: any DatabaseWriter, keys: KeyStore, registry: SchemaRegistry = .bundled, clock: JournalClock = .live) throws(JournalError) {
        try self.init(writer: writer, keys: keys, registry: registry, clock: clock, sealing: true)
    }

    private init(writer: any DatabaseWriter, keys: KeyStore, registry: SchemaRegistry, clock: JournalClock, sealing: Bool) throws(JournalError) {
        self.writer = writer
        self.keys = keys
        // Projections fold what analysts may see: personal values as pseudonyms, never the plaintext.
        let disclosure = Disclosure(keys: keys, mode: .pseudonym)
        self.projectionWriter = try JournalDatabase.projectionWriter(for: writer, function: disclosure.databaseFunction)
        self.validator = EventValidator(registry: registry, sealer: sealing ? keys : nil)
        self.clock = clock
        self.commits = CommitSignal.of(writer)
    }

    // MARK: Appending

    /// Appends `events` to one customer's stream, atomically: all are stored or none.
    ///
    /// Events whose `eventId` is already stored with identical content are not stored again; their
    /// stored positions are returned. The expected version is checked only when the batch has new events.
    ///
    /// - Throws: ``JournalError`` — `invalidEvent`, `concurrencyConflict`, `eventIdReused`, `unknownReference`, `storage`.
    @discardableResult
    public func append(
        _ events: [ProposedEvent], to customerId: String, expecting expected: ExpectedVersion = .any
    ) throws(JournalError) -> AppendResult {
        try append([AppendBatch(customerId: customerId, expected: expected, events: events)])[0]
    }

    /// Appends several customers' batches in one transaction: all are stored or none.
    @discardableResult
    public func append(_ batches: [AppendBatch]) throws(JournalError) -> [AppendResult] {
        let prepared = try prepare(batches)
        return try write(prepared)
    }

    /// Validates batches (in parallel for large inputs) and seals their personal values; the only
    /// database it touches is the key file, to make the keys of new data subjects in one transaction.
    public func prepare(_ batches: [AppendBatch]) throws(JournalError) -> [PreparedBatch] {
        let validator = self.validator
        let total = batches.reduce(0) { $0 + $1.events.count }
        if total < 2_000 || batches.count < 2 { return try prepareSerially(batches) }
        try validator.makeKeys(for: batches.map { ($0.customerId, $0.events) })
        let results = Mutex<[Int: Result<[PreparedEvent], JournalError>]>([:])
        let workers = max(1, ProcessInfo.processInfo.activeProcessorCount)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            var local: [Int: Result<[PreparedEvent], JournalError>] = [:]
            for index in stride(from: worker, to: batches.count, by: workers) {
                let batch = batches[index]
                do throws(JournalError) {
                    local[index] = .success(
                        try validator.prepare(batch.events, customerId: batch.customerId, inputIndices: batch.inputIndices))
                } catch {
                    local[index] = .failure(error)
                }
            }
            results.withLock { $0.merge(local) { first, _ in first } }
        }
        let all = results.withLock { $0 }
        var prepared: [PreparedBatch] = []
        prepared.reserveCapacity(batches.count)
        for (index, batch) in batches.enumerated() {
            switch all[index]! {
            case .success(let events):
                prepared.append(PreparedBatch(
                    customerId: batch.customerId, expected: batch.expected, events: events, inputIndices: batch.inputIndices))
            case .failure(let error):
                throw batches.count > 1 ? error.inBatch(of: batch.customerId) : error
            }
        }
        return prepared
    }

    /// Records prepared batches in one write transaction: all are stored or none.
    public func write(_ batches: [PreparedBatch]) throws(JournalError) -> [AppendResult] {
        try record(batches, eachOnItsOwn: false).map { outcome throws(JournalError) in try outcome.get() }
    }

    /// Records prepared batches in one write transaction, each in a savepoint of its own: a batch that
    /// fails leaves no trace and its error is returned in its place, the others are recorded.
    ///
    /// - Throws: ``JournalError/storage(_:)`` when the transaction itself fails (then nothing is recorded).
    public func writeEach(_ batches: [PreparedBatch]) throws(JournalError) -> [Result<AppendResult, JournalError>] {
        try record(batches, eachOnItsOwn: true)
    }

    /// The one way into the log: every append, group commit, pipelined write and generated world
    /// records its prepared batches here, in one write transaction. Without `eachOnItsOwn`, the first
    /// batch that fails rolls the transaction back and its error is thrown (naming its customer when
    /// there are several); with it, that batch alone is rolled back and its error returned in its place.
    private func record(_ batches: [PreparedBatch], eachOnItsOwn: Bool) throws(JournalError) -> [Result<AppendResult, JournalError>] {
        let clock = self.clock, limit = clockLimit, tree = extendsTree
        return try appendTransaction { db in
            var writer = try AppendWriter(db: db, clock: clock, limit: limit, tree: tree)
            var outcomes: [Result<AppendResult, JournalError>] = []
            outcomes.reserveCapacity(batches.count)
            for batch in batches {
                guard eachOnItsOwn else {
                    do {
                        outcomes.append(.success(try writer.append(batch)))
                    } catch let error as JournalError where batches.count > 1 {
                        throw error.inBatch(of: batch.customerId)
                    }
                    continue
                }
                let before = writer
                try db.execute(sql: "SAVEPOINT batch")
                do {
                    outcomes.append(.success(try writer.append(batch)))
                } catch let error as JournalError {
                    try db.execute(sql: "ROLLBACK TO batch")
                    writer = before
                    outcomes.append(.failure(error))
                }
                try db.execute(sql: "RELEASE batch")
            }
            return outcomes
        }
    }

    /// Runs `body`, which appends, in a write transaction, then tells this process's watchers of the
    /// journal (``CommitSignal``).
    func appendTransaction<T>(_ body: (Database) throws -> T) throws(JournalError) -> T {
        let result = try writeTransaction(body)
        commits.publish()
        return result
    }

    /// Runs `body` in a write transaction; any error comes out as a ``JournalError``.
    func writeTransaction<T>(_ body: (Database) throws -> T) throws(JournalError) -> T {
        do {
            return try writer.write(body)
        } catch let error as JournalError {
            throw error
        } catch let error as DatabaseError {
            throw JournalDatabase.translate(error, path: writer.path)
        } catch {
            throw .storage("append failed: \(error)")
        }
    }

    // MARK: Reading

    /// The position of the last event (0 for an empty journal).
    public func head() throws(JournalError) -> Int64 {
        try read { db in try Int64.fetchOne(db.cachedStatement(sql: "SELECT coalesce(max(position), 0) FROM event")) ?? 0 }
    }

    /// The customer's current stream version (0 when the customer has no events).
    public func streamVersion(of customerId: String) throws(JournalError) -> Int {
        try read { db in try Self.streamVersion(of: customerId, in: db) }
    }

    /// The customer's stream version as `db` sees it (0 when the customer has no events).
    public static func streamVersion(of customerId: String, in db: Database) throws -> Int {
        try Int.fetchOne(
            db.cachedStatement(sql: "SELECT coalesce(max(streamVersion), 0) FROM event WHERE customerId = ?"), arguments: [customerId]) ?? 0
    }

    /// A customer's history.
    ///
    /// - Parameters:
    ///   - order: stream order (as recorded) or business-time order (as it happened).
    ///   - knownAt: only events known at or before this instant (``RecordedEvent/knownAt``): what was known then.
    ///   - occurredAfter: only events whose business time is at or after this instant.
    ///   - occurredBefore: only events whose business time is before this instant.
    public func history(
        of customerId: String, order: HistoryOrder = .stream, knownAt: Timestamp? = nil,
        occurredAfter: Timestamp? = nil, occurredBefore: Timestamp? = nil
    ) throws(JournalError) -> [RecordedEvent] {
        var sql = "SELECT \(EventRow.columns) FROM event WHERE customerId = ?"
        var arguments: StatementArguments = [customerId]
        if let knownAt {
            sql += " AND coalesce(sourceRecordedAtUs, recordedAtUs) <= ?"
            arguments += [knownAt.microseconds]
        }
        if let occurredAfter {
            sql += " AND occurredAtUs >= ?"
            arguments += [occurredAfter.microseconds]
        }
        if let occurredBefore {
            sql += " AND occurredAtUs < ?"
            arguments += [occurredBefore.microseconds]
        }
        sql += order == .stream ? " ORDER BY streamVersion" : " ORDER BY occurredAtUs, streamVersion"
        return try read { db in
            let events = try EventRow.fetchAll(db, sql: sql, arguments: arguments)
            try Self.requireIntact(events, in: db)
            return events
        }
    }

    /// Checks that none of the customer's events was altered in the file (``requireIntact(_:in:)``):
    /// views read from projections call it before they show the customer.
    ///
    /// - Throws: ``JournalError/tampered(position:customerId:)``.
    public func requireIntact(customerId: String) throws(JournalError) {
        _ = try history(of: customerId)
    }

    /// Whether the customer has events, after checking them as ``requireIntact(customerId:)`` does — only those
    /// not yet checked by an earlier call, while no other connection can have changed the journal since
    /// (``CheckedHistories``): for views that show the customer from projections, on every read.
    ///
    /// - Throws: ``JournalError/tampered(position:customerId:)``.
    public func checkHistory(of customerId: String) throws(JournalError) -> Bool {
        let memory: CheckedHistories
        do {
            memory = try CheckedHistories.of(writer)
        } catch {
            throw .storage("cannot watch \(path) for changes: \(error)")
        }
        // Taken before the read's snapshot begins: a read older than a new epoch neither trusts nor is remembered.
        let epoch = memory.epoch
        var asksWriter = false
        defer { if asksWriter { memory.requestWriterLook(writer) } }
        return try read { db in
            let look = try memory.look(readingOn: db, since: epoch)
            asksWriter = look.asksWriter
            let checked = look.trusts ? memory.checkedEvents(of: customerId, in: epoch) : 0
            let newer = try EventRow.fetchAll(
                db.cachedStatement(sql: "SELECT \(EventRow.columns) FROM event WHERE customerId = ? AND streamVersion > ? ORDER BY streamVersion"),
                arguments: [customerId, checked])
            try Self.requireIntact(newer, in: db)
            memory.remember(customerId, checked: checked + newer.count, in: epoch)
            return checked + newer.count > 0
        }
    }

    /// Recomputes each event's hash from its stored content and `prevHash`, and checks that the next
    /// event of the log names that hash as its `prevHash`: a read that meets an event changed in the
    /// file since it was written — its hash rewritten with it or not — refuses, rather than show it. (A
    /// rewrite that re-hashed the whole chain after it is what `tpj verify --head` finds.)
    ///
    /// - Throws: ``JournalError/tampered(position:customerId:)`` naming the first such event.
    static func requireIntact(_ events: [RecordedEvent], in db: Database) throws {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1024)
        let next = try db.cachedStatement(sql: "SELECT prevHash FROM event WHERE position = ?")
        for event in events {
            let linked = try Data.fetchOne(next, arguments: [event.position + 1]).map { Array($0) == event.hash } ?? true
            guard linked, EventChain.expectedHash(of: event, buffer: &buffer) == event.hash else {
                throw JournalError.tampered(position: event.position, customerId: event.customerId)
            }
        }
    }

    /// Events of the whole journal after `position`, in global order, at most `limit`; disclosed by
    /// `disclosure` when one is given (their payloads straight from the stored bytes).
    public func events(after position: Int64, limit: Int, disclosedBy disclosure: Disclosure? = nil) throws(JournalError) -> [RecordedEvent] {
        guard limit >= 0 else { throw .invalidArgument("limit must be 0 or more, got \(limit)") }
        return try read { db in try Self.events(after: position, limit: limit, in: db, disclosedBy: disclosure) }
    }

    /// Events after `position` read on a connection the caller holds (e.g. inside a write transaction).
    public static func events(after position: Int64, limit: Int, in db: Database, disclosedBy disclosure: Disclosure? = nil) throws -> [RecordedEvent] {
        // Cached: followers read this after every append, and compiling it costs more than running it.
        try EventRow.fetchAll(
            db.cachedStatement(sql: "SELECT \(EventRow.columns) FROM event WHERE position > ? ORDER BY position LIMIT ?"),
            arguments: [position, limit], disclosedBy: disclosure)
    }

    /// Calls `body` for each event after `position` in global order, reading in pages, disclosed by
    /// `disclosure` when one is given; stops when `body` returns false.
    public func forEachEvent(
        after position: Int64, pageSize: Int = 10_000, disclosedBy disclosure: Disclosure? = nil, _ body: (RecordedEvent) throws -> Bool
    ) throws {
        // Reading the whole log discloses values of most keys: one read of them all beats a look-up each.
        disclosure?.keys.loadAllKeys()
        var next = position
        while true {
            let page = try events(after: next, limit: pageSize, disclosedBy: disclosure)
            for event in page where try !body(event) { return }
            guard let last = page.last, page.count == pageSize else { return }
            next = last.position
        }
    }

    /// Counts and extent of the journal.
    public func stats() throws(JournalError) -> JournalStats {
        try read { db in
            let row = try Row.fetchOne(db, sql: """
                SELECT count(*), count(DISTINCT customerId), coalesce(max(position), 0),
                       min(recordedAtUs), max(recordedAtUs), min(occurredAtUs), max(occurredAtUs)
                FROM event
                """)!
            let types = try Row.fetchAll(db, sql: "SELECT type, count(*) FROM event GROUP BY type ORDER BY count(*) DESC, type")
            let pageCount = try Int64.fetchOne(db, sql: "PRAGMA page_count") ?? 0
            let pageSize = try Int64.fetchOne(db, sql: "PRAGMA page_size") ?? 0
            func instant(_ index: Int) -> Timestamp? { (row[index] as Int64?).map(Timestamp.init(microseconds:)) }
            return JournalStats(
                events: row[0], customers: row[1], headPosition: row[2],
                firstRecorded: instant(3), lastRecorded: instant(4), firstOccurred: instant(5), lastOccurred: instant(6),
                eventsByType: types.map { ($0[0], $0[1]) }, databaseBytes: pageCount * pageSize)
        }
    }

    /// Closes the journal's connections, first copying its write-ahead logs into the journal's files
    /// and truncating them, so that a short-lived command leaves no growing `-wal` behind. It does not
    /// wait: when another process (a server) is reading them, it does what it can, and that process's
    /// checkpointer does the rest later. The store is not used after this.
    public func close() {
        for case let pool as DatabasePool in [writer, projectionWriter] {
            pool.writeWithoutTransaction { db in
                sqlite3_busy_timeout(db.sqliteConnection, 0)
                try? db.execute(sql: "PRAGMA main.wal_checkpoint(TRUNCATE)")
            }
            try? pool.close()
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws(JournalError) -> T {
        do {
            return try writer.read(body)
        } catch let error as JournalError {
            throw error
        } catch let error as DatabaseError {
            throw JournalDatabase.translate(error, path: writer.path)
        } catch {
            throw .storage("read failed: \(error)")
        }
    }
}

/// Counts and extent of a journal.
public struct JournalStats: Sendable {
    public var events: Int64
    public var customers: Int64
    public var headPosition: Int64
    public var firstRecorded: Timestamp?
    public var lastRecorded: Timestamp?
    public var firstOccurred: Timestamp?
    public var lastOccurred: Timestamp?
    public var eventsByType: [(type: String, count: Int64)]
    public var databaseBytes: Int64
}
