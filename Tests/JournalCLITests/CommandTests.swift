import ArgumentParser
import Foundation
import GRDB
import Journal
@testable import JournalCLI
import JournalStore
import JournalTesting
import Testing

@Suite struct CommandParsingTests {
    @Test func parsesSubcommandsAndOptions() throws {
        let history = try #require(try JournalCommand.parseAsRoot(
            ["history", "C-1001", "--order", "occurred", "--known-at", "2024-06-10", "--db", "x.sqlite"]) as? JournalCommand.History)
        #expect(history.customer == "C-1001")
        #expect(history.order == .occurred)
        #expect(history.knownAt?.instant == (try Timestamp(rfc3339: "2024-06-10T00:00:00Z")))
        #expect(history.database.path == "x.sqlite")
        let append = try #require(try JournalCommand.parseAsRoot(["append", "--customer", "C-1", "--expected-version", "0", "e.json"]) as? JournalCommand.Append)
        #expect(append.customer == "C-1" && append.expectedVersion == 0 && append.file == "e.json")
    }

    @Test(arguments: [
        ["append", "--expected-version", "3", "e.json"],
        ["history", "C-1", "--known-at", "yesterday"],
        ["log", "--limit", "0"],
        ["verify", "--from", "5", "--to", "4"],
        ["history"],
    ])
    func rejectsWrongUsage(arguments: [String]) {
        #expect(throws: (any Error).self) { try JournalCommand.parseAsRoot(arguments) }
    }
}

@Suite struct CLITests {
    @Test func readCommandsOnAMissingJournalExitWith66AndSayWhatToDo() throws {
        let workspace = CLIWorkspace()
        for command in [["history", "C-1"], ["log"], ["verify"], ["stats"]] {
            let result = try TestSupport.runTPJ(command + ["--db", workspace.db], in: workspace.directory)
            #expect(result.status == 66)
            #expect(result.stderr.contains("no journal at \(workspace.db). Create one with `tpj init`"))
        }
        #expect(!FileManager.default.fileExists(atPath: workspace.db))
    }

    @Test func appendReportsPositionsAndAConflictExitsWith75() throws {
        let workspace = CLIWorkspace()
        #expect(try workspace.tpj("init").status == 0)
        let file = try workspace.write("calls.ndjson", callsNDJSON(first: 1, count: 3))
        let first = try workspace.tpj("append", "--customer", "C-1", "--expected-version", "0", file)
        #expect(first.status == 0)
        #expect(first.stdout == "C-1: appended 3 events at positions 1–3, stream version 3.\n")
        // Re-sending the file is a no-op.
        let again = try workspace.tpj("append", "--customer", "C-1", file, "--json")
        #expect(again.stdout.contains(#""appended":0"#) && again.stdout.contains(#""duplicates":3"#))
        // A stale expected version is a conflict.
        let other = try workspace.write("more.ndjson", callsNDJSON(first: 10, count: 1))
        let conflict = try workspace.tpj("append", "--customer", "C-1", "--expected-version", "1", other, "--json")
        #expect(conflict.status == 75)
        let body = try JSONParser.parse(conflict.stderr)
        #expect(body["error"]?["code"] == "versionConflict")
        #expect(body["error"]?["actual"] == 3)
        // Standard input works too.
        let piped = try workspace.tpj("append", "--customer", "C-1", "-", input: callsNDJSON(first: 20, count: 2))
        #expect(piped.stdout == "C-1: appended 2 events at positions 4–5, stream version 5.\n")
    }

    @Test func appendWithoutCustomerGroupsEventsByTheirCustomerId() throws {
        let workspace = CLIWorkspace()
        let input = callsNDJSON(first: 1, count: 2, customer: "C-A") + callsNDJSON(first: 3, count: 1, customer: "C-B")
        let result = try workspace.tpj("append", "-", input: input)
        #expect(result.status == 0)
        #expect(result.stdout == "C-A: appended 2 events at positions 1–2, stream version 2.\nC-B: appended 1 event at position 3, stream version 1.\n")
        let missing = try workspace.tpj("append", "-", input: callsNDJSON(first: 9, count: 1))
        #expect(missing.status == 65 && missing.stderr.contains("customerId is missing; give it in every event or pass --customer"))
    }

    @Test func verifyExitsWith1AndNamesTheAlteredPosition() throws {
        let workspace = CLIWorkspace()
        try workspace.writeHandMadeWorld()
        #expect(try workspace.tpj("verify").stdout.hasPrefix("OK: 60 events, positions 1–60, hash chain intact."))
        // Tamper with event 17 through a raw connection that drops the triggers first.
        let raw = try DatabaseQueue(path: workspace.db)
        try raw.inDatabase { db in
            try db.execute(sql: "DROP TRIGGER event_no_update")
            try db.execute(sql: "UPDATE event SET payload = replace(payload, '}', ',\"forged\":true}') WHERE position = 17")
        }
        let result = try workspace.tpj("verify")
        #expect(result.status == 1)
        #expect(result.stdout.hasPrefix("TAMPERED: position 17: hash does not match the stored content"))
        let json = try workspace.tpj("verify", "--json")
        #expect(try JSONParser.parse(json.stdout)["failure"]?["position"] == 17)
        // The events before it still verify as a range.
        #expect(try workspace.tpj("verify", "--to", "16").status == 0)
    }

    @Test func theJournalPathComesFromDbThenTPJ_DBThenTheWorkingDirectory() throws {
        let workspace = CLIWorkspace()
        let viaEnvironment = workspace.directory.appendingPathComponent("env.sqlite").path
        #expect(try TestSupport.runTPJ(["init"], in: workspace.directory, environment: ["TPJ_DB": viaEnvironment]).status == 0)
        #expect(FileManager.default.fileExists(atPath: viaEnvironment))
        #expect(try TestSupport.runTPJ(["init"], in: workspace.directory).stdout == "Created journal journal.sqlite (SQLite, WAL, synchronous=FULL).\n")
        let explicit = try TestSupport.runTPJ(
            ["init", "--db", "explicit.sqlite"], in: workspace.directory, environment: ["TPJ_DB": viaEnvironment])
        #expect(explicit.stdout.contains("explicit.sqlite"))
    }

    @Test func refusesFilesThatAreNotJournals() throws {
        let workspace = CLIWorkspace()
        let text = try workspace.write("notes.txt", "not a database at all, just some text that is long enough to matter\n")
        let result = try TestSupport.runTPJ(["stats", "--db", text], in: workspace.directory)
        #expect(result.status == 74 && result.stderr.contains("is not a journal: the file is not an SQLite database"))
        // Another application's SQLite database is not touched.
        let other = workspace.directory.appendingPathComponent("other.sqlite").path
        try DatabaseQueue(path: other).write { db in try db.execute(sql: "CREATE TABLE invoice (id INTEGER PRIMARY KEY)") }
        for command in [["stats"], ["append", "--customer", "C-1", "-"]] {
            let refused = try TestSupport.runTPJ(command + ["--db", other], in: workspace.directory, input: callsNDJSON(first: 1, count: 1))
            #expect(refused.status == 74 && refused.stderr.contains("is an SQLite database but not a journal"))
        }
        let tables = try DatabaseQueue(path: other).read { db in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master") }
        #expect(tables == ["invoice"])
    }

    @Test func anAnchorKeptOutsideTheJournalRevealsATruncatedLog() throws {
        // Given the hand-made world and the anchor verify prints
        let workspace = CLIWorkspace()
        try workspace.writeHandMadeWorld()
        let verified = try workspace.tpj("verify")
        let anchorLine = try #require(verified.stdout.split(separator: "\n").first { $0.hasPrefix("Anchor: ") })
        let anchor = String(anchorLine.dropFirst("Anchor: ".count))
        #expect(anchor.hasPrefix("60:") && anchor.count == 3 + 64)
        #expect(try workspace.tpj("verify", "--anchor", anchor).status == 0)
        // When someone drops the triggers and deletes the last events, the remaining chain still verifies,
        let raw = try DatabaseQueue(path: workspace.db)
        try raw.inDatabase { db in
            try db.execute(sql: "DROP TRIGGER event_no_delete")
            try db.execute(sql: "DELETE FROM event WHERE position > 50")
        }
        #expect(try workspace.tpj("verify").status == 0)
        // but the anchor does not.
        let result = try workspace.tpj("verify", "--anchor", anchor)
        #expect(result.status == 1)
        #expect(result.stdout.hasPrefix("TAMPERED: position 60: the anchored event 60 is missing: the log was truncated"))
        #expect(try workspace.tpj("verify", "--anchor", "59:xyz").status == 64)
    }

    @Test func aSchemaDirectoryCannotReplaceABuiltInContract() throws {
        let workspace = CLIWorkspace()
        let schemas = workspace.directory.appendingPathComponent("schemas")
        try FileManager.default.createDirectory(at: schemas, withIntermediateDirectories: true)
        try #"{"type":"object"}"#.write(to: schemas.appendingPathComponent("hotline.call.received.v1.json"), atomically: true, encoding: .utf8)
        let result = try TestSupport.runTPJ(["types"], in: workspace.directory, environment: ["TPJ_SCHEMA_DIR": schemas.path])
        #expect(result.status == 65)
        #expect(result.stderr.contains("hotline.call.received v1 is already registered"))
    }

    @Test func errorsWithoutCustomerNameTheIndexInTheInput() throws {
        let workspace = CLIWorkspace()
        let lines = callsNDJSON(first: 1, count: 2, customer: "C-A").split(separator: "\n")
        let bad = callsNDJSON(first: 3, count: 1, customer: "C-A").replacingOccurrences(of: "2026-03-02T08:15:00+01:00", with: "2026-03-02")
        let input = [String(lines[0]), callsNDJSON(first: 9, count: 1, customer: "C-B"), bad].joined(separator: "\n")
        let result = try workspace.tpj("append", "-", input: input)
        #expect(result.status == 65)
        #expect(result.stderr.hasPrefix("error: event 2 (eventId \(TestEvents.id(3))): /occurredAt"), "\(result.stderr)")
    }

    @Test func scoringCommandsRejectBadRulesWeightsAndCustomers() throws {
        let workspace = CLIWorkspace()
        try workspace.writeHandMadeWorld()
        let rules = workspace.directory.appendingPathComponent("rules.json")
        let bundled = try String(contentsOf: TestSupport.repositoryRoot.appendingPathComponent("Schemas/moments-of-truth.json"), encoding: .utf8)
        try bundled.replacingOccurrences(of: #""version": 2,"#, with: #""version": 0,"#).write(to: rules, atomically: true, encoding: .utf8)
        let badRules = try workspace.tpj("moments", "C-1001", "--rules", rules.path)
        #expect(badRules.status == 65 && badRules.stderr.contains("rules.json: /version:"), "\(badRules.stderr)")
        let weights = workspace.directory.appendingPathComponent("weights.json")
        try "not json".write(to: weights, atomically: true, encoding: .utf8)
        let badWeights = try workspace.tpj("churn", "--weights", weights.path, "--as-of", "2025-01-01")
        #expect(badWeights.status == 65 && badWeights.stderr.contains("cannot read the churn weights"), "\(badWeights.stderr)")
        let unknown = try workspace.tpj("churn", "--customer", "C-9999", "--as-of", "2025-01-01")
        #expect(unknown.status == 66 && unknown.stderr.contains("C-9999"))
        #expect(try workspace.tpj("moments", "C-9999").status == 66)
        #expect(try workspace.tpj("segments", "--a-share", "0.9", "--b-share", "0.5").status == 64)
        #expect(try workspace.tpj("churn", "fit", "--horizon", "six months").status == 64)
        // Nothing was written by the refused commands: no events, no weights file from the refused fit.
        #expect(try workspace.tpj("stats", "--json").stdout.contains(#""events":60"#))
        #expect(!FileManager.default.fileExists(atPath: workspace.db + ".churn-weights.json"))
    }

    @Test func timelineProjectionsAndRebuild() throws {
        let workspace = CLIWorkspace()
        try workspace.writeHandMadeWorld()
        #expect(try workspace.tpj("projections").stdout.contains("timeline     \(timelineVersion)   0           60   not built yet"))
        let timeline = try workspace.tpj("timeline", "C-1003")
        #expect(timeline.status == 0)
        #expect(timeline.stdout.contains("✎ [PROMISE BROKEN] PROMISE_BROKEN arrival +20min, FIXED_FIRST_TIME"))
        #expect(timeline.stdout.contains("✗ author=\"G. Ferri\""))
        #expect(try workspace.tpj("projections").stdout.contains("timeline     \(timelineVersion)   60          0    up to date"))
        let json = try JSONParser.parse(try workspace.tpj("timeline", "C-1001", "--case", "CASE-1001-01", "--kind", "visit", "--json").stdout)
        guard case .array(let visits) = json else { Issue.record("not an array"); return }
        #expect(visits.count == 3 && visits.allSatisfy { $0["kind"] == "visit" })
        // As known before the late report was typed in, the first visit's report is not there.
        let known = try workspace.tpj("timeline", "C-1001", "--kind", "visit", "--known-at", "2024-06-08")
        #expect(known.stdout.components(separatedBy: "technician.visit.completed").count - 1 == 1)
        #expect(try workspace.tpj("rebuild").stdout == "Rebuilt corrections from 60 events.\nRebuilt facts from 60 events.\nRebuilt timeline from 60 events.\n")
        let unknown = try workspace.tpj("rebuild", "nope")
        #expect(unknown.status == 64 && unknown.stderr.contains("no projection named nope; there are timeline, facts, corrections"))
    }

    @Test func schemaDirectoryAddsAnEventTypeWithoutCodeChanges() throws {
        let workspace = CLIWorkspace()
        let schemas = workspace.directory.appendingPathComponent("schemas")
        try FileManager.default.createDirectory(at: schemas, withIntermediateDirectories: true)
        try #"{"type":"object","required":["rating"],"properties":{"rating":{"type":"integer","minimum":1,"maximum":5}},"additionalProperties":false}"#
            .write(to: schemas.appendingPathComponent("app.review.submitted.v1.json"), atomically: true, encoding: .utf8)
        let event = #"{"eventId":"00000000-0000-7000-8000-000000000001","type":"app.review.submitted","occurredAt":"2026-03-02T08:15:00Z","payload":{"rating":4}}"#
        let without = try TestSupport.runTPJ(["append", "--customer", "C-1", "-", "--db", workspace.db], in: workspace.directory, input: event)
        #expect(without.status == 65 && without.stderr.contains("unknown event type \"app.review.submitted\""))
        let with = try TestSupport.runTPJ(
            ["append", "--customer", "C-1", "-", "--db", workspace.db], in: workspace.directory, input: event,
            environment: ["TPJ_SCHEMA_DIR": schemas.path])
        #expect(with.status == 0, "\(with.stderr)")
        let types = try TestSupport.runTPJ(["types"], in: workspace.directory, environment: ["TPJ_SCHEMA_DIR": schemas.path])
        #expect(types.stdout.contains("app.review.submitted"))
    }

    @Test func theWholeTimelineOpensWithTheHotlineSummaryAndSummaryPrintsOnlyThat() throws {
        let workspace = CLIWorkspace()
        try workspace.writeHandMadeWorld()
        let whole = try workspace.tpj("timeline", "C-1001", "--known-at", "2025-06-01")
        #expect(whole.status == 0 && whole.stdout.hasPrefix("Open cases: ") && whole.stdout.contains("OCCURRED"), "\(whole.stdout.prefix(400))")
        let filtered = try workspace.tpj("timeline", "C-1001", "--kind", "visit")
        #expect(filtered.status == 0 && !filtered.stdout.contains("Open cases: ") && filtered.stdout.contains("OCCURRED"))
        let summary = try workspace.tpj("timeline", "C-1001", "--summary", "--known-at", "2025-06-01", "--json")
        #expect(summary.status == 0, "\(summary.stderr)")
        let document = try JSONParser.parse(summary.stdout)
        #expect(document["customerId"] == "C-1001" && document["asOf"] == "2025-06-01T00:00:00.000000Z")
        #expect(try workspace.tpj("timeline", "C-1001", "--summary").stdout.contains("Machines: "))
        let refused = try workspace.tpj("timeline", "C-1001", "--summary", "--kind", "visit")
        #expect(refused.status == 64 && refused.stderr.contains("--summary is of the whole customer"), "\(refused.stderr)")
        let unknown = try workspace.tpj("timeline", "C-9999", "--summary")
        #expect(unknown.status == 66 && unknown.stderr.contains("customer C-9999 has no touchpoints"), "\(unknown.stderr)")
    }
}

/// Customer ids on the command line follow the same rules as in the API's paths.
@Suite struct CustomerArgumentTests {
    @Test(arguments: [
        (["timeline", " C-1"], "the customer id must not start or end with white space"),
        (["history", ""], "the customer id must not be empty"),
        (["moments", "C-\u{7}1"], "the customer id contains a control character"),
        (["append", "--customer", String(repeating: "x", count: 300), "-"], "the customer id is longer than"),
    ])
    func aBadCustomerIdIsAUsageErrorThatSaysWhy(arguments: [String], message: String) throws {
        let workspace = CLIWorkspace()
        let result = try TestSupport.runTPJ(arguments + ["--db", workspace.db], in: workspace.directory, input: "")
        #expect(result.status == 64)
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }
}
