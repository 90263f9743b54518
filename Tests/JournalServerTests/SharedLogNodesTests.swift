import Foundation
import Journal
import JournalPostgres
import JournalStore
import JournalTesting
import Testing

/// Several `tpj serve` processes on one log in PostgreSQL (a throw-away server, ``PostgresServer``):
/// each a node with a copy of its own, appending to the shared log and following it.
@Suite(.enabled(if: PostgresServer.isAvailable, Comment(rawValue: PostgresServer.unavailable)))
struct SharedLogNodesTests {
    /// A `tpj serve --db postgres://…` process and the port it listens on.
    final class Node: @unchecked Sendable {
        let process: Process
        let port: Int
        /// What it printed up to listening.
        let startup: String

        /// Starts a node on `url` with its copy at `copy`, and waits for its "Listening on" line.
        init(url: String, copy: String, in directory: URL, options: [String] = []) throws {
            process = Process()
            process.executableURL = TestSupport.tpj
            process.arguments = ["serve", "--db", url, "--local-copy", copy, "--port", "0"] + options
            process.currentDirectoryURL = directory
            let output = Pipe()
            process.standardOutput = output
            // Its log, for a node that does not start.
            let log = directory.appendingPathComponent("serve-\(UUID().uuidString).log")
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            process.standardError = try FileHandle(forWritingTo: log)
            try process.run()
            var text = ""
            while !text.contains("Listening on") {
                let data = output.fileHandleForReading.availableData
                if data.isEmpty { throw HTTPTestError("tpj serve ended before listening: \(text)\((try? String(contentsOf: log, encoding: .utf8)) ?? "")") }
                text += String(decoding: data, as: UTF8.self)
            }
            let address = try #require(text.split(separator: "\n").first { $0.hasPrefix("Listening on") })
            port = try #require(Int(address.split(separator: ":").last?.prefix { $0.isNumber } ?? ""))
            startup = text
        }

        func request(_ method: String, _ path: String, token: String, body: String? = nil) throws -> HTTPTestResponse {
            try HTTPTestClient.send(
                port: port, method: method, path: path,
                headers: ["Authorization": "Bearer \(token)", "Content-Type": "application/json"], body: body.map { Array($0.utf8) })
        }

        /// Kills the process at once, as a crash would (no graceful stop).
        func kill() {
            Foundation.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }

        deinit { if process.isRunning { kill() } }
    }

    /// A database holding a small demo journal's log and keys, and an admin token in it.
    static func sharedLog(_ label: String) throws -> (url: String, token: String, directory: URL) {
        let url = try PostgresServer.shared().newDatabase()
        let directory = TestSupport.temporaryDirectory(label)
        let journal = directory.appendingPathComponent("journal.sqlite").path
        let demo = try TestSupport.runTPJ(["demo", "--customers", "4", "--years", "1", "--db", journal], in: directory)
        guard demo.status == 0 else { throw HTTPTestError(demo.stderr) }
        let copy = try TestSupport.runTPJ(["copy", "--db", journal, "--to", url], in: directory)
        guard copy.status == 0 else { throw HTTPTestError(copy.stderr) }
        let token = try TestSupport.runTPJ(["token", "create", "--role", "admin", "--name", "nodes", "--db", url, "--json"], in: directory)
        let secret = try #require(try JSONParser.parse(Array(token.stdout.utf8))["token"]?.stringValue)
        return (url, secret, directory)
    }

    static func head(of node: Node, token: String) throws -> Int64 {
        let health = try node.request("GET", "/healthz", token: token)
        guard case .number(let head)? = health.document["head"] else { throw HTTPTestError("no head in \(health.text)") }
        return Int64(head.value)
    }

    /// Appends one call of `customer` through `node`; its position.
    static func append(_ eventId: String, of customer: String, through node: Node, token: String) throws -> Int64 {
        let response = try node.request("POST", "/v1/customers/\(customer)/events", token: token, body: ServerTests.callBody(eventId: eventId))
        guard response.status == 201, case .array(let positions)? = response.document["positions"], case .number(let position)? = positions.first else {
            throw HTTPTestError("append answered \(response.status): \(response.text)")
        }
        return Int64(position.value)
    }

    /// Appenders on both nodes at once, and readers of the live feed on both: every reader sees
    /// exactly the positions after where it started up to the last append, once and in order; what
    /// one node appended, the other answers once asked to wait for its position (`?waitFor=`).
    @Test func readersOnTwoNodesSeeEveryAppendOnceAndInOrder() async throws {
        let (url, token, directory) = try Self.sharedLog("tpj-nodes")
        let nodes = try ["a", "b"].map { try Node(url: url, copy: directory.appendingPathComponent("\($0).sqlite").path, in: directory) }
        let start = try Self.head(of: nodes[0], token: token)
        #expect(try Self.head(of: nodes[1], token: token) == start)
        let appenders = 3, perAppender = 10
        let last = start + Int64(2 * appenders * perAppender)

        try await withThrowingTaskGroup(of: [Int64].self) { group in
            for node in nodes {
                for _ in 0..<2 {
                    group.addTask { try await offloadTest { try EventStreamTests.read(port: node.port, token: token, after: start, until: last) } }
                }
            }
            for (index, node) in nodes.enumerated() {
                let other = nodes[1 - index]
                for appender in 0..<appenders {
                    group.addTask {
                        try await offloadTest {
                            for number in 0..<perAppender {
                                let eventId = String(format: "0194c1b5-20bb-7275-8a1c-%012d", index * 10_000 + appender * 100 + number)
                                let customer = "C-10000\(appender + 1)"
                                let position = try Self.append(eventId, of: customer, through: node, token: token)
                                // Read-your-writes on the other node.
                                let read = try other.request("GET", "/v1/customers/\(customer)/timeline?waitFor=\(position)", token: token)
                                guard read.status == 200, read.text.contains(eventId) else {
                                    throw HTTPTestError("the other node answered \(read.status) without \(eventId) after waiting for \(position)")
                                }
                            }
                            return []
                        }
                    }
                }
            }
            var readers: [[Int64]] = []
            for try await seen in group where !seen.isEmpty { readers.append(seen) }
            #expect(readers.count == 4)
            for seen in readers {
                #expect(seen == Array((start + 1)...last), "a reader skipped or repeated an event")
            }
        }
        for node in nodes {
            let health = try node.request("GET", "/healthz", token: token)
            #expect(health.document["head"] == .number(JSONNumber(last)) && health.document["copied"] == .number(JSONNumber(last)), "\(health.text)")
        }
        // Each node knows the token; revoked with `tpj token revoke`, it stops working on both.
        let revoked = try TestSupport.runTPJ(["token", "revoke", "nodes", "--db", url], in: directory)
        #expect(revoked.status == 0, "\(revoked.stderr)")
        for node in nodes {
            #expect(try await Self.eventually(within: 10) { try node.request("GET", "/v1/customers/C-100001/timeline", token: token).status == 401 })
        }
    }

    /// Waits until `condition` holds, looking every 0.1 s for at most `seconds`: for what happens on a
    /// clock (a lease expiring, a head signed on schedule, the access log written every half second).
    static func eventually(within seconds: Double = 60, _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try await condition()
    }

    /// One node signs tree heads for all, under a lease; killed, it stops renewing it, and the other
    /// takes the lease over once it has expired and signs the heads from then on. Both copies take in
    /// the heads. The access log is shared: a read on one node is in the log the other answers.
    @Test func anotherNodeTakesOverSigningWhenTheHolderDies() async throws {
        let (url, token, directory) = try Self.sharedLog("tpj-nodes-lease")
        let options = ["--seal-every", "0.05", "--lease-seconds", "2"]
        let a = try Node(url: url, copy: directory.appendingPathComponent("a.sqlite").path, in: directory, options: options + ["--node-name", "A"])
        let first = try Self.append("0194c1b5-20bb-7275-8a1c-000000000001", of: "C-100001", through: a, token: token)
        let b = try Node(url: url, copy: directory.appendingPathComponent("b.sqlite").path, in: directory, options: options + ["--node-name", "B"])
        try await PostgresJournal.withJournal(url: url) { journal in
            let heads = PostgresTreeHeads(journal: journal)
            #expect(try await Self.eventually { try await heads.heads().contains { $0.head.treeSize >= first && $0.signedBy == "A" } })
            #expect(try await PostgresLease(journal: journal, name: "tree-heads", holder: "B", seconds: 2).currentHolder() == "A")
            let read = try a.request("GET", "/v1/customers/C-100003/timeline", token: token)
            #expect(read.status == 200)
            #expect(try await Self.eventually {
                try b.request("GET", "/v1/access-log?customer=C-100003", token: token).text.contains("/v1/customers/C-100003/timeline")
            })

            a.kill()
            let second = try Self.append("0194c1b5-20bb-7275-8a1c-000000000002", of: "C-100002", through: b, token: token)
            #expect(try await Self.eventually { try await heads.heads().contains { $0.head.treeSize >= second && $0.signedBy == "B" } })
            let signed = try await heads.heads()
            #expect(signed.map(\.head.treeSize) == signed.map(\.head.treeSize).sorted() && signed.allSatisfy(\.head.hasValidSignature))
            #expect(Set(signed.map(\.signedBy)) == ["A", "B"])
            // B's copy holds the heads A signed too: its evidence of a customer verifies against the last.
            let evidence = try b.request("GET", "/v1/customers/C-100002/evidence", token: token)
            #expect(evidence.status == 200 && evidence.text.contains("\"treeSize\":\(signed.last!.head.treeSize)"), "\(evidence.text.prefix(400))")
        }
        // An auditor checks the log in the database against the last head the nodes signed; an event
        // changed behind the triggers' back (by the owner, who may disable them) fails it.
        let verified = try TestSupport.runTPJ(["verify", "--db", url, "--as-of", "2100-01-01"], in: directory)
        #expect(verified.status == 0 && verified.stdout.contains("OK: the journal holds exactly the"), "\(verified.stdout)\(verified.stderr)")
        let database = String(try #require(URLComponents(string: url)).path.dropFirst())
        try PostgresServer.shared().execute(
            "ALTER TABLE event DISABLE TRIGGER event_no_change; UPDATE event SET payload = replace(payload, '\"', ' \"') WHERE position = 3; "
                + "ALTER TABLE event ENABLE TRIGGER event_no_change", in: database)
        let tampered = try TestSupport.runTPJ(["verify", "--db", url, "--as-of", "2100-01-01", "--json"], in: directory)
        #expect(tampered.status == 1 && tampered.stdout.contains(#""matches":false"#) && tampered.stdout.contains("position 3"), "\(tampered.stdout)\(tampered.stderr)")
    }

    /// An erasure through one node: its values read `[erased]` on both nodes, and each node rebuilds
    /// the declared projection that held the erased employee's pseudonym as its copy takes the
    /// erasure in — the pseudonym is gone from both nodes' tables.
    @Test func anErasureThroughOneNodeReachesTheOtherAndItsDeclaredProjections() async throws {
        let (url, token, directory) = try Self.sharedLog("tpj-nodes-erasure")
        let options = ["--projections", TestSupport.repositoryRoot.appendingPathComponent("tools/projections").path]
        let nodes = try ["a", "b"].map { try Node(url: url, copy: directory.appendingPathComponent("\($0).sqlite").path, in: directory, options: options) }
        var technician: String?
        for number in 1...4 where technician == nil {
            let history = try nodes[0].request("GET", "/v1/customers/C-10000\(number)/history", token: token)
            guard case .array(let events)? = history.document["events"] else { continue }
            technician = events.lazy.compactMap { $0["type"] == "technician.visit.completed" ? $0["payload"]?["technician"]?.stringValue : nil }.first
        }
        let name = try #require(technician)
        func technicians(on node: Node) throws -> Set<String> {
            let rows = try node.request("GET", "/v1/projections/firsttimefix/rows?table=visit&limit=10000", token: token)
            guard rows.status == 200, case .array(let all)? = rows.document["rows"] else { throw HTTPTestError("rows answered \(rows.status): \(rows.text)") }
            return Set(all.compactMap { $0["technician"]?.stringValue })
        }
        let before = try technicians(on: nodes[1])
        #expect(!before.isEmpty && !before.contains(KeyStore.erasedText))

        let erased = try nodes[0].request("POST", "/v1/erasures", token: token, body: #"{"subject": "employee:\#(name)", "reason": "REQ-12"}"#)
        guard case .array(let rebuilt)? = erased.document["rebuilt"] else { throw HTTPTestError("no rebuilt list: \(erased.text)") }
        #expect(erased.status == 200 && rebuilt.contains("firsttimefix"), "\(erased.text)")
        guard case .number(let position)? = erased.document["position"] else { throw HTTPTestError("no position: \(erased.text)") }
        for node in nodes {
            let history = try node.request("GET", "/v1/customers/C-100001/timeline?waitFor=\(Int64(position.value))", token: token)
            #expect(history.status == 200 && !history.text.contains(name))
            #expect(try await Self.eventually { try technicians(on: node).contains(KeyStore.erasedText) })
            let after = try technicians(on: node)
            #expect(after.subtracting([KeyStore.erasedText]).isStrictSubset(of: before), "\(before) → \(after)")
        }
    }

    /// A node killed while the other goes on appending: the other keeps answering and its readers
    /// miss nothing; the killed node, started again on its copy, continues that copy (it is not copied
    /// anew) up to the shared head, and answers what was appended while it was down.
    @Test func aKilledNodeStartsAgainOnItsCopyAndCatchesUp() async throws {
        let (url, token, directory) = try Self.sharedLog("tpj-nodes-kill")
        let copyA = directory.appendingPathComponent("a.sqlite").path
        let a = try Node(url: url, copy: copyA, in: directory)
        let b = try Node(url: url, copy: directory.appendingPathComponent("b.sqlite").path, in: directory)
        let start = try Self.head(of: b, token: token)
        let before = try Self.append("0194c1b5-20bb-7275-8a1c-000000000001", of: "C-100001", through: a, token: token)
        #expect(before == start + 1)

        let last = before + 20
        try await withThrowingTaskGroup(of: [Int64].self) { group in
            group.addTask { try await offloadTest { try EventStreamTests.read(port: b.port, token: token, after: start, until: last) } }
            group.addTask {
                try await offloadTest {
                    for number in 0..<20 {
                        if number == 5 { a.kill() }
                        _ = try Self.append(String(format: "0194c1b5-20bb-7275-8a1c-%012d", 100 + number), of: "C-100002", through: b, token: token)
                    }
                    return []
                }
            }
            for try await seen in group where !seen.isEmpty {
                #expect(seen == Array((start + 1)...last), "the surviving node's reader skipped or repeated an event")
            }
        }
        #expect(a.process.terminationReason == .uncaughtSignal)

        let again = try Node(url: url, copy: copyA, in: directory)
        let held = try #require(again.startup.firstMatch(of: /its copy .* held ([0-9,]+) events?; copied/)?.output.1)
        #expect(Int64(held.replacingOccurrences(of: ",", with: "")) ?? 0 >= before, "\(again.startup)")
        let read = try again.request("GET", "/v1/customers/C-100002/timeline?waitFor=\(last)", token: token)
        #expect(read.status == 200 && read.text.contains("0194c1b5-20bb-7275-8a1c-000000000119"), "\(read.status) \(read.text.prefix(300))")
        let health = try again.request("GET", "/healthz", token: token)
        #expect(health.document["copied"] == .number(JSONNumber(last)) && health.document["status"] == "ok", "\(health.text)")
        // Both copies hold the same log, event for event.
        let history = try again.request("GET", "/v1/customers/C-100002/history", token: token)
        let historyOnB = try b.request("GET", "/v1/customers/C-100002/history", token: token)
        #expect(history.status == 200 && history.text == historyOnB.text)
    }
}
