import Foundation
import GRDB
import Journal
import JournalScoring
import JournalStore
import Synchronization

/// Keeps projections up to date with the log.
///
/// - Each projection's checkpoint is written in the same transaction as its tables: a batch is
///   applied exactly once, even across crashes and several processes.
/// - ``catchUp(batchSize:)`` folds the events after each checkpoint in batches.
/// - A projection whose ``Projection/version`` differs from the stored one is rebuilt into a new
///   generation of tables while the old generation keeps answering; views then switch atomically.
///   One rebuild runs at a time per journal, across processes (``RebuildLock``).
/// - ``follow(_:batchSize:_:)`` keeps catching up as appends arrive, woken by a ``JournalWatcher``;
///   ``wait(until:timeout:watcher:)`` blocks a reader until the projections have reached a position.
///
/// ```swift
/// let runner = ProjectionRunner(store: store, projections: [JourneyTimeline(registry: .bundled)])
/// try runner.catchUp()
/// ```
public struct ProjectionRunner: Sendable {
    public let store: EventStore
    public let projections: [any Projection]

    /// Told where the tables stand before each catch-up and whose events each fold transaction
    /// folded; a server keeps its in-memory answers true with it.
    public var observer: (any FoldObserver)?

    /// Asked before each transaction of a catch-up how many events (or pieces of settle work) it
    /// folds; nil folds the `batchSize` given and ``settleBatch``. A caller can size transactions by
    /// what else is going on (readers of the projections see each one as it commits).
    public var transactionSize: (@Sendable () -> Int)?

    public init(store: EventStore, projections: [any Projection]) {
        self.store = store
        self.projections = projections
    }

    /// The built-in projections — the journey timeline, scored with `rules`, the customer facts and the
    /// corrections the analyst views apply — then the `declared` ones, which read those views.
    public static func builtIn(store: EventStore, rules: MomentRules = .bundled, declared: [DeclaredProjection] = []) -> ProjectionRunner {
        ProjectionRunner(
            store: store,
            projections: [JourneyTimeline(registry: store.validator.registry, rules: rules), CustomerFacts(), Corrections()] + declared)
    }

    /// Brings every projection to the head of the log, in transactions of `batchSize` events; returns
    /// the checkpoints reached. A projection not built yet, or built by another version, is rebuilt
    /// first (in transactions of ``rebuildBatchSize``).
    ///
    /// - Parameter progress: told after each batch how far the fold has come (for a long first fold,
    ///   e.g. after a large import, which is a rebuild and tells each of its steps — from the threads
    ///   that fold, one call at a time).
    @discardableResult
    public func catchUp(batchSize: Int = 5_000, progress: ((FoldProgress) -> Void)? = nil) throws -> [String: Int64] {
        // Those of another version are rebuilt first, together.
        if try !stale(projections).isEmpty {
            try RebuildLock.holding(journalPath: store.writer.path) {
                // Another process may have rebuilt some while this one waited for the lock.
                let still = try stale(projections)
                if !still.isEmpty { try rebuild(still, batchSize: rebuildBatchSize, progress: progress) }
            }
        }
        var reached: [String: Int64] = [:]
        for projection in projections {
            reached[projection.name] = try catchUp(projection, batchSize: batchSize, progress: progress)
        }
        return reached
    }

    /// Rebuilds the named projections (all when `names` is empty) from position 0 into new tables,
    /// then switches to them, in transactions of `batchSize` positions (default ``rebuildBatchSize``).
    /// Projections that do not read each other are folded at the same time.
    /// Returns the number of events folded per projection (the positions passed, for one that folds
    /// only some ``Projection/eventTypes``). `progress` is told each step, and how far the fold has
    /// come after each batch — from the threads that fold, one call at a time.
    @discardableResult
    public func rebuild(_ names: [String] = [], batchSize: Int? = nil, progress: ((FoldProgress) -> Void)? = nil) throws -> [String: Int64] {
        let unknown = names.filter { name in !projections.contains { $0.name == name } }
        guard unknown.isEmpty else {
            throw JournalError.invalidArgument(
                "no projection named \(unknown.joined(separator: ", ")); there are \(projections.map(\.name).joined(separator: ", "))")
        }
        let chosen = projections.filter { names.isEmpty || names.contains($0.name) }
        return try RebuildLock.holding(journalPath: store.writer.path) {
            try rebuild(chosen, batchSize: batchSize ?? rebuildBatchSize, progress: progress).mapValues(\.folded)
        }
    }

    /// How long a follower waits for a change before it looks again anyway. An append's write-ahead log
    /// is written (and seen changing) a moment before its commit becomes visible to readers, which no
    /// file event announces; a follower that woke in that moment finds its events at the next look.
    static let recheckSeconds = 0.25

    /// Follows the log: catches up, hands the checkpoints reached to `body`, waits until the journal
    /// changes (an append by any process) or ``recheckSeconds`` pass, and again — until `body` returns
    /// false. To stop a follower from another thread, make `body` return false and call
    /// ``JournalWatcher/interrupt()``.
    public func follow(_ watcher: JournalWatcher, batchSize: Int = 5_000, _ body: ([String: Int64]) throws -> Bool) throws {
        while true {
            let reached = try catchUp(batchSize: batchSize)
            guard try body(reached) else { return }
            watcher.wait(timeout: Self.recheckSeconds)
        }
    }

    /// Waits until every projection, at its current version, has folded the log up to `position` —
    /// folded by a follower in this or another process; this call folds nothing itself. Returns false
    /// when `timeout` seconds pass first.
    public func wait(until position: Int64, timeout: Double, watcher: JournalWatcher) throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let statuses = try status()
            if statuses.allSatisfy({ !$0.needsRebuild && $0.checkpoint >= position }) { return true }
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { return false }
            watcher.wait(timeout: min(left, Self.recheckSeconds))
        }
    }

    /// Name, version, checkpoint and lag of each projection.
    public func status() throws -> [ProjectionStatus] {
        let head = try store.head()
        return try store.writer.read { db in
            try projections.map { projection in
                let row = try Row.fetchOne(db, sql: "SELECT version, generation, checkpoint, updatedAtUs FROM projection WHERE name = ?", arguments: [projection.name])
                let checkpoint: Int64 = row?["checkpoint"] ?? 0
                return ProjectionStatus(
                    name: projection.name, version: projection.version, storedVersion: row?["version"],
                    generation: row?["generation"], checkpoint: checkpoint, head: head,
                    updatedAt: (row?["updatedAtUs"] as Int64?).map(Timestamp.init(microseconds:)))
            }
        }
    }

    // MARK: Work on one projection

    private func catchUp(_ projection: any Projection, batchSize: Int, progress: ((FoldProgress) -> Void)? = nil) throws -> Int64 {
        guard let state = try state(of: projection), state.version == projection.version else {
            let rebuilt = try RebuildLock.holding(journalPath: store.writer.path) { () throws -> Int64? in
                // Another process may have rebuilt it while this one waited for the lock.
                if let state = try self.state(of: projection), state.version == projection.version { return nil }
                return try rebuild([projection], batchSize: rebuildBatchSize, progress: progress)[projection.name]?.checkpoint
            }
            return try rebuilt ?? catchUp(projection, batchSize: batchSize, progress: progress)
        }
        var checkpoint = state.checkpoint
        let tables = ProjectionTables(projection: projection.name, generation: state.generation)
        observer?.catchingUp(projection.name, at: ProjectionPosition(generation: state.generation, checkpoint: checkpoint))
        // Settle work is done in the transaction of the batch that reaches the head (usually the only
        // one when following), and in transactions of its own when there is more of it.
        var unsettled = false
        while true {
            let limit = size(of: projection, max(1, transactionSize?() ?? batchSize))
            guard let (batch, reachesHead) = try nextBatch(of: projection, after: checkpoint, size: limit) else {
                if unsettled { try settle(projection, tables, onlyWhileActive: true) }
                return checkpoint
            }
            let settleLimit = settleSize
            let settled = try foldTransaction { db -> Int? in
                // Another process may have moved the checkpoint meanwhile: then this batch is not ours.
                try db.cachedStatement(
                    sql: "UPDATE projection SET checkpoint = ?, updatedAtUs = ? WHERE name = ? AND generation = ? AND checkpoint = ?"
                ).execute(arguments: [batch.through, store.clock.now().microseconds, projection.name, state.generation, checkpoint])
                guard db.changesCount == 1 else { return nil }
                try projection.apply(batch: batch, db, tables)
                return reachesHead ? try projection.settle(db, tables, limit: settleLimit) : 0
            }
            guard let settled else {
                guard let current = try self.state(of: projection), current.generation == state.generation else {
                    return try catchUp(projection, batchSize: batchSize, progress: progress)
                }
                checkpoint = current.checkpoint
                observer?.catchingUp(projection.name, at: ProjectionPosition(generation: state.generation, checkpoint: checkpoint))
                continue
            }
            checkpoint = batch.through
            progress?(FoldProgress(projection: projection.name, step: .folding, done: checkpoint, total: try store.head()))
            observer?.folded(
                projection.name, customers: Set(batch.events.map(\.customerId)),
                reaching: ProjectionPosition(generation: state.generation, checkpoint: checkpoint))
            unsettled = !reachesHead || settled == settleLimit
            // The batch read everything there was: no need to read again to find the head (whatever was
            // appended since wakes a follower's watcher).
            if reachesHead {
                if unsettled { try settle(projection, tables, onlyWhileActive: true) }
                return checkpoint
            }
        }
    }

    /// A projection's new generation while a rebuild fills it.
    private struct Rebuild {
        let projection: any Projection
        /// The active generation it replaces, if any.
        let old: State?
        let tables: ProjectionTables
        /// The position folded through, and the events folded.
        var built: Int64 = 0
        var folded: Int64 = 0
    }

    /// Builds a new generation of each of `chosen` and switches to it; returns the events folded and
    /// the checkpoint reached per projection.
    ///
    /// Projections that read none of the others are folded at the same time (those that fold
    /// customers apart in one pass over the log, each other on a thread of its own; they share the
    /// writer, and fold while another writes), then indexed and switched one after the other; those
    /// that read them follow. The replaced generations are dropped once all
    /// have switched, the settle work is done, and the pages left free are given back.
    ///
    /// A file's pages are used again before it grows: the replaced generations' ``Projection/cacheTables``
    /// are emptied first, and the new tables written into their pages; the settle work fills those of
    /// the dropped generations. Only what is then left at the end of the file is moved by the reclaim.
    @discardableResult
    private func rebuild(
        _ chosen: [any Projection], batchSize: Int, progress: ((FoldProgress) -> Void)?
    ) throws -> [String: (folded: Int64, checkpoint: Int64)] {
        let waves = try Self.waves(of: chosen)
        let report = RebuildReport(progress)
        let settings = try store.projectionWriter.writeWithoutTransaction { db in
            let settings = (cache: try Int.fetchOne(db, sql: "PRAGMA cache_size") ?? -2_000,
                            checkpoint: try Int.fetchOne(db, sql: "PRAGMA wal_autocheckpoint") ?? 1_000)
            try db.execute(sql: "PRAGMA cache_size = -\(rebuildCacheKiB)")
            try db.execute(sql: "PRAGMA wal_autocheckpoint = \(rebuildCheckpointPages)")
            // Whole tables are sorted (their indexes built) in temporary files, not in memory.
            try db.execute(sql: "PRAGMA temp_store = FILE")
            return settings
        }
        defer {
            try? store.projectionWriter.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA cache_size = \(settings.cache)")
                try db.execute(sql: "PRAGMA wal_autocheckpoint = \(settings.checkpoint)")
                try db.execute(sql: "PRAGMA temp_store = MEMORY")
            }
        }
        var switched: [String: (folded: Int64, checkpoint: Int64)] = [:]
        var rebuilt: [Rebuild] = []
        do {
            for wave in waves {
                var rebuilds = try wave.map { try newGeneration(of: $0, report: report) }
                try foldTogether(&rebuilds, batchSize: batchSize, report: report)
                for rebuild in rebuilds {
                    switched[rebuild.projection.name] = try indexAndSwitch(rebuild, report: report)
                }
                rebuilt += rebuilds
            }
        } catch {
            // Those not switched answer from their old generation, whose cache tables may be empty.
            for projection in chosen where switched[projection.name] == nil { try? refillCacheTables(of: projection) }
            throw error
        }
        let replaced = rebuilt.filter { $0.old != nil }
        if !replaced.isEmpty {
            report.step(.dropping, of: replaced.map(\.projection))
            for rebuild in replaced { try dropGenerations(of: rebuild.projection) { $0 != rebuild.tables.generation } }
        }
        // The settle work writes into the pages the replaced generations freed (readers see the new
        // tables unsettled meanwhile, as they do between a catch-up's transactions); the reclaim then
        // moves only what is left at the end of the file.
        do {
            for rebuild in rebuilt { try settleRebuilt(rebuild, report: report) }
        } catch {
            if !replaced.isEmpty { try? JournalDatabase.reclaimFreePages(store.projectionWriter) }
            throw error
        }
        if !replaced.isEmpty {
            report.step(.reclaiming, of: replaced.map(\.projection))
            try JournalDatabase.reclaimFreePages(store.projectionWriter)
        }
        return switched
    }

    /// `chosen` in the order a rebuild folds them: first those that read none of the others, together,
    /// then those that read only them, and so on.
    ///
    /// - Throws: ``JournalError/invalidArgument(_:)`` when some of them read each other.
    static func waves(of chosen: [any Projection]) throws -> [[any Projection]] {
        var waves: [[any Projection]] = [], left = chosen
        while !left.isEmpty {
            let ready = left.filter { projection in !projection.dependencies.contains { name in left.contains { $0.name == name } } }
            guard !ready.isEmpty else {
                throw JournalError.invalidArgument("projections \(left.map(\.name).joined(separator: ", ")) read each other")
            }
            left.removeAll { projection in ready.contains { $0.name == projection.name } }
            waves.append(ready)
        }
        return waves
    }

    /// Fresh tables for a new generation of `projection` (left-overs of an interrupted rebuild are
    /// dropped first), without the indexes that only readers use: those are built once they are filled.
    /// The cache tables of the generation it replaces are then emptied, each in a transaction of its
    /// own: a crash leaves them empty only beside a newer generation's tables, which tells
    /// ``dropReplacedGenerations()`` to fill them again.
    private func newGeneration(of projection: any Projection, report: RebuildReport) throws -> Rebuild {
        let old = try state(of: projection)
        let tables = ProjectionTables(projection: projection.name, generation: (old?.generation ?? 0) + 1)
        try dropGenerations(of: projection) { $0 != old?.generation }
        try store.projectionWriter.write { db in try projection.createTables(db, tables) }
        if let old, !projection.cacheTables.isEmpty {
            report.step(.emptying, of: [projection])
            let replaced = ProjectionTables(projection: projection.name, generation: old.generation)
            for table in projection.cacheTables {
                // All rows at once, outside a larger transaction: SQLite frees the table's pages in one
                // pass, deleting no row by row, and keeps no statement journal. (A generation of another
                // version may not have the table.)
                try store.projectionWriter.writeWithoutTransaction { db in
                    if try db.tableExists(replaced[table]) { try db.execute(sql: "DELETE FROM \(replaced[table])") }
                }
            }
        }
        return Rebuild(projection: projection, old: old, tables: tables)
    }

    /// Fills the new generations of `rebuilds` through the head of the log; the old generations keep
    /// answering meanwhile. Those that fold customers apart share one pass over the log; each of the
    /// others folds it in order on a thread of its own.
    private func foldTogether(_ rebuilds: inout [Rebuild], batchSize: Int, report: RebuildReport) throws {
        let head = try store.head()
        report.folding(rebuilds.map(\.projection), head: head)
        let apart = rebuilds.indices.filter { rebuilds[$0].projection.foldsCustomersApart }
        let lanes = (apart.isEmpty ? [] : [apart]) + rebuilds.indices.filter { !apart.contains($0) }.map { [$0] }
        let outcomes = Mutex<[Int: Result<(built: Int64, folded: Int64), any Error>]>([:])
        let folding = rebuilds
        Lanes.run(lanes.count) { lane in
            let indices = lanes[lane]
            let outcome = Result { () throws -> (built: Int64, folded: Int64) in
                if indices == apart {
                    let folded = try foldCustomersApart(indices.map { folding[$0] }, through: head) { name, done in report.folded(name, done) }
                    return (head, folded)
                }
                let rebuild = folding[indices[0]]
                return try foldInOrder(rebuild.projection, into: rebuild.tables, batchSize: batchSize) { done in
                    report.folded(rebuild.projection.name, done)
                }
            }
            outcomes.withLock { for index in indices { $0[index] = outcome } }
        }
        let results = outcomes.withLock { $0 }
        for index in rebuilds.indices {
            guard let outcome = results[index] else { continue }
            (rebuilds[index].built, rebuilds[index].folded) = try outcome.get()
        }
    }

    /// Folds the log into `tables` in position order, a batch a transaction, reading the next batch
    /// while one is written. Returns the position folded through and the events folded.
    private func foldInOrder(
        _ projection: any Projection, into tables: ProjectionTables, batchSize: Int, progress: @Sendable (Int64) -> Void
    ) throws -> (built: Int64, folded: Int64) {
        let size = size(of: projection, max(1, batchSize))
        let last = try Overlap.run(first: try nextBatch(of: projection, after: 0, size: size)?.batch) { batch in
            try nextBatch(of: projection, after: batch.through, size: size)?.batch
        } consume: { batch in
            try store.projectionWriter.write { db in try projection.apply(batch: batch, db, tables) }
            progress(batch.through)
        }
        // Batches follow each other from position 0.
        return (last?.through ?? 0, last?.through ?? 0)
    }

    /// Folds the log through `head` into the new generations of `rebuilds`, projections that fold
    /// customers apart, a group of whole customers at a time (``EventStore/customerGroups(through:groupSize:)``):
    /// each group is read once, folded in memory by each projection in turn (``Projection/fold(customers:)``),
    /// and written in one transaction; the next group is read and folded while one is written.
    /// `progress` is told each projection's events folded so far. Returns the number of events folded.
    private func foldCustomersApart(
        _ rebuilds: [Rebuild], through head: Int64, progress: @Sendable (String, Int64) -> Void
    ) throws -> Int64 {
        let groups = try store.customerGroups(through: head, groupSize: max(1, customerGroupSize))
        // The events folded once each group is written.
        let folded = groups.reduce(into: [Int64]()) { folded, group in folded.append((folded.last ?? 0) + Int64(group.events)) }
        let store = store, projections = rebuilds.map(\.projection)
        let fold = { @Sendable (index: Int) throws -> FoldedGroup? in
            guard index < groups.count else { return nil }
            let events = CustomerEvents(try store.events(of: groups[index], through: head))
            return FoldedGroup(index: index, through: folded[index], rows: try projections.map { try $0.fold(customers: events) }, events: events)
        }
        let last = try Overlap.run(first: try fold(0)) { group in
            try fold(group.index + 1)
        } consume: { group in
            let (rows, events) = group.take()
            try store.projectionWriter.write { db in
                for (rows, rebuild) in zip(rows, rebuilds) { try rows.write(db, rebuild.tables) }
            }
            for projection in projections { progress(projection.name, group.through) }
            // Freed after the write (``FoldedGroup``).
            withExtendedLifetime(events) {}
        }
        return last?.through ?? 0
    }

    /// A group of customers folded, waiting to be written. The writer takes its rows and the events
    /// they were folded from out of it, and frees them after it has written them, whichever thread
    /// releases the box last; by then the thread that folds has usually made the groups the queue holds
    /// and waits. Measured at 1M events, the rebuild took about 6 s less processor time and 3 s less
    /// time than with a group freed by the thread that folds, or by the writer before it writes: the
    /// allocator then sorted and merged the freed memory while that thread allocated the next group
    /// (`_int_malloc`, `malloc_consolidate` and `unlink_chunk`: 13–14 % of its samples instead of 2 %).
    private final class FoldedGroup: Sendable {
        let index: Int
        /// The events folded once the group is written.
        let through: Int64
        private let content: Mutex<(rows: [any FoldedCustomers], events: CustomerEvents)?>

        init(index: Int, through: Int64, rows: [any FoldedCustomers], events: CustomerEvents) {
            self.index = index
            self.through = through
            content = Mutex((rows, events))
        }

        /// The rows and events; taken once.
        func take() -> (rows: [any FoldedCustomers], events: CustomerEvents) {
            content.withLock { content in
                defer { content = nil }
                return content!
            }
        }
    }

    /// Builds the indexes only readers use over a rebuilt generation, then switches to it: folds what
    /// arrived since and points the views at the new tables. The checkpoint is the last event folded:
    /// whatever is appended meanwhile is the follower's. Returns the events folded and the checkpoint.
    private func indexAndSwitch(_ rebuild: Rebuild, report: RebuildReport) throws -> (folded: Int64, checkpoint: Int64) {
        let projection = rebuild.projection, tables = rebuild.tables
        report.step(.indexing, of: [projection])
        try store.projectionWriter.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA cache_size = -\(indexCacheKiB)")
            try db.inTransaction {
                try projection.completeTables(db, tables)
                return .commit
            }
            try db.execute(sql: "PRAGMA cache_size = -\(rebuildCacheKiB)")
        }
        let tail = try nextBatch(of: projection, after: rebuild.built, size: Int.max / 2)?.batch
        let switched = try store.projectionWriter.write { db -> (folded: Int64, checkpoint: Int64) in
            if let tail { try projection.apply(batch: tail, db, tables) }
            let checkpoint = tail?.through ?? rebuild.built
            for table in projection.tables {
                let view = ProjectionTables.view(projection.name, table)
                try db.execute(sql: "DROP VIEW IF EXISTS \(view)")
                try db.execute(sql: "CREATE VIEW \(view) AS SELECT * FROM \(tables[table])")
            }
            try db.execute(
                sql: """
                    INSERT INTO projection (name, version, generation, checkpoint, updatedAtUs) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (name) DO UPDATE SET version = excluded.version, generation = excluded.generation,
                      checkpoint = excluded.checkpoint, updatedAtUs = excluded.updatedAtUs
                    """,
                arguments: [projection.name, projection.version, tables.generation, checkpoint, store.clock.now().microseconds])
            return (folded: rebuild.folded + (tail.map { $0.through - $0.after } ?? 0), checkpoint: checkpoint)
        }
        observer?.catchingUp(projection.name, at: ProjectionPosition(generation: tables.generation, checkpoint: switched.checkpoint))
        return switched
    }

    /// About how many events a rebuild of a projection that folds customers apart folds in one transaction.
    public var customerGroupSize = 20_000

    /// How many positions a rebuild of a projection that folds the log in order folds in one
    /// transaction — a catch-up's first fold too, whatever batch size the catch-up was given: each
    /// transaction writes again the index pages its rows landed on (the facts' search terms are spread
    /// over all of theirs), so a first fold in a catch-up's small batches wrote more and took longer.
    public var rebuildBatchSize = 20_000

    /// The page cache (KiB) of the connection that writes a rebuild. The indexes a fold reads take
    /// entries all over them at every batch; a cache that holds them writes each page once a batch
    /// instead of again whenever it was pushed out.
    public var rebuildCacheKiB = 256 * 1024

    /// The page cache (KiB) while a rebuild builds the indexes only readers use. SQLite sorts an index's
    /// entries in memory up to the cache's size before it spills them to a file: with the fold's cache,
    /// the sort held as much again, and took longer than with this one.
    public var indexCacheKiB = 16 * 1024

    /// The write-ahead log's pages after which a rebuild's commit copies them into the file (SQLite's
    /// default is 1,000). A fold's batches change the same index pages again and again; copied less
    /// often, each is written to the file once for several batches, and the file is synced less often.
    public var rebuildCheckpointPages = 16_384

    /// A projection written in SQL folds a batch in a few set-based statements whose cost grows with the
    /// customers it touches more than with its events: its batches hold at least this many positions
    /// (a rebuild, or the first fold after a large import, is one pass over each customer).
    public var sqlBatchSize = 100_000_000

    private func size(of projection: any Projection, _ size: Int) -> Int {
        projection.decodesEvents ? size : max(size, sqlBatchSize)
    }

    /// The next batch of `projection` after `checkpoint`: at most `size` positions, up to the head of
    /// the log and to the checkpoints its ``Projection/dependencies`` reached; nil when there is none.
    /// `reachesEnd` tells that it takes everything there is for it now.
    private func nextBatch(
        of projection: any Projection, after checkpoint: Int64, size: Int
    ) throws -> (batch: ProjectionBatch, reachesEnd: Bool)? {
        var end = try store.head()
        if !projection.dependencies.isEmpty {
            end = min(end, try reached(by: projection.dependencies, for: projection))
        }
        let through = min(end, checkpoint + Int64(min(size, Int(Int32.max))))
        guard through > checkpoint else { return nil }
        guard projection.decodesEvents else { return (ProjectionBatch(after: checkpoint, through: through, events: []), through == end) }
        if let types = projection.eventTypes {
            var filter = EventFilter(afterPosition: checkpoint)
            filter.throughPosition = through
            filter.types = types.sorted()
            let events = types.isEmpty ? [] : try store.events(matching: filter, limit: Int(through - checkpoint)).events
            return (ProjectionBatch(after: checkpoint, through: through, events: events), through == end)
        }
        let events = try store.events(after: checkpoint, limit: Int(through - checkpoint))
        return (ProjectionBatch(after: checkpoint, through: events.last?.position ?? through, events: events), through == end)
    }

    /// The lowest checkpoint of the projections `names`, at their current versions (0 when one is not built).
    private func reached(by names: [String], for dependent: any Projection) throws -> Int64 {
        var lowest = Int64.max
        for name in names {
            guard let dependency = projections.first(where: { $0.name == name }) else {
                throw JournalError.invalidArgument("projection \(dependent.name) reads \(name), which is not run with it")
            }
            guard let state = try state(of: dependency), state.version == dependency.version else { return 0 }
            lowest = min(lowest, state.checkpoint)
        }
        return lowest
    }

    /// A transaction on the projections' database: only what can be folded again from the log, so
    /// it commits without waiting for the disk (``JournalDatabase``); a crash may lose the
    /// projections' last progress, and the checkpoint goes with it, so the events are folded again.
    func foldTransaction<T>(_ body: (Database) throws -> T) throws -> T {
        try store.projectionWriter.write(body)
    }

    /// How many pieces of settle work one transaction does (unless ``transactionSize`` says).
    public var settleBatch = 100

    private var settleSize: Int { max(1, transactionSize?() ?? settleBatch) }

    /// Runs `projection`'s settle work until none is left, in transactions of ``settleBatch`` pieces
    /// (or as many as ``transactionSize`` says).
    /// With `onlyWhileActive`, stops when `tables` are no longer the active generation (a rebuild
    /// switched meanwhile and dropped them). `progress` is told the pieces settled so far.
    private func settle(
        _ projection: any Projection, _ tables: ProjectionTables, onlyWhileActive: Bool, progress: ((Int64) -> Void)? = nil
    ) throws {
        var total: Int64 = 0
        while true {
            let limit = settleSize
            let settled = try foldTransaction { db -> Int in
                if onlyWhileActive {
                    let active = try Int.fetchOne(
                        db.cachedStatement(sql: "SELECT generation FROM projection WHERE name = ?"), arguments: [projection.name])
                    guard active == tables.generation else { return 0 }
                }
                return try projection.settle(db, tables, limit: limit)
            }
            total += Int64(settled)
            progress?(total)
            if settled < limit { return }
        }
    }

    /// Does the settle work of a rebuilt generation, preparing the next batch off the writer while one
    /// is written (``Projection/prepareSettle(_:_:after:limit:)``). A batch is written only if the
    /// tables are as it read them — a catch-up by another process may have folded since — and what is
    /// left then is settled the usual way.
    private func settleRebuilt(_ rebuild: Rebuild, report: RebuildReport) throws {
        let projection = rebuild.projection, tables = rebuild.tables, limit = settleSize, store = store
        report.step(.settling, of: [projection])
        let checkpointSQL = "SELECT checkpoint FROM projection WHERE name = ? AND generation = ?"
        let prepare = { @Sendable (piece: String?) throws -> (work: any PreparedSettle, checkpoint: Int64)? in
            try store.projectionWriter.read { db in
                guard let checkpoint = try Int64.fetchOne(db, sql: checkpointSQL, arguments: [projection.name, tables.generation]),
                      let work = try projection.prepareSettle(db, tables, after: piece, limit: limit)
                else { return nil }
                return (work, checkpoint)
            }
        }
        let settled = Mutex<Int64>(0)
        try Overlap.run(first: try prepare(nil)) { prepared in
            try prepare(prepared.work.last)
        } consume: { prepared in
            let written = try store.projectionWriter.write { db -> Int in
                let checkpoint = try Int64.fetchOne(db, sql: checkpointSQL, arguments: [projection.name, tables.generation])
                return checkpoint == prepared.checkpoint ? try prepared.work.write(db, tables) : 0
            }
            report.step(.settling, of: [projection], done: settled.withLock { $0 += Int64(written); return $0 })
        }
        let prepared = settled.withLock { $0 }
        try settle(projection, tables, onlyWhileActive: true) { more in report.step(.settling, of: [projection], done: prepared + more) }
    }

    /// Drops what a crash between a rebuild's switch and its clean-up left: the tables of generations
    /// older than each projection's active one. While no rebuild runs (in any process), also what an
    /// interrupted rebuild left: the tables of newer generations, dropped, and the active generation's
    /// cache tables, which it had emptied, filled again. Then gives the pages back. Safe beside a
    /// running rebuild. A server calls it as it starts.
    public func dropReplacedGenerations() throws {
        var dropped = false
        for projection in projections {
            guard let active = try state(of: projection)?.generation else { continue }
            dropped = try dropGenerations(of: projection) { $0 < active } || dropped
        }
        let interrupted = try RebuildLock.holdingIfFree(journalPath: store.writer.path) { () throws -> Bool in
            var any = false
            for projection in projections {
                guard let active = try state(of: projection)?.generation,
                      try dropGenerations(of: projection, where: { $0 > active })
                else { continue }
                any = true
                try refillCacheTables(of: projection)
            }
            return any
        } ?? false
        if dropped || interrupted { try JournalDatabase.reclaimFreePages(store.projectionWriter) }
    }

    /// Fills the cache tables of `projection`'s active generation again after a rebuild emptied them and
    /// stopped before its switch (``Projection/refillCacheTables(_:_:)``, then the settle work). One of
    /// another version is left alone: the next catch-up rebuilds it.
    private func refillCacheTables(of projection: any Projection) throws {
        guard !projection.cacheTables.isEmpty, let state = try state(of: projection), state.version == projection.version else { return }
        let tables = ProjectionTables(projection: projection.name, generation: state.generation)
        try foldTransaction { db in try projection.refillCacheTables(db, tables) }
        try settle(projection, tables, onlyWhileActive: true)
    }

    /// Drops the tables of the generations of `projection` that `drop` picks: the one a switch replaced,
    /// and what an interrupted rebuild, or a crash between a switch and its clean-up, left behind. Each
    /// table goes in a transaction of its own: dropped inside a larger one, SQLite would first copy
    /// every page it frees into a statement journal (gigabytes for a large timeline). Returns whether
    /// it dropped any.
    @discardableResult
    private func dropGenerations(of projection: any Projection, where drop: (Int) -> Bool) throws -> Bool {
        let prefix = ProjectionTables.prefix(of: projection.name)
        let names = try store.projectionWriter.read { db in
            try String.fetchAll(
                db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND substr(name, 1, ?) = ?",
                arguments: [prefix.count, prefix])
        }
        let dropped = names.filter { name in Int(name.dropFirst(prefix.count).prefix(while: \.isNumber)).map(drop) ?? false }
        for name in dropped {
            try store.projectionWriter.writeWithoutTransaction { db in try db.execute(sql: "DROP TABLE IF EXISTS \(name)") }
        }
        return !dropped.isEmpty
    }

    private struct State {
        var version: Int
        var generation: Int
        var checkpoint: Int64
    }

    private func state(of projection: any Projection) throws -> State? {
        try store.writer.read { db in try Self.state(of: projection, db) }
    }

    private static func state(of projection: any Projection, _ db: Database) throws -> State? {
        try Row.fetchOne(
            db.cachedStatement(sql: "SELECT version, generation, checkpoint FROM projection WHERE name = ?"), arguments: [projection.name])
            .map { State(version: $0["version"], generation: $0["generation"], checkpoint: $0["checkpoint"]) }
    }

    /// Those of `projections` whose tables are missing or of another version, read in one transaction.
    private func stale(_ projections: [any Projection]) throws -> [any Projection] {
        try store.writer.read { db in try projections.filter { try Self.state(of: $0, db)?.version != $0.version } }
    }
}

/// How far a catch-up or a rebuild of one projection has come.
public struct FoldProgress: Sendable, Hashable {
    /// What a fold is doing.
    public enum Step: String, Sendable {
        /// Emptying the cache tables of the generation a rebuild replaces (``Projection/cacheTables``).
        case emptying = "emptying replaced caches"
        /// Folding events: `done` is the position reached (a catch-up) or the events folded (a rebuild).
        case folding = "folding events"
        /// Building, over the rebuilt tables, the indexes that only readers use.
        case indexing = "building indexes"
        /// Dropping the tables of the replaced generations.
        case dropping = "dropping replaced tables"
        /// Finishing the work left for the end, such as the timeline's documents: `done` pieces so far.
        case settling = "writing documents"
        /// Giving the pages left free back to the file system.
        case reclaiming = "giving back free space"
    }

    public var projection: String
    public var step: Step
    public var done: Int64
    /// How much there is to do, when known.
    public var total: Int64?

    public init(projection: String, step: Step, done: Int64 = 0, total: Int64? = nil) {
        self.projection = projection
        self.step = step
        self.done = done
        self.total = total
    }

    /// The share done, 0…1; nil when the total is unknown.
    public var fraction: Double? {
        guard let total, total > 0 else { return nil }
        return min(1, Double(done) / Double(total))
    }
}

/// Where a projection's tables stand: their generation and the position folded into them.
public struct ProjectionPosition: Hashable, Sendable {
    public var generation: Int
    public var checkpoint: Int64

    public init(generation: Int, checkpoint: Int64) {
        self.generation = generation
        self.checkpoint = checkpoint
    }
}

/// Told by a ``ProjectionRunner`` how the projections' tables change as it folds.
public protocol FoldObserver: Sendable {
    /// Where `projection`'s tables stand, as read from the journal before a catch-up (and after a
    /// rebuild): any other position than the last one reported means they changed elsewhere.
    func catchingUp(_ projection: String, at position: ProjectionPosition)
    /// A transaction that folded events of `customers` into `projection` has committed.
    func folded(_ projection: String, customers: Set<String>, reaching position: ProjectionPosition)
}

/// Where a projection stands.
public struct ProjectionStatus: Sendable, Hashable {
    public var name: String
    /// The version of the code.
    public var version: Int
    /// The version the stored tables were built with (nil before the first run).
    public var storedVersion: Int?
    public var generation: Int?
    public var checkpoint: Int64
    public var head: Int64
    public var updatedAt: Timestamp?

    /// Events of the log not yet folded in.
    public var lag: Int64 { head - checkpoint }
    /// True when the stored tables are of another version and the next run rebuilds them.
    public var needsRebuild: Bool { storedVersion != version }

    /// The status as JSON (`tpj projections --json` and the HTTP API).
    public var document: JSONValue {
        [
            "name": .string(name), "version": .number(JSONNumber(Int64(version))),
            "storedVersion": storedVersion.map { .number(JSONNumber(Int64($0))) } ?? .null,
            "checkpoint": .number(JSONNumber(checkpoint)), "head": .number(JSONNumber(head)),
            "lag": .number(JSONNumber(lag)), "needsRebuild": .bool(needsRebuild),
        ]
    }
}
