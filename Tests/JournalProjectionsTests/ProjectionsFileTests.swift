import Foundation
import GRDB
import Journal
import JournalProjections
@_spi(Benchmarks) import JournalStore
import JournalTesting
import Testing

/// The projections live in a file of their own beside the journal (`<journal>-projections`).
@Suite struct ProjectionsFileTests {
    @Test func anAppendDoesNotWaitForAnOpenFoldTransaction() throws {
        let store = try generatedStore(customers: 3, perCustomer: 5, seed: 11)
        try ProjectionRunner.builtIn(store: store).catchUp()
        let folding = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        let fold = onThread {
            try? store.projectionWriter.write { db in
                try db.execute(sql: "UPDATE projection SET updatedAtUs = updatedAtUs + 1")
                folding.signal()
                release.wait()
            }
        }
        folding.wait()
        // While the projections' write lock is held, an append by the same process commits.
        let appended = Flag()
        let append = onThread {
            var generator = TouchpointGenerator(seed: 12)
            if (try? store.append(generator.events(forCustomer: 7, count: 3), to: TouchpointGenerator.customerId(7))) != nil { appended.set() }
        }
        let appendFinished = append.wait(timeout: .now() + 20) == .success
        release.signal()
        #expect(fold.wait(timeout: .now() + 20) == .success)
        #expect(appendFinished && appended.isSet)
        #expect(try store.head() == 18)
    }

    @Test func foldsCannotWriteTheLogAndTheLogsWriterSeesNoProjection() throws {
        let store = try generatedStore(customers: 2, perCustomer: 3, seed: 13)
        try ProjectionRunner.builtIn(store: store).catchUp()
        // Refused because the journal is attached read-only (not by its triggers, which would refuse the delete too).
        for sql in ["DELETE FROM journal.event", "CREATE TABLE journal.scratch (x)"] {
            #expect("\(sql)") {
                try store.projectionWriter.write { db in try db.execute(sql: sql) }
            } throws: { error in
                (error as? DatabaseError)?.resultCode == .SQLITE_READONLY
            }
        }
        #expect(try store.writer.write { db in try db.tableExists("projection") || db.viewExists("timeline_entry") } == false)
        // The log's readers see both.
        #expect(try store.writer.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM timeline_entry JOIN event USING (position)") } == 6)
        #expect(try store.head() == 6)
    }

    /// A fold's statement journals and sorts stay in memory; a rebuild sorts in files, and after it the
    /// folds are back in memory.
    @Test func foldsKeepTemporaryDataInMemory() throws {
        let store = try generatedStore(customers: 3, perCustomer: 5, seed: 17)
        func tempStore() throws -> Int? { try store.projectionWriter.write { db in try Int.fetchOne(db, sql: "PRAGMA temp_store") } }
        #expect(try tempStore() == 2)
        let runner = ProjectionRunner.builtIn(store: store)
        _ = try runner.rebuild()
        #expect(try tempStore() == 2)
    }

    @Test func aRebuildGivesTheReplacedGenerationsPagesBack() throws {
        let store = try generatedStore(customers: 40, perCustomer: 50, seed: 15)
        let runner = ProjectionRunner(store: store, projections: [JourneyTimeline(registry: .bundled), CustomerFacts()])
        try runner.catchUp()
        func pages() throws -> (count: Int, free: Int, autoVacuum: Int) {
            try store.projectionWriter.read { db in
                (try Int.fetchOne(db, sql: "PRAGMA page_count")!, try Int.fetchOne(db, sql: "PRAGMA freelist_count")!,
                 try Int.fetchOne(db, sql: "PRAGMA auto_vacuum")!)
            }
        }
        let folded = try pages()
        #expect(folded.autoVacuum == 2)
        for _ in 0..<2 {
            try runner.rebuild()
            let rebuilt = try pages()
            // The old generation's pages are free after the switch, and given back at once; the file stays in
            // incremental auto-vacuum (full auto-vacuum serves the one commit that gives them back).
            #expect(rebuilt.free == 0)
            #expect(rebuilt.autoVacuum == 2)
            #expect(Double(rebuilt.count) <= 1.5 * Double(folded.count), "\(rebuilt.count) pages after a rebuild, \(folded.count) folded")
        }
        // Giving a large generation back passes it through the WAL, which is then cut back to 64 MiB.
        let walLimit = try store.projectionWriter.read { db in try Int.fetchOne(db, sql: "PRAGMA journal_size_limit") }
        #expect(walLimit == 64 << 20)
        // Freed pages are not overwritten (the projections hold no personal value in the clear), and the
        // rebuild's less frequent checkpoints end with it.
        let (secureDelete, checkpointPages) = try store.projectionWriter.writeWithoutTransaction { db in
            (try Int.fetchOne(db, sql: "PRAGMA main.secure_delete"), try Int.fetchOne(db, sql: "PRAGMA wal_autocheckpoint"))
        }
        #expect(secureDelete == 0 && checkpointPages == 1_000)
    }

    /// A rebuild uses the file's free pages before it grows it: the replaced generation's documents are
    /// emptied as it starts (its readers read the entries meanwhile), and the new documents are written
    /// into the pages the dropped generation freed, before the reclaim.
    @Test func aRebuildWritesIntoThePagesTheReplacedGenerationFreed() throws {
        let store = try generatedStore(customers: 40, perCustomer: 50, seed: 16)
        let runner = ProjectionRunner(store: store, projections: [JourneyTimeline(registry: .bundled), CustomerFacts()])
        try runner.catchUp()
        let customer = TouchpointGenerator.customerId(3)
        func pages() throws -> (count: Int, free: Int) {
            try store.projectionWriter.read { db in
                (try Int.fetchOne(db, sql: "PRAGMA page_count")!, try Int.fetchOne(db, sql: "PRAGMA freelist_count")!)
            }
        }
        func documentAndEntries() throws -> (document: Bool, entries: Int, documents: Int) {
            try store.writer.read { db in
                var bytes: [UInt8] = []
                return (try JourneyTimeline.appendDocument(of: customer, to: &bytes, in: db),
                        try JourneyTimeline.entries(of: customer, in: db).count,
                        try Int.fetchOne(db, sql: "SELECT count(*) FROM timeline_doc")!)
            }
        }
        let before = (pages: try pages(), reading: try documentAndEntries())
        #expect(before.reading.document && before.reading.entries == 50 && before.reading.documents == 40)
        #expect(before.pages.free == 0)
        // Read once, at the fold's first report (before any batch is written).
        var atFold: Result<(pages: (count: Int, free: Int), reading: (document: Bool, entries: Int, documents: Int)), any Error>?
        var atStep: [FoldProgress.Step: (count: Int, free: Int)] = [:]
        var peak = before.pages.count
        try runner.rebuild { progress in
            peak = max(peak, (try? pages().count) ?? 0)
            if progress.step == .folding, atFold == nil { atFold = Result { (try pages(), try documentAndEntries()) } }
            if atStep[progress.step] == nil { atStep[progress.step] = try? pages() }
        }
        // As the fold starts, the old generation answers without documents, from its entries, and their pages are free.
        let fold = try #require(atFold).get()
        #expect(!fold.reading.document && fold.reading.entries == 50 && fold.reading.documents == 0)
        #expect(fold.pages.free > 0)
        // The new tables took those pages before the file grew.
        let dropping = try #require(atStep[.dropping])
        #expect(dropping.free < fold.pages.free, "\(dropping) before the drop, \(fold.pages) as the fold started")
        // The documents fill pages the dropped generation freed: the file does not grow while they are
        // written, and fewer pages are left for the reclaim to give back.
        let settling = try #require(atStep[.settling]), reclaiming = try #require(atStep[.reclaiming])
        #expect(settling.free > 0 && reclaiming.free < settling.free)
        #expect(reclaiming.count == settling.count, "\(settling) before the documents, \(reclaiming) after")
        #expect(Double(peak) < 1.6 * Double(before.pages.count), "peak \(peak) pages, \(before.pages.count) before")
        let after = (pages: try pages(), reading: try documentAndEntries())
        #expect(after.pages.free == 0 && after.reading.document && after.reading.documents == 40)
    }

    @Test func aLostProjectionsFileIsFoldedAgainIdentically() throws {
        let store = try generatedStore(customers: 8, perCustomer: 12, seed: 14)
        let timeline = JourneyTimeline(registry: .bundled)
        try ProjectionRunner(store: store, projections: [timeline, CustomerFacts()]).catchUp()
        let before = try dump(store.writer, timeline) + dump(store.writer, CustomerFacts())
        let path = store.writer.path
        try store.writer.close()
        try store.projectionWriter.close()
        for suffix in ["", "-wal", "-shm"] {
            try? FileManager.default.removeItem(atPath: JournalDatabase.projectionsPath(of: path) + suffix)
        }
        let reopened = try EventStore(writer: JournalDatabase.open(path: path, create: false))
        #expect(try ProjectionRunner(store: reopened, projections: [timeline, CustomerFacts()]).catchUp() == ["timeline": 96, "facts": 96])
        #expect(try dump(reopened.writer, timeline) + dump(reopened.writer, CustomerFacts()) == before)
    }

    @Test func aJournalFromBeforeTheProjectionsFileLosesTheirTablesAndFoldsThemAgain() throws {
        // A journal as written before: projections, their views and their state in the journal file.
        let path = TestSupport.temporaryDirectory().appendingPathComponent("old.sqlite").path
        let old = try DatabaseQueue(path: path)
        try old.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode = WAL") }
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-event-log") { db in try db.execute(sql: JournalSchema.v1) }
        migrator.registerMigration("v2-projection-state") { db in try db.execute(sql: JournalSchema.v2) }
        // The event table of today, which the store below writes to; the projections still in the journal.
        migrator.registerMigration("v4-migrated-history") { db in try db.execute(sql: JournalSchema.v4) }
        try migrator.migrate(old)
        let timeline = JourneyTimeline(registry: .bundled)
        // (before the Merkle tree: its table and nodes come with the migration below)
        var oldStore = try EventStore(writer: old)
        oldStore.extendsTree = false
        var generator = TouchpointGenerator(seed: 15)
        for customer in 0..<4 {
            try oldStore.append(generator.events(forCustomer: customer, count: 6), to: TouchpointGenerator.customerId(customer))
        }
        try ProjectionRunner(store: oldStore, projections: [timeline]).catchUp()
        let before = try dump(old, timeline)
        #expect(try old.read { db in try db.tableExists("projection") && db.viewExists("timeline_entry") })
        try old.close()

        let store = try EventStore(writer: JournalDatabase.open(path: path, create: false))
        let left = try store.writer.write { db in
            try String.fetchAll(db, sql: "SELECT name FROM main.sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'grdb_%'")
        }
        #expect(left.sorted() == ["access_log", "access_token", "declared_projection", "event", "import", "merkle_node", "tree_head", "web_session"])
        // The tree of the events written before it is stored when the journal is opened.
        let leaves = try store.events(after: 0, limit: 100).map { MerkleTree.leafHash($0.hash) }
        #expect(leaves.count == 24)
        for size in [16, 17, 24] { #expect(try store.treeRoot(size: Int64(size)) == MerkleTree.root(of: leaves[..<size])) }
        #expect(try ProjectionRunner(store: store, projections: [timeline]).catchUp() == ["timeline": 24])
        #expect(try dump(store.writer, timeline) == before)
        #expect(try store.verify().isIntact)
    }
}
