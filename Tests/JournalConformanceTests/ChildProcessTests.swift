import Foundation
import JournalTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite(.enabled(if: PostgresServer.isAvailable, Comment(rawValue: PostgresServer.unavailable)))
struct PostgresServerTests {
    /// The server outlives the call that starts it: a descriptor of the test process it inherited would stay open
    /// while it runs, and a test waiting for that descriptor's end (a child's exit, a pipe's EOF) would hang.
    @Test func theServerInheritsNoDescriptorOfTheTestProcess() throws {
        var ends: [Int32] = [0, 0]
        try #require(pipe(&ends) == 0)
        defer { ends.forEach { close($0) } }
        var status = stat()
        try #require(fstat(ends[1], &status) == 0)
        let name = "pipe:[\(status.st_ino)]"
        #expect(try openDescriptors(of: getpid()).contains(name), "the check must see the pipe where it is open")

        let server = try PostgresServer(durable: false)
        #expect(try !openDescriptors(of: server.processIdentifier).contains(name))
        try server.execute("SELECT 1")
    }

    /// What each open descriptor of `process` refers to, as `/proc` names it.
    private func openDescriptors(of process: Int32) throws -> [String] {
        let directory = "/proc/\(process)/fd"
        return try FileManager.default.contentsOfDirectory(atPath: directory).compactMap {
            try? FileManager.default.destinationOfSymbolicLink(atPath: "\(directory)/\($0)")
        }
    }
}

struct ChildProcessTests {
    @Test func aChildThatDoesNotEndFailsNamingItsCommand() throws {
        let directory = FileManager.default.temporaryDirectory
        let started = ContinuousClock.now
        #expect {
            try TestSupport.run(URL(fileURLWithPath: "/bin/sleep"), ["30"], in: directory, timeLimit: 1)
        } throws: { error in
            String(describing: error) == "sleep 30 did not end within 1 s"
        }
        #expect(ContinuousClock.now - started < .seconds(30))
        #expect(try TestSupport.run(URL(fileURLWithPath: "/bin/echo"), ["ok"], in: directory, timeLimit: 60).stdout == "ok\n")
    }
}
