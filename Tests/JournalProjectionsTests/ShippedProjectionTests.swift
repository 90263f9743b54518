import Foundation
import Journal
import JournalProjections
import JournalStore
import JournalTesting
import Synchronization
import Testing

/// The declared projections shipped in tools/projections, each on a small world whose numbers are
/// worked out by hand below. Every world is appended in two steps with a catch-up between, the second
/// step correcting or voiding touchpoints of the first, and the result must equal a rebuild.
@Suite struct ShippedProjectionTests {
    static func load(_ name: String) throws -> DeclaredProjection {
        let url = TestSupport.repositoryRoot.appendingPathComponent("tools/projections/\(name).sql")
        let projection = try DeclaredProjection(text: String(contentsOf: url, encoding: .utf8), registry: .bundled)
        try projection.check()
        return projection
    }

    /// A journal file; `steps` are appended one after another, the projection caught up after each.
    struct World {
        let world: AnalystWorld
        let projection: DeclaredProjection

        init(_ projection: DeclaredProjection, steps: [[(customer: String, event: JSONValue)]]) throws {
            self.projection = projection
            world = try AnalystWorld.empty()
            let runner = ProjectionRunner.builtIn(store: world.store, declared: [projection])
            for step in steps {
                for (customer, event) in step {
                    try world.store.append([try ProposedEvent(json: event, index: 0)], to: customer)
                }
                try runner.catchUp(batchSize: 2)
            }
            let incremental = try tables()
            try runner.rebuild([projection.name])
            #expect(try tables() == incremental, "\(projection.name): folded step by step differs from a rebuild")
        }

        /// Every table of the projection, its rows sorted.
        func tables() throws -> [String: [String]] {
            var tables: [String: [String]] = [:]
            for view in projection.views { tables[view] = try rows("SELECT * FROM \(view)").map { "\($0)" }.sorted() }
            return tables
        }

        func rows(_ sql: String) throws -> [[SQLValue]] {
            try JournalProjectionsTests.rows(try world.connection(declared: [projection]), sql).rows
        }
    }

    static let serial = Atomic<Int>(0)
    static func event(_ type: String, _ occurredAt: String, caseId: String? = nil, _ payload: JSONValue) -> JSONValue {
        let number = serial.add(1, ordering: .relaxed).newValue
        var members: [JSONMember] = [
            JSONMember("eventId", .string(TestEvents.id(900_000 + number))), JSONMember("type", .string(type)),
            JSONMember("occurredAt", .string(occurredAt)), JSONMember("payload", payload),
        ]
        if let caseId { members.append(JSONMember("caseId", .string(caseId))) }
        return .object(members)
    }

    static func registered(_ customer: String, _ country: String) -> (String, JSONValue) {
        (customer, event("customer.registered", "2023-06-01T09:00:00+02:00", ["name": .string("Customer \(customer)"), "country": .string(country)]))
    }

    static func id(_ event: JSONValue) -> JSONValue { event["eventId"]! }

    @Test func quoteHitRateCountsAnsweredQuotesByNumberAndValue() throws {
        let q1 = Self.event("quote.sent", "2024-01-10T10:00:00+01:00", ["quoteId": "Q1", "subject": "parts", "amount": 1000, "currency": "EUR"])
        let q2 = Self.event("quote.sent", "2024-02-10T10:00:00+01:00", ["quoteId": "Q2", "subject": "repair", "amount": 500, "currency": "EUR"])
        let q3 = Self.event("quote.sent", "2024-03-10T10:00:00+01:00", ["quoteId": "Q3", "subject": "parts", "amount": 250, "currency": "EUR"])
        let q4 = Self.event("quote.sent", "2024-04-10T10:00:00+02:00", ["quoteId": "Q4", "subject": "retrofit", "amount": 400, "currency": "EUR"])
        let world = try World(try Self.load("quotehitrate"), steps: [
            [Self.registered("K-1", "DE"), ("K-1", q1), ("K-1", q2), ("K-1", q3), ("K-1", q4),
             ("K-1", Self.event("quote.accepted", "2024-01-20T10:00:00+01:00", ["quoteId": "Q1"])),
             ("K-1", Self.event("quote.declined", "2024-02-20T10:00:00+01:00", ["quoteId": "Q2", "reason": "price"])),
             // Accepted in the next quarter at a lower amount: counted in the quarter it was sent.
             ("K-1", Self.event("quote.accepted", "2024-07-01T10:00:00+02:00", ["quoteId": "Q4", "amount": 300]))],
            // Q2's amount was mistyped (1000, not 500); Q3 was entered in error.
            [("K-1", Self.event("touchpoint.corrected", "2024-08-01T10:00:00+02:00",
                                ["correctedEventId": Self.id(q2), "corrections": ["amount": 1000], "reason": "typo"])),
             ("K-1", Self.event("touchpoint.voided", "2024-08-01T10:05:00+02:00", ["voidedEventId": Self.id(q3), "reason": "duplicate"]))],
        ])
        // 2024-Q1: Q1 (1000, accepted) and Q2 (1000 after the correction, declined); Q3 voided.
        //   sent 2, answered 2, accepted 1; values 2000 / 2000 / 1000; hit rate 1/2, by value 1000/2000.
        // 2024-Q2: Q4 (400, accepted at 300): 1/1/1, 400/400/300, rates 1 and 0.75.
        #expect(try world.rows("SELECT * FROM quotehitrate_quarter ORDER BY quarter") == [
            [.text("K-1"), .text("2024-Q1"), .integer(2), .integer(2), .integer(1), .real(2000), .real(2000), .real(1000), .real(0.5), .real(0.5)],
            [.text("K-1"), .text("2024-Q2"), .integer(1), .integer(1), .integer(1), .real(400), .real(400), .real(300), .real(1), .real(0.75)],
        ])
    }

    @Test func firstTimeFixAndLatenessPerTechnicianRegionAndQuarter() throws {
        func visit(_ at: String, caseId: String?, number: Int, promised: String, arrived: String, fixed: Bool, technician: String) -> JSONValue {
            Self.event("technician.visit.completed", at, caseId: caseId, [
                "visitNumber": .number(JSONNumber(Int64(number))), "promisedArrival": .string(promised), "actualArrival": .string(arrived),
                "fixed": .bool(fixed), "technician": .string(technician),
            ])
        }
        let c2 = visit("2024-02-05T12:00:00+01:00", caseId: "C2", number: 1, promised: "2024-02-05T09:00:00+01:00",
                       arrived: "2024-02-05T08:50:00+01:00", fixed: true, technician: "A. Wolf")
        let world = try World(try Self.load("firsttimefix"), steps: [
            [Self.registered("K-1", "DE"), Self.registered("K-2", "FR"),
             // Case C1: the first visit came 30 minutes late and did not fix it, the second did, on time.
             ("K-1", visit("2024-01-08T12:00:00+01:00", caseId: "C1", number: 1, promised: "2024-01-08T09:00:00+01:00",
                           arrived: "2024-01-08T09:30:00+01:00", fixed: false, technician: "A. Wolf")),
             ("K-1", visit("2024-01-09T12:00:00+01:00", caseId: "C1", number: 2, promised: "2024-01-09T09:00:00+01:00",
                           arrived: "2024-01-09T09:00:00+01:00", fixed: true, technician: "A. Wolf")),
             ("K-1", c2),
             // A visit without a case is a first visit; 5 minutes late.
             ("K-2", visit("2024-03-01T12:00:00+01:00", caseId: nil, number: 1, promised: "2024-03-01T09:00:00+01:00",
                           arrived: "2024-03-01T09:05:00+01:00", fixed: true, technician: "B. Roux"))],
            // C2's visit was B. Roux's, not A. Wolf's: it moves to another group.
            [("K-1", Self.event("touchpoint.corrected", "2024-04-02T10:00:00+02:00",
                                ["correctedEventId": Self.id(c2), "corrections": ["technician": "B. Roux"], "reason": "wrong technician"]))],
        ])
        // A. Wolf, DE: C1's two visits — one first visit, not fixed; one late (30); minutes late 30 and 0 → 15.
        // B. Roux, DE: C2's visit — first, fixed, 10 minutes early.
        // B. Roux, FR: first, fixed, 5 minutes late.
        #expect(try world.rows("SELECT * FROM firsttimefix_technician ORDER BY technician, region") == [
            [.text("A. Wolf"), .text("DE"), .text("2024-Q1"), .integer(2), .integer(1), .integer(0), .real(0), .integer(1), .real(15)],
            [.text("B. Roux"), .text("DE"), .text("2024-Q1"), .integer(1), .integer(1), .integer(1), .real(1), .integer(0), .real(-10)],
            [.text("B. Roux"), .text("FR"), .text("2024-Q1"), .integer(1), .integer(1), .integer(1), .real(1), .integer(1), .real(5)],
        ])
    }

    @Test func csiAndNPSPerSegmentAndQuarter() throws {
        func invoice(_ number: String, _ at: String, _ amount: Int64) -> JSONValue {
            Self.event("invoice.issued", at, ["invoiceId": .string(number), "amount": .number(JSONNumber(amount)), "currency": "EUR", "category": "parts"])
        }
        func survey(_ number: String, _ at: String, csi: Int64, recommend: Int64) -> JSONValue {
            Self.event("survey.answered", at, ["surveyId": .string(number), "csi": .number(JSONNumber(csi)), "recommend": .number(JSONNumber(recommend))])
        }
        let world = try World(try Self.load("csi"), steps: [
            [Self.registered("K-1", "DE"), Self.registered("K-2", "FR"), Self.registered("K-3", "IT"),
             ("K-1", invoice("I1", "2024-01-15T10:00:00+01:00", 8000)), ("K-2", invoice("I2", "2024-02-15T10:00:00+01:00", 1500)),
             ("K-3", invoice("I3", "2024-03-15T10:00:00+01:00", 500)),
             ("K-1", survey("S1", "2024-03-20T10:00:00+01:00", csi: 4, recommend: 9)),
             ("K-2", survey("S2", "2024-03-21T10:00:00+01:00", csi: 3, recommend: 6)),
             ("K-3", survey("S3", "2024-03-22T10:00:00+01:00", csi: 5, recommend: 10)),
             ("K-3", survey("S4", "2024-03-23T10:00:00+01:00", csi: 2, recommend: 7))],
            [("K-2", invoice("I5", "2024-05-15T10:00:00+02:00", 20000)),
             ("K-2", survey("S5", "2024-06-20T10:00:00+02:00", csi: 5, recommend: 10))],
        ])
        // 2024-Q1 revenue 8000 / 1500 / 500 of 10,000: K-1 is A (nothing before it), K-2 B (8000 before it,
        // not under 80 %), K-3 C (9500 before it, not under 95 %).
        //   A: one answer, CSI 4, a promoter → NPS 100. B: CSI 3, a detractor → −100.
        //   C: two answers, CSI (5 + 2) / 2 = 3.5, one promoter (10), one passive (7) → 100 × 1 / 2 = 50.
        // 2024-Q2 window (2023-Q3 … 2024-Q2): K-2 21,500, K-1 8000, K-3 500 of 30,000: K-2 A, K-1 A (21,500 before
        // it, under 24,000), K-3 C. K-2's answer: A, CSI 5, promoter → 100.
        #expect(try world.rows("SELECT segment, quarter, responses, csiResponses, avgCsi, recommendResponses, promoters, detractors, nps FROM csi_quarter ORDER BY q, segment") == [
            [.text("A"), .text("2024-Q1"), .integer(1), .integer(1), .real(4), .integer(1), .integer(1), .integer(0), .real(100)],
            [.text("B"), .text("2024-Q1"), .integer(1), .integer(1), .real(3), .integer(1), .integer(0), .integer(1), .real(-100)],
            [.text("C"), .text("2024-Q1"), .integer(2), .integer(2), .real(3.5), .integer(2), .integer(1), .integer(0), .real(50)],
            [.text("A"), .text("2024-Q2"), .integer(1), .integer(1), .real(5), .integer(1), .integer(1), .integer(0), .real(100)],
        ])
        #expect(try world.rows("SELECT quarter, customerId, segment FROM csi_segment WHERE quarter = '2024-Q2' ORDER BY customerId") == [
            [.text("2024-Q2"), .text("K-1"), .text("A")], [.text("2024-Q2"), .text("K-2"), .text("A")], [.text("2024-Q2"), .text("K-3"), .text("C")],
        ])
    }
}
