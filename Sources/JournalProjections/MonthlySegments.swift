import Foundation
import GRDB
import Journal
import JournalScoring

/// ABC segments fixed per month: as of any instant, a customer's segment is its rank by trailing
/// revenue at the start of that month (UTC), among the revenue known by then.
///
/// Segments only fall in order (every customer ranked above the last A is A, and so on), so the
/// facts projection stores for each month start the last customer of A and of B. One customer's
/// segment then costs its own facts and one row, not a pass over the portfolio.
public struct MonthlySegments: Sendable {
    /// The `fact` table or view the revenue is read from, and the table or view of stored boundaries.
    let facts: String
    let boundaries: String

    /// The segments of the facts projection's live tables.
    public static let projected = MonthlySegments(facts: ProjectionTables.view("facts", "fact"), boundaries: ProjectionTables.view("facts", "segment"))

    init(facts: String, boundaries: String) {
        self.facts = facts
        self.boundaries = boundaries
    }

    /// The rules the stored boundaries are computed with.
    public static let rules = SegmentRules()

    /// A customer's place in a month's ranking: more revenue first, then the smaller customer id.
    public struct Rank: Sendable, Hashable {
        public var revenue: Double
        public var customerId: String

        /// Whether this rank comes at or before `other`.
        func isAtOrBefore(_ other: Rank) -> Bool {
            revenue > other.revenue || (revenue == other.revenue && customerId <= other.customerId)
        }
    }

    /// Where the segments divide at one month start.
    public struct Boundaries: Sendable, Hashable {
        public var monthStart: Timestamp
        /// Customers with revenue in the window.
        public var customers: Int
        public var lastA: Rank?
        public var lastB: Rank?

        /// The segment of a customer with `revenue` in the window ending at ``monthStart``.
        public func segment(of customerId: String, revenue: Double) -> String {
            let rank = Rank(revenue: revenue, customerId: customerId)
            if revenue <= 0 { return "C" }
            if let lastA, rank.isAtOrBefore(lastA) { return "A" }
            if let lastB, rank.isAtOrBefore(lastB) { return "B" }
            return "C"
        }
    }

    static func createTable(_ db: Database, _ table: String) throws {
        try db.execute(sql: """
            CREATE TABLE \(table) (
                monthStartUs     INTEGER PRIMARY KEY,
                customers        INTEGER NOT NULL,
                lastARevenue     REAL,
                lastACustomerId  TEXT,
                lastBRevenue     REAL,
                lastBCustomerId  TEXT
            ) STRICT
            """)
    }

    // MARK: Months

    private static let calendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    /// The start (00:00 UTC on the 1st) of the month `instant` falls in.
    public static func monthStart(of instant: Timestamp) -> Timestamp {
        let seconds = instant.microseconds >= 0 ? instant.microseconds / 1_000_000 : (instant.microseconds - 999_999) / 1_000_000
        let date = Date(timeIntervalSince1970: Double(seconds))
        let start = calendar.date(from: calendar.dateComponents([.year, .month], from: date))!
        return Timestamp(microseconds: Int64(start.timeIntervalSince1970) * 1_000_000)
    }

    /// The first month start at or after `instant`.
    static func firstMonthStart(atOrAfter instant: Timestamp) -> Timestamp {
        let start = monthStart(of: instant)
        return start == instant ? start : nextMonthStart(after: start)
    }

    static func nextMonthStart(after monthStart: Timestamp) -> Timestamp {
        let date = Date(timeIntervalSince1970: Double(monthStart.microseconds / 1_000_000))
        let next = calendar.date(byAdding: .month, value: 1, to: date)!
        return Timestamp(microseconds: Int64(next.timeIntervalSince1970) * 1_000_000)
    }

    // MARK: Computing

    /// Each customer's trailing revenue at `monthStart`, from the facts known by then, summed in
    /// position order as ``Segmentation/trailingRevenue(_:asOf:windowDays:)`` sums one customer's.
    public func revenues(at monthStart: Timestamp, _ db: Database) throws -> [(customerId: String, revenue: Double)] {
        try revenues(at: [monthStart], db)[0]
    }

    /// Each customer's trailing revenue at each of `monthStarts` (in ascending order), in customer-id
    /// order: a year of months at a time, each from one pass over the revenue facts in their windows
    /// and the revisions of them, so that memory holds one year's sums per customer, not the log's invoices.
    func revenues(at monthStarts: [Timestamp], _ db: Database) throws -> [[(customerId: String, revenue: Double)]] {
        // Months within a year of the first of their group (the months asked for may lie years apart).
        var years: [[Timestamp]] = []
        for monthStart in monthStarts {
            if let first = years.last?.first, years[years.count - 1].count < 12,
               monthStart.microseconds - first.microseconds < Int64(Self.rules.windowDays) * 86_400_000_000 {
                years[years.count - 1].append(monthStart)
            } else {
                years.append([monthStart])
            }
        }
        return try years.flatMap { try revenues(atYearOf: $0, db) }
    }

    private func revenues(atYearOf monthStarts: [Timestamp], _ db: Database) throws -> [[(customerId: String, revenue: Double)]] {
        guard let first = monthStarts.first, let last = monthStarts.last else { return [] }
        let window = Int64(Self.rules.windowDays) * 86_400_000_000
        let range: StatementArguments = [first.microseconds - window, last.microseconds]
        // The customers with revenue in the windows, in the order SQLite compares text.
        let customers = try String.fetchAll(db, sql: """
            SELECT DISTINCT customerId FROM \(facts) WHERE kind = 'revenue' AND occurredAtUs > ? AND occurredAtUs <= ? ORDER BY customerId
            """, arguments: range)
        // By the ids' bytes, as SQLite tells them apart (two spellings of one text are two customers).
        let ranks = Dictionary(uniqueKeysWithValues: customers.enumerated().map { (Array($1.utf8), $0) })
        // Per month and customer: the sum so far, and whether an invoice counted (one of 0 counts too).
        var sums = [Double](repeating: 0, count: monthStarts.count * customers.count)
        var counted = [Bool](repeating: false, count: sums.count)
        // Each invoice that occurred in one of the windows, in position order, with its revisions in
        // revision order (a revision keeps the time its invoice occurred): its revenue, and the
        // revisions that are something else (a void). An invoice's amount is added to each month whose
        // window it falls in, as the latest revision known by the month's start has it, unless voided
        // or corrected into something that is not revenue: each sum is added up in position order.
        var revisions: [Revision] = []
        func add() {
            guard let occurred = revisions.first?.occurredAtUs, let rank = revisions.first(where: { $0.kind == "revenue" }).flatMap({ ranks[Array($0.customerId.utf8)] })
            else { return }
            for (month, monthStart) in monthStarts.enumerated() {
                let end = monthStart.microseconds
                guard occurred > end - window, occurred <= end,
                      let known = revisions.last(where: { $0.knownAtUs <= end }), known.kind == "revenue"
                else { continue }
                let index = month * customers.count + rank
                sums[index] = counted[index] ? sums[index] + known.amount : 0 + known.amount
                counted[index] = true
            }
        }
        let rows = try Row.fetchCursor(db, sql: """
            SELECT position, kind, customerId, occurredAtUs, knownAtUs, amount, revision FROM \(facts)
            WHERE kind = 'revenue' AND occurredAtUs > ?1 AND occurredAtUs <= ?2
            UNION ALL
            SELECT position, kind, '', occurredAtUs, knownAtUs, 0, revision FROM \(facts)
            WHERE revision > 0 AND kind <> 'revenue' AND occurredAtUs > ?1 AND occurredAtUs <= ?2
            ORDER BY 1, 7
            """, arguments: range)
        var position: Int64?
        while let row = try rows.next() {
            if row[0] != position {
                add()
                revisions.removeAll(keepingCapacity: true)
                position = row[0]
            }
            revisions.append(Revision(kind: row[1], customerId: row[2], occurredAtUs: row[3], knownAtUs: row[4], amount: row[5] ?? 0))
        }
        add()
        return monthStarts.indices.map { month in
            customers.indices.compactMap { rank in
                let index = month * customers.count + rank
                return counted[index] ? (customers[rank], sums[index]) : nil
            }
        }
    }

    /// One revision of an invoice's facts.
    private struct Revision {
        var kind: String
        var customerId: String
        var occurredAtUs: Int64
        var knownAtUs: Int64
        var amount: Double
    }

    /// The boundaries at `monthStart`, computed from the facts.
    public func computeBoundaries(at monthStart: Timestamp, _ db: Database) throws -> Boundaries {
        try computeBoundaries(at: [monthStart], db)[0]
    }

    /// The boundaries at each of `monthStarts` (in ascending order), computed from the facts.
    func computeBoundaries(at monthStarts: [Timestamp], _ db: Database) throws -> [Boundaries] {
        try zip(monthStarts, revenues(at: monthStarts, db)).map { monthStart, revenues in
            let assignments = Segmentation.assign(revenues, rules: Self.rules)
            func last(_ segment: String) -> Rank? {
                assignments.last { $0.segment == segment }.map { Rank(revenue: $0.revenue, customerId: $0.customerId) }
            }
            return Boundaries(monthStart: monthStart, customers: assignments.count, lastA: last("A"), lastB: last("B"))
        }
    }

    /// The boundaries at `monthStart`: stored by the fold, else computed on the spot (a month whose
    /// start no event known since has passed).
    public func boundaries(at monthStart: Timestamp, _ db: Database) throws -> Boundaries {
        let row = try Row.fetchOne(db, sql: """
            SELECT customers, lastARevenue, lastACustomerId, lastBRevenue, lastBCustomerId FROM \(boundaries) WHERE monthStartUs = ?
            """, arguments: [monthStart.microseconds])
        guard let row else { return try computeBoundaries(at: monthStart, db) }
        func rank(_ revenue: Int, _ customer: Int) -> Rank? {
            guard let id = row[customer] as String? else { return nil }
            return Rank(revenue: row[revenue], customerId: id)
        }
        return Boundaries(monthStart: monthStart, customers: row[0], lastA: rank(1, 2), lastB: rank(3, 4))
    }

    // MARK: Folding

    /// The month starts whose boundaries a revenue fact (or a revision of one) occurred at `occurredAtUs`
    /// and known at `knownAtUs` can change: those it is known by and inside whose window it falls.
    static func affectedMonths(occurredAtUs: Int64, knownAtUs: Int64) -> Range<Int64> {
        let from = max(knownAtUs, occurredAtUs)
        let to = occurredAtUs + Int64(rules.windowDays) * 86_400_000_000
        return from..<max(from, to)
    }

    /// Brings the stored boundaries up to date after a batch of facts: every month start from the
    /// first fact's to the latest known one has a row computed from all facts known by it. Revenue
    /// known at or before a stored month start (a correction, or history imported with its source's
    /// times) makes the months it affects (``affectedMonths(occurredAtUs:knownAtUs:)``) be computed again.
    func update(changed: [Range<Int64>], earliestKnown: Int64, latestKnown: Int64, _ db: Database) throws {
        let stored = try Row.fetchOne(db, sql: "SELECT min(monthStartUs), max(monthStartUs) FROM \(boundaries)")!
        let storedFirst: Int64? = stored[0], storedLast: Int64? = stored[1]
        var deleted = false
        if let storedLast {
            // Overlapping ranges merged: a large import deletes a few spans, not one per fact.
            var spans: [Range<Int64>] = []
            for range in changed.filter({ $0.lowerBound <= storedLast && !$0.isEmpty }).sorted(by: { $0.lowerBound < $1.lowerBound }) {
                if let last = spans.last, range.lowerBound <= last.upperBound {
                    spans[spans.count - 1] = last.lowerBound..<max(last.upperBound, range.upperBound)
                } else {
                    spans.append(range)
                }
            }
            let delete = try db.cachedStatement(sql: "DELETE FROM \(boundaries) WHERE monthStartUs >= ? AND monthStartUs < ?")
            for span in spans { try delete.execute(arguments: [span.lowerBound, span.upperBound]) }
            deleted = !spans.isEmpty
        }
        let first: Int64, last: Int64
        if let storedFirst, let storedLast {
            first = min(storedFirst, Self.firstMonthStart(atOrAfter: Timestamp(microseconds: earliestKnown)).microseconds)
            last = max(storedLast, Self.monthStart(of: Timestamp(microseconds: latestKnown)).microseconds)
        } else {
            // Nothing stored yet: the facts so far are known within one month, or this is the first batch.
            let known = try Row.fetchOne(db, sql: "SELECT min(knownAtUs), max(knownAtUs) FROM \(facts)")!
            first = Self.firstMonthStart(atOrAfter: Timestamp(microseconds: known[0] ?? earliestKnown)).microseconds
            last = Self.monthStart(of: Timestamp(microseconds: known[1] ?? latestKnown)).microseconds
        }
        // The common fold — facts of months already stored, none reaching back — has nothing to do.
        if !deleted, first == storedFirst, last == storedLast { return }
        let exists = try db.cachedStatement(sql: "SELECT 1 FROM \(boundaries) WHERE monthStartUs = ?")
        var missing: [Timestamp] = []
        var month = Timestamp(microseconds: first)
        while month.microseconds <= last {
            if try Row.fetchOne(exists, arguments: [month.microseconds]) == nil { missing.append(month) }
            month = Self.nextMonthStart(after: month)
        }
        // All at once: the revenue facts are read once for every month (a rebuild computes them all).
        let insert = try db.cachedStatement(sql: """
            INSERT INTO \(boundaries) (monthStartUs, customers, lastARevenue, lastACustomerId, lastBRevenue, lastBCustomerId)
            VALUES (?, ?, ?, ?, ?, ?)
            """)
        for found in try computeBoundaries(at: missing, db) {
            try insert.execute(arguments: [
                found.monthStart.microseconds, found.customers, found.lastA?.revenue, found.lastA?.customerId, found.lastB?.revenue,
                found.lastB?.customerId,
            ])
        }
    }
}
