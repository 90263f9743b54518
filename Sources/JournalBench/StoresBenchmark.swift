import Foundation
import Journal
import JournalPostgres
import JournalStore
import JournalTesting

/// (p) The log's two stores side by side: the same prepared batches recorded through the log's
/// contract (``JournalLog/record(_:)``), a transaction per batch group, into a SQLite journal file
/// and into PostgreSQL on a throw-away server of this run (same disk, `fsync` and synchronous
/// commit on, as in production), alternating; then single-event appends into each.
///
/// Validation and sealing happen once, before the clocks start: this measures the stores.
enum StoresBenchmark {
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
        progress("    starting a durable PostgreSQL server")
        let server = try PostgresServer(durable: true)

        /// Records every transaction and then the single events; the batched time and the single latencies.
        func measure(_ log: some JournalLog) async throws -> (batched: Double, latencies: [Double]) {
            let start = DispatchTime.now().uptimeNanoseconds
            for batches in prepared { _ = try await log.record(batches) }
            let batched = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            guard try await log.head() == Int64(events) else { fail("a store holds \(try await log.head()) events, expected \(events)") }
            var latencies: [Double] = []
            for batches in singles {
                let start = DispatchTime.now().uptimeNanoseconds
                _ = try await log.record(batches)
                latencies.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            }
            return (batched, latencies.sorted())
        }
        var sqlite: [(batched: Double, latencies: [Double])] = [], postgres: [(batched: Double, latencies: [Double])] = []
        let path = directory + "/contract.sqlite"
        for round in 1...2 {
            removeDatabase(path)
            let store = try EventStore(writer: JournalDatabase.open(path: path))
            sqlite.append(try await measure(store))
            store.close()
            progress("    round \(round): SQLite \(Int(Double(events) / sqlite.last!.batched)) events/s")
            let url = try server.newDatabase()
            postgres.append(try await PostgresJournal.withJournal(url: url) { try await measure($0) })
            progress("    round \(round): PostgreSQL \(Int(Double(events) / postgres.last!.batched)) events/s")
        }
        removeDatabase(path)
        let bestSQLite = sqlite.min { $0.batched < $1.batched }!, bestPostgres = postgres.min { $0.batched < $1.batched }!
        func percentile(_ latencies: [Double], _ p: Double) -> JSONValue {
            guard !latencies.isEmpty else { return .null }
            return .number(JSONNumber((latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] * 100).rounded() / 100))
        }
        func rate(_ seconds: Double) -> JSONValue { .number(JSONNumber(Int64((Double(events) / seconds).rounded()))) }
        return [
            "events": .number(JSONNumber(Int64(events))),
            "transactions": .number(JSONNumber(Int64(prepared.count))),
            "sqliteRecordEventsPerSecond": rate(bestSQLite.batched),
            "postgresRecordEventsPerSecond": rate(bestPostgres.batched),
            "postgresOverSqliteRatio": .number(JSONNumber((bestSQLite.batched / bestPostgres.batched * 100).rounded() / 100)),
            "sqliteSingleRecordP50Ms": percentile(bestSQLite.latencies, 0.5),
            "sqliteSingleRecordP99Ms": percentile(bestSQLite.latencies, 0.99),
            "postgresSingleRecordP50Ms": percentile(bestPostgres.latencies, 0.5),
            "postgresSingleRecordP99Ms": percentile(bestPostgres.latencies, 0.99),
        ]
    }
}
