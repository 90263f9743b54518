import Foundation
import GRDB
import Journal

/// Finding a customer by id or name, from the facts projection's registrations.
public enum CustomerDirectory {
    public struct Match: Sendable, Hashable {
        public var customerId: String
        public var name: String?

        public var document: JSONValue {
            ["customerId": .string(customerId), "name": name.map(JSONValue.string) ?? .null]
        }
    }

    /// The longest text searched for: SQLite refuses LIKE patterns much longer than 50,000 bytes, and
    /// no id or name is near this long.
    public static let longestQuery = 200

    /// Customers whose id starts with `text` or whose registered name contains it (case-insensitive
    /// for ASCII letters), exact id first; at most `limit`. Each comes with its latest registered name.
    /// `text` has at most ``longestQuery`` characters (callers refuse or cut longer ones).
    public static func search(_ text: String, limit: Int, in db: Database) throws -> [Match] {
        let pattern = "%" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_") + "%"
        let ids = try String.fetchAll(db, sql: """
            SELECT DISTINCT customerId FROM facts_fact
            WHERE kind = 'registered' AND (customerId LIKE ? ESCAPE '\\' OR key LIKE ? ESCAPE '\\')
            ORDER BY customerId <> ?, customerId LIMIT ?
            """, arguments: [String(pattern.dropFirst()), pattern, text, limit])
        let names = try names(of: ids, in: db)
        return ids.map { id in Match(customerId: id, name: names[id]) }
    }

    /// The latest registered name of each of `customerIds` that has one.
    public static func names(of customerIds: some Sequence<String>, in db: Database) throws -> [String: String] {
        let latestName = try db.cachedStatement(sql: """
            SELECT key FROM facts_fact WHERE customerId = ? AND kind = 'registered' ORDER BY position DESC, revision DESC LIMIT 1
            """)
        var names: [String: String] = [:]
        for id in customerIds { names[id] = try String.fetchOne(latestName, arguments: [id]) }
        return names
    }
}
