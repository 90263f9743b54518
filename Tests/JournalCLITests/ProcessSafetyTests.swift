import Foundation
import GRDB
import Journal
import JournalStore
import JournalTesting
import Testing

/// Real processes on one file: concurrent appenders, and appenders killed with SIGKILL at random moments.
@Suite struct ProcessSafetyTests {
    @Test func concurrentProcessesLoseNothingAndKeepVersionsGapless() async throws {
        // Given a journal and 4 workers, each running `tpj append` 12 times, one after the other
        let workspace = CLIWorkspace()
        #expect(try workspace.tpj("init").status == 0)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<4 {
                group.addTask {
                    for round in 0..<12 {
                        let first = worker * 10_000 + round * 10 + 1
                        let input = callsNDJSON(first: first, count: 5, customer: "C-\((worker + round) % 3)")
                        let result = try workspace.tpj("append", "-", input: input)
                        #expect(result.status == 0, "\(result.stderr)")
                    }
                }
            }
            try await group.waitForAll()
        }
        // Then all 240 events are stored once, positions are contiguous, versions gapless, chain intact.
        let store = try EventStore(writer: JournalDatabase.open(path: workspace.db, create: false))
        let log = try store.events(after: 0, limit: 10_000)
        #expect(log.count == 240)
        #expect(TestEvents.problems(in: log) == [])
        #expect(try store.verify().isIntact)
    }

    @Test func sigkillNeverLosesAnAcknowledgedEventNorBreaksTheChain() throws {
        let workspace = CLIWorkspace()
        #expect(try workspace.tpj("init").status == 0)
        var random = SplitMix64(seed: UInt64(Date().timeIntervalSince1970))
        var acknowledged: Set<String> = []
        var batches: [[String]] = []
        var killed = 0
        for round in 0..<40 {
            // Batches of 1 to 3,000 events, so that kills land before, during and after the transaction.
            let count = [1, 20, 500, 3_000][Int(random.next() % 4)]
            let first = round * 10_000 + 1
            let file = try workspace.write("batch-\(round).ndjson", callsNDJSON(first: first, count: count, customer: "C-\(round % 5)"))
            batches.append((first..<(first + count)).map(TestEvents.id))
            let process = Process()
            process.executableURL = TestSupport.tpj
            process.arguments = ["append", file, "--db", workspace.db, "--json"]
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            // Every fourth append runs to its end, so that some are acknowledged however slow the machine is.
            let pause = UInt32(random.next() % 150_000)
            if round % 4 != 3 {
                usleep(pause)
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            }
            process.waitUntilExit()
            let printed = output.fileHandleForReading.readDataToEndOfFile()
            if process.terminationReason == .exit && process.terminationStatus == 0 {
                // Acknowledged: the command printed its positions.
                #expect(!printed.isEmpty)
                acknowledged.formUnion(batches.last!)
            } else {
                killed += 1
            }
        }
        // After reopening: every acknowledged event is there, every batch is all or nothing, the chain verifies.
        let store = try EventStore(writer: JournalDatabase.open(path: workspace.db, create: false))
        #expect(try store.verify().isIntact)
        let log = try store.events(after: 0, limit: 1_000_000)
        #expect(TestEvents.problems(in: log) == [])
        let stored = Set(log.map(\.eventId.rawValue))
        #expect(acknowledged.isSubset(of: stored))
        for batch in batches {
            let present = batch.filter(stored.contains).count
            #expect(present == 0 || present == batch.count, "a batch was stored in part: \(present) of \(batch.count)")
        }
        #expect(killed > 0, "no process was killed; the test proved nothing")
        #expect(!acknowledged.isEmpty, "no append finished; the test proved nothing")
    }
}
