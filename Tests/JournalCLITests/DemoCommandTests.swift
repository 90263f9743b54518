import ArgumentParser
import Foundation
import Journal
@testable import JournalCLI
import JournalTesting
import JournalWorld
import Testing

@Suite struct DemoCommandTests {
    @Test func demoWritesAGeneratedWorldThatVerifies() throws {
        // Given a generated world of 50 customers over one year
        let workspace = CLIWorkspace()
        let demo = try workspace.tpj("demo", "--customers", "50", "--years", "1", "--seed", "7", "--json")
        #expect(demo.status == 0, "\(demo.stderr)")
        let summary = try JSONParser.parse(demo.stdout)
        let events = try #require(summary["events"]?.number)
        #expect(events > 500 && summary["customers"] == 50 && summary["seed"] == 7)
        // Then the chain verifies and the statistics agree with the summary.
        let verify = try workspace.tpj("verify")
        #expect(verify.status == 0 && verify.stdout.hasPrefix("OK: \(Output.count(Int(events))) events"), "\(verify.stdout)")
        let stats = try JSONParser.parse(try workspace.tpj("stats", "--json").stdout)
        #expect(stats["events"] == summary["events"] && stats["customers"] == 50)
        #expect(stats["eventsByType"]?["customer.registered"] == 50)
        #expect(stats["firstRecordedAt"]?.stringValue?.hasPrefix("2023-01-") == true)
        // The same arguments give the same events as read back; the hashes differ, since each journal
        // seals personal values with keys of its own.
        let again = CLIWorkspace()
        #expect(try again.tpj("demo", "--customers", "50", "--years", "1", "--seed", "7").status == 0)
        func readBack(_ workspace: CLIWorkspace) throws -> [JSONValue] {
            guard case .array(let events)? = try JSONParser.parse(workspace.tpj("log", "--json", "--limit", "100000").stdout)["events"] else { return [] }
            return events.map { event in
                guard case .object(let members) = event else { return event }
                return .object(members.filter { $0.key != "hash" && $0.key != "prevHash" })
            }
        }
        let first = try readBack(workspace)
        let second = try readBack(again)
        #expect(first.count == Int(events) && first == second)
        func anchor(_ workspace: CLIWorkspace) throws -> String? {
            try workspace.tpj("verify").stdout.split(separator: "\n").first { $0.hasPrefix("Anchor: ") }.map(String.init)
        }
        #expect(try anchor(again) != anchor(workspace))
    }

    @Test func demoPrintsASummaryForPeople() throws {
        let workspace = CLIWorkspace()
        let result = try workspace.tpj("demo", "--customers", "5", "--years", "1", "--start", "2024-07-01")
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("Wrote a demo world to \(workspace.db): "))
        #expect(result.stdout.contains("events of 5 customers."))
        #expect(result.stdout.contains("Occurred   2024-07-"))
    }

    @Test func demoRefusesAJournalThatHoldsEvents() throws {
        let workspace = CLIWorkspace()
        try workspace.writeHandMadeWorld()
        let again = try workspace.tpj("demo", "--customers", "5", "--years", "1")
        #expect(again.status == 64 && again.stderr.contains("the journal already holds 60 events"), "\(again.stderr)")
    }

    @Test(arguments: [
        (["--customers", "0"], "--customers must be between 1 and 5,000,000, got 0."),
        (["--customers", "5000001"], "--customers must be between 1 and 5,000,000, got 5000001."),
        (["--years", "0"], "--years must be between 1 and 30, got 0."),
        (["--years=-1"], "--years must be between 1 and 30, got -1."),
        (["--start", "2023-13-01"], "--start must be a date YYYY-MM-DD, got \"2023-13-01\"."),
        (["--seed", "-3"], "Missing value for '--seed <seed>'"),
        (["--customers", "many"], "The value 'many' is invalid for '--customers <customers>'"),
    ])
    func badValuesExitWithUsageAndSayWhy(arguments: [String], message: String) throws {
        let workspace = CLIWorkspace()
        let result = try TestSupport.runTPJ(["demo"] + arguments + ["--db", workspace.db], in: workspace.directory)
        #expect(result.status == 64)
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: workspace.db))
    }

    @Test func parsesTheWorldOptions() throws {
        let demo = try #require(try JournalCommand.parseAsRoot(
            ["demo", "--customers", "1000", "--years", "2", "--seed", "9", "--start", "2022-04-01"]) as? JournalCommand.Demo)
        #expect(demo.world == .init(customers: 1_000, years: 2, seed: 9, start: "2022-04-01"))
        let defaults = try #require(try JournalCommand.parseAsRoot(["demo"]) as? JournalCommand.Demo)
        #expect(defaults.world == .init(customers: 200, years: 3, seed: 1, start: "2023-01-01"))
    }
}

extension JSONValue {
    var number: Double? {
        if case .number(let n) = self { return n.value }
        return nil
    }
}
