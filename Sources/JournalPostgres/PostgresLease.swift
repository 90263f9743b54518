import Foundation
import Journal
import PostgresNIO

/// Work one server does for all the servers on a log — signing tree heads — held by one of them at a
/// time under a lease that it renews while it lives (``PostgresSchema/v6``). A server that dies
/// stops renewing, and once the lease has expired another takes it over. Times are the database's,
/// so the servers' clocks do not matter.
///
/// ```swift
/// let lease = PostgresLease(journal: journal, name: "tree-heads", holder: "node-a", seconds: 30)
/// if try await lease.acquire() { … }    // held until `seconds` from now; acquire again to renew
/// ```
public struct PostgresLease: Sendable {
    let journal: PostgresJournal
    /// What the lease is for.
    public let name: String
    /// Who asks for it: one name per server.
    public let holder: String
    /// How long a lease lasts without being renewed.
    public let seconds: Double

    public init(journal: PostgresJournal, name: String, holder: String, seconds: Double) {
        self.journal = journal
        self.name = name
        self.holder = holder
        self.seconds = seconds
    }

    /// Takes the lease when it is free or expired, or renews it when this holder has it; true when
    /// this holder holds it for `seconds` from now.
    public func acquire() async throws(JournalError) -> Bool {
        let query: PostgresQuery = """
            INSERT INTO lease (name, holder, expires_at) VALUES (\(name), \(holder), now() + \(seconds) * interval '1 second')
            ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
            WHERE lease.holder = excluded.holder OR lease.expires_at < now()
            RETURNING holder
            """
        return try await journal.run { connection in
            try await connection.query(query, logger: journal.logger).decode(String.self).first { _ in true } != nil
        }
    }

    /// Gives the lease up when this holder has it, so that another takes it over at once.
    public func release() async throws(JournalError) {
        try await journal.run { connection in
            _ = try await connection.query("DELETE FROM lease WHERE name = \(name) AND holder = \(holder)", logger: journal.logger)
        }
    }

    /// Who holds the lease now, if anybody does.
    public func currentHolder() async throws(JournalError) -> String? {
        try await journal.run { connection in
            try await connection.query("SELECT holder FROM lease WHERE name = \(name) AND expires_at >= now()", logger: journal.logger)
                .decode(String.self).first { _ in true }
        }
    }
}
