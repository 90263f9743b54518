import GRDB
import Journal
import JournalProjections
import JournalScoring
@testable import JournalStore
import JournalTesting
import JournalWorld
import Testing

/// The kept ranking equals the portfolio ranked afresh, after every fold and after a rebuild.
@Suite struct RiskBoardTests {
    let insights = Insights(rules: .bundled, model: .bundled)

    /// A generated world's events in the order they were recorded, each with its recording time.
    static let world: [(event: ProposedEvent, customerId: String, recorded: Timestamp)] = {
        let writer = try! JournalDatabase.inMemory()
        _ = try! WorldGenerator.write(WorldConfiguration(customers: 24, years: 2, seed: 7, start: "2023-01-01")) { clock in
            try EventStore(writer: writer, clock: clock)
        }
        let store = try! EventStore(writer: writer)
        return try! store.events(after: 0, limit: 1_000_000, disclosedBy: store.disclosure(.plain)).map {
            (ProtectedCopy.proposal($0), $0.customerId, $0.recorded)
        }
    }()

    func ranked(_ risks: [CustomerRisk]) -> [String] {
        risks.map { "\($0.customerId) \($0.segment) \($0.risk.probability) \($0.risk.band)" }
    }

    /// Builds the demo world up to `cut`, ranks it as of `asOf`, then appends the rest a few events at a
    /// time, folding most steps, and checks the kept ranking against one ranked afresh after each.
    func keep(asOf: Timestamp, cut: Timestamp) throws -> (board: RiskBoard, changed: Bool) {
        let (clock, setTime) = JournalClock.manual(Self.world[0].recorded)
        let store = try EventStore(writer: JournalDatabase.inMemory(), clock: clock)
        let runner = ProjectionRunner(store: store, projections: [JourneyTimeline(registry: .bundled), CustomerFacts()])
        let board = RiskBoard()
        func check(_ label: String) throws -> [String] {
            try store.writer.read { db in
                let kept = ranked(try board.ranking(asOf: asOf, insights: insights, weights: "bundled", in: db))
                #expect(kept == ranked(try insights.churn(asOf: asOf, in: db)), "\(label)")
                #expect(!kept.isEmpty, "\(label)")
                return kept
            }
        }
        func append(_ steps: ArraySlice<(event: ProposedEvent, customerId: String, recorded: Timestamp)>) throws {
            for step in steps {
                setTime(step.recorded)
                try store.append([step.event], to: step.customerId)
            }
        }
        let split = try #require(Self.world.firstIndex { $0.recorded > cut })
        #expect(split > 0 && Self.world.count - split > 24)
        try append(Self.world[..<split])
        try runner.catchUp()
        let first = try check("first ranking")
        let step = max(1, (Self.world.count - split) / 12)
        for (index, start) in stride(from: split, to: Self.world.count, by: step).enumerated() {
            try append(Self.world[start..<min(start + step, Self.world.count)])
            if index % 3 != 2 { try runner.catchUp() }
            _ = try check("after chunk \(index)")
        }
        try runner.catchUp()
        let last = try check("all folded")
        // A rebuild starts a new generation: ranked afresh.
        let before = board.rankingsAfresh
        try runner.rebuild()
        _ = try check("after a rebuild")
        #expect(board.rankingsAfresh == before + 1)
        return (board, last != first)
    }

    @Test func eventsRecordedWithinTheMonthRescoreOnlyTheirCustomers() throws {
        // As of the last recording of the busiest month: what was recorded since that month began is
        // folded in customer by customer (and what was recorded after it changes nothing).
        let months = Dictionary(grouping: Self.world.map(\.recorded)) { MonthlySegments.monthStart(of: $0) }
        let busiest = try #require(months.max { ($0.value.count, $1.key) < ($1.value.count, $0.key) })
        let (board, changed) = try keep(asOf: try #require(busiest.value.max()), cut: busiest.key)
        #expect(changed, "the month's events changed the ranking")
        #expect(board.rankingsAfresh == 2, "once at first, once after the rebuild")
    }

    @Test func historyRecordedBeforeTheMonthRanksEveryoneAfresh() throws {
        // Far later than every recording: new events move the month's segment boundaries, so each fold ranks afresh.
        let (board, changed) = try keep(asOf: try Timestamp(rfc3339: "2027-12-20T00:00:00Z"), cut: try Timestamp(rfc3339: "2024-06-30T00:00:00Z"))
        #expect(changed && board.rankingsAfresh > 3)
    }

    @Test func eventsRecordedAfterTheDateChangeNothing() throws {
        // As of a date before the later recordings: ranked once, whatever is folded after it.
        let asOf = try Timestamp(rfc3339: "2024-06-15T00:00:00Z")
        let (board, changed) = try keep(asOf: asOf, cut: asOf)
        #expect(!changed && board.rankingsAfresh == 2)
    }

    @Test func theDayStartsAtMidnightUTC() throws {
        #expect(RiskBoard.dayStart(of: try Timestamp(rfc3339: "2026-12-04T15:56:23+01:00")) == (try Timestamp(rfc3339: "2026-12-04T00:00:00Z")))
        #expect(RiskBoard.dayStart(of: try Timestamp(rfc3339: "2026-12-04T00:30:00+01:00")) == (try Timestamp(rfc3339: "2026-12-03T00:00:00Z")))
        #expect(RiskBoard.dayStart(of: try Timestamp(rfc3339: "1969-12-31T23:00:00Z")) == (try Timestamp(rfc3339: "1969-12-31T00:00:00Z")))
    }
}
