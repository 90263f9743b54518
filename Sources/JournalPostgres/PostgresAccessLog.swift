import Journal
import PostgresNIO

/// The access log in the database that holds the log (``PostgresSchema/v6``): every server on it
/// records the reads it answered there, so that an auditor sees them all, whichever server answered.
public struct PostgresAccessLog: AccessLogStore {
    let journal: PostgresJournal

    public init(journal: PostgresJournal) { self.journal = journal }

    public func recordAccesses(_ records: [AccessRecord]) async throws(JournalError) {
        guard !records.isEmpty else { return }
        var bindings = PostgresBindings(capacity: 7)
        bindings.append(PostgresArray(records.map(\.at.microseconds)))
        bindings.append(PostgresArray(records.map(\.tokenName)))
        bindings.append(PostgresArray(records.map(\.role)))
        bindings.append(PostgresArray(records.map(\.customerId)))
        bindings.append(PostgresArray(records.map(\.method)))
        bindings.append(PostgresArray(records.map(\.target)))
        bindings.append(PostgresArray(records.map { Int32($0.status) }))
        // WITH ORDINALITY: the rows keep the records' order, which the identity column then keeps.
        let query = PostgresQuery(unsafeSQL: """
            INSERT INTO access_log (at_us, token_name, role, customer_id, method, target, status)
            SELECT at_us, token_name, role, customer_id, method, target, status
            FROM unnest($1, $2, $3, $4, $5, $6, $7) WITH ORDINALITY AS r (at_us, token_name, role, customer_id, method, target, status, n)
            ORDER BY n
            """, binds: bindings)
        try await journal.run { connection in _ = try await connection.query(query, logger: journal.logger) }
    }

    public func accesses(customerId: String?, since: Timestamp?, limit: Int) async throws(JournalError) -> [AccessRecord] {
        guard limit >= 1 else { throw .invalidArgument("the limit must be at least 1, got \(limit)") }
        let from = since?.microseconds ?? Int64.min
        let query: PostgresQuery = """
            SELECT at_us, token_name, role, customer_id, method, target, status FROM access_log
            WHERE at_us >= \(from) AND (\(customerId)::text IS NULL OR customer_id = \(customerId))
            ORDER BY id LIMIT \(limit)
            """
        return try await journal.run { connection in
            var records: [AccessRecord] = []
            for try await (at, token, role, customer, method, target, status) in try await connection.query(query, logger: journal.logger)
                .decode((Int64, String, String, String, String, String, Int32).self)
            {
                records.append(AccessRecord(
                    at: Timestamp(microseconds: at), tokenName: token, role: role, customerId: customer, method: method, target: target, status: Int(status)))
            }
            return records
        }
    }
}
