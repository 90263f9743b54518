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

    public init(afterPosition: Int64 = 0) {
        self.afterPosition = afterPosition
    }
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

    /// Calls `body` with the stored columns of each event that `filter` selects, in position order,
    /// read in place (no event value per row: exports format straight from these), in pages of
    /// `pageSize` in short read transactions. Returns the number of events read.
    @discardableResult
    public func scanBytes(_ filter: EventFilter, pageSize: Int = 20_000, _ body: (StoredEventBytes) throws -> Void) throws -> Int64 {
        var next = filter.afterPosition
        var count: Int64 = 0
        while true {
            var page = filter
            page.afterPosition = next
            let (read, last) = try read { db -> (Int, Int64) in
                let (sql, arguments) = Self.query(page, columns: StoredEventColumns.names, limit: pageSize)
                let statement = try db.cachedStatement(sql: sql)
                let rows = try Row.fetchCursor(statement, arguments: arguments)
                var read = 0
                var last = next
                while try rows.next() != nil {
                    let event = StoredEventColumns.read(statement.sqliteStatement)
                    try body(event)
                    last = event.position
                    read += 1
                }
                return (read, last)
            }
            count += Int64(read)
            guard read == pageSize else { return count }
            next = last
        }
    }

    /// At most `limit` events that `filter` selects, in position order, and the position the read got
    /// to: the last event's when `limit` were found, else the head of the log then (a later page
    /// continues from there without reading the same positions again).
    public func events(matching filter: EventFilter, limit: Int) throws -> (events: [RecordedEvent], readThrough: Int64) {
        try read { db in
            let events = try Self.events(matching: filter, limit: limit, in: db)
            if events.count == limit, let last = events.last { return (events, last.position) }
            let head = try Int64.fetchOne(db, sql: "SELECT coalesce(max(position), 0) FROM event") ?? 0
            return (events, max(head, filter.afterPosition))
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

/// The columns a byte scan reads, and how a row of them becomes ``StoredEventBytes``.
private enum StoredEventColumns {
    static let names = """
        position, eventId, customerId, streamVersion, type, schemaVersion, occurredAt, recordedAtUs, sourceRecordedAtUs, \
        caseId, assetId, siteId, actor, source, correlationId, causationId, importRef, payload
        """

    static func read(_ statement: OpaquePointer) -> StoredEventBytes {
        func text(_ column: Int32) -> UnsafeRawBufferPointer? {
            guard let start = sqlite3_column_text(statement, column) else { return nil }
            return UnsafeRawBufferPointer(start: start, count: Int(sqlite3_column_bytes(statement, column)))
        }
        func integer(_ column: Int32) -> Int64? {
            sqlite3_column_type(statement, column) == SQLITE_NULL ? nil : sqlite3_column_int64(statement, column)
        }
        let empty = UnsafeRawBufferPointer(start: nil, count: 0)
        return StoredEventBytes(
            position: sqlite3_column_int64(statement, 0), eventId: text(1) ?? empty, customerId: text(2) ?? empty,
            streamVersion: sqlite3_column_int64(statement, 3), type: text(4) ?? empty, schemaVersion: sqlite3_column_int64(statement, 5),
            occurredAt: text(6) ?? empty, recordedAtUs: sqlite3_column_int64(statement, 7), sourceRecordedAtUs: integer(8),
            caseId: text(9), assetId: text(10), siteId: text(11), actor: text(12), source: text(13), correlationId: text(14),
            causationId: text(15), importRef: text(16), payload: text(17) ?? empty)
    }
}
