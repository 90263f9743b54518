import GRDB
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
    /// Reason codes of the score, e.g. `PROMISE_BROKEN arrival +6h`.
    public var reasons: [String]
    /// The promise measured at this touchpoint (`arrival`, `part`, …) and whether it was kept.
    public var promiseKind: String?
    public var promiseKept: Bool?

    /// The columns ``init(row:)`` reads, in its order.
    static let columns = """
        position, eventId, customerId, occurredAtUs, occurredAt, recordedAtUs, type, kind, caseId, assetId, siteId, actor,
        payload, originalPayload, status, amendedBy, score, impact, moment, reasons, promiseKind, promiseKept
        """

    /// Reads a row of ``columns`` by index (a timeline of hundreds of rows is read per request).
    init(row: Row) {
        position = row[0]
        eventId = row[1]
        customerId = row[2]
        occurred = Timestamp(microseconds: row[3])
        occurredAt = row[4]
        recorded = Timestamp(microseconds: row[5])
        type = row[6]
        kind = row[7]
        caseId = row[8]
        assetId = row[9]
        siteId = row[10]
        actor = row[11]
        payload = row[12]
        originalPayload = row[13]
        status = row[14]
        amendedBy = row[15]
        score = row[16]
        impact = row[17]
        isMoment = (row[18] as Int?) == 1
        let reasonsText: String? = row[19]
        if let reasonsText, case .array(let items)? = try? JSONParser.parse(reasonsText) {
            reasons = items.compactMap(\.stringValue)
        } else {
            reasons = []
        }
        promiseKind = row[20]
        promiseKept = (row[21] as Int?).map { $0 == 1 }
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
}

extension JourneyTimeline {
    /// A customer's timeline from the projected tables, in business-time order.
    public static func entries(of customerId: String, filter: TimelineFilter = TimelineFilter(), in db: Database) throws -> [TimelineEntry] {
        try entries(of: customerId, filter: filter, table: ProjectionTables.view("timeline", "entry"), db)
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
            try apply(events, db, tables)
            return try Self.entries(of: customerId, filter: filter, table: tables["entry"], db)
        }
    }

    private static func entries(of customerId: String, filter: TimelineFilter, table: String, _ db: Database) throws -> [TimelineEntry] {
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
        return try Row.fetchAll(db.cachedStatement(sql: sql), arguments: arguments).map(TimelineEntry.init(row:))
    }
}
