import Foundation
import Journal
import JournalStore
import JournalTesting
import Testing

@Suite struct AnalystCommandTests {
    /// Touchpoints per customer, counted from the log in Swift (corrections and voids applied by hand).
    static func touchpointsPerCustomer(_ db: String) throws -> [String: Int] {
        let store = try EventStore(writer: JournalDatabase.open(path: db, create: false))
        var counts: [String: Int] = [:]
        for customer in DemoWorld.customers {
            let history = try store.history(of: customer.id)
            let voided = Set(history.filter { $0.type == "touchpoint.voided" }.compactMap { $0.payloadJSON["voidedEventId"]?.stringValue })
            counts[customer.id] = history.filter { !$0.type.hasPrefix("touchpoint.") && !voided.contains($0.eventId.rawValue) }.count
        }
        return counts
    }

    @Test func queryAnswersInEachFormatWithTheSameNumbers() throws {
        let workspace = CLIWorkspace()
        try workspace.writeHandMadeWorld()
        let sql = "SELECT customerId, count(*) AS touchpoints FROM analyst_touchpoints GROUP BY customerId ORDER BY customerId"
        let expected = try Self.touchpointsPerCustomer(workspace.db)

        let csv = try workspace.tpj("query", sql, "--format", "csv")
        #expect(csv.status == 0, "\(csv.stderr)")
        #expect(csv.stdout == "customerId,touchpoints\r\n" + expected.keys.sorted().map { "\($0),\(expected[$0]!)\r\n" }.joined())

        let ndjson = try workspace.tpj("query", sql, "--format", "ndjson")
        let lines = ndjson.stdout.split(separator: "\n").map { try? JSONParser.parse(String($0)) }
        #expect(lines.count == expected.count)
        for line in lines {
            let customer = try #require(line?["customerId"]?.stringValue)
            #expect(line?["touchpoints"] == .number(JSONNumber(Int64(expected[customer]!))))
        }
        let json = try JSONParser.parse(try workspace.tpj("query", sql, "--format", "json").stdout)
        #expect(json == .array(lines.compactMap { $0 }))

        let table = try workspace.tpj("query", "-f", "-", input: sql)
        #expect(table.stdout.hasPrefix("customerId  touchpoints\nC-1001") && table.stdout.hasSuffix("(4 rows)\n"), "\(table.stdout)")
    }

    @Test func aLongTableIsSizedByItsFirstRowsAndWrittenAsItComes() throws {
        let workspace = CLIWorkspace()
        try workspace.writeHandMadeWorld()
        // 1,500 rows: the columns are sized by the first 1,000; row 1,200's wider cell is written whole.
        let sql = """
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1500)
            SELECT CASE WHEN i = 1200 THEN 'wide-' || i ELSE i END AS i, 'x' AS mark FROM n
            """
        let table = try workspace.tpj("query", sql)
        #expect(table.status == 0, "\(table.stderr)")
        let lines = table.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 1 + 1_500 + 2)
        #expect(lines[0] == "i     mark" && lines[1] == "1     x" && lines[1_000] == "1000  x")
        #expect(lines[1_200] == "wide-1200  x" && lines[1_500] == "1500  x")
        #expect(lines[1_501] == "(1,500 rows)" && lines[1_502] == "")
    }

    @Test func queryRefusesWritesAndInternalTablesAndNamesTheProblem() throws {
        let workspace = CLIWorkspace()
        try workspace.writeHandMadeWorld()
        let write = try workspace.tpj("query", "DELETE FROM analyst_touchpoints")
        #expect(write.status == 65 && write.stderr.contains("cannot modify analyst_touchpoints"), "\(write.stderr)")
        let hidden = try workspace.tpj("query", "SELECT * FROM event")
        #expect(hidden.status == 65 && hidden.stderr.contains("reading the table event is not allowed"))
        let noSQL = try workspace.tpj("query")
        #expect(noSQL.status == 64 && noSQL.stderr.contains("give the SQL"))
        let noJournal = try TestSupport.runTPJ(["query", "SELECT 1", "--db", workspace.directory.appendingPathComponent("none.sqlite").path],
                                               in: workspace.directory)
        #expect(noJournal.status == 66)
    }

    @Test func exportedEventsAppendIntoAnEmptyJournalWithTheSameIdsAndPayloads() throws {
        let workspace = CLIWorkspace()
        try workspace.writeHandMadeWorld()
        let export = try workspace.tpj("export", "events")
        #expect(export.status == 0 && export.stderr.contains("Exported 60 events"), "\(export.stderr)")
        let copy = CLIWorkspace()
        let appended = try copy.tpj("append", "-", input: export.stdout)
        #expect(appended.status == 0, "\(appended.stderr)")
        #expect(try copy.tpj("verify").status == 0)
        let again = try copy.tpj("export", "events")
        #expect(Set(again.stdout.split(separator: "\n")) == Set(export.stdout.split(separator: "\n")))

        // Filters: one customer's invoices, and what was known by a date.
        let invoices = try workspace.tpj("export", "events", "--customer", "C-1003", "--type", "invoice.issued", "--format", "csv")
        let rows = invoices.stdout.split(separator: "\r\n")
        #expect(rows.count == 2 && rows[0].hasPrefix("position,eventId,customerId") && rows[1].contains(",C-1003,") && rows[1].contains("INV-24-16003"))
        let early = try workspace.tpj("export", "events", "--known-at", "2023-03-01")
        let store = try EventStore(writer: JournalDatabase.open(path: workspace.db, create: false))
        let knownThen = try store.events(after: 0, limit: 1_000).filter { $0.knownAt <= (try Timestamp(rfc3339: "2023-03-01T00:00:00Z")) }
        #expect(early.stdout.split(separator: "\n").count == knownThen.count && !knownThen.isEmpty)
        let badType = try workspace.tpj("export", "events", "--type", "no.such.type")
        #expect(badType.status == 64 && badType.stderr.contains("no such event type"))
    }

    @Test func aDeclaredProjectionIsAddedListedQueriedReplacedAndDropped() throws {
        let workspace = CLIWorkspace()
        try workspace.writeHandMadeWorld()
        let bad = try workspace.write("bad.sql", "-- name: bad\nCREATE TABLE bad_t (a INTEGER);\nINSERT INTO bad_t\nSELECT nosuch FROM batch;\n")
        let refused = try workspace.tpj("projection", "add", bad)
        #expect(refused.status == 65 && refused.stderr.contains("bad.sql:4: no such column: nosuch. Nothing was kept."), "\(refused.stderr)")
        #expect(try workspace.tpj("projection", "list").stdout.contains("No declared projections"))

        let path = TestSupport.repositoryRoot.appendingPathComponent("tools/projections/quotehitrate.sql").path
        let added = try workspace.tpj("projection", "add", path)
        #expect(added.status == 0 && added.stdout.contains("Added quotehitrate") && added.stdout.contains("folded up to position 60"), "\(added.stderr)")
        let list = try workspace.tpj("projection", "list", "--json")
        let listed = try JSONParser.parse(list.stdout)
        guard case .array(let items) = listed, let first = items.first else { Issue.record("not a list: \(list.stdout)"); return }
        #expect(first["name"] == .string("quotehitrate") && first["lag"] == .number(JSONNumber(Int64(0))))
        #expect(first["tables"] == .array([.string("quotehitrate_quarter")]))
        let sent = try workspace.tpj("query", "SELECT sum(sent) FROM quotehitrate_quarter", "--format", "csv")
        let quotes = try workspace.tpj("query", "SELECT count(*) FROM analyst_quotes", "--format", "csv")
        #expect(sent.stdout.split(separator: "\r\n").last == quotes.stdout.split(separator: "\r\n").last && sent.stdout.hasPrefix("sum(sent)"))
        let show = try workspace.tpj("projection", "show", "quotehitrate")
        #expect(show.stdout.contains("quotehitrate_quarter: ") && show.stdout.contains("CREATE TABLE quotehitrate_quarter"))

        // A changed file replaces it; the rebuilt tables answer.
        let changed = try workspace.write("quotehitrate.sql", try String(contentsOfFile: path, encoding: .utf8) + "\n-- changed\n")
        let replaced = try workspace.tpj("projection", "add", changed)
        #expect(replaced.stdout.contains("Replaced quotehitrate"), "\(replaced.stdout)")
        #expect(try workspace.tpj("query", "SELECT sum(sent) FROM quotehitrate_quarter", "--format", "csv").stdout == sent.stdout)
        #expect(try workspace.tpj("projection", "rebuild", "quotehitrate").stdout.contains("Rebuilt quotehitrate from 60 events."))

        #expect(try workspace.tpj("projection", "drop", "quotehitrate").status == 0)
        let gone = try workspace.tpj("query", "SELECT * FROM quotehitrate_quarter")
        #expect(gone.status == 65 && gone.stderr.contains("no such table"))
        #expect(try workspace.tpj("projection", "drop", "quotehitrate").status == 64)
    }

    @Test func projectionsFromADirectoryAreFoldedAndAnsweredAsKnownAtADate() throws {
        let workspace = CLIWorkspace()
        try workspace.writeHandMadeWorld()
        let directory = TestSupport.repositoryRoot.appendingPathComponent("tools/projections").path
        let sql = "SELECT count(*) FROM firsttimefix_visit"
        let now = try workspace.tpj("query", sql, "--projections", directory, "--format", "csv")
        let then = try workspace.tpj("query", sql, "--projections", directory, "--format", "csv", "--known-at", "2024-01-01")
        let visits = try workspace.tpj("query", "SELECT count(*) FROM analyst_visits", "--format", "csv", "--known-at", "2024-01-01")
        #expect(now.status == 0 && then.status == 0, "\(now.stderr) \(then.stderr)")
        #expect(then.stdout == visits.stdout && now.stdout != then.stdout)
    }

    @Test func duckdbAndPandasReadTheExportsAndGetTheSameKPIAsQuery() throws {
        let workspace = CLIWorkspace()
        try workspace.writeHandMadeWorld()
        let events = try workspace.tpj("export", "events", "--format", "csv")
        let eventsPath = try workspace.write("events.csv", events.stdout)
        let added = try workspace.tpj("projection", "add", TestSupport.repositoryRoot.appendingPathComponent("tools/projections/quotehitrate.sql").path)
        #expect(added.status == 0)
        let view = try workspace.tpj("export", "view", "quotehitrate")
        let viewPath = try workspace.write("hitrate.csv", view.stdout)
        let kpi = try workspace.tpj(
            "query", "SELECT count(*) FROM analyst_touchpoints WHERE type = 'invoice.issued'", "--format", "csv").stdout
            .split(separator: "\r\n").last.map(String.init)
        let accepted = try workspace.tpj("query", "SELECT sum(accepted) FROM quotehitrate_quarter", "--format", "csv").stdout
            .split(separator: "\r\n").last.map(String.init)
        let script = """
            import duckdb, pandas, sys
            invoices = duckdb.sql("SELECT count(*) FROM read_csv_auto('\(eventsPath)') WHERE type = 'invoice.issued'").fetchall()[0][0]
            accepted = int(pandas.read_csv('\(viewPath)')['accepted'].sum())
            print(f"{invoices} {accepted}")
            """
        let python = try TestSupport.run(
            URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", script], in: workspace.directory)
        #expect(python.status == 0, "\(python.stderr)")
        #expect(python.stdout == "\(kpi ?? "?") \(accepted ?? "?")\n")
    }
}
