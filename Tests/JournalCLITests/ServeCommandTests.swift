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
        let other = try workspace.write("weights.json", bundled.replacingOccurrences(of: #""intercept" : -5.2"#, with: #""intercept" : -4.7"#))
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

    @Test func evidenceAsOfADateIsScoredWithTheRulesInForceThen() throws {
        let workspace = CLIWorkspace()
        #expect(try workspace.tpj("demo", "--customers", "6", "--years", "2", "--seed", "9").status == 0)
        let first = try JSONParser.parse(try workspace.tpj("seal", "--json").stdout)
        let signedAt = try #require(first["signedAt"]?.stringValue)
        // A customer still served then, so that it has a churn risk.
        let risks = try JSONParser.parse(try workspace.tpj("churn", "--json", "--top", "1", "--as-of", signedAt).stdout)
        guard case .array(let listed)? = risks["risks"], let customer = listed.first?["customerId"]?.stringValue else {
            throw CLIProcessError("no customer at risk")
        }
        // Served with other moment rules: recorded, in force from then on.
        let bundled = try String(contentsOf: TestSupport.repositoryRoot.appendingPathComponent("Schemas/moments-of-truth.json"), encoding: .utf8)
        let other = try workspace.write("rules.json", bundled.replacingOccurrences(of: #""queueWaitTargetSeconds": 120"#, with: #""queueWaitTargetSeconds": 600"#)
            .replacingOccurrences(of: #""version": 2,"#, with: #""version": 3,"#))
        #expect(try String(contentsOfFile: other, encoding: .utf8) != bundled)
        let (server, _, _) = try startServer(["--db", workspace.db, "--port", "0", "--rules", other], in: workspace)
        server.terminate()
        server.waitUntilExit()
        #expect(try workspace.tpj("evidence", customer, "--known-at", signedAt, "--out", "then.json").status == 0)
        #expect(try workspace.tpj("evidence", customer, "--out", "now.json").status == 0)
        func views(_ file: String) throws -> [String: [String]] {
            guard case .object(let members)? = try JSONParser.parse(Array(try Data(contentsOf: workspace.directory.appendingPathComponent(file))))["views"]
            else { throw CLIProcessError("no views in \(file)") }
            return Dictionary(uniqueKeysWithValues: members.map { member in
                guard case .array(let lines) = member.value else { return (member.key, []) }
                return (member.key, lines.compactMap(\.stringValue))
            })
        }
        let then = try views("then.json"), now = try views("now.json")
        let nowAsOf = try #require(now["moments"]?.first?.components(separatedBy: " as of ").last)
        // Each date's moments are what `tpj moments` shows with the rules of that date,
        let momentsThen = try workspace.tpj("moments", customer, "--as-of", signedAt)
        let momentsNow = try workspace.tpj("moments", customer, "--as-of", nowAsOf, "--rules", other)
        #expect(then["moments"]?.joined(separator: "\n") == momentsThen.stdout.trimmingCharacters(in: .newlines), "\(momentsThen.stdout)")
        #expect(now["moments"]?.joined(separator: "\n") == momentsNow.stdout.trimmingCharacters(in: .newlines), "\(momentsNow.stdout)")
        #expect(then["moments"] != now["moments"])
        #expect(now["configuration"]?.contains { $0.hasPrefix("momentRules: sha256 ") } == true)
        #expect(then["configuration"]?.contains { $0.hasPrefix("momentRules: none recorded by ") } == true)
        // and its churn risk and segment are the ones `tpj churn` gives the customer then.
        let churnThen = try workspace.tpj("churn", "--customer", customer, "--as-of", signedAt)
        let table = try #require(then["churn"]?.dropFirst())
        #expect(!table.isEmpty && churnThen.stdout.hasSuffix(table.joined(separator: "\n") + "\n"), "\(churnThen.stdout)")
        let segment = try #require(churnThen.stdout.split(separator: "\n").dropFirst(2).first?.split(separator: " ", omittingEmptySubsequences: true)[1])
        #expect(then["segment"]?.first?.hasPrefix("Segment \(segment) as of ") == true, "\(then["segment"] ?? [])")
        for file in ["then.json", "now.json"] {
            let checked = try TestSupport.run(URL(fileURLWithPath: "/usr/bin/env"), [
                "python3", TestSupport.repositoryRoot.appendingPathComponent("tools/verify-evidence").path, file,
            ], in: workspace.directory)
            #expect(checked.status == 0, "\(checked.stdout)\(checked.stderr)")
        }
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
