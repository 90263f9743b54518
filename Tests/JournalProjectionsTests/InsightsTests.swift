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
            let ownChurn = try DemoWorld.customers.map { customer in
                try insights.churn(asOf: asOf, customerId: customer.id, in: db).first.map { "\($0.segment) \($0.risk.probability)" } ?? "-"
            }
            let journeys = try DemoWorld.customers.map { customer in
                try insights.moments(of: customer.id, asOf: asOf, in: db).journey.map { "\($0.value)" } ?? "-"
            }
            return (churn + segments + ownChurn + journeys).joined(separator: "\n")
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

    @Test func oneCustomersSegmentAndRiskAreTheOnesThePortfolioGivesIt() throws {
        let store = try journal()
        try store.writer.read { db in
            let stored = try Int.fetchOne(db, sql: "SELECT count(*) FROM facts_segment") ?? 0
            #expect(stored >= 20)
            var segmentsSeen: Set<String> = []
            for day in stride(from: 0, to: 900, by: 29) {
                let asOf = Timestamp(microseconds: try Timestamp(rfc3339: "2024-01-15T12:00:00Z").microseconds + Int64(day) * 86_400_000_000)
                let portfolio = try insights.churn(asOf: asOf, in: db)
                for risk in portfolio {
                    let own = try insights.churn(asOf: asOf, customerId: risk.customerId, in: db)
                    #expect(own.map(\.segment) == [risk.segment], "\(risk.customerId) as of \(asOf.rfc3339)")
                    #expect(own.map(\.risk.probability) == [risk.risk.probability])
                    segmentsSeen.insert(risk.segment)
                }
                // The stored boundaries are the ones the month's facts give.
                let month = MonthlySegments.monthStart(of: asOf)
                #expect(try MonthlySegments.projected.boundaries(at: month, db) == MonthlySegments.projected.computeBoundaries(at: month, db))
            }
            #expect(segmentsSeen == ["A", "B", "C"])
        }
    }

    @Test func theMonthlyBoundariesFoldedInStepsAreTheOnesARebuildStores() throws {
        // Given the demo world appended in steps, the facts caught up after each,
        let (clock, setTime) = JournalClock.manual(DemoWorld.steps[0].recordedAt)
        let store = try EventStore(writer: JournalDatabase.inMemory(), clock: clock)
        let runner = ProjectionRunner(store: store, projections: [JourneyTimeline(registry: .bundled), CustomerFacts()])
        for (index, step) in DemoWorld.steps.enumerated() {
            setTime(step.recordedAt)
            try store.append([step.event], to: step.customerId)
            if index % 40 == 39 { try runner.catchUp(batchSize: 7) }
        }
        // and, a day after the last step, the latest invoice corrected to another amount and the one
        // before it voided, then a call three months later (the month starts between know the revisions),
        let invoices = try store.writer.read { db in
            try Row.fetchAll(db, sql: "SELECT eventId, customerId FROM event WHERE type = 'invoice.issued' ORDER BY occurredAtUs DESC LIMIT 2")
        }
        try #require(invoices.count == 2)
        let revisedAt = Timestamp(microseconds: DemoWorld.steps.last!.recordedAt.microseconds + 86_400_000_000)
        setTime(revisedAt)
        try store.append([
            ProposedEvent(eventId: TestEvents.id(900_101), type: "touchpoint.corrected", occurredAt: revisedAt.rfc3339,
                          payload: ["correctedEventId": .string(invoices[0]["eventId"]), "corrections": ["amount": 12_345.5], "reason": "wrong amount"]),
        ], to: invoices[0]["customerId"])
        try store.append([
            ProposedEvent(eventId: TestEvents.id(900_102), type: "touchpoint.voided", occurredAt: revisedAt.rfc3339,
                          payload: ["voidedEventId": .string(invoices[1]["eventId"]), "reason": "duplicate"]),
        ], to: invoices[1]["customerId"])
        let calledAt = Timestamp(microseconds: revisedAt.microseconds + 92 * 86_400_000_000)
        setTime(calledAt)
        try store.append([
            ProposedEvent(eventId: TestEvents.id(900_103), type: "hotline.call.received", occurredAt: calledAt.rfc3339,
                          payload: ["queueWaitSeconds": 30, "abandoned": false, "solvedOnCall": true, "machineDown": false]),
        ], to: invoices[1]["customerId"])
        try runner.catchUp(batchSize: 7)
        let boundaries = { try store.writer.read { db in try String.fetchAll(db, sql: "SELECT quote(monthStartUs) || ',' || quote(customers) || ',' || quote(lastARevenue) || ',' || quote(lastACustomerId) || ',' || quote(lastBRevenue) || ',' || quote(lastBCustomerId) FROM facts_segment ORDER BY 1") } }
        let folded = try boundaries()
        // when everything is rebuilt, then the rebuild stores the same boundaries,
        try runner.rebuild()
        #expect(try boundaries() == folded)
        #expect(folded.count >= 20)
        try store.writer.read { db in
            // the facts hold both revisions,
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM facts_fact WHERE revision = 1 AND kind IN ('revenue', 'void')") == 2)
            // and every month's revenues are the ones the facts give, read as SQL reads them: the latest
            // revision known by the month's start of each invoice in its window, unless voided.
            let months = try Int64.fetchAll(db, sql: "SELECT monthStartUs FROM facts_segment ORDER BY 1")
            #expect(months.contains { $0 > revisedAt.microseconds })
            for month in months {
                let windowStart = month - Int64(MonthlySegments.rules.windowDays) * 86_400_000_000
                // (summed here in position order, as the definition sums: SQL's total() may add in another order)
                var expected: [String] = [], last: (customerId: String, revenue: Double)?
                for row in try Row.fetchAll(db, sql: """
                    SELECT f.customerId, f.amount FROM facts_fact f
                    WHERE f.kind = 'revenue' AND f.occurredAtUs > ? AND f.occurredAtUs <= ? AND f.knownAtUs <= ?
                      AND f.revision = (SELECT max(g.revision) FROM facts_fact g WHERE g.position = f.position AND g.knownAtUs <= ?)
                    ORDER BY f.customerId, f.position
                    """, arguments: [windowStart, month, month, month]) {
                    let customerId: String = row[0], amount: Double = row[1] ?? 0
                    if let current = last, current.customerId == customerId {
                        last = (customerId, current.revenue + amount)
                    } else {
                        if let current = last { expected.append("\(current.customerId) \(current.revenue)") }
                        last = (customerId, 0 + amount)
                    }
                }
                if let current = last { expected.append("\(current.customerId) \(current.revenue)") }
                let revenues = try MonthlySegments.projected.revenues(at: Timestamp(microseconds: month), db).map { "\($0.customerId) \($0.revenue)" }
                #expect(revenues == expected, "\(Timestamp(microseconds: month).rfc3339)")
            }
        }
    }

    @Test func customersWhoseIdsSpellOneTextTwoWaysAreTwoCustomers() throws {
        // Given two customers whose ids are the same text, composed and decomposed (SQLite tells their
        // bytes apart; Swift's String equality does not), each invoiced, and a month start after both,
        let composed = "C-Caf\u{E9}", decomposed = "C-Cafe\u{301}"
        let (clock, setTime) = JournalClock.manual(try Timestamp(rfc3339: "2025-01-10T00:00:00Z"))
        let store = try EventStore(writer: JournalDatabase.inMemory(), clock: clock)
        for (n, customerId) in [composed, decomposed].enumerated() {
            try store.append([
                ProposedEvent(eventId: TestEvents.id(910_000 + n), type: "invoice.issued", occurredAt: "2025-01-10T00:00:00Z",
                              payload: ["invoiceId": .string("INV-\(n)"), "amount": .number(JSONNumber(Double(100 * (n + 1)))), "currency": "EUR", "category": "parts"]),
            ], to: customerId)
        }
        setTime(try Timestamp(rfc3339: "2025-03-05T00:00:00Z"))
        try store.append([
            ProposedEvent(eventId: TestEvents.id(910_009), type: "hotline.call.received", occurredAt: "2025-03-05T00:00:00Z",
                          payload: ["queueWaitSeconds": 30, "abandoned": false, "solvedOnCall": true, "machineDown": false]),
        ], to: composed)
        // when the facts are folded (a rebuild computes the month starts between),
        try ProjectionRunner(store: store, projections: [CustomerFacts()]).catchUp()
        // then each customer has its own revenue at the month start.
        try store.writer.read { db in
            let revenues = try MonthlySegments.projected.revenues(at: try Timestamp(rfc3339: "2025-03-01T00:00:00Z"), db)
            #expect(revenues.map { Array($0.customerId.utf8) } == [Array(decomposed.utf8), Array(composed.utf8)])
            #expect(revenues.map(\.revenue) == [200, 100])
        }
    }

    @Test func segmentsHoldForTheWholeMonth() throws {
        let store = try journal()
        try store.writer.read { db in
            let first = try insights.segments(asOf: try Timestamp(rfc3339: "2024-09-01T00:00:00Z"), in: db)
            let late = try insights.segments(asOf: try Timestamp(rfc3339: "2024-09-30T23:59:59Z"), in: db)
            #expect(first.map(\.segment) == late.filter { item in first.contains { $0.customerId == item.customerId } }.map(\.segment))
            #expect(MonthlySegments.monthStart(of: try Timestamp(rfc3339: "2024-09-30T23:59:59Z")) == (try Timestamp(rfc3339: "2024-09-01T00:00:00Z")))
            #expect(MonthlySegments.monthStart(of: try Timestamp(rfc3339: "2024-12-31T23:00:00-02:00")) == (try Timestamp(rfc3339: "2025-01-01T00:00:00Z")))
        }
    }

    @Test func aLostCustomersJourneyEndsAtTheLoss() throws {
        let store = try journal()
        try store.writer.read { db in
            let losses = try Row.fetchAll(db, sql: """
                SELECT customerId, max(occurredAtUs) AS lostAt FROM facts_fact WHERE kind = 'lost' AND customerId NOT IN
                  (SELECT customerId FROM facts_fact WHERE kind = 'reactivated') GROUP BY customerId
                """)
            #expect(!losses.isEmpty)
            let later = try Timestamp(rfc3339: "2027-01-01T00:00:00Z")
            for loss in losses {
                let customer: String = loss["customerId"], lostAt = Timestamp(microseconds: loss["lostAt"])
                let moments = try insights.moments(of: customer, asOf: later, in: db)
                #expect(moments.lost?.at == lostAt, "\(customer)")
                // The index is the one at the loss, however long ago it was,
                #expect(moments.journey == JourneyIndex(episodes: moments.episodes, asOf: lostAt, rules: insights.rules))
                #expect(moments.text(asOf: later).contains("Journey index      lost on \(lostAt.utcDate)"))
                // and before the loss nothing is lost.
                let before = Timestamp(microseconds: lostAt.microseconds - 86_400_000_000)
                #expect(try insights.moments(of: customer, asOf: before, in: db).lost == nil)
            }
        }
    }

    @Test func calibrationComparesPredictedAndObservedByDecileAndBandsFollowTheBaseRate() {
        // 20 snapshots: predicted 0.05 … 1.0; the riskiest quarter was lost.
        let predicted = (1...20).map { Double($0) / 20 }
        let lost = (1...20).map { $0 > 15 }
        let bins = ChurnEvaluation.calibration(predicted.reversed(), lost.reversed())
        #expect(bins.count == 10 && bins.allSatisfy { $0.snapshots == 2 })
        #expect(bins.first.map { abs($0.meanPredicted - 0.075) < 1e-9 && $0.observed == 0 } == true)
        #expect(bins.last.map { abs($0.meanPredicted - 0.975) < 1e-9 && $0.observed == 1 } == true)
        #expect(bins[7].observed == 0.5)
        #expect(ChurnEvaluation.bands(baseRate: 0.03) == ChurnModel.Bands(medium: 0.06, high: 0.15))
        #expect(ChurnEvaluation.bands(baseRate: 0.5).high < 1)
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
