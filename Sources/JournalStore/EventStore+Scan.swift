import GRDB
import GRDBSQLite
import Journal

/// Which events a scan of the log reads.
public struct EventFilter: Sendable, Hashable {
    /// Only this customer's events.
    public var customerId: String?
    /// Only events of these types (all when empty).
    public var types: [String] = []
    /// Only events that occurred at or after this time.
    public var occurredAfter: Timestamp?
    /// Only events that occurred before this time.
    public var occurredBefore: Timestamp?
    /// Only events known by this time (the source's recording time for imported history, else the journal's).
    public var knownAt: Timestamp?
    /// Only events after this position.
    public var afterPosition: Int64 = 0
    /// Only events at or before this position.
    public var throughPosition: Int64?

    public init(afterPosition: Int64 = 0) {
        self.afterPosition = afterPosition
    }
}

/// Whole customers of the log, from `first` to `last` in customer-id order, and their events through the
/// position the group was cut at.
public struct CustomerGroup: Sendable, Hashable {
    public var first: String
    public var last: String
    public var events: Int
}

extension EventStore {
    /// Calls `body` with each event that `filter` selects, in position order, reading pages of
    /// `pageSize` in short read transactions (memory stays flat, appends are not held up). Returns the
    /// number of events read.
    @discardableResult
    public func scan(_ filter: EventFilter, pageSize: Int = 20_000, _ body: (RecordedEvent) throws -> Void) throws -> Int64 {
        var next = filter.afterPosition
        var count: Int64 = 0
        while true {
            var page = filter
            page.afterPosition = next
            let events = try read { db in try Self.events(matching: page, limit: pageSize, in: db) }
            for event in events { try body(event) }
            count += Int64(events.count)
            guard let last = events.last, events.count == pageSize else { return count }
            next = last.position
        }
    }

    /// Calls `body` with the stored columns of each event that `filter` selects, in position order, as
    /// bytes (no event value per row: exports format straight from these). Each page of `pageSize` is
    /// copied out of a short read transaction before `body` sees it, so a slow consumer (a paused pipe)
    /// never holds a read open. Returns the number of events read.
    @discardableResult
    public func scanBytes(_ filter: EventFilter, pageSize: Int = 20_000, _ body: (StoredEventBytes) throws -> Void) throws -> Int64 {
        precondition(pageSize > 0, "a page holds at least one event")
        var next = filter.afterPosition
        var count: Int64 = 0
        var page = StoredEventPage()
        while true {
            var pageFilter = filter
            pageFilter.afterPosition = next
            page.removeAll()
            try read { db in
                let (sql, arguments) = Self.query(pageFilter, columns: StoredEventPage.columns, limit: pageSize)
                let statement = try db.cachedStatement(sql: sql)
                let rows = try Row.fetchCursor(statement, arguments: arguments)
                while try rows.next() != nil { page.append(statement.sqliteStatement) }
            }
            try page.forEach(body)
            count += Int64(page.count)
            guard page.count == pageSize, let last = page.lastPosition else { return count }
            next = last
        }
    }

    /// The log through `position` cut into groups of whole customers, in customer-id order, of about
    /// `groupSize` events each (a customer with more is a group of its own); ``events(of:through:)``
    /// reads a group. Corrections and voids name an earlier event of their own customer (appends refuse
    /// others), so a group holds everything that changes its customers' touchpoints.
    ///
    /// - Throws: ``JournalError/invalidArgument(_:)`` when `groupSize` is less than 1.
    public func customerGroups(through position: Int64, groupSize: Int) throws -> [CustomerGroup] {
        guard groupSize > 0 else { throw JournalError.invalidArgument("a group holds at least 1 event, got \(groupSize)") }
        let customers = try read { db in
            try Row.fetchAll(
                db, sql: "SELECT customerId, count(*) FROM event WHERE position <= ? GROUP BY customerId ORDER BY customerId",
                arguments: [position]
            ).map { (id: $0[0] as String, events: $0[1] as Int) }
        }
        var groups: [CustomerGroup] = []
        var start = customers.startIndex
        while start < customers.endIndex {
            var end = start, size = 0
            while end < customers.endIndex, size == 0 || size + customers[end].events <= groupSize {
                size += customers[end].events
                end += 1
            }
            groups.append(CustomerGroup(first: customers[start].id, last: customers[end - 1].id, events: size))
            start = end
        }
        return groups
    }

    /// The events of `group`'s customers through `position`, customer by customer in id order, each
    /// customer's in position order, read in one short read transaction. They are read to be folded:
    /// their chain hashes are left empty.
    public func events(of group: CustomerGroup, through position: Int64) throws -> [RecordedEvent] {
        try read { db in
            // In the order of the customers' index (a stream's versions follow its positions), so
            // nothing is sorted; `+position`: the customers' range picks the rows, not the position.
            try EventRow.fetchAll(
                db.cachedStatement(sql: """
                    SELECT \(EventRow.columnsWithoutHashes) FROM event WHERE customerId BETWEEN ? AND ? AND +position <= ?
                    ORDER BY customerId, streamVersion
                    """),
                arguments: [group.first, group.last, position])
        }
    }

    /// At most `limit` events that `filter` selects, in position order, and the position the read got
    /// to: the last event's when `limit` were found, else the head of the log then, or the filter's
    /// ``EventFilter/throughPosition`` when that comes first (a later page continues from there without
    /// reading the same positions again).
    public func events(matching filter: EventFilter, limit: Int) throws -> (events: [RecordedEvent], readThrough: Int64) {
        try read { db in
            let events = try Self.events(matching: filter, limit: limit, in: db)
            if events.count == limit, let last = events.last { return (events, last.position) }
            let head = try Int64.fetchOne(db, sql: "SELECT coalesce(max(position), 0) FROM event") ?? 0
            return (events, max(min(head, filter.throughPosition ?? head), filter.afterPosition))
        }
    }

    private static func events(matching filter: EventFilter, limit: Int, in db: Database) throws -> [RecordedEvent] {
        let (sql, arguments) = query(filter, columns: EventRow.columns, limit: limit)
        return try EventRow.fetchAll(db.cachedStatement(sql: sql), arguments: arguments)
    }

    /// The SELECT of `columns` of at most `limit` events that `filter` selects, in position order.
    private static func query(_ filter: EventFilter, columns: String, limit: Int) -> (String, StatementArguments) {
        var conditions = ["position > ?"]
        var arguments: [any DatabaseValueConvertible] = [filter.afterPosition]
        if let through = filter.throughPosition {
            conditions.append("position <= ?")
            arguments.append(through)
        }
        if let customerId = filter.customerId {
            conditions.append("customerId = ?")
            arguments.append(customerId)
        }
        if !filter.types.isEmpty {
            conditions.append("type IN (\(filter.types.map { _ in "?" }.joined(separator: ", ")))")
            arguments += filter.types.map { $0 as any DatabaseValueConvertible }
        }
        if let after = filter.occurredAfter {
            conditions.append("occurredAtUs >= ?")
            arguments.append(after.microseconds)
        }
        if let before = filter.occurredBefore {
            conditions.append("occurredAtUs < ?")
            arguments.append(before.microseconds)
        }
        if let knownAt = filter.knownAt {
            conditions.append("coalesce(sourceRecordedAtUs, recordedAtUs) <= ?")
            arguments.append(knownAt.microseconds)
        }
        let sql = "SELECT \(columns) FROM event WHERE \(conditions.joined(separator: " AND ")) ORDER BY position LIMIT ?"
        return (sql, StatementArguments(arguments + [limit]))
    }
}

/// A page of events copied out of SQLite: their text columns in one buffer, and where each lies.
private struct StoredEventPage {
    static let columns = """
        position, eventId, customerId, streamVersion, type, schemaVersion, occurredAt, recordedAtUs, sourceRecordedAtUs, \
        caseId, assetId, siteId, actor, source, correlationId, causationId, importRef, payload
        """
    /// The text columns, in the order of ``columns``.
    private static let textColumns: [Int32] = [1, 2, 4, 6, 9, 10, 11, 12, 13, 14, 15, 16, 17]
    private static let integersPerRow = 5

    private var bytes: [UInt8] = []
    /// Per row and text column: start in ``bytes`` and length, -1 for NULL.
    private var spans: [Int] = []
    /// Per row: position, streamVersion, schemaVersion, recordedAtUs, sourceRecordedAtUs (`Int64.min` for NULL).
    private var integers: [Int64] = []
    private(set) var count = 0

    var lastPosition: Int64? { count > 0 ? integers[(count - 1) * Self.integersPerRow] : nil }

    mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        spans.removeAll(keepingCapacity: true)
        integers.removeAll(keepingCapacity: true)
        count = 0
    }

    /// Copies the current row of `statement`.
    mutating func append(_ statement: OpaquePointer) {
        for column in Self.textColumns {
            if let text = sqlite3_column_text(statement, column) {
                let length = Int(sqlite3_column_bytes(statement, column))
                spans.append(bytes.count)
                spans.append(length)
                bytes.append(contentsOf: UnsafeBufferPointer(start: text, count: length))
            } else {
                spans.append(0)
                spans.append(-1)
            }
        }
        integers.append(sqlite3_column_int64(statement, 0))
        integers.append(sqlite3_column_int64(statement, 3))
        integers.append(sqlite3_column_int64(statement, 5))
        integers.append(sqlite3_column_int64(statement, 7))
        integers.append(sqlite3_column_type(statement, 8) == SQLITE_NULL ? Int64.min : sqlite3_column_int64(statement, 8))
        count += 1
    }

    /// Calls `body` with each row, its buffers pointing into the page.
    func forEach(_ body: (StoredEventBytes) throws -> Void) rethrows {
        try bytes.withUnsafeBytes { base in
            let empty = UnsafeRawBufferPointer(start: nil, count: 0)
            for row in 0..<count {
                let span = row * Self.textColumns.count * 2
                func text(_ index: Int) -> UnsafeRawBufferPointer? {
                    let length = spans[span + index * 2 + 1]
                    guard length >= 0 else { return nil }
                    return UnsafeRawBufferPointer(rebasing: base[spans[span + index * 2]..<(spans[span + index * 2] + length)])
                }
                let number = row * Self.integersPerRow
                let source = integers[number + 4]
                try body(StoredEventBytes(
                    position: integers[number], eventId: text(0) ?? empty, customerId: text(1) ?? empty,
                    streamVersion: integers[number + 1], type: text(2) ?? empty, schemaVersion: integers[number + 2],
                    occurredAt: text(3) ?? empty, recordedAtUs: integers[number + 3], sourceRecordedAtUs: source == Int64.min ? nil : source,
                    caseId: text(4), assetId: text(5), siteId: text(6), actor: text(7), source: text(8), correlationId: text(9),
                    causationId: text(10), importRef: text(11), payload: text(12) ?? empty))
            }
        }
    }
}
