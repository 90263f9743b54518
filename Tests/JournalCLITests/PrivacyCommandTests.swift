import Foundation
import Journal
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
        #expect(try workspace.tpj("demo", "--customers", "5", "--years", "1", "--seed", "4", "--start", "2023-01-01").status == 0)
        let policy = TestSupport.repositoryRoot.appendingPathComponent("tools/policies/retention.json").path
        let run = try workspace.tpj("retention", "apply", "--policy", policy, "--today", "2028-01-01", "--json")
        #expect(run.status == 0, "\(run.stderr)")
        guard case .array(let kinds)? = try JSONParser.parse(run.stdout)["kinds"], kinds.count == 3 else {
            Issue.record("no three kinds in \(run.stdout)")
            return
        }
        #expect(kinds[2]["kind"] == "text" && (kinds[2]["keysDestroyed"]?.number ?? 0) >= 1 && kinds[1]["keysDestroyed"] == 0)
        #expect(try workspace.tpj("history", "journal:privacy", "--json").stdout.components(separatedBy: "retention.applied").count == 4)
    }
}
