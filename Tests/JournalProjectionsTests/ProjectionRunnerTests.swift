import Foundation
import GRDB
import Journal
@testable import JournalProjections
import JournalStore
import JournalTesting
import Synchronization
import Testing

/// Counts touchpoints per customer; fails on a chosen event, to show that a failed batch leaves no trace.
struct CallCount: Projection {
    let name = "callcount"
    var version = 1
    let tables = ["total"]
    var failOn: String?
    var eventTypes: Set<String>?

    func createTables(_ db: Database, _ names: ProjectionTables) throws {
        try db.execute(sql: "CREATE TABLE \(names["total"]) (customerId TEXT PRIMARY KEY, events INTEGER NOT NULL) STRICT")
    }

    func apply(_ events: [RecordedEvent], _ db: Database, _ names: ProjectionTables) throws {
        for event in events {
            try db.execute(
                sql: "INSERT INTO \(names["total"]) VALUES (?, 1) ON CONFLICT (customerId) DO UPDATE SET events = events + 1",
                arguments: [event.customerId])
            if event.eventId.rawValue == failOn { throw JournalError.storage("projection failed on purpose") }
        }
    }
}

/// The journey timeline, except that the first time a rebuild prepares its documents once it is armed,
/// another process corrects a touchpoint of `customerId` and folds the correction without writing documents.
struct TimelineFoldedMeanwhile: Projection {
    let timeline = JourneyTimeline(registry: .bundled)
    let path: String
    let customerId: String
    let target: String
    let state = State()

    final class State: Sendable {
        enum Step { case waiting, armed, folded }
        let step = Mutex(Step.waiting)
    }

    var name: String { timeline.name }
    var version: Int { timeline.version }
    var tables: [String] { timeline.tables }
    var foldsCustomersApart: Bool { true }
    func createTables(_ db: Database, _ names: ProjectionTables) throws { try timeline.createTables(db, names) }
    func completeTables(_ db: Database, _ names: ProjectionTables) throws { try timeline.completeTables(db, names) }
    func apply(_ events: [RecordedEvent], _ db: Database, _ names: ProjectionTables) throws { try timeline.apply(events, db, names) }
    func fold(customers group: CustomerEvents) throws -> any FoldedCustomers { try timeline.fold(customers: group) }
    func settle(_ db: Database, _ names: ProjectionTables, limit: Int) throws -> Int { try timeline.settle(db, names, limit: limit) }

    func prepareSettle(_ db: Database, _ names: ProjectionTables, after piece: String?, limit: Int) throws -> (any PreparedSettle)? {
        if state.step.withLock({ step in defer { if step == .armed { step = .folded } }; return step == .armed }) {
            let other = try EventStore(writer: JournalDatabase.open(path: path))
            let correction = try other.append([
                ProposedEvent(eventId: TestEvents.id(910_001), type: "touchpoint.corrected", occurredAt: "2026-01-01T00:00:00Z",
                              payload: ["correctedEventId": .string(target), "corrections": ["note": "fixed"], "reason": "typo"]),
            ], to: customerId)
            let position = try #require(correction.positions.last)
            try other.projectionWriter.write { db in
                try db.execute(sql: "UPDATE projection SET checkpoint = ? WHERE name = ?", arguments: [position, name])
                try timeline.apply(try other.events(after: position - 1, limit: 1), db, names)
            }
        }
        return try timeline.prepareSettle(db, names, after: piece, limit: limit)
    }
}

/// A projection that reads the tables of `reads` (and folds nothing).
struct Reading: Projection {
    let name: String
    let version = 1
    let tables = ["nothing"]
    let reads: [String]

    var dependencies: [String] { reads }
    func createTables(_ db: Database, _ names: ProjectionTables) throws {
        try db.execute(sql: "CREATE TABLE \(names["nothing"]) (x INTEGER) STRICT")
    }
    func apply(_ events: [RecordedEvent], _ db: Database, _ names: ProjectionTables) throws {}
}

/// Every row of every table of a projection's active generation, as SQL literals: equal dumps mean
/// byte-identical tables.
func dump(_ writer: any DatabaseReader, _ projection: any Projection) throws -> String {
    try writer.read { db in
        var text = ""
        for table in projection.tables {
            let view = ProjectionTables.view(projection.name, table)
            let columns = try db.columns(in: view).map { "quote(\($0.name))" }.joined(separator: " || ',' || ")
            let rows = try String.fetchAll(db, sql: "SELECT \(columns) FROM \(view) ORDER BY 1")
            text += "\(table)\n" + rows.joined(separator: "\n") + "\n"
        }
        return text
    }
}

/// Holds the journal's rebuild lock, as a rebuild in another process does, while `body` runs.
func whileARebuildRuns<T>(_ store: EventStore, _ body: () throws -> T) throws -> T {
    let descriptor = open(store.writer.path + "-rebuild.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
    try #require(descriptor >= 0)
    defer { close(descriptor) }
    try #require(flock(descriptor, LOCK_EX) == 0)
    defer { flock(descriptor, LOCK_UN) }
    return try body()
}

/// A generated log: `customers` customers with `perCustomer` touchpoints each, in batches.
func generatedStore(customers: Int, perCustomer: Int, seed: UInt64) throws -> EventStore {
    let store = try EventStore(writer: JournalDatabase.open(path: TestSupport.temporaryDirectory().appendingPathComponent("j.sqlite").path))
    var generator = TouchpointGenerator(seed: seed)
    for customer in 0..<customers {
        try store.append(generator.events(forCustomer: customer, count: perCustomer), to: TouchpointGenerator.customerId(customer))
    }
    return store
}

/// Records what a runner tells its observer.
final class RecordingObserver: FoldObserver, @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [(projection: String, customers: Set<String>, checkpoint: Int64)] = []

    var folds: [(projection: String, customers: Set<String>, checkpoint: Int64)] { lock.withLock { recorded } }

    func catchingUp(_ projection: String, at position: ProjectionPosition) {}

    func folded(_ projection: String, customers: Set<String>, reaching position: ProjectionPosition) {
        lock.withLock { recorded.append((projection, customers, position.checkpoint)) }
    }
}

/// Answers a list of sizes in turn, then the last one again.
final class SizeSequence: @unchecked Sendable {
    private let lock = NSLock()
    private var sizes: [Int]

    init(_ sizes: [Int]) { self.sizes = sizes }

    func next() -> Int { lock.withLock { sizes.count > 1 ? sizes.removeFirst() : sizes[0] } }
}

@Suite struct ProjectionRunnerTests {
    @Test func eachTransactionFoldsAsManyEventsAsItIsToldThenAndSaysWhose() throws {
        let store = try generatedStore(customers: 0, perCustomer: 0, seed: 2)
        var runner = ProjectionRunner(store: store, projections: [CallCount()])
        try runner.catchUp()  // the tables, built from an empty log
        var generator = TouchpointGenerator(seed: 2)
        for customer in 0..<4 {
            try store.append(generator.events(forCustomer: customer, count: 25), to: TouchpointGenerator.customerId(customer))
        }
        let observer = RecordingObserver()
        let sizes = SizeSequence([10, 50])
        runner.observer = observer
        runner.transactionSize = { sizes.next() }
        #expect(try runner.catchUp(batchSize: 7) == ["callcount": 100])
        // 10, then 50 and the remaining 40 (fewer than asked for: the head, so no further read).
        #expect(observer.folds.map(\.checkpoint) == [10, 60, 100])
        let log = try store.events(after: 0, limit: 100)
        #expect(observer.folds[1].customers == Set(log[10..<60].map(\.customerId)))
        let total = try store.writer.read { db in try Int.fetchOne(db, sql: "SELECT sum(events) FROM callcount_total") }
        #expect(total == 100)
    }

    @Test func catchUpFoldsEveryEventOnceAndRecordsTheCheckpoint() throws {
        let store = try generatedStore(customers: 20, perCustomer: 30, seed: 1)
        let runner = ProjectionRunner(store: store, projections: [CallCount()])
        #expect(try runner.catchUp(batchSize: 70) == ["callcount": 600])
        let total = try store.writer.read { db in try Int.fetchOne(db, sql: "SELECT sum(events) FROM callcount_total") }
        #expect(total == 600)
        // Nothing new: nothing folded twice.
        try runner.catchUp()
        #expect(try store.writer.read { db in try Int.fetchOne(db, sql: "SELECT sum(events) FROM callcount_total") } == 600)
        let status = try #require(try runner.status().first)
        #expect(status.checkpoint == 600 && status.lag == 0 && status.generation == 1 && !status.needsRebuild)
    }

    @Test func aProjectionOfSomeTypesIsHandedOnlyThoseAndItsCheckpointReachesTheHead() throws {
        let store = try generatedStore(customers: 8, perCustomer: 25, seed: 4)
        let log = try store.events(after: 0, limit: 200)
        // Every type but the last event's: the last batches end on events the projection is not handed.
        let types = Set(log.map(\.type)).subtracting([log.last!.type])
        try #require(!types.isEmpty)
        let expected = Dictionary(grouping: log.filter { types.contains($0.type) }, by: \.customerId).mapValues(\.count)
        func counts() throws -> [String: Int] {
            try store.writer.read { db in
                try Dictionary(uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT customerId, events FROM callcount_total").map {
                    ($0[0] as String, $0[1] as Int)
                })
            }
        }
        let runner = ProjectionRunner(store: store, projections: [CallCount(eventTypes: types)])
        try runner.catchUp(batchSize: 7)
        #expect(try counts() == expected)
        let status = try #require(try runner.status().first)
        #expect(status.checkpoint == 200 && status.lag == 0)
        try runner.rebuild(batchSize: 7)
        #expect(try counts() == expected)
        #expect(try #require(try runner.status().first).checkpoint == 200)
        // No types at all: handed nothing (not everything), and still at the head.
        try ProjectionRunner(store: store, projections: [CallCount(version: 2, eventTypes: [])]).catchUp(batchSize: 7)
        #expect(try counts().isEmpty)
        #expect(try #require(try ProjectionRunner(store: store, projections: [CallCount(version: 2)]).status().first).checkpoint == 200)
    }

    @Test func aCatchUpsFirstFoldIsARebuildInBatchesOfTheRebuildSizeAndLaterFoldsInItsOwn() throws {
        let store = try generatedStore(customers: 20, perCustomer: 30, seed: 1)
        var runner = ProjectionRunner(store: store, projections: [CallCount()])
        runner.rebuildBatchSize = 250
        let observer = RecordingObserver()
        runner.observer = observer
        let folded = Mutex<[Int64]>([])
        try runner.catchUp(batchSize: 7) { progress in
            if progress.step == .folding { folded.withLock { $0.append(progress.done) } }
        }
        #expect(folded.withLock { $0 } == [0, 250, 500, 600])
        var generator = TouchpointGenerator(seed: 9)
        try store.append(generator.events(forCustomer: 3, count: 20), to: TouchpointGenerator.customerId(3))
        try runner.catchUp(batchSize: 7)
        #expect(observer.folds.map(\.checkpoint) == [607, 614, 620])
    }

    @Test func aFailingBatchMovesNeitherTheCheckpointNorTheTables() throws {
        let store = try generatedStore(customers: 5, perCustomer: 10, seed: 2)
        try ProjectionRunner(store: store, projections: [CallCount()]).catchUp()
        var generator = TouchpointGenerator(seed: 3)
        let more = generator.events(forCustomer: 99, count: 10)
        try store.append(more, to: "C-99")
        let failing = ProjectionRunner(store: store, projections: [CallCount(failOn: more[6].eventId)])
        #expect(throws: JournalError.self) { try failing.catchUp(batchSize: 4) }
        // The batch holding the failing event (positions 55…58) was rolled back together with its checkpoint.
        #expect(try failing.status().first?.checkpoint == 54)
        #expect(try store.writer.read { db in try Int.fetchOne(db, sql: "SELECT events FROM callcount_total WHERE customerId = 'C-99'") } == 4)
        // Fixed code continues exactly there.
        try ProjectionRunner(store: store, projections: [CallCount()]).catchUp()
        #expect(try store.writer.read { db in try Int.fetchOne(db, sql: "SELECT events FROM callcount_total WHERE customerId = 'C-99'") } == 10)
    }

    @Test func aNewVersionIsRebuiltIntoNewTablesWhileTheOldOnesAnswer() throws {
        let store = try generatedStore(customers: 10, perCustomer: 20, seed: 4)
        try ProjectionRunner(store: store, projections: [CallCount()]).catchUp()
        let before = try dump(store.writer, CallCount())
        var seenDuringRebuild: [String] = []
        let upgraded = ProjectionRunner(store: store, projections: [CallCount(version: 2)])
        try upgraded.rebuild(batchSize: 50) { progress in
            guard progress.step == .folding else { return }
            // Between batches, readers still see the complete old generation.
            seenDuringRebuild.append((try? dump(store.writer, CallCount())) ?? "unreadable")
        }
        #expect(!seenDuringRebuild.isEmpty && seenDuringRebuild.allSatisfy { $0 == before })
        let status = try #require(try upgraded.status().first)
        #expect(status.generation == 2 && status.storedVersion == 2 && status.checkpoint == 200)
        #expect(try dump(store.writer, CallCount()) == before)
        let tables = try store.projectionWriter.read { db in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE name LIKE 'p_callcount_%' AND type = 'table'") }
        #expect(tables == ["p_callcount_g2_total"])
        // A catch-up after a version change rebuilds by itself.
        let third = ProjectionRunner(store: store, projections: [CallCount(version: 3)])
        try third.catchUp()
        #expect(try third.status().first?.generation == 3)
    }

    @Test func incrementalRunsAndARebuildGiveByteIdenticalTables() throws {
        // Given a log that grows in steps, with the timeline caught up after each step
        let store = try generatedStore(customers: 30, perCustomer: 15, seed: 5)
        let timeline = JourneyTimeline(registry: .bundled)
        var runner = ProjectionRunner(store: store, projections: [timeline, CallCount(), CustomerFacts()])
        // (a rebuild folds the timeline a few customers at a time)
        runner.customerGroupSize = 50
        try runner.catchUp(batchSize: 64)
        var generator = TouchpointGenerator(seed: 6)
        for round in 0..<5 {
            for customer in 0..<10 {
                let events = generator.events(forCustomer: 100 + round * 10 + customer, count: 7)
                try store.append(events, to: TouchpointGenerator.customerId(customer))
            }
            try runner.catchUp(batchSize: 33)
        }
        // and corrections and voids of earlier touchpoints,
        let targets = try store.history(of: TouchpointGenerator.customerId(3)).prefix(2)
        try store.append([
            ProposedEvent(eventId: TestEvents.id(900_001), type: "touchpoint.corrected", occurredAt: "2026-01-01T00:00:00Z",
                          payload: ["correctedEventId": .string(targets.first!.eventId.rawValue), "corrections": ["note": "fixed"], "reason": "typo"]),
            ProposedEvent(eventId: TestEvents.id(900_002), type: "touchpoint.voided", occurredAt: "2026-01-01T00:00:00Z",
                          payload: ["voidedEventId": .string(targets.last!.eventId.rawValue), "reason": "duplicate"]),
        ], to: TouchpointGenerator.customerId(3))
        try runner.catchUp()
        let incremental = try dump(store.writer, timeline) + dump(store.writer, CallCount()) + dump(store.writer, CustomerFacts())
        // When everything is rebuilt from position 0, then the tables are byte-identical.
        try runner.rebuild()
        let rebuilt = try dump(store.writer, timeline) + dump(store.writer, CallCount()) + dump(store.writer, CustomerFacts())
        #expect(incremental == rebuilt)
        #expect(incremental.contains("'corrected'") && incremental.contains("'voided'"))
        // (the facts have a revision from the amendments, and search terms; the segments' boundaries
        // are compared in `InsightsTests`: this log is recorded within a month).
        let counts = try store.projectionWriter.read { db in
            try ["SELECT count(*) FROM facts_fact WHERE revision > 0", "SELECT count(*) FROM facts_term"].map { try Int.fetchOne(db, sql: $0) ?? 0 }
        }
        #expect(counts.allSatisfy { $0 > 0 }, "revisions, terms: \(counts)")
    }

    @Test func anInvoiceCorrectedThriceKeepsEveryCorrectionWhenRebuilt() throws {
        // Given an invoice corrected three times, each correction changing another field (one of them
        // names the invoice in capitals) and folded by a catch-up of its own (a first fold is a rebuild),
        let store = try generatedStore(customers: 2, perCustomer: 3, seed: 9)
        let invoice = TestEvents.id(920_001)
        try store.append([
            ProposedEvent(eventId: invoice, type: "invoice.issued", occurredAt: "2026-01-05T00:00:00Z",
                          payload: ["invoiceId": "INV-1", "amount": 100, "currency": "EUR", "category": "parts"]),
        ], to: TouchpointGenerator.customerId(0))
        let correction = { (n: Int, target: String, changes: JSONValue) in
            ProposedEvent(eventId: TestEvents.id(920_010 + n), type: "touchpoint.corrected", occurredAt: "2026-01-06T00:00:00Z",
                          payload: ["correctedEventId": .string(target), "corrections": changes, "reason": "wrong"])
        }
        let runner = ProjectionRunner(store: store, projections: [CustomerFacts(), Corrections()])
        try runner.catchUp()
        for (n, target, changes) in [(1, invoice, ["amount": 250]), (2, invoice.uppercased(), ["category": "service"]), (3, invoice, ["invoiceId": "INV-1b"])] as [(Int, String, JSONValue)] {
            try store.append([correction(n, target, changes)], to: TouchpointGenerator.customerId(0))
            try runner.catchUp()
        }
        let caughtUp = try dump(store.writer, CustomerFacts()) + dump(store.writer, Corrections())
        // when the facts are rebuilt, then they are the ones the catch-up folded,
        try runner.rebuild()
        #expect(try dump(store.writer, CustomerFacts()) + dump(store.writer, Corrections()) == caughtUp)
        // and each revision merges every correction of the invoice so far, however it spells the id.
        let revisions = try store.writer.read { db in
            try String.fetchAll(db, sql: "SELECT revision || ' ' || amount || ' ' || key || ' ' || detail FROM facts_fact WHERE kind = 'revenue' AND customerId = ? ORDER BY revision",
                                arguments: [TouchpointGenerator.customerId(0)])
        }
        #expect(revisions == ["0 100.0 INV-1 parts", "1 250.0 INV-1 parts", "2 250.0 INV-1 service", "3 250.0 INV-1b service"])
        let corrected = try store.writer.read { db in
            try String.fetchAll(db, sql: "SELECT json_extract(payload, '$.category') FROM corrections_revision ORDER BY revision")
        }
        #expect(corrected == ["parts", "service", "service"])
    }

    @Test func aRebuildTellsEachStepAndCompletesTheTablesBeforeTheSwitch() throws {
        // Given a timeline built once
        let store = try generatedStore(customers: 12, perCustomer: 10, seed: 8)
        var runner = ProjectionRunner(store: store, projections: [JourneyTimeline(registry: .bundled)])
        runner.customerGroupSize = 40
        try runner.catchUp()
        // and a table left by a rebuild that was interrupted, or by a crash before the switch's clean-up,
        try store.projectionWriter.write { db in try db.execute(sql: "CREATE TABLE p_timeline_g7_entry (x)") }
        // when it is rebuilt into a second generation
        var steps: [FoldProgress.Step] = [], folded: [Int64] = []
        try runner.rebuild(batchSize: 40) { progress in
            if steps.last != progress.step { steps.append(progress.step) }
            if progress.step == .folding { folded.append(progress.done) }
        }
        // then it told each step once, in order, and the fold's progress (four customers at a time) up to every event,
        #expect(steps == [.emptying, .folding, .indexing, .dropping, .settling, .reclaiming])
        #expect(folded == [0, 40, 80, 120])
        // and the new generation has the indexes and triggers that only readers use.
        let objects = try store.projectionWriter.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE name LIKE 'p_timeline_g2_%' AND type IN ('index', 'trigger') ORDER BY name")
        }
        #expect(objects.contains("p_timeline_g2_entry_customer") && objects.contains("p_timeline_g2_score_customer"))
        #expect(objects.contains("p_timeline_g2_entry_inserted") && objects.contains("p_timeline_g2_entry_updated"))
        // Only the new generation's tables are left.
        let tables = try store.projectionWriter.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE name LIKE 'p_timeline_%' AND type = 'table' ORDER BY name")
        }
        #expect(tables == ["p_timeline_g2_doc", "p_timeline_g2_entry", "p_timeline_g2_score"])
        // Every customer's document was written after the switch, before the rebuild returned.
        let documents = try store.projectionWriter.read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM p_timeline_g2_doc WHERE entries IS NOT NULL"),
             try Int.fetchOne(db, sql: "SELECT count(DISTINCT customerId) FROM p_timeline_g2_entry"))
        }
        #expect(documents.0 == 12 && documents.1 == 12)
        // A touchpoint appended afterwards marks its customer's document stale, and the next fold writes it.
        var generator = TouchpointGenerator(seed: 9)
        try store.append(generator.events(forCustomer: 500, count: 1), to: TouchpointGenerator.customerId(2))
        try runner.catchUp()
        let (entries, document) = try store.writer.read { db in
            var document: [UInt8] = []
            let found = try JourneyTimeline.appendDocument(of: TouchpointGenerator.customerId(2), to: &document, in: db)
            return (try JourneyTimeline.entries(of: TouchpointGenerator.customerId(2), in: db), found ? document : [])
        }
        var expected: [UInt8] = []
        Documents.writeTimeline(entries, into: &expected)
        #expect(entries.count == 11 && document == expected)
    }

    @Test func documentsPreparedBeforeAnotherProcessFoldedAreNotWritten() throws {
        // Given a timeline built once, whose rebuild's first read of the documents to write is followed
        // by another process folding a correction of the last customer's first touchpoint (and not yet
        // writing its documents, as a catch-up between its fold and settle transactions)
        let store = try generatedStore(customers: 6, perCustomer: 5, seed: 12)
        let last = TouchpointGenerator.customerId(5)
        let target = try #require(try store.history(of: last).first)
        let timeline = TimelineFoldedMeanwhile(path: store.writer.path, customerId: last, target: target.eventId.rawValue)
        var runner = ProjectionRunner(store: store, projections: [timeline])
        try runner.catchUp()
        // when it is rebuilt, every document in one batch
        runner.settleBatch = 100
        timeline.state.step.withLock { $0 = .armed }
        try runner.rebuild()
        #expect(timeline.state.step.withLock { $0 } == .folded)
        // then every customer's document is the timeline its rows give now: the batch read before the
        // fold was not written, and the documents were written again from the tables as they are.
        let documents = try store.writer.read { db in
            try (0..<6).map { index -> (stored: [UInt8], rows: [UInt8], entries: [TimelineEntry]) in
                let customerId = TouchpointGenerator.customerId(index)
                var stored: [UInt8] = [], rows: [UInt8] = []
                #expect(try JourneyTimeline.appendDocument(of: customerId, to: &stored, in: db))
                let entries = try JourneyTimeline.entries(of: customerId, in: db)
                Documents.writeTimeline(entries, into: &rows)
                return (stored, rows, entries)
            }
        }
        #expect(documents.allSatisfy { $0.stored == $0.rows })
        #expect(documents[5].entries.contains { $0.status == "corrected" })
    }

    @Test func tablesOfReplacedGenerationsLeftByACrashAreDroppedAndANewerOneIsKept() throws {
        // Given a projection at generation 2, a generation 1 that a crash after the switch left behind,
        // and a generation 3 that a rebuild in another process is writing
        let store = try generatedStore(customers: 5, perCustomer: 4, seed: 10)
        let runner = ProjectionRunner(store: store, projections: [CallCount()])
        try runner.catchUp()
        try runner.rebuild()
        try store.projectionWriter.write { db in
            try db.execute(sql: "CREATE TABLE p_callcount_g1_total (x); CREATE TABLE p_callcount_g3_total (x)")
        }
        let before = try dump(store.writer, CallCount())
        // When the replaced generations are dropped while that rebuild holds the lock
        try whileARebuildRuns(store) { try runner.dropReplacedGenerations() }
        // Then only the older one is gone, and the active one answers as before;
        func tables() throws -> [String] {
            try store.projectionWriter.read { db in
                try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE name LIKE 'p_callcount_%' AND type = 'table' ORDER BY name")
            }
        }
        #expect(try tables() == ["p_callcount_g2_total", "p_callcount_g3_total"])
        #expect(try dump(store.writer, CallCount()) == before && before.contains("'C-"))
        // once no rebuild runs, the newer one is what an interrupted rebuild left, and goes too.
        try runner.dropReplacedGenerations()
        #expect(try tables() == ["p_callcount_g2_total"])
        #expect(try dump(store.writer, CallCount()) == before)
    }

    @Test func theDocumentsARebuildEmptiedAreWrittenAgainWhenItStopsBeforeItsSwitch() throws {
        // Given a timeline built once, with every customer's document
        let store = try generatedStore(customers: 12, perCustomer: 10, seed: 19)
        try ProjectionRunner(store: store, projections: [JourneyTimeline(registry: .bundled), CallCount()]).catchUp()
        func documents() throws -> (written: Int, readable: Bool) {
            try store.writer.read { db in
                var bytes: [UInt8] = []
                return (try Int.fetchOne(db, sql: "SELECT count(*) FROM timeline_doc WHERE entries IS NOT NULL")!,
                        try JourneyTimeline.appendDocument(of: TouchpointGenerator.customerId(4), to: &bytes, in: db))
            }
        }
        #expect(try documents() == (12, true))
        // When a rebuild of both fails in the fold of the other, after the timeline's documents were emptied,
        let last = try #require(try store.history(of: TouchpointGenerator.customerId(11)).last)
        let failing = ProjectionRunner(store: store, projections: [JourneyTimeline(registry: .bundled), CallCount(failOn: last.eventId.rawValue)])
        var emptied = false
        #expect(throws: JournalError.self) {
            try failing.rebuild { progress in if progress.step == .folding { emptied = emptied || (try? documents().written) == 0 } }
        }
        // then the old generation still answers, with every document written again.
        #expect(emptied)
        #expect(try failing.status().map(\.generation) == [1, 1])
        #expect(try documents() == (12, true))

        // When a rebuild stops in a crash instead — its new tables left beside the emptied documents —
        try store.projectionWriter.write { db in
            try db.execute(sql: "DROP TABLE IF EXISTS p_timeline_g2_entry; CREATE TABLE p_timeline_g2_entry (x); DELETE FROM p_timeline_g1_doc")
        }
        let runner = ProjectionRunner(store: store, projections: [JourneyTimeline(registry: .bundled), CallCount()])
        // nothing is done while a rebuild holds the lock,
        try whileARebuildRuns(store) { try runner.dropReplacedGenerations() }
        #expect(try documents() == (0, false))
        // and once none runs, the left tables are dropped and the documents written again.
        try runner.dropReplacedGenerations()
        #expect(try documents() == (12, true))
        let left = try store.projectionWriter.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE name LIKE 'p\\_%\\_g2\\_%' ESCAPE '\\' AND type = 'table'")
        }
        #expect(left == [])
    }

    @Test func rebuildRefusesAnUnknownName() throws {
        let store = try EventStore(writer: JournalDatabase.inMemory())
        #expect(throws: JournalError.self) { try ProjectionRunner(store: store, projections: [CallCount()]).rebuild(["nope"]) }
    }

    @Test func projectionsThatReadEachOtherAreRefusedBeforeAnythingIsBuilt() throws {
        // Given a projection that reads none and two that read each other
        let store = try generatedStore(customers: 3, perCustomer: 2, seed: 11)
        let runner = ProjectionRunner(store: store, projections: [
            CallCount(), Reading(name: "first", reads: ["second"]), Reading(name: "second", reads: ["first", "callcount"]),
        ])
        // when all are rebuilt, the rebuild is refused naming the two,
        #expect(throws: JournalError.invalidArgument("projections first, second read each other")) { try runner.rebuild() }
        // and no table was made, not even for the one that reads none.
        let tables = try store.projectionWriter.read { db in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE name LIKE 'p\\_%' ESCAPE '\\'") }
        #expect(tables == [])
        #expect(try ProjectionRunner.waves(of: [Reading(name: "later", reads: ["callcount"]), CallCount()]).map { $0.map(\.name) } == [["callcount"], ["later"]])
    }
}
