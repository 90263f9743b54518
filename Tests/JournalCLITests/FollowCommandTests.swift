import Foundation
import Journal
import JournalTesting
import Testing

@Suite struct FollowCommandTests {
    @Test func aFollowerProcessFoldsAppendsAndWaitForReturnsOnceItHas() throws {
        let workspace = CLIWorkspace()
        try workspace.writeHandMadeWorld()
        let follower = Process()
        follower.executableURL = TestSupport.tpj
        follower.arguments = ["projections", "--follow", "--json", "--db", workspace.db]
        let output = Pipe()
        follower.standardOutput = output
        follower.standardError = FileHandle.nullDevice
        try follower.run()
        try output.fileHandleForWriting.close()
        defer {
            if follower.isRunning { follower.terminate() }
            follower.waitUntilExit()
        }
        // The follower folds the 60 events; --wait-for folds nothing itself, it waits for the follower.
        let caughtUp = try workspace.tpj("projections", "--wait-for", "60", "--timeout", "120")
        #expect(caughtUp.status == 0, "\(caughtUp.stderr)")
        #expect(caughtUp.stdout.contains("timeline     \(timelineVersion)   60          0    up to date"), "\(caughtUp.stdout)")
        // Another process appends; the follower wakes and folds it.
        let append = try workspace.tpj("append", "--customer", "C-1", try workspace.write("calls.ndjson", callsNDJSON(first: 1, count: 2)))
        #expect(append.status == 0)
        let folded = try workspace.tpj("projections", "--wait-for", "62", "--timeout", "120", "--json")
        #expect(folded.status == 0, "\(folded.stderr)")
        guard case .array(let statuses) = try JSONParser.parse(folded.stdout) else { Issue.record("not an array"); return }
        #expect(statuses.count == 3 && statuses.allSatisfy { $0["checkpoint"] == 62 && $0["lag"] == 0 })
        // Without a follower, waiting for a position the projections have not reached runs out with exit 75.
        follower.terminate()
        follower.waitUntilExit()
        #expect(follower.terminationReason == .exit && follower.terminationStatus == 0, "SIGTERM stops the follower cleanly")
        #expect(try workspace.tpj("append", "--customer", "C-1", try workspace.write("more.ndjson", callsNDJSON(first: 3, count: 1))).status == 0)
        let late = try workspace.tpj("projections", "--wait-for", "63", "--timeout", "0.5")
        #expect(late.status == 75 && late.stderr.contains("did not reach position 63"), "\(late.stderr)")
        // The follower printed a line per move of the checkpoints: first 60, then 62.
        let lines = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n")
        let timeline = try lines.map { try JSONParser.parse(String($0))["checkpoints"]?["timeline"] }
        #expect(timeline.first == 60 && timeline.last == 62, "\(lines)")
    }

    @Test func followAndWaitForRefuseBadOptions() throws {
        let workspace = CLIWorkspace()
        try workspace.writeHandMadeWorld()
        let both = try workspace.tpj("projections", "--follow", "--wait-for", "3")
        #expect(both.status == 64 && both.stderr.contains("cannot be combined"))
        #expect(try workspace.tpj("projections", "--wait-for", "-1").status == 64)
        #expect(try workspace.tpj("projections", "--wait-for", "3", "--timeout", "0").status == 64)
        let missing = try TestSupport.runTPJ(["projections", "--follow", "--db", workspace.directory.appendingPathComponent("none.sqlite").path],
                                             in: workspace.directory)
        #expect(missing.status == 66)
    }
}
