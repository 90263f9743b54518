import Foundation
import GRDB
import Journal

extension EventStore: AccessLogStore {
    /// Appends `records` to the access log in one transaction.
    public func recordAccesses(_ records: [AccessRecord]) throws(JournalError) {
        guard !records.isEmpty else { return }
        try writeTransaction { db in
            let insert = try db.cachedStatement(sql: """
                INSERT INTO access_log (atUs, tokenName, role, customerId, method, target, status) VALUES (?, ?, ?, ?, ?, ?, ?)
                """)
            for record in records {
                try insert.execute(arguments: [
                    record.at.microseconds, record.tokenName, record.role, record.customerId, record.method, record.target, record.status,
                ])
            }
        }
    }

    /// The reads recorded, oldest first: of one customer or all, from `since` on, at most `limit`.
    public func accesses(customerId: String? = nil, since: Timestamp? = nil, limit: Int = 1_000) throws(JournalError) -> [AccessRecord] {
        guard limit >= 1 else { throw .invalidArgument("the limit must be at least 1, got \(limit)") }
        var sql = "SELECT atUs, tokenName, role, customerId, method, target, status FROM access_log WHERE atUs >= ?"
        var arguments: StatementArguments = [since?.microseconds ?? Int64.min]
        if let customerId {
            sql += " AND customerId = ?"
            arguments += [customerId]
        }
        sql += " ORDER BY id LIMIT ?"
        arguments += [limit]
        return try read { db in
            try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
                AccessRecord(at: Timestamp(microseconds: row[0]), tokenName: row[1], role: row[2], customerId: row[3],
                             method: row[4], target: row[5], status: row[6])
            }
        }
    }
}
