import Journal

/// Generates realistic touchpoint events in bulk, deterministically from a seed: hotline calls,
/// technician visits, part requests, quotes, orders and deliveries, maintenance, invoices, surveys,
/// complaints and notes, with valid payloads and time-ordered (UUIDv7) ids. For benchmarks and load tests.
///
/// ```swift
/// var generator = TouchpointGenerator(seed: 42)
/// let batch = generator.events(forCustomer: 17, count: 100)
/// ```
public struct TouchpointGenerator: Sendable {
    private var random: SplitMix64
    private var counter: UInt64 = 0

    public init(seed: UInt64) {
        random = SplitMix64(seed: seed)
    }

    /// The id of customer number `index`: `C-000017`.
    public static func customerId(_ index: Int) -> String {
        let digits = String(index)
        return "C-" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }

    /// `count` events of one customer, in business-time order starting in 2020.
    public mutating func events(forCustomer index: Int, count: Int) -> [ProposedEvent] {
        let customerId = Self.customerId(index)
        var time = Timestamp(rfc3339Unchecked: "2020-01-06T08:00:00Z").microseconds
            + Int64(random.next() % (365 * 86_400)) * 1_000_000
        var events: [ProposedEvent] = []
        events.reserveCapacity(count)
        var caseNumber = 0
        for _ in 0..<count {
            time += Int64(1_800 + random.next() % (12 * 86_400)) * 1_000_000
            if random.next() % 8 == 0 { caseNumber += 1 }
            events.append(event(customerId: customerId, at: time, caseNumber: caseNumber, customerIndex: index))
        }
        return events
    }

    private mutating func event(customerId: String, at time: Int64, caseNumber: Int, customerIndex: Int) -> ProposedEvent {
        counter += 1
        let occurred = Timestamp(microseconds: time)
        let occurredAt = String(occurred.rfc3339.prefix(19)) + "+01:00"
        let id = EventID.version7(milliseconds: 1_700_000_000_000 + Int64(counter), random: (random.next(), random.next()))
        let caseId = "CASE-\(customerIndex)-\(caseNumber)"
        let asset = "SN-\(customerIndex % 997)-\(customerIndex)"
        let roll = random.next() % 100
        let (type, payload): (String, JSONValue)
        switch roll {
        case 0..<22:
            type = "hotline.call.received"
            payload = [
                "queueWaitSeconds": .number(JSONNumber(Int64(random.next() % 900))), "abandoned": .bool(roll < 2),
                "solvedOnCall": .bool(roll % 3 == 0), "machineDown": .bool(roll % 4 == 0), "topic": "Alarm E-\(random.next() % 900)",
            ]
        case 22..<34:
            type = "technician.visit.completed"
            let late = Int64(random.next() % 6) * 3_600_000_000 - 3_600_000_000
            payload = [
                "visitNumber": .number(JSONNumber(Int64(1 + random.next() % 2))),
                "promisedArrival": .string(occurred.rfc3339),
                "actualArrival": .string(Timestamp(microseconds: time + late).rfc3339),
                "fixed": .bool(roll % 5 != 0), "technician": "T-\(random.next() % 60)", "workHours": 2.5,
            ]
        case 34..<44:
            type = "part.requested"
            payload = [
                "requestId": .string("PR-\(counter)"), "machineDown": .bool(roll % 2 == 0),
                "lines": [["partNumber": .string("\(4000 + random.next() % 900)-\(random.next() % 999)"), "quantity": .number(JSONNumber(Int64(1 + random.next() % 4)))]],
            ]
        case 44..<54:
            type = "quote.sent"
            payload = [
                "quoteId": .string("Q-\(counter)"), "subject": "parts",
                "amount": .number(JSONNumber(Double(random.next() % 500_000) / 100)), "currency": "EUR",
            ]
        case 54..<60:
            type = roll % 2 == 0 ? "quote.accepted" : "quote.declined"
            payload = roll % 2 == 0 ? ["quoteId": .string("Q-\(counter > 3 ? counter - 3 : 1)")] : ["quoteId": .string("Q-\(counter > 3 ? counter - 3 : 1)"), "reason": "price"]
        case 60..<67:
            type = "part.delivered"
            payload = [
                "orderId": .string("PO-\(counter)"), "promisedDate": .string(occurred.utcDate),
                "actualDate": .string(Timestamp(microseconds: time + Int64(random.next() % 3) * 86_400_000_000).utcDate),
                "express": .bool(roll % 3 == 0), "complete": true,
            ]
        case 67..<80:
            type = "invoice.issued"
            payload = [
                "invoiceId": .string("INV-\(counter)"), "amount": .number(JSONNumber(Double(random.next() % 2_000_000) / 100)),
                "currency": "EUR", "category": roll % 2 == 0 ? "parts" : "service",
            ]
        case 80..<86:
            type = "maintenance.performed"
            payload = ["kind": "maintenance", "scheduledDate": .string(occurred.utcDate), "performedDate": .string(occurred.utcDate), "defectsFound": .number(JSONNumber(Int64(random.next() % 3)))]
        case 86..<91:
            type = "survey.answered"
            payload = ["csi": .number(JSONNumber(Int64(1 + random.next() % 5))), "recommend": .number(JSONNumber(Int64(random.next() % 11)))]
        case 91..<94:
            type = "complaint.filed"
            payload = ["complaintId": .string("CMP-\(counter)"), "category": "response-time", "severity": "medium"]
        default:
            type = "note.added"
            payload = ["text": "Customer asked about retrofit options for line \(random.next() % 9).", "visibility": "internal"]
        }
        return ProposedEvent(
            eventId: id.rawValue, type: type, occurredAt: occurredAt, caseId: caseId, assetId: asset,
            actor: "svc/\(random.next() % 40)", source: "bench", payload: payload)
    }
}

extension Timestamp {
    /// Parses a literal known to be valid.
    init(rfc3339Unchecked text: String) {
        self = try! Timestamp(rfc3339: text)
    }
}
