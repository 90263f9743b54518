import Foundation
import Journal
import JournalTesting
import Testing

@Suite struct ImportCommandTests {
    static let complaints = TestSupport.repositoryRoot.appendingPathComponent("Tests/JournalImportTests/Fixtures/complaints.csv").path
    static let mapping = TestSupport.repositoryRoot.appendingPathComponent("tools/mappings/complaints.json").path

    @Test func importReportsEachRowsFateAndADryRunStoresNothing() throws {
        let workspace = CLIWorkspace()
        #expect(try workspace.tpj("init").status == 0)
        let dry = try workspace.tpj("import", "--mapping", Self.mapping, Self.complaints, "--dry-run")
        #expect(dry.status == 0 && dry.stdout.hasPrefix("Checked (dry run, nothing stored):"), "\(dry.stderr)")
        #expect(dry.stdout.contains("imported             289  (515 events to store)"))
        #expect(try workspace.tpj("stats", "--json").stdout.contains(#""events":0"#))
        let real = try workspace.tpj("import", "--mapping", Self.mapping, Self.complaints, "--json")
        #expect(real.status == 0 && real.stderr.isEmpty)
        let report = try JSONParser.parse(real.stdout)
        #expect(report["eventsStored"] == 515 && report["rowsRejected"] == 0)
        let listed = try workspace.tpj("imports")
        #expect(listed.stdout.contains("mapping complaints-v1") && listed.stdout.contains("515 events stored at positions 1–515"))
    }

    @Test func badInputIsRefusedWithItsExitCodeAndNothingIsStored() throws {
        let workspace = CLIWorkspace()
        let mapping = try workspace.write("bad.json", #"{"name": "x", "namespace": "not-a-uuid", "source": {"format": "csv"}, "customerId": {"column": "c"}, "rules": []}"#)
        let bad = try workspace.tpj("import", "--mapping", mapping, Self.complaints)
        #expect(bad.status == 65 && bad.stderr.contains("/namespace"), "\(bad.stderr)")
        #expect(try workspace.tpj("import", "--mapping", Self.mapping, "missing.csv").status == 66)
        #expect(try workspace.tpj("import", "--mapping", Self.mapping, Self.complaints, "--max-rejected", "lots").status == 64)
        let csv = try workspace.write("wrong.csv", "a;b\n1;2\n")
        let wrong = try workspace.tpj("import", "--mapping", Self.mapping, csv)
        #expect(wrong.status == 65 && wrong.stderr.contains("the header does not have"), "\(wrong.stderr)")
        #expect(try workspace.tpj("stats", "--json").stdout.contains(#""events":0"#))
    }

    @Test func appendWarnsOfUnregisteredCustomersAndCanRefuseThem() throws {
        let workspace = CLIWorkspace()
        let warned = try workspace.tpj("append", "--customer", "C-1", try workspace.write("a.ndjson", callsNDJSON(first: 1, count: 1)))
        #expect(warned.status == 0 && warned.stderr.contains("warning: customer C-1 has no customer.registered event"))
        let refused = try workspace.tpj("append", "--customer", "C-1", "--require-registered", try workspace.write("b.ndjson", callsNDJSON(first: 2, count: 1)))
        #expect(refused.status == 65 && refused.stderr.contains("unknown customer C-1"))
        #expect(try workspace.tpj("stats", "--json").stdout.contains(#""events":1"#))
    }

    @Test func shortLivedCommandsLeaveNoGrowingWriteAheadLog() throws {
        let workspace = CLIWorkspace()
        for round in 0..<12 {
            #expect(try workspace.tpj("append", "--customer", "C-1", try workspace.write("r\(round).ndjson", callsNDJSON(first: round * 10 + 1, count: 10))).status == 0)
        }
        let wal = (try? FileManager.default.attributesOfItem(atPath: workspace.db + "-wal")[.size] as? NSNumber)?.intValue ?? 0
        #expect(wal == 0, "the -wal file holds \(wal) bytes after the last command closed")
        #expect(try workspace.tpj("verify").status == 0)
    }
}

@Suite struct DemoClockTests {
    @Test func theDemoRefusesAWorldThatWouldBeRecordedPastToday() throws {
        let workspace = CLIWorkspace()
        let result = try workspace.tpj("demo", "--customers", "5", "--years", "2", "--start", "2026-01-01")
        #expect(result.status == 64 && result.stderr.contains("would be recorded past today"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: workspace.db))
    }
}

@Suite struct ImportDryRunTests {
    @Test func aDryRunAgainstAJournalNotMadeYetCreatesNoFile() throws {
        let workspace = CLIWorkspace()
        let dry = try workspace.tpj("import", "--mapping", ImportCommandTests.mapping, ImportCommandTests.complaints, "--dry-run")
        #expect(dry.status == 0 && dry.stdout.contains("imported             289"))
        #expect(!FileManager.default.fileExists(atPath: workspace.db))
    }
}
