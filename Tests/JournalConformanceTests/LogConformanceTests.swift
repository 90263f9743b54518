import Foundation
import Journal
import PostgresNIO
import JournalStore
import JournalTesting
import Synchronization
import Testing

@testable import JournalPostgres

/// The log's contract (``JournalLog``), checked by the same code against each store: the SQLite
/// journal in a WAL file, and PostgreSQL on a throw-away server (``PostgresServer``).
enum LogConformance {
    /// Validates and seals events once, for every store: the same prepared bytes go into each.
    static func prepare(_ batches: [AppendBatch]) throws -> [PreparedBatch] {
        try EventStore(writer: JournalDatabase.inMemory()).prepare(batches)
    }

    static func generated(customers: Range<Int>, perCustomer: Int, seed: UInt64) throws -> [PreparedBatch] {
        var generator = TouchpointGenerator(seed: seed)
        return try prepare(customers.map { AppendBatch(customerId: TouchpointGenerator.customerId($0), events: generator.events(forCustomer: $0, count: perCustomer)) })
    }

    static func voiding(_ eventId: EventID, number: Int) -> ProposedEvent {
        ProposedEvent(
            eventId: TestEvents.id(number), type: "touchpoint.voided", occurredAt: "2026-03-02T09:00:00+01:00",
            payload: ["voidedEventId": .string(eventId.rawValue), "reason": "entered twice"])
    }

    static func whole(_ log: some JournalLog) async throws -> [RecordedEvent] {
        try await log.readEvents(after: 0, limit: 1_000_000)
    }

    /// Appends read back in order: positions 1…n, stream versions 1…k, an intact chain, and each
    /// customer's history its events in stream order.
    static func appendsAreGaplessAndChained(_ log: some JournalLog) async throws {
        let batches = try generated(customers: 0..<6, perCustomer: 7, seed: 11)
        let results = try await log.record(Array(batches.prefix(3)))
        #expect(results.map(\.newPositions) == [1...7, 8...14, 15...21])
        #expect(results.map(\.streamVersion) == [7, 7, 7])
        _ = try await log.record(Array(batches.dropFirst(3)))
        let all = try await whole(log)
        #expect(all.count == 42)
        #expect(TestEvents.problems(in: all).isEmpty)
        #expect(try await log.head() == 42)
        let history = try await log.readHistory(of: TouchpointGenerator.customerId(4))
        #expect(history.map(\.streamVersion) == Array(1...7))
        #expect(history.map(\.eventId) == batches[4].events.map(\.eventId))
        #expect(try await log.readEvents(after: 40, limit: 5).map(\.position) == [41, 42])
        let check = try await log.verifyChain()
        #expect(check.checked == 42 && check.failure == nil)
    }

    /// A stale expected version refuses the whole call: none of its batches is recorded.
    static func aStaleExpectedVersionRecordsNothing(_ log: some JournalLog) async throws {
        let batches = try generated(customers: 0..<3, perCustomer: 3, seed: 12)
        _ = try await log.record([batches[0]])
        var stale = batches[2]
        stale.expected = .exactly(2)
        await #expect(throws: JournalError.concurrencyConflict(customerId: stale.customerId, expected: .exactly(2), actual: 0)) {
            _ = try await log.record([batches[1], stale])
        }
        #expect(try await log.head() == 3)
        #expect(try await log.readHistory(of: batches[1].customerId).isEmpty)
        var fresh = batches[2]
        fresh.expected = .exactly(0)
        let recorded = try await log.record([fresh])
        #expect(recorded[0].newPositions == 4...6 && recorded[0].streamVersion == 3)
    }

    /// A re-send is answered with the stored positions and records nothing; an id reused with other
    /// content is refused, naming what differs.
    static func reSendsAreIdempotentAndReusedIdsRefused(_ log: some JournalLog) async throws {
        let batch = try generated(customers: 0..<1, perCustomer: 4, seed: 13)[0]
        let first = try await log.record([batch])[0]
        let again = try await log.record([batch])[0]
        #expect(again.positions == first.positions)
        #expect(again.appended == 0 && again.duplicates == 4 && again.newPositions == nil)
        // Stale on purpose: a re-send of stored events passes whatever version it expected.
        var stale = batch
        stale.expected = .exactly(0)
        #expect(try await log.record([stale])[0].positions == first.positions)

        var changed = batch
        changed.events = [batch.events[1]]
        changed.events[0].caseId = "CASE-OTHER"
        await #expect(throws: JournalError.eventIdReused(index: 0, eventId: batch.events[1].eventId, position: 2, differingFields: ["caseId"])) {
            _ = try await log.record([changed])
        }
        #expect(try await log.head() == 4)
    }

    /// An event may refer to an earlier event of its own customer only.
    static func referencesStayWithinTheirCustomer(_ log: some JournalLog) async throws {
        let batches = try generated(customers: 0..<2, perCustomer: 2, seed: 14)
        _ = try await log.record(batches)
        let foreign = batches[1].events[0].eventId
        let wrong = try prepare([AppendBatch(customerId: batches[0].customerId, events: [voiding(foreign, number: 900)])])
        await #expect(throws: JournalError.unknownReference(
            index: 0, eventId: EventID(TestEvents.id(900))!, field: "voidedEventId", referenced: foreign, customerId: batches[0].customerId)) {
            _ = try await log.record(wrong)
        }
        let own = try prepare([AppendBatch(customerId: batches[0].customerId, events: [voiding(batches[0].events[1].eventId, number: 901)])])
        #expect(try await log.record(own)[0].newPositions == 5...5)
    }

    /// A call's batches build on each other: a later batch of the same customer continues its stream,
    /// may refer to an event an earlier batch recorded and re-send one; a call larger than one insert
    /// statement is recorded whole.
    static func aCallsBatchesBuildOnEachOther(_ log: some JournalLog) async throws {
        let batches = try generated(customers: 0..<2, perCustomer: 3, seed: 15)
        let owner = batches[0].customerId
        var first = batches[0]
        first.events = Array(batches[0].events.prefix(2))
        first.expected = .exactly(0)
        var second = try prepare([AppendBatch(customerId: owner, events: [voiding(batches[0].events[1].eventId, number: 910)])])[0]
        second.events.insert(batches[0].events[0], at: 0)
        second.expected = .exactly(2)
        let results = try await log.record([first, batches[1], second])
        #expect(results.map(\.newPositions) == [1...2, 3...5, 6...6])
        #expect(results[2].positions == [1, 6] && results[2].duplicates == 1 && results[2].streamVersion == 3)
        #expect(try await log.readHistory(of: owner).map(\.position) == [1, 2, 6])

        // A reference to another customer's event of the same call refuses the whole call.
        let other = try generated(customers: 5..<6, perCustomer: 1, seed: 17)[0]
        let foreign = try prepare([AppendBatch(customerId: owner, events: [voiding(other.events[0].eventId, number: 911)])])[0]
        await #expect(throws: JournalError.unknownReference(
            index: 0, eventId: EventID(TestEvents.id(911))!, field: "voidedEventId", referenced: other.events[0].eventId, customerId: owner
        ).inBatch(of: owner)) {
            _ = try await log.record([other, foreign])
        }
        #expect(try await log.head() == 6)

        let large = try generated(customers: 10..<61, perCustomer: 100, seed: 16)
        let recorded = try await log.record(large)
        #expect(recorded.last?.newPositions == 5_007...5_106)
        let all = try await whole(log)
        #expect(all.count == 5_106 && TestEvents.problems(in: all).isEmpty)
        #expect(try await log.verifyChain().checked == 5_106)
    }
}

@Suite struct SQLiteLogConformanceTests {
    func journal() throws -> EventStore {
        try EventStore(writer: JournalDatabase.open(path: TestSupport.temporaryDirectory("tpj-conformance").appendingPathComponent("j.sqlite").path))
    }

    @Test func appendsAreGaplessAndChained() async throws { try await LogConformance.appendsAreGaplessAndChained(journal()) }
    @Test func aStaleExpectedVersionRecordsNothing() async throws { try await LogConformance.aStaleExpectedVersionRecordsNothing(journal()) }
    @Test func reSendsAreIdempotentAndReusedIdsRefused() async throws { try await LogConformance.reSendsAreIdempotentAndReusedIdsRefused(journal()) }
    @Test func referencesStayWithinTheirCustomer() async throws { try await LogConformance.referencesStayWithinTheirCustomer(journal()) }
    @Test func aCallsBatchesBuildOnEachOther() async throws { try await LogConformance.aCallsBatchesBuildOnEachOther(journal()) }
}

@Suite(.enabled(if: PostgresServer.isAvailable, Comment(rawValue: PostgresServer.unavailable)))
struct PostgresLogConformanceTests {
    /// Runs `body` with a journal in a new database of the test server.
    func withJournal(clock: JournalClock = .live, _ body: (PostgresJournal) async throws -> Void) async throws {
        let url = try PostgresServer.shared().newDatabase()
        try await PostgresJournal.withJournal(url: url, clock: clock) { journal in try await body(journal) }
    }

    @Test func appendsAreGaplessAndChained() async throws { try await withJournal { try await LogConformance.appendsAreGaplessAndChained($0) } }
    @Test func aStaleExpectedVersionRecordsNothing() async throws { try await withJournal { try await LogConformance.aStaleExpectedVersionRecordsNothing($0) } }
    @Test func reSendsAreIdempotentAndReusedIdsRefused() async throws { try await withJournal { try await LogConformance.reSendsAreIdempotentAndReusedIdsRefused($0) } }
    @Test func referencesStayWithinTheirCustomer() async throws { try await withJournal { try await LogConformance.referencesStayWithinTheirCustomer($0) } }
    @Test func aCallsBatchesBuildOnEachOther() async throws { try await withJournal { try await LogConformance.aCallsBatchesBuildOnEachOther($0) } }

    /// The same prepared events, recorded at the same instants, get byte-identical rows and hashes in
    /// both stores.
    @Test func bothStoresChainTheSameEventsToTheSameHashes() async throws {
        let batches = try LogConformance.generated(customers: 0..<5, perCustomer: 6, seed: 21)
        // Recording times as PostgreSQL formats them (append_events) and as Swift does: before 1970,
        // a leap day's last microsecond, fractions with leading and trailing zeros, and one reading
        // earlier than the last, where the head's time is kept.
        let edges: [Int64] = [
            -1, 1, 951_868_799_999_999, 951_868_800_000_000, 1_772_438_400_000_001, 1_772_438_400_123_456,
            1_772_438_400_999_990, 1_700_000_000_000_000,
        ]
        let instants = (0..<batches.count).map { index in
            Timestamp(microseconds: index < edges.count ? edges[index] : 1_772_438_400_000_000 + Int64(index) * 60_000_000 + 500)
        }
        let (clock, setTime) = JournalClock.manual(instants[0])
        let sqlite = try EventStore(
            writer: JournalDatabase.open(path: TestSupport.temporaryDirectory("tpj-conformance").appendingPathComponent("j.sqlite").path),
            clock: clock)
        var fromSQLite: [RecordedEvent] = []
        for (batch, instant) in zip(batches, instants) {
            setTime(instant)
            _ = try await sqlite.record([batch])
        }
        fromSQLite = try await LogConformance.whole(sqlite)
        try await withJournal(clock: clock) { postgres in
            for (batch, instant) in zip(batches, instants) {
                setTime(instant)
                _ = try await postgres.record([batch])
            }
            let fromPostgres = try await LogConformance.whole(postgres)
            #expect(fromPostgres.count == 30)
            #expect(fromPostgres == fromSQLite)
            #expect(fromPostgres.last?.hash == fromSQLite.last?.hash)
        }
    }

    /// The database's message when it refuses `sql`; nil when it runs it.
    static func refusal(_ journal: PostgresJournal, _ sql: String) async -> String? {
        do {
            try await journal.client.query(PostgresQuery(unsafeSQL: sql))
            return nil
        } catch let error as PSQLError {
            return error.serverInfo?[.message] ?? "\(error)"
        } catch {
            return "\(error)"
        }
    }

    /// The database itself refuses, for any client, every change that does not extend the log at its
    /// end; an insert skipped by `ON CONFLICT` leaves the head where it was.
    @Test func theDatabaseRefusesEveryChangeButAnAppendAtTheEnd() async throws {
        try await withJournal { journal in
            _ = try await journal.record(try LogConformance.generated(customers: 0..<2, perCustomer: 2, seed: 23))
            func refusal(_ sql: String) async -> String? { await Self.refusal(journal, sql) }
            // Event 4 again as a new event at `position`, with `prevHash` (a column of event 4) as its prev_hash,
            // `versions` after event 4's stream version.
            func copyOf4(at position: Int, prevHash: String, versions: Int = 1) -> String {
                """
                INSERT INTO event SELECT \(position), event_id || '-copy', customer_id, stream_version + \(versions), type, schema_version,
                  occurred_at, occurred_at_us, recorded_at_us, case_id, asset_id, site_id, actor, source, correlation_id, causation_id,
                  payload, \(prevHash), hash, source_recorded_at_us, import_ref FROM event WHERE position = 4
                """
            }
            let refusals: [(String, String)] = [
                ("UPDATE event SET payload = '{}' WHERE position = 1", "journal events are immutable: UPDATE refused"),
                ("DELETE FROM event WHERE position = 4", "journal events are immutable: DELETE refused"),
                ("TRUNCATE event", "journal events are immutable: TRUNCATE refused"),
                ("UPDATE log_head SET position = 9", "the log head moves only with an insert into event: UPDATE refused"),
                ("DELETE FROM log_head", "the log head moves only with an insert into event: DELETE refused"),
                (copyOf4(at: 6, prevHash: "hash"), "the log is extended at its end only: position 6 after 4"),
                (copyOf4(at: 5, prevHash: "prev_hash"), "prev_hash of position 5 is not the hash of position 4"),
                (copyOf4(at: 5, prevHash: "hash", versions: 2), "stream version 4 of customer C-000001 is not the next one"),
                // Two rows in one statement: the first extends the log, the second does not link to it.
                ("""
                 INSERT INTO event SELECT 4 + n, event_id || '-copy' || n, customer_id, stream_version + n, type, schema_version,
                   occurred_at, occurred_at_us, recorded_at_us, case_id, asset_id, site_id, actor, source, correlation_id, causation_id,
                   payload, CASE WHEN n = 1 THEN hash ELSE prev_hash END, hash, source_recorded_at_us, import_ref
                 FROM event, generate_series(1, 2) n WHERE position = 4
                 """, "prev_hash of position 6 is not the hash of position 5"),
                ("""
                 INSERT INTO event SELECT 5, event_id || '-copy', customer_id, stream_version + 1, type, schema_version,
                   occurred_at, occurred_at_us, recorded_at_us - 1, case_id, asset_id, site_id, actor, source, correlation_id, causation_id,
                   payload, hash, hash, source_recorded_at_us - 1, import_ref FROM event WHERE position = 4
                 """, "recorded_at of position 5 goes back in time"),
            ]
            for (sql, message) in refusals {
                #expect(await refusal(sql) == message, "\(sql)")
            }
            #expect(await refusal("INSERT INTO event SELECT * FROM event WHERE position = 4 ON CONFLICT DO NOTHING") == nil)
            #expect(try await journal.head() == 4)
            let check = try await journal.verifyChain()
            #expect(check.checked == 4 && check.failure == nil)
            let next = try await journal.record(try LogConformance.generated(customers: 5..<6, perCustomer: 1, seed: 24))
            #expect(next[0].newPositions == 5...5)
        }
    }

    /// Calls recorded together are each all or nothing: the failing ones are undone alone and get their
    /// errors, the others are recorded, in order and gapless — also when their rows fill several
    /// insert statements.
    @Test func callsRecordedTogetherFailAlone() async throws {
        try await withJournal { journal in
            let batches = try LogConformance.generated(customers: 0..<4, perCustomer: 3, seed: 28)
            var stale = batches[1]
            stale.expected = .exactly(5)
            var reused = batches[2]
            reused.events = [batches[0].events[0]]
            reused.events[0].caseId = "CASE-OTHER"
            let foreign = try LogConformance.prepare([AppendBatch(
                customerId: batches[3].customerId, events: [LogConformance.voiding(batches[0].events[1].eventId, number: 920)])])
            // The first call's customer again, after it: its stream continues at 4.
            var continued = try LogConformance.prepare([AppendBatch(
                customerId: batches[0].customerId, events: [LogConformance.voiding(batches[0].events[2].eventId, number: 921)])])[0]
            continued.expected = .exactly(3)

            // A call whose first batch is fine and whose second is stale: the first is undone with it.
            let undone = try LogConformance.generated(customers: 4..<5, perCustomer: 2, seed: 32)[0]

            let outcomes = await journal.recordEach([[batches[0]], [stale], [reused], foreign, [undone, stale], [continued]])
            #expect(try outcomes[0].get()[0].newPositions == 1...3)
            #expect(throws: JournalError.concurrencyConflict(customerId: stale.customerId, expected: .exactly(5), actual: 0)) { try outcomes[1].get() }
            #expect(throws: JournalError.eventIdReused(index: 0, eventId: batches[0].events[0].eventId, position: 1, differingFields: ["caseId"])) {
                try outcomes[2].get()
            }
            #expect(throws: JournalError.unknownReference(
                index: 0, eventId: EventID(TestEvents.id(920))!, field: "voidedEventId", referenced: batches[0].events[1].eventId,
                customerId: batches[3].customerId)) { try outcomes[3].get() }
            #expect(throws: JournalError.concurrencyConflict(customerId: stale.customerId, expected: .exactly(5), actual: 0).inBatch(of: stale.customerId)) {
                try outcomes[4].get()
            }
            #expect(try outcomes[5].get()[0].newPositions == 4...4)
            #expect(try await journal.head() == 4)
            #expect(try await journal.readHistory(of: undone.customerId).isEmpty)

            var many = try LogConformance.generated(customers: 10..<22, perCustomer: 500, seed: 30).map { [$0] }
            many[7][0].expected = .exactly(1)
            let recorded = await journal.recordEach(many)
            #expect(recorded.filter { (try? $0.get()) == nil }.count == 1)
            #expect(try recorded[8].get()[0].newPositions == 3_505...4_004)
            #expect(try await journal.head() == 5_504)
            #expect(try await journal.verifyChain().checked == 5_504)
        }
    }

    /// An append reads the log without a lock and sends its new events in one statement. Another
    /// append that commits in between makes that plan stale: the statement then stores nothing (the
    /// stream version or the event id is taken) and says so, and a new plan records the events.
    @Test func aPlanMadeStaleByAnotherAppendStoresNothing() async throws {
        let batches = try LogConformance.generated(customers: 0..<2, perCustomer: 5, seed: 41)
        func part(_ batch: PreparedBatch, _ range: Range<Int>) -> PreparedBatch {
            var part = batch
            part.events = Array(batch.events[range])
            return part
        }
        let (first, planned, intruder) = (part(batches[0], 0..<2), part(batches[0], 2..<4), part(batches[0], 4..<5))
        try await withJournal { journal in
            /// Plans `batches` on the log as it is now; the plan is sent by `commit`.
            func plan(_ batches: [PreparedBatch]) async throws -> PostgresAppend {
                var append = try await journal.client.withConnection { connection in
                    try await PostgresAppend.load(batches, on: connection, logger: journal.logger)
                }
                _ = try append.plan(call: batches)
                return append
            }
            func commit(_ plan: PostgresAppend) async throws {
                var plan = plan
                try await journal.client.withConnection { connection in
                    try await plan.commit(on: connection, clock: .live, limit: .standard, logger: journal.logger)
                }
            }
            _ = try await journal.record([first])
            // Stream versions 3 and 4 planned; then another append takes 3.
            let stale = try await plan([planned])
            _ = try await journal.record([intruder])
            await #expect { try await commit(stale) } throws: { PostgresAppend.isStale($0) }
            #expect(try await journal.head() == 3)
            let recorded = try await journal.record([planned])
            #expect(recorded[0].newPositions == 4...5)
            #expect(try await journal.readHistory(of: first.customerId).map(\.streamVersion) == [1, 2, 3, 4, 5])

            // Planned as new; then the same events are recorded by another append (a re-send racing its original).
            let raced = try await plan([batches[1]])
            let original = try await journal.record([batches[1]])
            await #expect { try await commit(raced) } throws: { PostgresAppend.isStale($0) }
            let again = try await journal.record([batches[1]])
            #expect(again[0].appended == 0 && again[0].positions == original[0].positions)
            #expect(try await journal.head() == 10)
            #expect(try await journal.verifyChain().failure == nil)
        }
    }

    /// A recording time more than the clock limit ahead of the system clock is refused with nothing
    /// stored — the node's clock ahead, or the head's time ahead (left by a writer allowed a longer
    /// lead) — in one statement and under the head's lock alike.
    @Test func aRecordingTimeFarAheadIsRefusedWithNothingStored() async throws {
        let url = try PostgresServer.shared().newDatabase()
        let hourAhead = JournalClock { Timestamp(microseconds: JournalClock.live.now().microseconds + 3_600_000_000) }
        let small = try LogConformance.generated(customers: 0..<1, perCustomer: 2, seed: 43)
        // More events than one statement takes: recorded under the head's lock.
        let large = try LogConformance.generated(customers: 1..<12, perCustomer: 500, seed: 44)
        func refusedAhead(_ error: any Error) -> Bool {
            guard case .clockAhead(let recordedAt, let systemTime, let lead)? = error as? JournalError else { return false }
            return lead == 300 && recordedAt.microseconds - systemTime.microseconds > 3_000_000_000
        }
        try await PostgresJournal.withJournal(url: url, clock: hourAhead) { ahead async throws in
            await #expect { try await ahead.record(small) } throws: { refusedAhead($0) }
            await #expect { try await ahead.record(large) } throws: { refusedAhead($0) }
            #expect(try await ahead.head() == 0)
        }
        try await PostgresJournal.withJournal(url: url, clock: hourAhead, clockLimit: ClockLimit(maximumLeadSeconds: 7_200)) { lenient async throws in
            #expect(try await lenient.record(small)[0].appended == 2)
        }
        try await PostgresJournal.withJournal(url: url) { journal in
            let next = try LogConformance.generated(customers: 12..<13, perCustomer: 1, seed: 45)
            await #expect { try await journal.record(next) } throws: { refusedAhead($0) }
            #expect(try await journal.head() == 2)
        }
    }

    /// A call and its re-send on another node at the same moment, each expecting an empty stream: both
    /// are answered with the same stored positions, whichever commits first and wherever the other's
    /// reads fall.
    @Test(.timeLimit(.minutes(10))) func aReSendRacingItsOriginalOnAnotherNodeGetsItsPositions() async throws {
        let url = try PostgresServer.shared().newDatabase()
        let calls = try LogConformance.generated(customers: 0..<30, perCustomer: 2, seed: 46).map { batch in
            var batch = batch
            batch.expected = .noStream
            return batch
        }
        try await PostgresJournal.withJournal(url: url) { first in
            try await PostgresJournal.withJournal(url: url) { second in
                for call in calls {
                    async let original = first.record([call])
                    async let resent = second.record([call])
                    let (a, b) = try await (original, resent)
                    #expect(a[0].positions == b[0].positions)
                    #expect(a[0].appended + b[0].appended == 2)
                }
                #expect(try await second.head() == 60)
                #expect(TestEvents.problems(in: try await LogConformance.whole(first)).isEmpty)
            }
        }
    }

    /// Appenders on two nodes adding to the same two customers at once, so that plans go stale: every
    /// event is recorded once, each stream stays gapless, the chain holds.
    @Test(.timeLimit(.minutes(10))) func appendersOnTwoNodesToTheSameCustomersRecordEveryEventOnce() async throws {
        let url = try PostgresServer.shared().newDatabase()
        let writersPerNode = 3, rounds = 8
        var generator = TouchpointGenerator(seed: 42)
        // One event an append, none referring to another (their order is the race's).
        let appends = try (0..<2).flatMap { customer in
            try LogConformance.prepare(generator.events(forCustomer: customer, count: 3 * writersPerNode * rounds).map {
                AppendBatch(customerId: TouchpointGenerator.customerId(customer), events: [$0])
            })
        }.filter { $0.events[0].references.isEmpty }
        let writers = 2 * writersPerNode
        try await PostgresJournal.withJournal(url: url) { first in
            try await PostgresJournal.withJournal(url: url) { second in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for writer in 0..<writers {
                        let journal = writer % 2 == 0 ? first : second
                        group.addTask {
                            for index in stride(from: writer, to: appends.count, by: writers) {
                                let recorded = try await journal.record([appends[index]])
                                #expect(recorded[0].appended == 1)
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                let all = try await LogConformance.whole(second)
                #expect(all.count == appends.count)
                #expect(Set(all.map(\.eventId)) == Set(appends.map(\.events[0].eventId)))
                #expect(TestEvents.problems(in: all).isEmpty)
                #expect(try await first.verifyChain().failure == nil)
            }
        }
    }

    // The time limits here guard against a hang, not for speed: alone these tests take about a second,
    // on a loaded machine one ran 251 s.

    /// Concurrent calls through the group committer are all recorded, gapless, each customer's stream
    /// whole; once it is closed, a call is refused and says why.
    @Test(.timeLimit(.minutes(10))) func aGroupCommitterRecordsConcurrentCallsGapless() async throws {
        let writers = 8, rounds = 10
        let batches = try LogConformance.generated(customers: 0..<(writers * rounds), perCustomer: 2, seed: 31)
        try await withJournal { journal in
            let commits = PostgresGroupCommit(journal: journal)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await commits.run() }
                try await withThrowingTaskGroup(of: Void.self) { appenders in
                    for writer in 0..<writers {
                        appenders.addTask {
                            for round in 0..<rounds {
                                let result = try await commits.record([batches[writer * rounds + round]])
                                #expect(result[0].appended == 2)
                            }
                        }
                    }
                    try await appenders.waitForAll()
                }
                commits.close()
                try await group.waitForAll()
            }
            let all = try await LogConformance.whole(journal)
            #expect(all.map(\.position) == Array(1...Int64(writers * rounds * 2)))
            #expect(TestEvents.problems(in: all).isEmpty)
            await #expect(throws: JournalError.storage("the journal's writer has stopped; the batches were not recorded")) {
                _ = try await commits.record([batches[0]])
            }
        }
    }

    /// An application role granted access reads and appends, and the database refuses it every change
    /// of the schema; before the owner has made the schema, it cannot open the journal and says why.
    @Test func anApplicationRoleAppendsAndReadsButCannotChangeTheSchema() async throws {
        let server = try PostgresServer.shared()
        let ownerURL = try server.newDatabase(), emptyURL = try server.newDatabase()
        let database = String(try #require(URLComponents(string: ownerURL)).path.dropFirst())
        let role = "app_\(database)"
        func refusal(_ journal: PostgresJournal, _ sql: String) async -> String? { await Self.refusal(journal, sql) }
        try await PostgresJournal.withJournal(url: ownerURL) { owner in
            _ = try await owner.record(try LogConformance.generated(customers: 0..<2, perCustomer: 2, seed: 26))
            #expect(await refusal(owner, "CREATE ROLE \(role) LOGIN") == nil)
            await #expect(throws: JournalError.storage(#"PostgreSQL refused: role "nobody" does not exist"#)) {
                try await owner.grantAccess(to: "nobody")
            }
            try await owner.grantAccess(to: role)
        }
        let emptyDatabase = String(try #require(URLComponents(string: emptyURL)).path.dropFirst())
        await #expect(throws: JournalError.storage(
            "the journal's schema needs v1-event-log, v2-statement-checks, v3-application-role, v4-access-tokens, v5-data-keys, "
                + "v6-nodes, v7-append-function, which this role may not apply "
                + "(permission denied for schema public): open it once as the role that owns the schema")) {
            try await PostgresJournal.withJournal(url: server.url(emptyDatabase, user: role)) { _ in }
        }
        try await PostgresJournal.withJournal(url: server.url(database, user: role)) { app in
            let recorded = try await app.record(try LogConformance.generated(customers: 2..<3, perCustomer: 3, seed: 27))
            #expect(recorded[0].newPositions == 5...7)
            #expect(try await app.readHistory(of: recorded[0].customerId).count == 3)
            #expect(try await app.verifyChain().checked == 7)
            let refusals: [(String, String)] = [
                ("ALTER TABLE event ADD COLUMN note TEXT", "must be owner of table event"),
                ("ALTER TABLE event DISABLE TRIGGER event_no_change", "must be owner of table event"),
                ("DROP TABLE event", "must be owner of table event"),
                ("DROP FUNCTION lock_log_head()", "must be owner of function lock_log_head"),
                ("DROP FUNCTION append_events", "must be owner of function append_events"),
                ("DELETE FROM event", "permission denied for table event"),
                ("TRUNCATE event", "permission denied for table event"),
                ("UPDATE log_head SET position = 9", "permission denied for table log_head"),
                ("CREATE TABLE shadow (position BIGINT)", "permission denied for schema public"),
                ("DELETE FROM access_token", "permission denied for table access_token"),
                ("UPDATE access_token SET role = 'admin'", "permission denied for table access_token"),
                ("UPDATE data_key SET key = key", "permission denied for table data_key"),
                ("UPDATE key_secret SET signing_key = signing_key", "permission denied for table key_secret"),
                ("DELETE FROM destroyed_key", "permission denied for table destroyed_key"),
                ("DELETE FROM erased_subject", "permission denied for table erased_subject"),
                ("DELETE FROM access_log", "permission denied for table access_log"),
                ("UPDATE tree_head SET signed_by = 'me'", "permission denied for table tree_head"),
            ]
            for (sql, message) in refusals {
                #expect(await refusal(app, sql) == message, "\(sql)")
            }
            #expect(try await app.head() == 7)
            // Tokens and sessions are the application's to keep: create, identify, revoke.
            let tokens = PostgresAccessTokens(journal: app)
            let (token, secret) = try await tokens.create(name: "desk", role: .staff)
            #expect(try await tokens.identify(secret) == token)
            #expect(try await tokens.session(tokens.startSession(for: token, seconds: 60)) == token)
            #expect(try await tokens.revoke("desk").id == token.id)
            // So are the keys: make them, read them, erase a subject.
            let keys = PostgresKeys(journal: app)
            let node = try await KeyStore(copying: keys.secrets())
            let scope = DataKeyScope(subject: .customer("C-1"), kind: .contact, year: 2025)
            try await node.adopt(keys.store(node.proposeKeys(for: [scope])))
            #expect(try await keys.changes(after: 0).material.dataKeys.count == 1)
            #expect(try await keys.erase(subjectHash: node.subjectHash(of: .customer("C-1"))).destroyed.count == 1)
        }
    }

    /// A copy into PostgreSQL and back gives the same log, event for event; an interrupted copy (here:
    /// one the source has grown past) continues where it stopped; a target with other events is refused.
    @Test func aCopyIntoPostgresAndBackIsVerbatimAndResumes() async throws {
        let directory = TestSupport.temporaryDirectory("tpj-conformance")
        let source = try EventStore(writer: JournalDatabase.open(path: directory.appendingPathComponent("source.sqlite").path))
        let batches = try LogConformance.generated(customers: 0..<8, perCustomer: 5, seed: 25)
        _ = try await source.record(Array(batches.prefix(5)))
        try await withJournal { postgres in
            var copy = LogCopy(from: source, to: postgres)
            copy.pageSize = 7
            var reached: [Int64] = []
            let first = try await copy.run { done, _ in reached.append(done) }
            #expect(first == LogCopy.Outcome(resumedAfter: 0, copied: 25, head: 25, headHash: try await source.readEvents(after: 24, limit: 1)[0].hash))
            #expect(reached == [7, 14, 21, 25])

            _ = try await source.record(Array(batches.dropFirst(5)))
            let second = try await copy.run()
            #expect(second.resumedAfter == 25 && second.copied == 15 && second.head == 40)
            #expect(try await LogConformance.whole(postgres) == LogConformance.whole(source))
            #expect(try await postgres.verifyChain().failure == nil)

            let back = try EventStore(writer: JournalDatabase.open(path: directory.appendingPathComponent("back.sqlite").path))
            #expect(try await LogCopy(from: postgres, to: back).run().copied == 40)
            #expect(try await LogConformance.whole(back) == LogConformance.whole(source))
            let verified = try back.verify()
            #expect(verified.isIntact && verified.checked == 40)
            // The copy's Merkle tree is the source's: the same signed tree heads hold for both.
            #expect(try back.treeRoot(size: 40) == source.treeRoot(size: 40))

            let other = try EventStore(writer: JournalDatabase.open(path: directory.appendingPathComponent("other.sqlite").path))
            _ = try await other.record(try LogConformance.generated(customers: 20..<21, perCustomer: 3, seed: 26))
            await #expect(throws: JournalError.self) { _ = try await LogCopy(from: other, to: postgres).run() }
            let bigger = try EventStore(writer: JournalDatabase.open(path: directory.appendingPathComponent("bigger.sqlite").path))
            _ = try await bigger.record(try LogConformance.generated(customers: 30..<40, perCustomer: 5, seed: 27))
            await #expect(throws: JournalError.self) { _ = try await LogCopy(from: bigger, to: postgres).run() }
            #expect(try await postgres.head() == 40)
        }
    }

    /// Two nodes — two journals on the same database, each with its own connections — with three
    /// appenders each and two followers each, woken by NOTIFY: every follower sees exactly 1…head, once
    /// and in order, while the appends commit concurrently on both nodes.
    @Test(.timeLimit(.minutes(10))) func theFeedNeverSkipsAPositionWithWritersAndFollowersOnTwoNodes() async throws {
        let url = try PostgresServer.shared().newDatabase()
        let writersPerNode = 3, rounds = 10, perBatch = 3
        let total = Int64(2 * writersPerNode * rounds * perBatch)
        let batches = try LogConformance.generated(customers: 0..<(2 * writersPerNode * rounds), perCustomer: perBatch, seed: 22)
        try await PostgresJournal.withJournal(url: url) { first in
            try await PostgresJournal.withJournal(url: url) { second in
                let seen = try await withThrowingTaskGroup(of: [Int64].self) { group in
                    for (node, journal) in [first, second].enumerated() {
                        for _ in 0..<2 {
                            group.addTask {
                                var seen: [Int64] = []
                                try await journal.follow(after: 0, pageSize: 5) { page in
                                    seen += page.map(\.position)
                                    return seen.count < total
                                }
                                return seen
                            }
                        }
                        for writer in 0..<writersPerNode {
                            let first = (node * writersPerNode + writer) * rounds
                            group.addTask {
                                for round in 0..<rounds { _ = try await journal.record([batches[first + round]]) }
                                return []
                            }
                        }
                    }
                    var followed: [[Int64]] = []
                    for try await positions in group where !positions.isEmpty { followed.append(positions) }
                    return followed
                }
                #expect(seen.count == 4)
                for positions in seen { #expect(positions == Array(1...total)) }
                #expect(TestEvents.problems(in: try await LogConformance.whole(second)).isEmpty)
            }
        }
    }
}
