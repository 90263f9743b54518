import Foundation
import GRDB
import Journal
import JournalStore
import JournalTesting
import Testing

/// The store contract, run on an in-memory database and on a WAL file.
@Suite struct EventStoreTests {
    /// A journal file's commits wait for the disk; a copy of a log kept elsewhere does not (it takes
    /// what a power loss took from there again); the projections never do.
    @Test func durabilitySetsWhenACommitReturns() throws {
        func synchronous(_ durability: JournalDatabase.Durability) throws -> (journal: Int?, projections: Int?) {
            var options = JournalDatabase.Options()
            options.durability = durability
            let path = TestSupport.temporaryDirectory("tpj-durability").appendingPathComponent("j.sqlite").path
            let store = try EventStore(writer: JournalDatabase.open(path: path, options: options))
            return (try store.writer.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") },
                    try store.projectionWriter.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") })
        }
        let full = try synchronous(.full), off = try synchronous(.off)
        #expect(full == (2, 1), "\(full)")
        #expect(try synchronous(.copy) == (1, 1))
        #expect(off == (0, 1), "\(off)")
    }

    @Test(arguments: StoreKind.allCases)
    func appendAssignsPositionsVersionsAndChainsHashes(kind: StoreKind) throws {
        // Given an empty journal
        let store = try EventStore(writer: kind.makeWriter(), clock: steppingClock())
        // When two customers append
        let first = try store.append([Events.call(1), Events.note(2)], to: "C-1", expecting: .noStream)
        let second = try store.append([Events.call(3)], to: "C-2")
        let third = try store.append([Events.note(4)], to: "C-1", expecting: .exactly(2))
        // Then positions are global and versions per customer
        #expect(first.positions == [1, 2] && first.streamVersion == 2 && first.newPositions == 1...2)
        #expect(second.positions == [3] && second.streamVersion == 1)
        #expect(third.positions == [4] && third.streamVersion == 3)
        let log = try store.events(after: 0, limit: 10)
        #expect(log.map(\.position) == [1, 2, 3, 4])
        #expect(log.map(\.customerId) == ["C-1", "C-1", "C-2", "C-1"])
        #expect(log[0].prevHash == EventChain.genesisHash)
        for (previous, event) in zip(log, log.dropFirst()) {
            #expect(event.prevHash == previous.hash)
            #expect(event.recorded >= previous.recorded)
        }
        var buffer: [UInt8] = []
        #expect(log.allSatisfy { EventChain.expectedHash(of: $0, buffer: &buffer) == $0.hash })
        #expect(try store.verify().isIntact)
        #expect(try store.head() == 4)
        #expect(try store.streamVersion(of: "C-1") == 3)
    }

    @Test(arguments: StoreKind.allCases)
    func staleExpectedVersionIsAConflictThatNamesBothVersions(kind: StoreKind) throws {
        let store = try EventStore(writer: kind.makeWriter())
        try store.append([Events.call(1), Events.call(2)], to: "C-1")
        #expect {
            try store.append([Events.call(3)], to: "C-1", expecting: .exactly(1))
        } throws: { error in
            error as? JournalError == .concurrencyConflict(customerId: "C-1", expected: .exactly(1), actual: 2)
                && "\(error)".contains("you expected version 1, the stream is at version 2")
        }
        #expect(throws: JournalError.concurrencyConflict(customerId: "C-1", expected: .noStream, actual: 2)) {
            try store.append([Events.call(3)], to: "C-1", expecting: .noStream)
        }
        #expect(try store.head() == 2)
    }

    @Test(arguments: StoreKind.allCases)
    func resendingAnEventIsANoOpThatReturnsItsPosition(kind: StoreKind) throws {
        let store = try EventStore(writer: kind.makeWriter())
        try store.append([Events.call(1), Events.call(2)], to: "C-1")
        // The same batch again, even with a now stale expected version: nothing new is stored.
        let again = try store.append([Events.call(1), Events.call(2)], to: "C-1", expecting: .noStream)
        #expect(again.positions == [1, 2] && again.appended == 0 && again.duplicates == 2 && again.newPositions == nil)
        // A batch mixing a re-sent and a new event stores only the new one.
        let mixed = try store.append([Events.call(2), Events.call(3)], to: "C-1")
        #expect(mixed.positions == [2, 3] && mixed.appended == 1)
        #expect(try store.head() == 3)
    }

    @Test(arguments: StoreKind.allCases)
    func sameEventIdWithOtherContentIsRefusedNamingTheId(kind: StoreKind) throws {
        let store = try EventStore(writer: kind.makeWriter())
        try store.append([Events.call(1)], to: "C-1")
        #expect {
            try store.append([Events.call(9), Events.call(1, wait: 96)], to: "C-1")
        } throws: { error in
            guard case .eventIdReused(let index, let eventId, let position, let fields) = error as? JournalError else { return false }
            return index == 1 && eventId.rawValue == Events.id(1) && position == 1 && fields == ["payload"]
        }
        // The same id under another customer is also another content.
        #expect(throws: JournalError.self) { try store.append([Events.call(1)], to: "C-2") }
        #expect(try store.head() == 1)
    }

    @Test(arguments: StoreKind.allCases)
    func aBadEventRejectsTheWholeBatchAndAllBatchesOfTheCall(kind: StoreKind) throws {
        let store = try EventStore(writer: kind.makeWriter())
        var bad = Events.call(3)
        bad.occurredAt = "2026-03-02T08:15:00"
        #expect(throws: JournalError.self) {
            try store.append([
                AppendBatch(customerId: "C-1", events: [Events.call(1)]),
                AppendBatch(customerId: "C-2", events: [Events.call(2), bad]),
            ])
        }
        // A conflict in the second batch also rolls back the first.
        try store.append([Events.call(10)], to: "C-2")
        #expect(throws: JournalError.self) {
            try store.append([
                AppendBatch(customerId: "C-1", events: [Events.call(11)]),
                AppendBatch(customerId: "C-2", expected: .noStream, events: [Events.call(12)]),
            ])
        }
        #expect(try store.head() == 1)
        #expect(try store.history(of: "C-1").isEmpty)
    }

    @Test(arguments: StoreKind.allCases)
    func correctionsAndVoidsMustPointAtAnEventOfTheSameCustomer(kind: StoreKind) throws {
        let store = try EventStore(writer: kind.makeWriter())
        try store.append([Events.note(1)], to: "C-1")
        try store.append([Events.note(2)], to: "C-2")
        // Existing event of the same customer, or an earlier event of the same batch: fine.
        try store.append([Events.void(3, target: 1)], to: "C-1")
        try store.append([Events.note(4), Events.void(5, target: 4)], to: "C-1")
        // Another customer's event, or an unknown one: refused.
        for target in [2, 99] {
            #expect {
                try store.append([Events.void(6, target: target)], to: "C-1")
            } throws: { error in
                guard case .unknownReference(_, _, let field, let referenced, _) = error as? JournalError else { return false }
                return field == "voidedEventId" && referenced.rawValue == Events.id(target)
            }
        }
        #expect(try store.head() == 5)
    }

    @Test(arguments: StoreKind.allCases)
    func historyIsBitemporal(kind: StoreKind) throws {
        // Given a technician report recorded after a later call
        let (clock, setTime) = JournalClock.manual(try Timestamp(rfc3339: "2026-03-01T10:00:00Z"))
        let store = try EventStore(writer: kind.makeWriter(), clock: clock)
        try store.append([Events.call(1, at: "2026-03-01T09:00:00+01:00")], to: "C-1")
        setTime(try Timestamp(rfc3339: "2026-03-05T10:00:00Z"))
        try store.append([Events.call(2, at: "2026-03-05T09:00:00+01:00")], to: "C-1")
        setTime(try Timestamp(rfc3339: "2026-03-09T10:00:00Z"))
        try store.append([Events.note(3, "late report", at: "2026-03-02T16:00:00+01:00")], to: "C-1")
        // Then stream order is recording order, business order puts the late report in its place,
        #expect(try store.history(of: "C-1").map(\.position) == [1, 2, 3])
        #expect(try store.history(of: "C-1", order: .occurred).map(\.position) == [1, 3, 2])
        // as known at 2026-03-06 the report did not exist yet,
        let knownAt = try store.history(of: "C-1", knownAt: try Timestamp(rfc3339: "2026-03-06T00:00:00Z"))
        #expect(knownAt.map(\.position) == [1, 2])
        // and what occurred before 2026-03-04 includes the late report.
        let before = try store.history(of: "C-1", order: .occurred, occurredBefore: try Timestamp(rfc3339: "2026-03-04T00:00:00Z"))
        #expect(before.map(\.position) == [1, 3])
        // From 2026-03-02 on (inclusive) the first event is left out; both bounds together give a window.
        let from = try Timestamp(rfc3339: "2026-03-02T15:00:00Z")
        #expect(try store.history(of: "C-1", order: .occurred, occurredAfter: from).map(\.position) == [3, 2])
        let window = try store.history(
            of: "C-1", order: .occurred, occurredAfter: from, occurredBefore: try Timestamp(rfc3339: "2026-03-04T00:00:00Z"))
        #expect(window.map(\.position) == [3])
        #expect(try store.history(of: "C-unknown").isEmpty)
    }

    @Test(arguments: StoreKind.allCases)
    func recordedAtNeverGoesBackEvenWhenTheClockDoes(kind: StoreKind) throws {
        let (clock, setTime) = JournalClock.manual(Timestamp.seconds(2_000))
        let store = try EventStore(writer: kind.makeWriter(), clock: clock)
        try store.append([Events.call(1)], to: "C-1")
        setTime(Timestamp.seconds(1_000))
        try store.append([Events.call(2)], to: "C-1")
        let log = try store.events(after: 0, limit: 10)
        #expect(log.map(\.recorded) == [Timestamp.seconds(2_000), Timestamp.seconds(2_000)])
    }

    @Test(arguments: StoreKind.allCases)
    func readsTheLogAfterAPositionWithALimit(kind: StoreKind) throws {
        let store = try EventStore(writer: kind.makeWriter())
        for n in 1...25 { try store.append([Events.call(n)], to: "C-\(n % 3)") }
        #expect(try store.events(after: 20, limit: 10).map(\.position) == [21, 22, 23, 24, 25])
        #expect(try store.events(after: 5, limit: 3).map(\.position) == [6, 7, 8])
        #expect(try store.events(after: 25, limit: 3).isEmpty)
        #expect(throws: JournalError.self) { try store.events(after: 0, limit: -1) }
        var seen: [Int64] = []
        try store.forEachEvent(after: 0, pageSize: 4) { event in
            seen.append(event.position)
            return true
        }
        #expect(seen == Array(1...25))
        let stats = try store.stats()
        #expect(stats.events == 25 && stats.customers == 3 && stats.headPosition == 25)
        #expect(stats.eventsByType.first?.type == "hotline.call.received")
    }

    @Test(arguments: StoreKind.allCases)
    func readsTheEventsOfSomeTypesInARangeOfPositions(kind: StoreKind) throws {
        let store = try EventStore(writer: kind.makeWriter())
        for n in 1...12 { try store.append([n % 3 == 0 ? Events.note(n) : Events.call(n)], to: "C-\(n % 2)") }
        var filter = EventFilter(afterPosition: 3)
        filter.throughPosition = 11
        filter.types = ["note.added"]
        let notes = try store.events(matching: filter, limit: 100)
        #expect(notes.events.map(\.position) == [6, 9])
        #expect(notes.events.allSatisfy { $0.type == "note.added" })
        // Fewer than the limit: read through the bound, not the head.
        #expect(notes.readThrough == 11)
        #expect(try store.events(matching: filter, limit: 1).events.map(\.position) == [6])
        filter.types = ["no.such.type"]
        #expect(try store.events(matching: filter, limit: 100).events.isEmpty)
        filter.types = []
        filter.throughPosition = 40
        let all = try store.events(matching: filter, limit: 100)
        #expect(all.events.map(\.position) == Array(4...12) && all.readThrough == 12)
        var seen: [Int64] = []
        filter.throughPosition = 7
        try store.scan(filter, pageSize: 2) { seen.append($0.position) }
        #expect(seen == [4, 5, 6, 7])
    }

    @Test(arguments: StoreKind.allCases)
    func readsTheLogInGroupsOfWholeCustomers(kind: StoreKind) throws {
        // Given four customers' events interleaved in the log: through position 12, C-a has 3, C-b 2, C-c 6, C-d 1
        let store = try EventStore(writer: kind.makeWriter())
        let customers = ["C-b", "C-a", "C-d", "C-c", "C-a", "C-c", "C-b", "C-c", "C-c", "C-c", "C-a", "C-c", "C-b"]
        for (n, customer) in customers.enumerated() { try store.append([Events.call(n + 1)], to: customer) }
        // when the log through 12 is cut into groups of about 4 events and each is read
        let cut = try store.customerGroups(through: 12, groupSize: 4)
        let groups = try cut.map { try store.events(of: $0, through: 12) }
        // then each group holds whole customers in id order, no more than 4 events unless one customer has more,
        #expect(groups.map { Set($0.map(\.customerId)).sorted() } == [["C-a"], ["C-b"], ["C-c"], ["C-d"]])
        #expect(groups.map(\.count) == [3, 2, 6, 1] && cut.map(\.events) == [3, 2, 6, 1])
        // and every event through 12 once (13 is left out).
        #expect(groups.flatMap { $0.map(\.position) }.sorted() == Array(1...12))
        // They are read to be folded, without their chain hashes.
        #expect(groups.joined().allSatisfy { $0.hash.isEmpty && $0.prevHash.isEmpty })
        // Groups of about 6 take two customers at once, customer by customer, each in position order.
        let positions = try store.customerGroups(through: 13, groupSize: 6).map { try store.events(of: $0, through: 13).map(\.position) }
        #expect(positions == [[2, 5, 11, 1, 7, 13], [4, 6, 8, 9, 10, 12], [3]])
        // An empty log has no group.
        let empty = try EventStore(writer: kind.makeWriter())
        #expect(try empty.customerGroups(through: 0, groupSize: 4).isEmpty)
        // A group of no events is refused.
        #expect(throws: JournalError.self) { try store.customerGroups(through: 12, groupSize: 0) }
    }

    @Test func aLongLivedStoreKeepsAppendingAfterAReSendAndAForeignWrite() throws {
        // Given one store that re-sends an event (the idempotency lookup path) …
        let path = TestSupport.temporaryDirectory().appendingPathComponent("journal.sqlite").path
        let store = try EventStore(writer: JournalDatabase.open(path: path))
        try store.append([Events.call(1)], to: "C-1")
        try store.append([Events.call(1)], to: "C-1", expecting: .noStream)
        try store.append([Events.call(1), Events.call(2)], to: "C-1")
        // … and another connection that appends in between,
        let other = try EventStore(writer: JournalDatabase.open(path: path))
        try other.append([Events.call(3)], to: "C-2")
        // then the first store can still append (no read snapshot was left open).
        #expect(try store.append([Events.call(4)], to: "C-1").positions == [4])
        #expect(try store.verify().isIntact)
    }

    @Test(arguments: StoreKind.allCases)
    func anEmptyBatchStillChecksTheExpectedVersion(kind: StoreKind) throws {
        let store = try EventStore(writer: kind.makeWriter())
        try store.append([Events.call(1)], to: "C-1")
        #expect(throws: JournalError.concurrencyConflict(customerId: "C-1", expected: .exactly(5), actual: 1)) {
            try store.append([], to: "C-1", expecting: .exactly(5))
        }
        #expect(try store.append([], to: "C-1", expecting: .exactly(1)).appended == 0)
    }

    @Test func aReSendWithoutSchemaVersionStaysANoOpAfterANewVersionIsAdded() throws {
        let writer = try JournalDatabase.inMemory()
        try EventStore(writer: writer).append([Events.note(1)], to: "C-1")
        var registry = SchemaRegistry.bundled
        try registry.add(path: "note.added.v2.json", contents: #"{"type":"object","required":["text"],"properties":{"text":{"type":"string","x-personal":"text"}}}"#)
        let upgraded = try EventStore(writer: writer, registry: registry)
        let again = try upgraded.append([Events.note(1)], to: "C-1")
        #expect(again.appended == 0 && again.positions == [1])
        // Naming the other version explicitly is other content.
        var explicit = Events.note(1)
        explicit.schemaVersion = 2
        #expect(throws: JournalError.self) { try upgraded.append([explicit], to: "C-1") }
    }

    @Test func errorsNameTheEventsIndexInTheProducersInput() throws {
        let store = try EventStore(writer: JournalDatabase.inMemory())
        var bad = Events.call(3)
        bad.occurredAt = "yesterday"
        #expect {
            try store.append([
                AppendBatch(customerId: "C-A", events: [Events.call(1), bad], inputIndices: [0, 2]),
                AppendBatch(customerId: "C-B", events: [Events.call(2)], inputIndices: [1]),
            ])
        } throws: { error in
            guard case .invalidEvent(let invalid) = error as? JournalError else { return false }
            return invalid.index == 2 && invalid.message.contains("customer C-A")
        }
    }

    @Test func concurrentAppendersLoseNothingAndKeepVersionsGapless() async throws {
        // Given a WAL file shared by 8 tasks that each append 50 single-event batches to 4 customers
        let writer = try StoreKind.walFile.makeWriter()
        let store = try EventStore(writer: writer)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for n in 0..<50 {
                        let id = task * 1000 + n + 1
                        try store.append([Events.note(id, "task \(task)")], to: "C-\(id % 4)")
                    }
                }
            }
            try await group.waitForAll()
        }
        // Then every event is stored once, positions are 1…400 and each customer's versions are 1…n
        let log = try store.events(after: 0, limit: 1000)
        #expect(log.count == 400)
        #expect(TestEvents.problems(in: log) == [])
        #expect(try store.verify().isIntact)
    }

    @Test func pipelinedAppendStoresEveryTransactionInOrderAndStopsAtTheFirstFailure() throws {
        let store = try EventStore(writer: StoreKind.walFile.makeWriter())
        let results = try store.appendPipelined(transactions: 5) { index in
            [AppendBatch(customerId: "C-\(index)", events: (0..<3).map { Events.call(index * 10 + $0 + 1) })]
        }
        #expect(results.map { $0[0].positions } == (0..<5).map { index in (1...3).map { Int64(index * 3 + $0) } })
        #expect(throws: JournalError.self) {
            try store.appendPipelined(transactions: 3) { index in
                var event = Events.call(100 + index)
                if index == 1 { event.type = "no.such.type" }
                return [AppendBatch(customerId: "C-9", events: [event])]
            }
        }
        #expect(try store.head() == 16)
        #expect(try store.verify().isIntact)
    }
}
