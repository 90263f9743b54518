import Foundation
import GRDB
import Journal

/// Finding a customer by id, name, machine serial, case or quote id, or city, from the facts projection.
public enum CustomerDirectory {
    public struct Match: Sendable, Hashable {
        public var customerId: String
        public var name: String?
        /// What matched when it was not the id or the name, e.g. `machine SN-BEND160-10003101`.
        public var matched: String?

        public var document: JSONValue {
            var members = [JSONMember("customerId", .string(customerId)), JSONMember("name", name.map(JSONValue.string) ?? .null)]
            if let matched { members.append(JSONMember("matched", .string(matched))) }
            return .object(members)
        }
    }

    /// A page of matches and how many there are in all.
    public struct Page: Sendable, Hashable {
        public var matches: [Match]
        public var total: Int

        public init(matches: [Match], total: Int) {
            self.matches = matches
            self.total = total
        }
    }

    /// The longest text searched for: SQLite refuses LIKE patterns much longer than 50,000 bytes, and
    /// no id or name is near this long.
    public static let longestQuery = 200

    /// Customers whose id starts with `text`, whose registered name contains it (case-insensitive for
    /// ASCII letters), or with a machine serial, case id, quote id or site city starting with it
    /// (case-insensitive): the exact id first, then ids and names, then the rest, each by customer id.
    /// At most `limit` from `offset` on, each with its latest registered name. `text` has at most
    /// ``longestQuery`` characters (callers refuse or cut longer ones).
    public static func search(_ text: String, limit: Int, offset: Int = 0, in db: Database) throws -> Page {
        let pattern = "%" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_") + "%"
        let low = text.lowercased()
        let found = """
            WITH found (customerId, rank, matched) AS (
                SELECT customerId, CASE WHEN customerId = ? THEN 0 ELSE 1 END, NULL FROM facts_fact
                WHERE kind = 'registered' AND (customerId LIKE ? ESCAPE '\\' OR key LIKE ? ESCAPE '\\')
                UNION ALL
                SELECT customerId, 2, kind || ' ' || value FROM facts_term WHERE term >= ? AND term < ?
            )
            """
        let arguments: StatementArguments = [text, String(pattern.dropFirst()), pattern, low, low + "\u{10FFFF}"]
        let total = try Int.fetchOne(db, sql: found + "SELECT count(DISTINCT customerId) FROM found", arguments: arguments) ?? 0
        let rows = try Row.fetchAll(db, sql: found + """
            SELECT customerId, min(rank) AS rank, min(matched) FROM found GROUP BY customerId
            ORDER BY rank, customerId LIMIT ? OFFSET ?
            """, arguments: arguments + [limit, offset])
        let names = try names(of: rows.map { $0[0] as String }, in: db)
        let matches = rows.map { row in
            Match(customerId: row[0], name: names[row[0] as String], matched: (row[1] as Int) == 2 ? row[2] : nil)
        }
        return Page(matches: matches, total: total)
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
