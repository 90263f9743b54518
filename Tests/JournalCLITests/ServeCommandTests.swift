import Foundation
import Journal
import JournalTesting
import Testing

@Suite struct ServeCommandTests {
    /// Starts `tpj serve` and returns it with the port from its "Listening on" line.
    private func startServer(_ arguments: [String], in workspace: CLIWorkspace) throws -> (Process, Int, Pipe) {
        let server = Process()
        server.executableURL = TestSupport.tpj
        server.arguments = ["serve"] + arguments
        server.currentDirectoryURL = workspace.directory
        let output = Pipe(), errors = Pipe()
        server.standardOutput = output
        server.standardError = errors
        try server.run()
        var text = ""
        while !text.contains("Listening on") {
            let data = output.fileHandleForReading.availableData
            if data.isEmpty { throw CLIProcessError("tpj serve ended before listening: \(String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))") }
            text += String(decoding: data, as: UTF8.self)
        }
        let address = try #require(text.split(separator: "\n").first { $0.hasPrefix("Listening on") })
        let port = try #require(Int(address.split(separator: ":").last?.prefix { $0.isNumber } ?? ""))
        return (server, port, errors)
    }

    @Test func servesUntilSIGTERMAndRefusesATakenPort() throws {
        let workspace = CLIWorkspace()
        try workspace.writeHandMadeWorld()
        let (server, port, _) = try startServer(["--db", workspace.db, "--port", "0"], in: workspace)
        defer { if server.isRunning { server.terminate() } }
        // A second server on the same port says why it cannot start, with exit 74.
        let taken = try workspace.tpj("serve", "--port", "\(port)")
        #expect(taken.status == 74, "\(taken.stderr)")
        #expect(taken.stderr.contains("cannot serve on 127.0.0.1:\(port)"), "\(taken.stderr)")
        // SIGTERM: a graceful stop with exit 0, which signs a tree head over the whole log.
        #expect(try workspace.tpj("verify", "--as-of", "2100-01-01").stderr.contains("no tree head was signed by 2100-01-01"))
        server.terminate()
        server.waitUntilExit()
        #expect(server.terminationReason == .exit && server.terminationStatus == 0)
        let signed = try workspace.tpj("verify", "--as-of", "2100-01-01")
        #expect(signed.status == 0 && signed.stdout.contains(": 60 events.") && signed.stdout.contains("OK: the journal holds exactly the 60 events"), "\(signed.stdout)\(signed.stderr)")
    }

    @Test func theConfigurationServedWithIsRecordedAndViewsAsOfADateUseWhatWasInForce() throws {
        let workspace = CLIWorkspace()
        #expect(try workspace.tpj("demo", "--customers", "12", "--years", "2", "--seed", "9").status == 0)
        let before = try workspace.tpj("churn", "--json", "--top", "3")
        #expect(before.status == 0)
        // Served with the bundled weights: nothing to record.
        var (server, _, _) = try startServer(["--db", workspace.db, "--port", "0"], in: workspace)
        server.terminate()
        server.waitUntilExit()
        #expect(try workspace.tpj("history", "journal:config").stdout.contains("has no events"))
        // Served with other weights: recorded once, with their content, and in force from then on.
        let bundled = try String(contentsOf: TestSupport.repositoryRoot.appendingPathComponent("Schemas/churn-weights.json"), encoding: .utf8)
        let other = try workspace.write("weights.json", bundled.replacingOccurrences(of: #""intercept" : -4.0"#, with: #""intercept" : -3.5"#))
        #expect(try String(contentsOfFile: other, encoding: .utf8) != bundled)
        let recordedBefore = try JSONParser.parse(try workspace.tpj("stats", "--json").stdout)["events"]
        for _ in 0..<2 {
            (server, _, _) = try startServer(["--db", workspace.db, "--port", "0", "--weights", other], in: workspace)
            server.terminate()
            server.waitUntilExit()
        }
        let history = try JSONParser.parse(try workspace.tpj("history", "journal:config", "--json").stdout)
        guard case .array(let recorded) = history else { throw CLIProcessError("no history") }
        #expect(recorded.count == 1 && recorded.first?["type"] == "config.recorded" && recorded.first?["payload"]?["kind"] == "churnWeights")
        #expect(try JSONParser.parse(try workspace.tpj("stats", "--json").stdout)["events"] != recordedBefore)
        // A view as of now uses them; as of a date before, what was in force then.
        let now = try workspace.tpj("churn", "--top", "1")
        #expect(now.stdout.contains("weights: recorded at position"), "\(now.stdout)")
        let then = try workspace.tpj("churn", "--top", "1", "--as-of", "2020-01-01")
        #expect(then.stdout.contains("weights: bundled defaults"), "\(then.stdout)")
        // Evidence names the configuration in force at its date.
        #expect(try workspace.tpj("evidence", "C-100001", "--out", "evidence.json").status == 0)
        let evidence = try JSONParser.parse(Array(try Data(contentsOf: workspace.directory.appendingPathComponent("evidence.json"))))
        guard case .array(let lines)? = evidence["views"]?["configuration"] else { throw CLIProcessError("no configuration view") }
        #expect(lines.contains { $0.stringValue?.hasPrefix("churnWeights: sha256 ") == true })
        #expect(lines.contains { $0.stringValue?.hasPrefix("momentRules: none recorded by ") == true })
    }

    @Test func aServerOnAnAlteredJournalSaysSoAndRefusesTheCustomer() throws {
        let workspace = CLIWorkspace()
        try workspace.writeHandMadeWorld()
        // One byte of event 7 changed in the file, its trigger dropped, as someone with write access could;
        let altered = try TestSupport.run(URL(fileURLWithPath: "/usr/bin/env"), [
            "sqlite3", workspace.db, "DROP TRIGGER event_no_update; UPDATE event SET payload = ' ' || payload WHERE position = 7; SELECT customerId FROM event WHERE position = 7;",
        ], in: workspace.directory)
        let customer = altered.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(altered.status == 0 && customer.hasPrefix("C-"), "\(altered.stderr)")
        // the CLI refuses to show the customer, naming the position,
        let timeline = try workspace.tpj("timeline", customer)
        #expect(timeline.status == 1 && timeline.stderr.contains("altered: the event at position 7"), "\(timeline.stderr)")
        // and the server's background check reports it in /healthz (503, status tampered).
        let (server, port, _) = try startServer(["--db", workspace.db, "--port", "0"], in: workspace)
        defer { if server.isRunning { server.terminate() } }
        let health = try TestSupport.run(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", """
            import json, urllib.request, urllib.error
            while True:
                try:
                    urllib.request.urlopen("http://127.0.0.1:\(port)/healthz")
                except urllib.error.HTTPError as error:
                    print(error.code, json.dumps(json.load(error)["chain"], sort_keys=True)); break
            """], in: workspace.directory)
        #expect(health.stdout.hasPrefix("503 ") && health.stdout.contains(#""intact": false"#) && health.stdout.contains(#""position": 7"#), "\(health.stdout)\(health.stderr)")
    }

    @Test func tokensAreCreatedListedAndRevoked() throws {
        let workspace = CLIWorkspace()
        try workspace.writeHandMadeWorld()
        let created = try workspace.tpj("token", "create", "--role", "auditor", "--name", "audit 2026", "--json")
        #expect(created.status == 0, "\(created.stderr)")
        let document = try JSONParser.parse(created.stdout)
        let secret = try #require(document["token"]?.stringValue)
        #expect(secret.hasPrefix("tpj_") && secret.count == 47)
        let list = try workspace.tpj("token", "list")
        #expect(list.stdout.contains("audit 2026") && list.stdout.contains("auditor") && !list.stdout.contains(secret))
        #expect(try workspace.tpj("token", "create", "--role", "auditor", "--name", "audit 2026").status == 64)
        #expect(try workspace.tpj("token", "create", "--role", "boss", "--name", "x").status == 64)
        #expect(try workspace.tpj("token", "revoke", "audit 2026").status == 0)
        #expect(try workspace.tpj("token", "revoke", "audit 2026").status == 64)
    }
}

struct CLIProcessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
