import Foundation
import Journal
import JournalPostgres
import JournalStore
import JournalTesting

/// (p) The log's two stores side by side: the same prepared batches recorded through the log's
/// contract (``JournalLog/record(_:)``), a transaction per batch group, into a SQLite journal file
/// and into PostgreSQL on a throw-away server of this run (same disk, `fsync` and synchronous
/// commit on, as in production), alternating; then single-event appends into each, one after the
/// other and from eight concurrent appenders (each waits for the head: the cost of gapless order) —
/// into PostgreSQL both directly and through its group committer.
///
/// Validation and sealing happen once, before the clocks start: this measures the stores.
enum StoresBenchmark {
    /// The server's settings beyond the defaults: a buffer cache and a WAL size for a write-heavy
    /// database, as its administrator would set them (the SQLite side has its 64 MiB page cache).
    static let settings = ["shared_buffers=256MB", "max_wal_size=4GB"]

    static func run(transactions: [[AppendBatch]], single: [ProposedEvent], singleCustomer: String, directory: String) async throws -> JSONValue {
        guard PostgresServer.isAvailable else {
            progress("(p) skipped: \(PostgresServer.unavailable)")
            return ["skipped": .string(PostgresServer.unavailable)]
        }
        progress("(p) SQLite and PostgreSQL through the log's contract: preparing the batches")
        let preparer = try EventStore(writer: JournalDatabase.inMemory())
        let prepared = try transactions.map { try preparer.prepare($0) }
        let singles = try single.map { try preparer.prepare([AppendBatch(customerId: singleCustomer, events: [$0])]) }
        let events = prepared.reduce(0) { $0 + $1.reduce(0) { $0 + $1.events.count } }
        progress("    starting a durable PostgreSQL server (\(settings.joined(separator: ", ")))")
        let server = try PostgresServer(durable: true, settings: settings)

        // Concurrent appenders of single events, a customer each: they all wait for the one head.
        var generator = TouchpointGenerator(seed: 9)
        let writers = 8
        func concurrentCalls(firstCustomer: Int) throws -> [[[PreparedBatch]]] {
            try (0..<writers).map { writer in
                let customer = TouchpointGenerator.customerId(firstCustomer + writer)
                return try generator.events(forCustomer: writer, count: max(1, single.count / writers)).map {
                    try preparer.prepare([AppendBatch(customerId: customer, events: [$0])])
                }
            }
        }
        let concurrent = try concurrentCalls(firstCustomer: 1_000_000), grouped = try concurrentCalls(firstCustomer: 2_000_000)

        /// Each writer's calls one after the other, all writers at once; the time, and the latencies sorted.
        func concurrently(
            _ calls: [[[PreparedBatch]]], _ record: @escaping @Sendable ([PreparedBatch]) async throws -> Void
        ) async throws -> (seconds: Double, latencies: [Double]) {
            var latencies: [Double] = []
            let seconds = try await elapsed {
                latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
                    for writer in calls {
                        group.addTask {
                            var latencies: [Double] = []
                            for batches in writer { latencies.append(try await elapsed { try await record(batches) } * 1000) }
                            return latencies
                        }
                    }
                    return try await group.reduce(into: []) { $0 += $1 }
                }
            }
            return (seconds, latencies.sorted())
        }

        /// Records every transaction, then the single events one after the other, then the concurrent
        /// ones; the batched time, the single latencies, and the concurrent time and latencies.
        func measure(_ log: some JournalLog) async throws -> Measured {
            var measured = Measured()
            measured.batched = try await elapsed { for batches in prepared { _ = try await log.record(batches) } }
            guard try await log.head() == Int64(events) else { fail("a store holds \(try await log.head()) events, expected \(events)") }
            for batches in singles { measured.single.append(try await elapsed { _ = try await log.record(batches) } * 1000) }
            measured.single.sort()
            (measured.concurrent, measured.concurrentLatencies) = try await concurrently(concurrent) { _ = try await log.record($0) }
            return measured
        }

        /// The concurrent appends again, through a group committer (PostgresGroupCommit).
        func measureGroupCommit(_ journal: PostgresJournal) async throws -> (seconds: Double, latencies: [Double]) {
            let commits = PostgresGroupCommit(journal: journal)
            return try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await commits.run() }
                defer { commits.close() }
                return try await concurrently(grouped) { _ = try await commits.record($0) }
            }
        }
        var sqlite: [Measured] = [], postgres: [Measured] = []
        let path = directory + "/contract.sqlite"
        for round in 1...2 {
            removeDatabase(path)
            let store = try EventStore(writer: JournalDatabase.open(path: path))
            sqlite.append(try await measure(store))
            store.close()
            progress("    round \(round): SQLite \(Int(Double(events) / sqlite.last!.batched)) events/s batched")
            let url = try server.newDatabase()
            try await PostgresJournal.withJournal(url: url) { journal in
                postgres.append(try await measure(journal))
                postgres[postgres.count - 1].groupCommit = try await measureGroupCommit(journal)
            }
            progress("    round \(round): PostgreSQL \(Int(Double(events) / postgres.last!.batched)) events/s batched")
        }
        removeDatabase(path)
        let bestSQLite = sqlite.min { $0.batched < $1.batched }!, bestPostgres = postgres.min { $0.batched < $1.batched }!
        func percentile(_ latencies: [Double], _ p: Double) -> JSONValue {
            guard !latencies.isEmpty else { return .null }
            return .number(JSONNumber((latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] * 100).rounded() / 100))
        }
        func rate(_ count: Int, _ seconds: Double) -> JSONValue { .number(JSONNumber(Int64((Double(count) / seconds).rounded()))) }
        let concurrentEvents = concurrent.reduce(0) { $0 + $1.count }
        return [
            "postgresSettings": .array(settings.map { .string($0) }),
            "events": .number(JSONNumber(Int64(events))),
            "transactions": .number(JSONNumber(Int64(prepared.count))),
            "sqliteRecordEventsPerSecond": rate(events, bestSQLite.batched),
            "postgresRecordEventsPerSecond": rate(events, bestPostgres.batched),
            "postgresOverSqliteRatio": .number(JSONNumber((bestSQLite.batched / bestPostgres.batched * 100).rounded() / 100)),
            "sqliteSingleRecordP50Ms": percentile(bestSQLite.single, 0.5),
            "sqliteSingleRecordP99Ms": percentile(bestSQLite.single, 0.99),
            "postgresSingleRecordP50Ms": percentile(bestPostgres.single, 0.5),
            "postgresSingleRecordP99Ms": percentile(bestPostgres.single, 0.99),
            "concurrentWriters": .number(JSONNumber(Int64(writers))),
            "sqliteConcurrentEventsPerSecond": rate(concurrentEvents, bestSQLite.concurrent),
            "sqliteConcurrentP99Ms": percentile(bestSQLite.concurrentLatencies, 0.99),
            "postgresConcurrentEventsPerSecond": rate(concurrentEvents, bestPostgres.concurrent),
            "postgresConcurrentP99Ms": percentile(bestPostgres.concurrentLatencies, 0.99),
            "postgresGroupCommitConcurrentEventsPerSecond": rate(concurrentEvents, bestPostgres.groupCommit.seconds),
            "postgresGroupCommitConcurrentP99Ms": percentile(bestPostgres.groupCommit.latencies, 0.99),
        ]
    }

    /// One store's times in one round: seconds, and latencies in milliseconds, sorted.
    struct Measured {
        var batched = 0.0
        var single: [Double] = []
        var concurrent = 0.0
        var concurrentLatencies: [Double] = []
        var groupCommit: (seconds: Double, latencies: [Double]) = (0, [])
    }

    static func elapsed(_ body: () async throws -> Void) async rethrows -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try await body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
}
