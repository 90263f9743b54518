import GRDB
import Journal

/// A read model folded from the log into its own tables.
///
/// A projection owns a few tables. It creates them for a *generation* and writes only through the
/// physical names it is given, so that a rebuild can fill a new generation while readers still use
/// the old one through the views named `<name>_<table>`.
///
/// ```swift
/// struct CallCount: Projection {
///     let name = "callcount", version = 1, tables = ["total"]
///     func createTables(_ db: Database, _ names: ProjectionTables) throws {
///         try db.execute(sql: "CREATE TABLE \(names["total"]) (customerId TEXT PRIMARY KEY, calls INTEGER NOT NULL) STRICT")
///     }
///     func apply(_ events: [RecordedEvent], _ db: Database, _ names: ProjectionTables) throws { … }
/// }
/// ```
public protocol Projection: Sendable {
    /// Stable name: the checkpoint key and the prefix of its views. Lower-case letters and digits.
    var name: String { get }
    /// Bump to rebuild the projection from the log (new code, new tables).
    var version: Int { get }
    /// Logical table names; each is readable as the view `<name>_<table>`.
    var tables: [String] { get }
    /// Creates the tables of one generation, with the indexes its folds read.
    func createTables(_ db: Database, _ names: ProjectionTables) throws
    /// Completes the tables of one generation with what a rebuild's fold does without: indexes that
    /// readers use (and, for a projection that folds customers apart, those its catch-ups read), and
    /// triggers that keep derived rows in step. A rebuild calls it once its fold has filled the
    /// tables: an index built from the rows in place is one sorted pass, where one kept up during the
    /// fold has entries all over it written again at every batch. Everything else calls it right after
    /// ``createTables(_:_:)``. The default adds nothing.
    func completeTables(_ db: Database, _ names: ProjectionTables) throws
    /// Folds events, in position order, into the tables. Runs in the transaction that also moves the checkpoint.
    func apply(_ events: [RecordedEvent], _ db: Database, _ names: ProjectionTables) throws
    /// Finishes up to `limit` pieces of work that `apply` left for later because they are cheaper done
    /// once than once per batch, such as a document assembled from many rows; returns how many it
    /// finished (0 when nothing is left). A catch-up calls it in the transaction of the batch that
    /// reaches the head of the log, and in transactions of its own while more is left; a rebuild, once
    /// it has switched to the new tables and dropped the old ones (whose pages the work then fills),
    /// writes what ``prepareSettle(_:_:after:limit:)`` prepares and calls it for whatever is left.
    /// Readers see tables with settle work left, and must answer from them. The default does nothing.
    func settle(_ db: Database, _ names: ProjectionTables, limit: Int) throws -> Int
    /// Prepares up to `limit` pieces of the work ``settle(_:_:limit:)`` does, those after `piece` (nil:
    /// from the first) in the order the projection settles them, reading the tables through `db`, a
    /// read-only connection: a rebuild writes one batch while it prepares the next. Nil when nothing is
    /// left after `piece`. The default prepares nothing: ``settle(_:_:limit:)`` does it all.
    func prepareSettle(_ db: Database, _ names: ProjectionTables, after piece: String?, limit: Int) throws -> (any PreparedSettle)?
    /// Whether ``apply(_:_:_:)`` is handed the batch's events decoded (the default). A projection
    /// written in SQL reads its batch itself: it implements ``apply(batch:_:_:)`` instead.
    var decodesEvents: Bool { get }
    /// The types of event ``apply(_:_:_:)`` folds when it passes over all others: its batches then hold
    /// only events of these types, the others neither read nor decoded. Nil (the default): every event.
    var eventTypes: Set<String>? { get }
    /// Folds the events at positions after `batch.after` through `batch.through`. The default hands
    /// the decoded events to ``apply(_:_:_:)``.
    func apply(batch: ProjectionBatch, _ db: Database, _ names: ProjectionTables) throws
    /// Projections whose tables this one reads: a batch is folded only up to the positions they reached.
    var dependencies: [String] { get }
    /// Whether a customer's rows come from that customer's events alone — and from the corrections
    /// and voids of them — and not from the order in which customers are folded. A rebuild then folds
    /// groups of whole customers with ``fold(customers:)`` instead of the log in position order.
    /// The default is false.
    var foldsCustomersApart: Bool { get }
    /// Folds every event of a group of customers — customer by customer, each customer's in position
    /// order (``CustomerEvents/customers`` splits them) — into rows for tables a rebuild is filling: they have
    /// no rows of these customers yet, and none of what ``completeTables(_:_:)`` adds. A rebuild
    /// reads each group once for all such projections and calls it while the group before is being
    /// written, so it must not touch the database; the rows are written by
    /// ``FoldedCustomers/write(_:_:)`` in the group's transaction. Called only when
    /// ``foldsCustomersApart``; the default keeps the events for ``apply(_:_:_:)``.
    func fold(customers group: CustomerEvents) throws -> any FoldedCustomers
    /// Tables that only spare readers work: each row can be computed again from the other tables,
    /// and readers answer without it (the timeline's documents). A rebuild empties them in the
    /// generation it replaces as it starts, so that the new generation is written into their pages
    /// rather than at the end of the file; the replaced generation answers from its other tables
    /// meanwhile. The default is none.
    var cacheTables: [String] { get }
    /// Marks as settle work what the ``cacheTables`` of an active generation lack after a rebuild
    /// emptied them and stopped before its switch; ``settle(_:_:limit:)`` then writes it. The default
    /// does nothing.
    func refillCacheTables(_ db: Database, _ names: ProjectionTables) throws
}

extension Projection {
    public func completeTables(_ db: Database, _ names: ProjectionTables) throws {}
    public func settle(_ db: Database, _ names: ProjectionTables, limit: Int) throws -> Int { 0 }
    public func prepareSettle(_ db: Database, _ names: ProjectionTables, after piece: String?, limit: Int) throws -> (any PreparedSettle)? { nil }
    public var decodesEvents: Bool { true }
    public var eventTypes: Set<String>? { nil }
    public func apply(batch: ProjectionBatch, _ db: Database, _ names: ProjectionTables) throws {
        try apply(batch.events, db, names)
    }
    public var dependencies: [String] { [] }
    public var foldsCustomersApart: Bool { false }
    public func fold(customers group: CustomerEvents) throws -> any FoldedCustomers {
        EventsToApply(projection: self, events: group.events)
    }
    public var cacheTables: [String] { [] }
    public func refillCacheTables(_ db: Database, _ names: ProjectionTables) throws {}
}

/// The events of a group of whole customers, customer by customer, each customer's in position order,
/// as a rebuild reads them once for every projection that folds customers apart
/// (``Projection/fold(customers:)``), with each payload parsed once for all of them. They are read
/// to be folded: their chain hashes are empty.
public struct CustomerEvents: Sendable {
    public let events: [RecordedEvent]
    /// The payload of the event at the same index, parsed.
    public let payloads: [JSONValue]
    /// The indices of each customer's events, in the order of `events`.
    public let customers: [Range<Int>]

    /// `events`, their payloads parsed on the calling thread. (Parsed in two halves on two threads,
    /// the rebuild's memory after its fold rose by about 60 MiB at 1M events, and its time did not fall.)
    public init(_ events: [RecordedEvent]) {
        self.events = events
        var payloads: [JSONValue] = [], customers: [Range<Int>] = []
        payloads.reserveCapacity(events.count)
        var start = events.startIndex
        for index in events.indices {
            payloads.append(events[index].payloadJSON)
            // By the ids' bytes, as SQLite tells them apart.
            if index > start, !events[index].customerId.utf8.elementsEqual(events[start].customerId.utf8) {
                customers.append(start..<index)
                start = index
            }
        }
        if start < events.endIndex { customers.append(start..<events.endIndex) }
        self.payloads = payloads
        self.customers = customers
    }
}

/// A group of customers a rebuild has folded in memory, waiting to be written.
public protocol FoldedCustomers: Sendable {
    /// Writes the rows into the tables `names` of the generation being rebuilt, in the group's transaction.
    func write(_ db: Database, _ names: ProjectionTables) throws
}

/// Settle work prepared off the writer (``Projection/prepareSettle(_:_:after:limit:)``), waiting to be written.
public protocol PreparedSettle: Sendable {
    /// The last piece prepared: the next batch starts after it.
    var last: String { get }
    /// Writes the work into the tables `names`, in the writer's transaction, where the tables are as
    /// they were read; returns the pieces written.
    func write(_ db: Database, _ names: ProjectionTables) throws -> Int
}

/// Events of a projection that folds in its tables, applied when the group is written.
private struct EventsToApply: FoldedCustomers {
    let projection: any Projection
    let events: [RecordedEvent]

    func write(_ db: Database, _ names: ProjectionTables) throws {
        try projection.apply(events, db, names)
    }
}

/// The positions one fold transaction covers, and their events when the projection decodes them.
public struct ProjectionBatch: Sendable {
    /// The checkpoint the batch starts after.
    public var after: Int64
    /// The last position in the batch.
    public var through: Int64
    /// The events, in position order: those of the projection's ``Projection/eventTypes``, none for
    /// a projection that does not decode them.
    public var events: [RecordedEvent]

    public init(after: Int64, through: Int64, events: [RecordedEvent]) {
        self.after = after
        self.through = through
        self.events = events
    }
}

/// The physical table names of one generation of a projection.
public struct ProjectionTables: Sendable {
    public let projection: String
    public let generation: Int

    public init(projection: String, generation: Int) {
        self.projection = projection
        self.generation = generation
    }

    /// The physical name of the logical table `table`, e.g. `p_timeline_g2_entry`.
    public subscript(_ table: String) -> String {
        "\(Self.prefix(of: projection))\(generation)_\(table)"
    }

    /// What the physical names of every generation of `projection` start with, e.g. `p_timeline_g`.
    public static func prefix(of projection: String) -> String {
        "p_\(projection)_g"
    }

    /// The view that always shows the active generation of `table`, e.g. `timeline_entry`.
    public static func view(_ projection: String, _ table: String) -> String {
        "\(projection)_\(table)"
    }
}
