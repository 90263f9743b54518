import GRDB
import GRDBSQLite
import Journal
import JournalStore

/// One touchpoint on a customer's timeline.
public struct TimelineEntry: Sendable, Hashable {
    public var position: Int64
    public var eventId: String
    public var customerId: String
    public var occurred: Timestamp
    /// Business time as the producer wrote it.
    public var occurredAt: String
    /// When it was known: the journal's `recordedAt`, or for a migrated event the source's recording time.
    public var recorded: Timestamp
    public var type: String
    /// The touchpoint kind (`hotline`, `visit`, `complaint`, …) from the schema, or `other`.
    public var kind: String
    public var caseId: String?
    public var assetId: String?
    public var siteId: String?
    public var actor: String?
    /// The payload with corrections applied.
    public var payload: String
    /// The payload as first recorded, when it was corrected.
    public var originalPayload: String?
    /// `recorded`, `corrected` or `voided`.
    public var status: String
    /// The correction or void that last changed this touchpoint.
    public var amendedBy: String?
    /// The moment-of-truth score on −100 … +100, for scored touchpoints.
    public var score: Int?
    /// c · s · a: how much this touchpoint moved the customer's memory.
    public var impact: Double?
    /// True when the rules count this touchpoint as a moment of truth.
    public var isMoment: Bool
    /// Reason codes of the score as stored: a canonical JSON array of strings.
    public var reasonsJSON: String?
    /// The promise measured at this touchpoint (`arrival`, `part`, …) and whether it was kept.
    public var promiseKind: String?
    public var promiseKept: Bool?
    /// True for `case.closed`, a completed visit that fixed the machine or a call that solved the problem: the case is closed.
    public var closesCase: Bool
    /// The complaint a `complaint.filed` or `complaint.resolved` is about.
    public var complaintId: String?

    /// Reason codes of the score, e.g. `PROMISE_BROKEN arrival +6h`.
    public var reasons: [String] {
        guard let reasonsJSON, case .array(let items)? = try? JSONParser.parse(reasonsJSON) else { return [] }
        return items.compactMap(\.stringValue)
    }

    /// The columns ``init(statement:)`` reads, in its order. The last two are read from the payload here,
    /// so that the flags need no payload parsed in Swift.
    static let columns = """
        position, eventId, customerId, occurredAtUs, occurredAt, knownAtUs, type, kind, caseId, assetId, siteId, actor,
        payload, originalPayload, status, amendedBy, score, impact, moment, reasons, promiseKind, promiseKept,
        CASE type WHEN 'case.closed' THEN 1 WHEN 'technician.visit.completed' THEN json_type(payload, '$.fixed') = 'true'
          WHEN 'hotline.call.received' THEN json_type(payload, '$.solvedOnCall') = 'true' ELSE 0 END,
        CASE WHEN type IN ('complaint.filed', 'complaint.resolved') AND json_type(payload, '$.complaintId') = 'text'
          THEN json_extract(payload, '$.complaintId') END
        """

    /// Reads the current row of a statement selecting ``columns``, through the C API: a timeline
    /// of hundreds of rows is read per request, and decoding through `Row` cost more than the query.
    init(statement s: SQLiteStatement) {
        position = sqlite3_column_int64(s, 0)
        eventId = Self.text(s, 1) ?? ""
        customerId = Self.text(s, 2) ?? ""
        occurred = Timestamp(microseconds: sqlite3_column_int64(s, 3))
        occurredAt = Self.text(s, 4) ?? ""
        recorded = Timestamp(microseconds: sqlite3_column_int64(s, 5))
        type = Self.text(s, 6) ?? ""
        kind = Self.text(s, 7) ?? ""
        caseId = Self.text(s, 8)
        assetId = Self.text(s, 9)
        siteId = Self.text(s, 10)
        actor = Self.text(s, 11)
        payload = Self.text(s, 12) ?? "null"
        originalPayload = Self.text(s, 13)
        status = Self.text(s, 14) ?? "recorded"
        amendedBy = Self.text(s, 15)
        score = sqlite3_column_type(s, 16) == SQLITE_NULL ? nil : Int(sqlite3_column_int64(s, 16))
        impact = sqlite3_column_type(s, 17) == SQLITE_NULL ? nil : sqlite3_column_double(s, 17)
        isMoment = sqlite3_column_int64(s, 18) == 1
        reasonsJSON = Self.text(s, 19)
        promiseKind = Self.text(s, 20)
        promiseKept = sqlite3_column_type(s, 21) == SQLITE_NULL ? nil : sqlite3_column_int64(s, 21) == 1
        closesCase = sqlite3_column_int64(s, 22) == 1
        complaintId = Self.text(s, 23)
    }

    private static func text(_ statement: SQLiteStatement, _ column: Int32) -> String? {
        guard let pointer = sqlite3_column_text(statement, column) else { return nil }
        return String(decoding: UnsafeBufferPointer(start: pointer, count: Int(sqlite3_column_bytes(statement, column))), as: UTF8.self)
    }

    /// True when a promise measured at this touchpoint was broken.
    public var promiseBroken: Bool { promiseKept == false }
}

/// Which part of a timeline to show.
public struct TimelineFilter: Sendable, Hashable {
    /// Touchpoints that occurred at or after this instant.
    public var from: Timestamp?
    /// Touchpoints that occurred before this instant.
    public var to: Timestamp?
    public var kinds: Set<String> = []
    public var assetId: String?
    public var caseId: String?

    public init(from: Timestamp? = nil, to: Timestamp? = nil, kinds: Set<String> = [], assetId: String? = nil, caseId: String? = nil) {
        self.from = from
        self.to = to
        self.kinds = kinds
        self.assetId = assetId
        self.caseId = caseId
    }

    /// Whether `entry` passes the filter, as the query of ``JourneyTimeline/entries(of:filter:in:)`` decides.
    public func admits(_ entry: TimelineEntry) -> Bool {
        if let from, entry.occurred < from { return false }
        if let to, entry.occurred >= to { return false }
        if !kinds.isEmpty && !kinds.contains(entry.kind) { return false }
        if let assetId, entry.assetId != assetId { return false }
        if let caseId, entry.caseId != caseId { return false }
        return true
    }
}

extension JourneyTimeline {
    /// A customer's timeline from the projected tables, in business-time order.
    public static func entries(of customerId: String, filter: TimelineFilter = TimelineFilter(), in db: Database) throws -> [TimelineEntry] {
        try entries(of: customerId, filter: filter, table: ProjectionTables.view("timeline", "entry"), db)
    }

    /// Appends a customer's whole timeline, as ``Documents/writeTimeline(_:into:)`` writes it, from the
    /// stored document; false (nothing appended) when there is none or it is stale.
    public static func appendDocument(of customerId: String, to output: inout [UInt8], in db: Database) throws -> Bool {
        let statement = try db.cachedStatement(sql: "SELECT entries FROM \(ProjectionTables.view("timeline", "doc")) WHERE customerId = ?")
        try statement.setArguments([customerId])
        let handle = statement.sqliteStatement
        defer { sqlite3_reset(handle) }
        let code = sqlite3_step(handle)
        guard code == SQLITE_ROW else {
            if code == SQLITE_DONE { return false }
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
        }
        guard sqlite3_column_type(handle, 0) == SQLITE_TEXT, let text = sqlite3_column_text(handle, 0) else { return false }
        output.append(contentsOf: UnsafeBufferPointer(start: text, count: Int(sqlite3_column_bytes(handle, 0))))
        return true
    }

    /// A customer's timeline from the projected tables of `store`'s journal.
    public func entries(of customerId: String, filter: TimelineFilter = TimelineFilter(), store: EventStore) throws -> [TimelineEntry] {
        try store.writer.read { db in try Self.entries(of: customerId, filter: filter, in: db) }
    }

    /// A customer's timeline as the journal knew it at `knownAt`: the same fold over the events
    /// recorded by then, computed on the spot, so any past answer can be reproduced.
    public func entries(
        of customerId: String, knownAt: Timestamp, filter: TimelineFilter = TimelineFilter(), store: EventStore
    ) throws -> [TimelineEntry] {
        let events = try store.history(of: customerId, knownAt: knownAt)
        let scratch = try DatabaseQueue()
        let tables = ProjectionTables(projection: name, generation: 1)
        return try scratch.write { db in
            try createTables(db, tables)
            try completeTables(db, tables)
            try apply(events, db, tables)
            return try Self.entries(of: customerId, filter: filter, table: tables["entry"], db)
        }
    }

    static func entries(of customerId: String, filter: TimelineFilter, table: String, _ db: Database) throws -> [TimelineEntry] {
        var sql = "SELECT \(TimelineEntry.columns) FROM \(table) WHERE customerId = ?"
        var arguments: StatementArguments = [customerId]
        if let from = filter.from {
            sql += " AND occurredAtUs >= ?"
            arguments += [from.microseconds]
        }
        if let to = filter.to {
            sql += " AND occurredAtUs < ?"
            arguments += [to.microseconds]
        }
        if !filter.kinds.isEmpty {
            sql += " AND kind IN (\(filter.kinds.map { _ in "?" }.joined(separator: ", ")))"
            arguments += StatementArguments(filter.kinds.sorted())
        }
        if let assetId = filter.assetId {
            sql += " AND assetId = ?"
            arguments += [assetId]
        }
        if let caseId = filter.caseId {
            sql += " AND caseId = ?"
            arguments += [caseId]
        }
        sql += " ORDER BY occurredAtUs, position"
        let statement = try db.cachedStatement(sql: sql)
        try statement.setArguments(arguments)
        let handle = statement.sqliteStatement
        // Reset when done: a statement left on a row would keep the read snapshot open.
        defer { sqlite3_reset(handle) }
        var entries: [TimelineEntry] = []
        while true {
            let code = sqlite3_step(handle)
            if code == SQLITE_DONE { return entries }
            guard code == SQLITE_ROW else {
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
            }
            entries.append(TimelineEntry(statement: handle))
        }
    }
}

extension TimelineEntry {
    /// The entry as a reader with `disclosure` sees it: its payloads and actor disclosed.
    public func disclosed(by disclosure: Disclosure) -> TimelineEntry {
        var entry = self
        entry.payload = disclosure.json(payload)
        entry.originalPayload = originalPayload.map(disclosure.json)
        entry.actor = disclosure.value(actor)
        return entry
    }
}
