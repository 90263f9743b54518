import Foundation
import Journal
@_spi(Benchmarks) import JournalStore
import JournalTesting
import Testing

/// `tpj erase`, `tpj retention apply` and `--role` from the command line, on a generated world.
@Suite struct PrivacyCommandTests {
    @Test func eraseShredsACustomerAndRefusesWhatItCannotErase() throws {
        let workspace = CLIWorkspace()
        #expect(try workspace.tpj("demo", "--customers", "8", "--years", "2", "--seed", "3").status == 0)
        // A customer with a technician's report (free text about it).
        let customer = try #require(try (1...8).map { "C-10000\($0)" }.first { customer in
            try workspace.tpj("history", customer, "--json").stdout.contains(#""report":""#)
        })
        #expect(!(try workspace.tpj("history", customer, "--json").stdout).contains("[erased]"))
        let erased = try workspace.tpj("erase", "--customer", customer, "--reason", "DSR-7", "--by", "dpo", "--json")
        #expect(erased.status == 0, "\(erased.stderr)")
        let report = try JSONParser.parse(erased.stdout)
        #expect(report["stream"] == .string(customer) && report["subject"] == "customer" && (report["keysDestroyed"]?.number ?? 0) >= 1)
        let history = try workspace.tpj("history", customer, "--json").stdout
        #expect(history.contains(#""report":"[erased]""#) && history.contains(#""type":"erasure.performed""#))
        #expect(try workspace.tpj("verify").status == 0)
        // Refused, with the reason, and nothing recorded:
        let head = try workspace.tpj("stats", "--json").stdout
        for (arguments, message) in [
            (["--customer", "C-999999", "--reason", "x"], "no customer C-999999"),
            (["--subject", "employee:Nobody Here", "--reason", "x"], "no personal value of employee:Nobody Here"),
            (["--subject", "someone", "--reason", "x"], "--subject takes customer:<id> or employee:"),
            (["--customer", customer, "--subject", "customer:\(customer)", "--reason", "x"], "Give either --customer"),
            (["--customer", customer, "--reason", "  "], "--reason must say why"),
            (["--customer", customer, "--reason", "\n"], "--reason must say why"),
            (["--subject", "customer: C-1", "--reason", "x"], "the id must not start or end with white space"),
        ] {
            let result = try workspace.tpj(["erase"] + arguments)
            #expect(result.status != 0 && result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        #expect(try workspace.tpj("stats", "--json").stdout == head)
    }

    @Test func roleAndMaskingChooseWhatTheCommandsShow() throws {
        let workspace = CLIWorkspace()
        #expect(try workspace.tpj("demo", "--customers", "5", "--years", "1", "--seed", "4").status == 0)
        let plain = try workspace.tpj("log", "--json", "--limit", "1000").stdout
        let analyst = try workspace.tpj("log", "--json", "--limit", "1000", "--role", "analyst").stdout
        let ingest = try workspace.tpj("log", "--json", "--limit", "1000", "--role", "ingest").stdout
        #expect(plain.contains(#""technician":""#) && !plain.contains(#""technician":"p-"#) && !plain.contains("sealed:v1:"))
        #expect(analyst.contains(#""technician":"p-"#) && !analyst.contains("sealed:v1:"))
        #expect(ingest.contains(#""technician":"[hidden]""#))
        let policy = workspace.directory.appendingPathComponent("masking.json")
        try Data(#"{"roles": {"staff": {"employee": "pseudonym"}}}"#.utf8).write(to: policy)
        let staff = try workspace.tpj("log", "--json", "--limit", "1000", "--role", "staff", "--masking", policy.path).stdout
        #expect(staff.contains(#""technician":"p-"#))
        let bad = try workspace.tpj("log", "--role", "boss")
        #expect(bad.status == 64 && bad.stderr.contains("--role must be one of"))
    }

    @Test func retentionApplyRecordsEachKind() throws {
        let workspace = CLIWorkspace()
        #expect(try workspace.tpj("demo", "--customers", "5", "--years", "1", "--seed", "4", "--start", "2021-01-01").status == 0)
        let policy = TestSupport.repositoryRoot.appendingPathComponent("tools/policies/retention.json").path
        // A date still to come would destroy keys before their time: refused, nothing recorded.
        let future = try workspace.tpj("retention", "apply", "--policy", policy, "--today", "2999-01-01")
        #expect(future.status != 0 && future.stderr.contains("a date still to come"), "\(future.stderr)")
        #expect(!(try workspace.tpj("history", "journal:privacy", "--json").stdout).contains("retention.applied"))
        let run = try workspace.tpj("retention", "apply", "--policy", policy, "--today", "2025-01-01", "--json")
        #expect(run.status == 0, "\(run.stderr)")
        guard case .array(let kinds)? = try JSONParser.parse(run.stdout)["kinds"], kinds.count == 3 else {
            Issue.record("no three kinds in \(run.stdout)")
            return
        }
        #expect(kinds[2]["kind"] == "text" && (kinds[2]["keysDestroyed"]?.number ?? 0) >= 1 && kinds[1]["keysDestroyed"] == 0)
        #expect(try workspace.tpj("history", "journal:privacy", "--json").stdout.components(separatedBy: "retention.applied").count == 4)
    }

    @Test func aJournalWhoseKeyFileIsMissingIsReadWithoutKeysAndRefusesWrites() throws {
        let workspace = CLIWorkspace()
        try workspace.writeHandMadeWorld()
        let keyPath = KeyStore.path(of: workspace.db)
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: keyPath + suffix) }
        let history = try workspace.tpj("history", "C-1001", "--json")
        #expect(history.status == 0 && history.stderr.contains("the key file \(keyPath) is missing"), "\(history.stderr)")
        #expect(history.stdout.contains("[erased]") && !history.stdout.contains("sealed:v1:"))
        #expect(try workspace.tpj("verify").status == 0, "a journal without its keys verifies")
        // An event without personal values needs no key; one with them is refused, and nothing is stored.
        #expect(try workspace.tpj("append", "--customer", "C-1001", input: callsNDJSON(first: 900, count: 1)).status == 0)
        let head = try workspace.tpj("stats", "--json").stdout
        let note = #"{"eventId":"\#(TestEvents.id(901))","type":"note.added","occurredAt":"2026-03-02T08:15:00+01:00","payload":{"text":"Call Ms. Albers"}}"#
        let append = try workspace.tpj("append", "--customer", "C-1001", input: note + "\n")
        #expect(append.status != 0 && append.stderr.contains("restore it from its backup before appending"), "\(append.stderr)")
        #expect(try workspace.tpj("stats", "--json").stdout == head)
        let erase = try workspace.tpj("erase", "--customer", "C-1001", "--reason", "DSR-1")
        #expect(erase.status != 0 && erase.stderr.contains("before erasing"), "\(erase.stderr)")
        #expect(!FileManager.default.fileExists(atPath: keyPath), "no new, empty key file was made")
    }

    @Test func aProtectedCopyIsCheckedWithOrWithoutTheOldJournalAndAFailedOneLeavesNothing() throws {
        let workspace = CLIWorkspace()
        let writer = try JournalDatabase.open(path: workspace.db)
        _ = try DemoWorld.write { clock in try EventStore(writer: writer, clock: clock, sealing: false) }
        let newPath = workspace.directory.appendingPathComponent("new.sqlite").path
        let copy = try workspace.tpj("copy", "--protect", "--to", newPath)
        #expect(copy.status == 0, "\(copy.stderr)")
        let statement = newPath + ".copy-statement.json"
        let checked = try workspace.tpj("copy", "--check", statement)
        #expect(checked.status == 0 && checked.stdout.contains("the old head") && !checked.stdout.contains("not checked"), "\(checked.stdout)")
        // The old journal retired: still valid, but the answer says its head was not checked.
        for suffix in ["", "-wal", "-shm", "-keys", "-keys-wal", "-keys-shm"] { try? FileManager.default.removeItem(atPath: workspace.db + suffix) }
        let retired = try workspace.tpj("copy", "--check", statement, "--json")
        let retiredAnswer = try JSONParser.parse(retired.stdout)
        #expect(retired.status == 0 && retiredAnswer["oldJournalChecked"] == false && retiredAnswer["valid"] == true, "\(retired.stdout)")
        #expect(try workspace.tpj("copy", "--check", statement).stdout.contains("was not checked"))
        // Without the new journal, the statement vouches for nothing here.
        try FileManager.default.moveItem(atPath: newPath, toPath: newPath + ".away")
        let missing = try workspace.tpj("copy", "--check", statement)
        #expect(missing.status == 1 && missing.stdout.contains("FAILED: the new journal \(newPath) is not here"), "\(missing.stdout)")
        // A copy that fails (an empty journal has nothing to copy) leaves no file of the new journal.
        _ = try JournalDatabase.open(path: workspace.db)
        let failed = try workspace.tpj("copy", "--protect", "--to", newPath)
        #expect(failed.status != 0 && failed.stderr.contains("holds no events"), "\(failed.stderr)")
        let left = try FileManager.default.contentsOfDirectory(atPath: workspace.directory.path).filter { $0.hasPrefix("new.sqlite") && $0 != "new.sqlite.away" && !$0.hasSuffix(".json") }
        #expect(left.isEmpty, "\(left)")
    }

    /// `tpj copy --to FILE` copies verbatim and continues a copy the source has grown past; a source
    /// whose chain breaks is refused and leaves no new journal; a URL's password never reaches the output.
    @Test func aVerbatimCopyResumesAndAFailedOneIntoANewFileLeavesNothing() throws {
        let workspace = CLIWorkspace()
        try workspace.writeHandMadeWorld()
        let copyPath = workspace.directory.appendingPathComponent("copy.sqlite").path
        let first = try workspace.tpj("copy", "--to", copyPath, "--json")
        #expect(first.status == 0, "\(first.stderr)")
        let head = try EventStore(writer: JournalDatabase.open(path: workspace.db, create: false)).head()
        let outcome = try JSONParser.parse(first.stdout)
        #expect(outcome["copied"] == .number(JSONNumber(head)) && outcome["intact"] == true, "\(first.stdout)")
        #expect(try workspace.tpj("append", "--customer", "C-1001", input: callsNDJSON(first: 900, count: 2)).status == 0)
        let again = try JSONParser.parse(try workspace.tpj("copy", "--to", copyPath, "--json").stdout)
        #expect(again["resumedAfter"] == .number(JSONNumber(head)) && again["copied"] == .number(JSONNumber(Int64(2))), "\(again)")
        let original = try EventStore(writer: JournalDatabase.open(path: workspace.db, create: false)).events(after: 0, limit: 10_000)
        #expect(try EventStore(writer: JournalDatabase.open(path: copyPath, create: false)).events(after: 0, limit: 10_000) == original)

        // Event 1 altered behind the triggers: the copy refuses it, and the new file is gone again.
        let tampered = try TestSupport.run(
            URL(fileURLWithPath: "/usr/bin/sqlite3"),
            [workspace.db, "DROP TRIGGER event_no_update; UPDATE event SET actor = 'someone else' WHERE position = 1;"], in: workspace.directory)
        #expect(tampered.status == 0, "\(tampered.stderr)")
        let newPath = workspace.directory.appendingPathComponent("new.sqlite").path
        let refused = try workspace.tpj("copy", "--to", newPath)
        #expect(refused.status == 64 && refused.stderr.contains("event 1 does not extend this journal: hash does not match"), "\(refused.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: workspace.directory.path).filter { $0.hasPrefix("new.sqlite") }.isEmpty)

        let secret = try workspace.tpj("copy", "--to", "postgres://tpj:s3cret@/")
        #expect(secret.status == 64 && secret.stderr.contains("postgres://tpj:***@/") && !secret.stderr.contains("s3cret"), "\(secret.stderr)")
    }
}
