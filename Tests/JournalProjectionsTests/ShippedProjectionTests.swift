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
            var runner = ProjectionRunner.builtIn(store: world.store, declared: [projection])
            runner.sqlBatchSize = 1
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

        /// What the projection holds for an employee's name: the pseudonym analysts see.
        func employee(_ name: String) -> SQLValue {
            .text(world.store.keys.pseudonym(of: name, subject: .employee(name)) ?? "no key for \(name)")
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
        // Technicians are employees: analysts see them by pseudonym.
        let expected: [[SQLValue]] = [
            [world.employee("A. Wolf"), .text("DE"), .text("2024-Q1"), .integer(2), .integer(1), .integer(0), .real(0), .integer(1), .real(15)],
            [world.employee("B. Roux"), .text("DE"), .text("2024-Q1"), .integer(1), .integer(1), .integer(1), .real(1), .integer(0), .real(-10)],
            [world.employee("B. Roux"), .text("FR"), .text("2024-Q1"), .integer(1), .integer(1), .integer(1), .real(1), .integer(1), .real(5)],
        ]
        #expect(try Set(world.rows("SELECT * FROM firsttimefix_technician")) == Set(expected))
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

    static func invoice(_ number: String, _ at: String, _ amount: Int64, category: String = "parts") -> JSONValue {
        event("invoice.issued", at, ["invoiceId": .string(number), "amount": .number(JSONNumber(amount)), "currency": "EUR", "category": .string(category)])
    }

    static func registered(_ customer: String, at: String) -> (String, JSONValue) {
        (customer, event("customer.registered", at, ["name": .string("Customer \(customer)"), "country": "DE"]))
    }

    static func maintenance(_ at: String) -> JSONValue {
        event("maintenance.performed", at, ["kind": "inspection", "scheduledDate": .string(String(at.prefix(10))), "performedDate": .string(String(at.prefix(10)))])
    }

    @Test func cadenceAgainstTheABCPolicyAsOfTheNewestTouchpoint() throws {
        let february = Self.maintenance("2025-02-01T10:00:00+00:00")
        let world = try World(try Self.load("cadence"), steps: [
            [Self.registered("K-1", at: "2023-01-01T10:00:00+00:00"), Self.registered("K-2", at: "2023-01-01T10:00:00+00:00"),
             Self.registered("K-3", at: "2023-01-01T10:00:00+00:00"), Self.registered("K-4", at: "2023-01-01T10:00:00+00:00"),
             ("K-1", Self.maintenance("2024-09-01T10:00:00+00:00")), ("K-1", february),
             ("K-1", Self.invoice("I1", "2025-03-01T10:00:00+00:00", 8000)), ("K-2", Self.invoice("I2", "2025-04-01T10:00:00+00:00", 1500)),
             ("K-3", Self.invoice("I3", "2025-05-01T10:00:00+00:00", 500)),
             ("K-3", Self.event("customer.lost", "2025-06-01T10:00:00+00:00", ["reason": "competitor"])),
             ("K-4", Self.invoice("I4", "2023-01-10T10:00:00+00:00", 300)),
             // The newest touchpoint: the cadence is measured on 2025-06-30.
             Self.registered("K-5", at: "2025-06-30T12:00:00+00:00")],
            [("K-1", Self.event("touchpoint.voided", "2025-07-01T10:00:00+00:00", ["voidedEventId": Self.id(february), "reason": "not done"]))],
        ])
        // Trailing revenue 8000 / 1500 / 500 of 10,000: K-1 A (due 2, one inspection left after the void → overdue),
        // K-2 B (due 1, none → overdue), K-3 C and lost with past revenue → reactivate; K-4 has no revenue in the
        // year but 300 before it and no touchpoint for more than a year → reactivate; K-5 C without revenue → ok.
        #expect(try world.rows("SELECT customerId, segment, trailingRevenue, pastRevenue, proactiveContacts, due, status FROM cadence_customer ORDER BY customerId") == [
            [.text("K-1"), .text("A"), .real(8000), .real(8000), .integer(1), .integer(2), .text("overdue")],
            [.text("K-2"), .text("B"), .real(1500), .real(1500), .integer(0), .integer(1), .text("overdue")],
            [.text("K-3"), .text("C"), .real(500), .real(500), .integer(0), .integer(0), .text("reactivate")],
            [.text("K-4"), .text("C"), .real(0), .real(300), .integer(0), .integer(0), .text("reactivate")],
            [.text("K-5"), .text("C"), .real(0), .real(0), .integer(0), .integer(0), .text("ok")],
        ])
    }

    @Test func promiseGapPerDimensionQuarterSegmentAndTechnician() throws {
        func visit(_ promised: String, _ arrived: String, _ technician: String = "A. Wolf") -> JSONValue {
            Self.event("technician.visit.completed", arrived, ["visitNumber": 1, "promisedArrival": .string(promised),
                                                               "actualArrival": .string(arrived), "fixed": true, "technician": .string(technician)])
        }
        func call(_ at: String, callBackBy: String, caseId: String? = nil) -> JSONValue {
            Self.event("hotline.call.received", at, caseId: caseId, [
                "queueWaitSeconds": 30, "abandoned": false, "solvedOnCall": false, "machineDown": false, "callbackPromisedBy": .string(callBackBy)])
        }
        let delivered = Self.event("part.delivered", "2024-02-12T10:00:00+00:00", [
            "orderId": "PO-1", "promisedDate": "2024-02-10", "actualDate": "2024-02-12", "express": false, "complete": true])
        let world = try World(try Self.load("promisegap"), steps: [
            [Self.registered("K-1", "DE"),
             ("K-1", visit("2024-01-10T09:00:00+00:00", "2024-01-10T10:30:00+00:00")),
             ("K-1", visit("2024-01-11T09:00:00+00:00", "2024-01-11T08:45:00+00:00")),
             ("K-1", delivered),
             ("K-1", call("2024-03-01T10:00:00+00:00", callBackBy: "2024-03-01T14:00:00+00:00")),
             ("K-1", Self.event("note.added", "2024-03-01T13:00:00+00:00", ["text": "Called back."])),
             ("K-1", Self.event("complaint.filed", "2024-01-05T10:00:00+00:00", ["complaintId": "CMP-1", "category": "delivery", "severity": "low"])),
             ("K-1", Self.event("complaint.resolved", "2024-01-25T10:00:00+00:00", ["complaintId": "CMP-1", "resolution": "Credited."])),
             ("K-1", Self.event("complaint.filed", "2024-03-20T10:00:00+00:00", ["complaintId": "CMP-2", "category": "delivery", "severity": "low"])),
             Self.registered("K-2", "AT"),
             ("K-2", Self.invoice("INV-2", "2024-01-15T10:00:00+00:00", 100)),
             ("K-2", visit("2024-02-01T08:00:00+00:00", "2024-02-01T08:00:00+00:00", "B. Stein")),
             ("K-2", call("2024-02-01T10:00:00+00:00", callBackBy: "2024-02-01T12:00:00+00:00", caseId: "CASE-9")),
             ("K-2", Self.event("note.added", "2024-02-01T11:00:00+00:00", ["text": "Unrelated."])),
             ("K-2", Self.event("note.added", "2024-02-01T15:00:00+00:00", caseId: "CASE-9", ["text": "Called back."]))],
            // The delivery came on the promised date after all.
            [("K-1", Self.event("touchpoint.corrected", "2024-04-01T10:00:00+00:00",
                                ["correctedEventId": Self.id(delivered), "corrections": ["actualDate": "2024-02-10"], "reason": "typo"]))],
            // K-1's revenue makes it the A customer of 2024-Q1 and moves K-2 to B.
            [("K-1", Self.invoice("INV-1", "2024-02-20T10:00:00+00:00", 900))],
        ])
        // 2024-Q1 revenue: K-1 900, K-2 100 — K-1 is A (nothing ranked before it), K-2 B (900 of 1000 before it).
        // Arrivals: K-1 1.5 h late and 0.25 h early — one of two kept, mean gap 0.625 h; K-2 on time.
        // Call-backs: K-1's (no case) promised by 14:00, its next touchpoint at 13:00 — kept, 1 h early;
        // K-2's (case CASE-9) by 12:00, the case's next touchpoint at 15:00 (the 11:00 note is not the case's) — 3 h late.
        // Complaints: CMP-1 resolved in 20 days against 14 (144 h late); CMP-2 still open (not settled).
        // Delivery: on the promised date after the correction — kept, gap 0.
        let q = SQLValue.integer(2024 * 4)
        #expect(try world.rows("SELECT * FROM promisegap_quarter ORDER BY dimension, segment") == [
            [.text("arrival"), .text("2024-Q1"), q, .text("A"), world.employee("A. Wolf"), .integer(2), .integer(2), .integer(1), .real(0.5), .real(0.63)],
            [.text("arrival"), .text("2024-Q1"), q, .text("B"), world.employee("B. Stein"), .integer(1), .integer(1), .integer(1), .real(1), .real(0)],
            [.text("callback"), .text("2024-Q1"), q, .text("A"), .text(""), .integer(1), .integer(1), .integer(1), .real(1), .real(-1)],
            [.text("callback"), .text("2024-Q1"), q, .text("B"), .text(""), .integer(1), .integer(1), .integer(0), .real(0), .real(3)],
            [.text("complaint"), .text("2024-Q1"), q, .text("A"), .text(""), .integer(2), .integer(1), .integer(0), .real(0), .real(144)],
            [.text("delivery"), .text("2024-Q1"), q, .text("A"), .text(""), .integer(1), .integer(1), .integer(1), .real(1), .real(0)],
        ])
    }

    @Test func servicePotentialCaptureAndPirateSuspects() throws {
        func order(_ number: String, _ at: String) -> JSONValue {
            Self.event("part.ordered", at, ["orderId": .string(number), "lines": [["partNumber": "P-1", "quantity": 1]], "express": false,
                                            "promisedDeliveryDate": .string(String(at.prefix(10)))])
        }
        let parts = Self.invoice("I1", "2025-03-01T10:00:00+00:00", 4000)
        var delivery = Self.event("delivery.completed", "2024-01-01T10:00:00+00:00", [
            "promisedDate": "2024-01-01", "actualDate": "2024-01-01", "complete": true, "damaged": false])
        var call = Self.event("hotline.call.received", "2025-05-01T10:00:00+00:00", [
            "queueWaitSeconds": 30, "abandoned": false, "solvedOnCall": true, "machineDown": false])
        if case .object(var members) = delivery { members.append(JSONMember("assetId", "M1")); delivery = .object(members) }
        if case .object(var members) = call { members.append(JSONMember("assetId", "M2")); call = .object(members) }
        let world = try World(try Self.load("potential"), steps: [
            [Self.registered("K-1", "DE"), ("K-1", delivery), ("K-1", call),
             ("K-1", parts), ("K-1", Self.invoice("I2", "2024-12-01T10:00:00+00:00", 2000, category: "service")),
             ("K-1", Self.invoice("I3", "2025-01-01T10:00:00+00:00", 500, category: "other")),
             ("K-1", order("PO-1", "2024-02-01T10:00:00+00:00")), ("K-1", order("PO-2", "2024-03-01T10:00:00+00:00")),
             ("K-1", order("PO-3", "2024-04-01T10:00:00+00:00")), ("K-1", order("PO-4", "2025-01-10T10:00:00+00:00")),
             ("K-1", Self.event("quote.sent", "2025-03-20T10:00:00+00:00", ["quoteId": "Q1", "subject": "parts", "amount": 900, "currency": "EUR"])),
             ("K-1", Self.event("quote.declined", "2025-04-01T10:00:00+00:00", ["quoteId": "Q1", "reason": "price"])),
             // The newest touchpoint: capture is measured on 2025-06-30.
             ("K-1", Self.event("note.added", "2025-06-30T00:00:00+00:00", ["text": "Quarterly review."]))],
            [("K-1", Self.event("touchpoint.corrected", "2025-07-01T10:00:00+00:00",
                                ["correctedEventId": Self.id(parts), "corrections": ["amount": 6000], "reason": "typo"]))],
        ])
        // M1 delivered 1.5 years before: 4000 a year; M2 of unknown age (mature): 12,000 → 16,000 expected.
        // Parts and service revenue of the year: 6000 (corrected) + 2000; the "other" invoice does not count → 0.5.
        // Parts orders: 1 in the year against 3 the year before; a quote declined; M2 active → a pirate suspect.
        #expect(try world.rows("SELECT * FROM potential_customer") == [
            [.text("K-1"), .integer(2), .integer(1), .real(16000), .real(8000), .real(0.5), .integer(1), .integer(3), .integer(1), .integer(1)],
        ])
    }
}
