import Foundation
import Journal
import JournalProjections
import JournalScoring
import JournalStore
import JournalTesting
import Testing

/// A journal file holding the hand-made world (60 events), its projections up to date.
struct AnalystWorld {
    let path = TestSupport.temporaryDirectory("tpj-analyst").appendingPathComponent("journal.sqlite").path
    let store: EventStore

    init(declared: [DeclaredProjection] = []) throws {
        let writer = try JournalDatabase.open(path: path)
        try DemoWorld.write { clock in try EventStore(writer: writer, clock: clock) }
        store = try EventStore(writer: writer)
        try ProjectionRunner.builtIn(store: store, declared: declared).catchUp()
    }

    func connection(declared: [DeclaredProjection] = [], knownAt: Timestamp? = nil) throws -> AnalystConnection {
        try AnalystConnection(journalPath: path, declared: declared, registry: store.validator.registry, knownAt: knownAt)
    }
}

/// Rows of a query, and its columns.
func rows(_ connection: AnalystConnection, _ sql: String) throws -> (columns: [String], rows: [[SQLValue]]) {
    var columns: [String] = []
    var rows: [[SQLValue]] = []
    try connection.query(sql, columns: { columns = $0 }, row: { rows.append($0) })
    return (columns, rows)
}

@Suite struct AnalystSurfaceTests {
    @Test func eachViewHasExactlyItsDocumentedColumns() throws {
        let world = try AnalystWorld()
        let connection = try world.connection()
        for view in AnalystSurface.views {
            let result = try rows(connection, "SELECT * FROM \(view.name) LIMIT 1")
            #expect(result.columns == view.columns.map(\.name), "\(view.name)")
            #expect(!result.rows.isEmpty, "\(view.name) is empty on the hand-made world")
        }
    }

    @Test func theViewsDocumentIsGeneratedFromTheViews() throws {
        let document = try String(
            contentsOf: TestSupport.repositoryRoot.appendingPathComponent("Schemas/analyst-views.md"), encoding: .utf8)
        #expect(document == AnalystSurface.markdown, "Schemas/analyst-views.md is out of date: write AnalystSurface.markdown to it")
    }

    @Test func correctionsAreMergedAndVoidsLeftOutAsKnownAtEachTime() throws {
        let world = try AnalystWorld()
        let history = try world.store.history(of: "C-1003")
        let visit = try #require(history.first { $0.type == "technician.visit.completed" })
        let correction = try #require(history.first { $0.type == "touchpoint.corrected" })
        let void = try #require(history.first { $0.type == "touchpoint.voided" })
        let voidedNote = try #require(void.payloadJSON["voidedEventId"]?.stringValue)
        let arrival = "SELECT payload ->> '$.actualArrival', corrected FROM analyst_touchpoints WHERE eventId = '\(visit.eventId.rawValue)'"
        let note = "SELECT count(*) FROM analyst_touchpoints WHERE eventId = '\(voidedNote)'"

        let now = try world.connection()
        #expect(try rows(now, arrival).rows == [[.text("2024-11-05T09:20:00+01:00"), .integer(1)]])
        #expect(try rows(now, note).rows == [[.integer(0)]])
        // The corrections themselves are not touchpoints; everything else is there once.
        let head = try world.store.head()
        let corrections = Int64(history.filter { $0.type.hasPrefix("touchpoint.") }.count)
        #expect(try rows(now, "SELECT count(*) FROM analyst_touchpoints").rows == [[.integer(head - corrections - 1)]])

        let beforeCorrection = try world.connection(knownAt: Timestamp(microseconds: correction.knownAt.microseconds - 1))
        #expect(try rows(beforeCorrection, arrival).rows == [[.text("2024-11-05T11:40:00+01:00"), .integer(0)]])
        let beforeVoid = try world.connection(knownAt: Timestamp(microseconds: void.knownAt.microseconds - 1))
        #expect(try rows(beforeVoid, note).rows == [[.integer(1)]])
        // Before the visit was known, it is not there at all.
        let beforeVisit = try world.connection(knownAt: Timestamp(microseconds: visit.knownAt.microseconds - 1))
        #expect(try rows(beforeVisit, arrival).rows.isEmpty)
    }

    @Test func withClausesAndSubqueriesReadTheViews() throws {
        let connection = try AnalystWorld().connection()
        let direct = try rows(connection, "SELECT count(DISTINCT customerId) FROM analyst_touchpoints").rows
        let viaWith = try rows(connection, """
            WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < 3),
                 customers AS (SELECT customerId, count(*) AS touchpoints FROM analyst_touchpoints GROUP BY customerId)
            SELECT count(*) FROM customers WHERE touchpoints > (SELECT min(k) FROM n)
            """).rows
        #expect(direct == [[.integer(4)]] && viaWith == direct)
    }

    @Test func casesQuotesAndCustomersAreReadFromTheTouchpoints() throws {
        let connection = try AnalystWorld().connection()
        let bianchi = try rows(connection, "SELECT status, touchpoints, closedAt, firstType FROM analyst_cases WHERE caseId = 'CASE-1003-01'")
        // Closed by the visit that fixed the machine; the correction and the void are not touchpoints of the case.
        #expect(bianchi.rows == [[.text("closed"), .integer(7), .text("2024-11-05T12:00:00+01:00"), .text("hotline.call.received")]])
        let lost = try rows(connection, "SELECT customerId, status, lostReason FROM analyst_customers WHERE status = 'lost' ORDER BY customerId")
        #expect(lost.rows == [[.text("C-1002"), .text("lost"), .text("competitor")]])
        // The customers' view (windows) agrees with the same facts read another way (grouping and a lookup per customer).
        let customers = try rows(connection, "SELECT customerId, name, touchpoints, firstOccurredAt, lastOccurredAt FROM analyst_customers ORDER BY customerId")
        let grouped = try rows(connection, """
            SELECT customerId,
                   (SELECT r.payload ->> '$.name' FROM analyst_touchpoints r
                    WHERE r.customerId = t.customerId AND r.type = 'customer.registered' ORDER BY r.position DESC LIMIT 1),
                   count(*), strftime('%Y-%m-%dT%H:%M:%fZ', min(occurredAtUs) / 1000000.0, 'unixepoch'),
                   strftime('%Y-%m-%dT%H:%M:%fZ', max(occurredAtUs) / 1000000.0, 'unixepoch')
            FROM analyst_touchpoints t GROUP BY customerId ORDER BY customerId
            """)
        #expect(customers.rows.count == 4 && customers.rows == grouped.rows)
        let answered = try rows(connection, "SELECT count(*), count(outcome) FROM analyst_quotes")
        let sent = try rows(connection, "SELECT count(*) FROM analyst_touchpoints WHERE type = 'quote.sent'")
        #expect(answered.rows.first?.first == sent.rows.first?.first)
        let late = try rows(connection, "SELECT minutesLate FROM analyst_visits WHERE customerId = 'C-1003'")
        #expect(late.rows == [[.integer(20)]])
    }

    @Test func monthlySegmentsRankTheTrailingYearsRevenueAsTheSwiftSegmentationDoes() throws {
        let world = try AnalystWorld()
        let connection = try world.connection()
        let months = try rows(connection, "SELECT DISTINCT month FROM analyst_segments ORDER BY month").rows.compactMap { row -> String? in
            if case .text(let month) = row[0] { month } else { nil }
        }
        #expect(months.count >= 12)
        var invoices: [(customer: String, month: Int, amount: Double)] = []
        for customer in DemoWorld.customers {
            for event in try world.store.history(of: customer.id) where event.type == "invoice.issued" {
                guard case .number(let amount)? = event.payloadJSON["amount"] else { continue }
                invoices.append((customer.id, Int(event.occurredAt.prefix(4))! * 12 + Int(event.occurredAt.dropFirst(5).prefix(2))! - 1, amount.value))
            }
        }
        for month in months {
            let m = Int(month.prefix(4))! * 12 + Int(month.suffix(2))! - 1
            var revenue: [String: Double] = [:]
            for invoice in invoices where (m - 11...m).contains(invoice.month) { revenue[invoice.customer, default: 0] += invoice.amount }
            let expected = Segmentation.assign(revenue.map { ($0.key, $0.value) }, rules: SegmentRules())
                .sorted { $0.customerId < $1.customerId }.map { [SQLValue.text($0.customerId), .text($0.segment)] }
            let actual = try rows(connection, "SELECT customerId, segment FROM analyst_segments WHERE month = '\(month)' ORDER BY customerId").rows
            #expect(actual == expected, "\(month)")
        }
    }

    @Test(arguments: [
        ("SELECT * FROM event", "reading the table event is not allowed"),
        ("SELECT * FROM timeline_entry", "is not allowed: read the analyst views"),
        ("DELETE FROM analyst_cases", "cannot modify analyst_cases because it is a view"),
        ("PRAGMA table_info(event)", "PRAGMA is not allowed"),
        ("ATTACH DATABASE '/tmp/x.sqlite' AS x", "ATTACH and DETACH are not allowed"),
        ("SELECT 1; SELECT 2", "give one statement (got 2)"),
        ("SELECT nosuchcolumn FROM analyst_touchpoints", "no such column: nosuchcolumn"),
        ("WITH analyst_touchpoints AS (SELECT * FROM event) SELECT * FROM analyst_touchpoints", "may not be named analyst_touchpoints"),
        ("WITH x AS (SELECT * FROM event) SELECT count(*) FROM x", "reading the table event (through x) is not allowed"),
    ])
    func onlyTheAnalystSurfaceCanBeReadAndNothingWritten(sql: String, message: String) throws {
        let connection = try AnalystWorld().connection()
        let error = #expect(throws: SandboxError.self) { try rows(connection, sql) }
        #expect(error?.message.contains(message) == true, "\(String(describing: error))")
    }
}

@Suite struct DeclaredProjectionTests {
    static let calls = """
        -- name: callsperquarter
        -- description: Hotline calls per customer and quarter, and how many were solved on the call.
        CREATE TABLE callsperquarter_count (
            customerId TEXT NOT NULL, quarter TEXT NOT NULL, calls INTEGER NOT NULL, solved INTEGER NOT NULL,
            PRIMARY KEY (customerId, quarter)
        );
        CREATE INDEX callsperquarter_byquarter ON callsperquarter_count (quarter);
        -- Every batch recomputes the customers it touches from the corrected touchpoints.
        DELETE FROM callsperquarter_count WHERE customerId IN (SELECT customerId FROM batch);
        INSERT INTO callsperquarter_count (customerId, quarter, calls, solved)
        SELECT customerId, substr(occurredDate, 1, 4) || '-Q' || ((substr(occurredDate, 6, 2) + 2) / 3), count(*),
               sum(payload ->> '$.solvedOnCall')
        FROM analyst_touchpoints
        WHERE type = 'hotline.call.received' AND customerId IN (SELECT customerId FROM batch)
        GROUP BY 1, 2;
        """

    static func projection(_ text: String = calls) throws -> DeclaredProjection {
        let projection = try DeclaredProjection(text: text, registry: .bundled)
        try projection.check()
        return projection
    }

    /// The projection's rows, sorted.
    static func table(_ world: AnalystWorld, _ projection: DeclaredProjection, knownAt: Timestamp? = nil) throws -> [[SQLValue]] {
        try rows(try world.connection(declared: [projection], knownAt: knownAt), "SELECT * FROM callsperquarter_count ORDER BY customerId, quarter").rows
    }

    @Test func foldedInSmallBatchesItEqualsARebuildAndTheLogCountedInSwift() throws {
        let projection = try Self.projection()
        let world = try AnalystWorld()
        var runner = ProjectionRunner.builtIn(store: world.store, declared: [projection])
        runner.sqlBatchSize = 1
        try runner.catchUp(batchSize: 3)
        let incremental = try Self.table(world, projection)
        try runner.rebuild([projection.name])
        #expect(try Self.table(world, projection) == incremental)

        // The same numbers, counted from the log in Swift.
        var expected: [String: (calls: Int64, solved: Int64)] = [:]
        for customer in DemoWorld.customers {
            for event in try world.store.history(of: customer.id) where event.type == "hotline.call.received" {
                let month = Int(event.occurredAt.dropFirst(5).prefix(2))!
                let key = "\(customer.id)|\(event.occurredAt.prefix(4))-Q\((month + 2) / 3)"
                expected[key, default: (0, 0)].calls += 1
                if event.payloadJSON["solvedOnCall"] == .bool(true) { expected[key, default: (0, 0)].solved += 1 }
            }
        }
        let counted: [[SQLValue]] = expected.keys.sorted().map { key in
            let parts = key.split(separator: "|")
            return [.text(String(parts[0])), .text(String(parts[1])), .integer(expected[key]!.calls), .integer(expected[key]!.solved)]
        }
        #expect(!counted.isEmpty && incremental == counted)
    }

    @Test func aRebuildOfEverythingFoldsTheBuiltInProjectionsTogetherThenWhatReadsThem() throws {
        // Given the built-in projections and a declared one that reads their views, all caught up
        let projection = try Self.projection()
        let world = try AnalystWorld()
        let runner = ProjectionRunner.builtIn(store: world.store, declared: [projection])
        try runner.catchUp()
        let incremental = try Self.table(world, projection)
        let head = try world.store.head()
        // when everything is rebuilt
        var folding: [String] = [], lastFold: FoldProgress?
        try runner.rebuild { progress in
            guard progress.step == .folding else { return }
            if folding.last != progress.projection { folding.append(progress.projection) }
            if progress.projection.contains(",") { lastFold = progress }
        }
        // then the three built-in ones were folded together, told as one step counting all their events,
        #expect(folding == ["timeline, facts, corrections", "callsperquarter"])
        #expect(lastFold?.done == 3 * head && lastFold?.total == 3 * head)
        // the declared one after them, from their new tables, to the same rows,
        #expect(try Self.table(world, projection) == incremental && !incremental.isEmpty)
        // and every projection is at the head of the log in its new generation.
        #expect(try runner.status().allSatisfy { !$0.needsRebuild && $0.checkpoint == head && $0.generation == 2 })
    }

    @Test func withClausesMayReadTheBatchCustomersAndTheProjectionsOwnTables() throws {
        let plain = try Self.projection()
        let withClauses = try Self.projection(Self.calls
            .replacingOccurrences(
                of: "DELETE FROM callsperquarter_count WHERE customerId IN (SELECT customerId FROM batch);",
                with: """
                    WITH stale AS (SELECT c.customerId FROM callsperquarter_count c JOIN batch_customers b USING (customerId))
                    DELETE FROM callsperquarter_count WHERE customerId IN stale;
                    """)
            .replacingOccurrences(of: "AND customerId IN (SELECT customerId FROM batch)", with: "AND customerId IN touched")
            .replacingOccurrences(of: "INSERT INTO callsperquarter_count (customerId, quarter, calls, solved)\n", with: """
                INSERT INTO callsperquarter_count (customerId, quarter, calls, solved)
                WITH touched AS (SELECT customerId FROM batch_customers)

                """))
        #expect(withClauses.version != plain.version)
        var counts: [[[SQLValue]]] = []
        for projection in [plain, withClauses] {
            let world = try AnalystWorld()
            var runner = ProjectionRunner.builtIn(store: world.store, declared: [projection])
            runner.sqlBatchSize = 1
            try runner.catchUp(batchSize: 5)
            counts.append(try Self.table(world, projection))
        }
        #expect(!counts[0].isEmpty && counts[1] == counts[0])
    }

    @Test func aChangedFileIsRebuiltIntoANewGeneration() throws {
        let world = try AnalystWorld()
        let first = try Self.projection()
        try ProjectionRunner.builtIn(store: world.store, declared: [first]).catchUp()
        let changed = try Self.projection(Self.calls.replacingOccurrences(of: "count(*),", with: "count(*) * 10,"))
        #expect(changed.version != first.version)
        let runner = ProjectionRunner.builtIn(store: world.store, declared: [changed])
        #expect(try runner.status().first { $0.name == changed.name }?.needsRebuild == true)
        try runner.catchUp()
        let status = try #require(try runner.status().first { $0.name == changed.name })
        #expect(status.generation == 2 && !status.needsRebuild && status.lag == 0)
        let calls = try rows(try world.connection(declared: [changed]), "SELECT sum(calls) FROM callsperquarter_count").rows
        let count = try rows(try world.connection(), "SELECT count(*) * 10 FROM analyst_touchpoints WHERE type = 'hotline.call.received'").rows
        #expect(calls == count)
    }

    @Test func asKnownAtItEqualsTheProjectionOfAJournalHoldingOnlyWhatWasKnownThen() throws {
        let projection = try Self.projection()
        let world = try AnalystWorld(declared: [projection])
        let then = try Timestamp(rfc3339: "2024-07-01T00:00:00Z")
        let past = try Self.table(world, projection, knownAt: then)

        // A second journal with the events known by then, appended customer by customer in log order.
        var known = EventFilter()
        known.knownAt = then
        // (as an operator reads them: personal values in the clear, sealed again by the second journal's keys)
        var batches: [String: [ProposedEvent]] = [:]
        var order: [String] = []
        let disclosure = world.store.disclosure()
        try world.store.scan(known) { event in
            if batches[event.customerId] == nil { order.append(event.customerId) }
            batches[event.customerId, default: []].append(try ProposedEvent(json: disclosure.event(event).json.removing(Self.journalFields), index: 0))
        }
        let other = try AnalystWorld.empty()
        try other.store.append(order.map { AppendBatch(customerId: $0, expected: .any, events: batches[$0]!) })
        try ProjectionRunner.builtIn(store: other.store, declared: [projection]).catchUp()
        let otherTable = try Self.table(other, projection), now = try Self.table(world, projection)
        #expect(!past.isEmpty && past == otherTable)
        #expect(past != now)
    }

    static let journalFields: Set<String> = ["position", "streamVersion", "recordedAt", "prevHash", "hash", "sourceRecordedAt", "importRef"]

    @Test(arguments: [
        ("CREATE TABLE callsperquarter_t (a INTEGER);\nINSERT INTO callsperquarter_t\nSELECT nonsense FROM batch;", 3, "no such column: nonsense"),
        ("CREATE TABLE callsperquarter_t (a INTEGER);\n\nINSERT INTO callsperquarter_t SELECT count(*) FROM event;", 3, "reading the table event is not allowed"),
        ("CREATE TABLE callsperquarter_t (a INTEGER);\nINSERT INTO callsperquarter_t SELECT random();", 2, "random() is not allowed"),
        ("CREATE TABLE callsperquarter_t (a INTEGER);\nPRAGMA journal_mode = DELETE;", 2, "PRAGMA is not allowed"),
        ("CREATE TABLE other_t (a INTEGER);\nINSERT INTO other_t SELECT 1;", 1, "must be named callsperquarter_<word>"),
        ("CREATE TABLE callsperquarter_t (a INTEGER);\nCREATE VIEW callsperquarter_v AS SELECT 1;", 2, "only CREATE TABLE and CREATE INDEX"),
        ("CREATE TABLE callsperquarter_t (a INTEGER);", 0, "no fold statement"),
        ("CREATE TABLE callsperquarter_t (a INTEGER);\nINSERT INTO callsperquarter_t SELECT 'unclosed FROM batch;", 2, "a string is not closed"),
        ("CREATE TABLE callsperquarter_t (a INTEGER);\nINSERT INTO callsperquarter_t\nWITH batch_customers AS (SELECT 1) SELECT 1;", 3,
         "may not be named batch_customers"),
        ("CREATE TABLE callsperquarter_t (a INTEGER);\nCREATE TABLE callsperquarter_c (customerId INTEGER);\nINSERT INTO callsperquarter_t SELECT 1;", 2,
         "declare customerId columns TEXT"),
    ])
    func badSQLIsRefusedWithItsLine(body: String, line: Int, message: String) throws {
        let text = "-- name: callsperquarter\n" + body
        let error = #expect(throws: SandboxError.self) { try Self.projection(text) }
        #expect(error?.line == line + 1 && error?.message.contains(message) == true, "\(String(describing: error))")
    }
}

extension AnalystWorld {
    /// A new, empty journal file.
    static func empty() throws -> AnalystWorld { try AnalystWorld(emptyAt: ()) }

    private init(emptyAt: Void) throws {
        store = try EventStore(writer: JournalDatabase.open(path: path))
    }
}

extension JSONValue {
    /// The object without the members named in `keys`.
    func removing(_ keys: Set<String>) -> JSONValue {
        guard case .object(let members) = self else { return self }
        return .object(members.filter { !keys.contains($0.key) })
    }
}
