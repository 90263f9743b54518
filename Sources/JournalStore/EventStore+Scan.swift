import GRDB
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
        let sql = "SELECT \(EventRow.columns) FROM event WHERE \(conditions.joined(separator: " AND ")) ORDER BY position LIMIT ?"
        return try EventRow.fetchAll(db.cachedStatement(sql: sql), arguments: StatementArguments(arguments + [limit]))
    }
}
