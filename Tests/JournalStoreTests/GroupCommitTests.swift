import Foundation
import GRDB
import Journal
import JournalStore
import JournalTesting
import Testing

@Suite struct GroupCommitTests {
    @Test func aFailingBatchIsRolledBackAloneWhileTheOthersOfItsGroupAreRecorded() throws {
        let store = try EventStore(writer: StoreKind.walFile.makeWriter(), clock: steppingClock())
        try store.append([Events.call(1)], to: "C-2")
        let batches = try store.prepare([
            AppendBatch(customerId: "C-1", events: [Events.call(2), Events.note(3)]),
            // Stale: C-2 is at version 1. Its first event must not stay behind.
            AppendBatch(customerId: "C-2", expected: .exactly(0), events: [Events.note(4), Events.note(5)]),
            AppendBatch(customerId: "C-1", expected: .exactly(2), events: [Events.note(6)]),
            // A reused event id with other content.
            AppendBatch(customerId: "C-3", events: [Events.note(7), Events.note(2, "other content")]),
        ])
        let outcomes = try store.writeEach(batches)
        #expect(outcomes.count == 4)
        #expect((try? outcomes[0].get())?.positions == [2, 3])
        #expect((try? outcomes[2].get())?.positions == [4] && (try? outcomes[2].get())?.streamVersion == 3)
        guard case .failure(.concurrencyConflict) = outcomes[1] else { Issue.record("batch 2: \(outcomes[1])"); return }
        guard case .failure(.eventIdReused) = outcomes[3] else { Issue.record("batch 4: \(outcomes[3])"); return }
        #expect(try store.head() == 4)
        #expect(try store.history(of: "C-2").map(\.eventId.rawValue) == [Events.id(1)])
        #expect(try store.history(of: "C-3").isEmpty)
        #expect(try store.verify().isIntact)
    }

    @Test func concurrentAppendsAreAllRecordedInOrderPerCustomer() async throws {
        let store = try EventStore(writer: StoreKind.walFile.makeWriter())
        let commits = GroupCommit(store: store)
        let writer = Thread { commits.run() }
        writer.start()
        defer { commits.close() }
        let customers = 8, perCustomer = 25
        try await withThrowingTaskGroup(of: Void.self) { group in
            for customer in 0..<customers {
                group.addTask {
                    for index in 0..<perCustomer {
                        let n = customer * 1_000 + index + 1
                        let result = try await commits.append(
                            AppendBatch(customerId: "C-\(customer)", expected: .exactly(index), events: [Events.note(n)]))
                        #expect(result.appended == 1 && result.streamVersion == index + 1)
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try store.head() == Int64(customers * perCustomer))
        for customer in 0..<customers {
            let history = try store.history(of: "C-\(customer)")
            #expect(history.map(\.streamVersion) == Array(1...perCustomer))
            #expect(history.map(\.eventId.rawValue) == (0..<perCustomer).map { Events.id(customer * 1_000 + $0 + 1) })
        }
        #expect(try store.verify().isIntact)
    }


    @Test func afterCloseAppendsFailWithoutRecordingAnything() async throws {
        let store = try EventStore(writer: StoreKind.walFile.makeWriter())
        let commits = GroupCommit(store: store)
        commits.close()
        commits.run()  // returns at once: closed and nothing waiting
        await #expect(throws: JournalError.self) {
            try await commits.append(AppendBatch(customerId: "C-1", events: [Events.note(1)]))
        }
        #expect(try store.head() == 0)
    }

    @Test func anInvalidEventIsRefusedBeforeItJoinsAGroup() async throws {
        let store = try EventStore(writer: StoreKind.walFile.makeWriter())
        let commits = GroupCommit(store: store)
        // No writer thread: a refusal must not need one.
        let bad = ProposedEvent(eventId: Events.id(1), type: "note.added", occurredAt: "2026-03-02T08:15:00+01:00", payload: ["text": 5])
        await #expect {
            try await commits.append(AppendBatch(customerId: "C-1", events: [bad]))
        } throws: { error in
            guard case .invalidEvent = error as? JournalError else { return false }
            return true
        }
        #expect(try store.head() == 0)
    }
}
