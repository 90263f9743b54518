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
        // SIGTERM: a graceful stop with exit 0.
        server.terminate()
        server.waitUntilExit()
        #expect(server.terminationReason == .exit && server.terminationStatus == 0)
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
