import GRDB
import Journal
import JournalProjections
import JournalScoring
import JournalStore
import JournalTesting
import Testing

@Suite struct InsightsTests {
    let insights = Insights(rules: .bundled, model: .bundled)

    /// A journal holding the demo world's steps recorded by `cut` (all of them without one), caught up.
    func journal(cut: Timestamp? = nil) throws -> EventStore {
        let writer = try JournalDatabase.inMemory()
        let (clock, setTime) = JournalClock.manual(DemoWorld.steps[0].recordedAt)
        let store = try EventStore(writer: writer, clock: clock)
        for step in DemoWorld.steps where cut == nil || step.recordedAt <= cut! {
            setTime(step.recordedAt)
            try store.append([step.event], to: step.customerId)
        }
        try ProjectionRunner(store: store, projections: [JourneyTimeline(registry: .bundled), CustomerFacts()]).catchUp(batchSize: 7)
        return store
    }

    func answers(_ store: EventStore, asOf: Timestamp) throws -> String {
        try store.writer.read { db in
            let churn = try insights.churn(asOf: asOf, in: db).map { risk in
                "\(risk.customerId) \(risk.segment) \(risk.risk.probability) \(risk.risk.reasons.map(\.sentence))"
            }
            let segments = try insights.segments(asOf: asOf, in: db).map { "\($0.customerId) \($0.segment) \($0.revenue)" }
            let journeys = try DemoWorld.customers.map { customer in
                try insights.moments(of: customer.id, asOf: asOf, in: db).journey.map { "\($0.value)" } ?? "-"
            }
            return (churn + segments + journeys).joined(separator: "\n")
        }
    }

    @Test(arguments: ["2024-06-06T00:00:00Z", "2024-06-12T00:00:00Z", "2024-09-30T00:00:00Z", "2025-03-01T00:00:00Z", "2025-12-01T00:00:00Z"])
    func anAnswerAsOfTTodayEqualsTheAnswerOnTheLogCutAtT(_ instant: String) throws {
        let asOf = try Timestamp(rfc3339: instant)
        let today = try journal()
        let cut = try journal(cut: asOf)
        let answer = try answers(today, asOf: asOf)
        #expect(answer == (try answers(cut, asOf: asOf)))
        #expect(!answer.isEmpty)
    }

    @Test func aLateReportChangesTheAnswerOnlyFromWhenItWasRecorded() throws {
        let store = try journal()
        // The first visit of C-1001 (2024-06-04) was typed in a week late, on 2024-06-11.
        let before = try store.writer.read { db in try insights.moments(of: "C-1001", asOf: try Timestamp(rfc3339: "2024-06-10T00:00:00Z"), in: db) }
        let after = try store.writer.read { db in try insights.moments(of: "C-1001", asOf: try Timestamp(rfc3339: "2024-06-12T00:00:00Z"), in: db) }
        func visits(_ moments: CustomerMoments) -> [Bool?] {
            moments.touchpoints.filter { $0.touchpoint.type == "technician.visit.completed" }
                .sorted { $0.touchpoint.occurred < $1.touchpoint.occurred }.map(\.promiseKept)
        }
        #expect(visits(before) == [true])
        #expect(visits(after) == [false, true])
        #expect(after.journey!.value < before.journey!.value)
    }

    @Test func churnReasonsAreSpecificAndAtMostFour() throws {
        let store = try journal()
        let risks = try store.writer.read { db in try insights.churn(asOf: try Timestamp(rfc3339: "2025-06-01T00:00:00Z"), in: db) }
        #expect(!risks.isEmpty)
        #expect(risks.map(\.risk.probability) == risks.map(\.risk.probability).sorted(by: >))
        for risk in risks {
            #expect(risk.risk.reasons.count <= 4)
            #expect(risk.risk.reasons.allSatisfy { $0.contribution > 0 && !$0.sentence.isEmpty })
            #expect(risk.risk.reasons.map(\.contribution) == risk.risk.reasons.map(\.contribution).sorted(by: >))
        }
        // A lost customer is not scored any more.
        let lost = try store.writer.read { db in
            try String.fetchAll(db, sql: "SELECT DISTINCT customerId FROM facts_fact WHERE kind = 'lost'")
        }
        #expect(!lost.isEmpty)
    }
}
