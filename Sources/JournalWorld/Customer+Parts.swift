import Foundation
import Journal

extension Customer {
    mutating func nextQuoteId() -> String {
        quotes += 1
        return "Q-" + digits + "-" + String(quotes)
    }

    /// Whether the customer declines a quote, and why; nil when it accepts.
    ///
    /// Unhappy customers decline more, and a customer that is leaving buys elsewhere.
    mutating func quoteDecision(machineDown: Bool, day: Int) -> String? {
        let s = currentSatisfaction(day)
        var chance = 0.07 + 0.55 * max(0, 0.72 - s)
        if status == .drifting { chance += 0.5 }
        if machineDown { chance *= 0.5 }
        guard random.chance(chance) else { return nil }
        if status == .drifting || s < threshold + 0.05 {
            return ["boughtElsewhere", "boughtElsewhere", "price", "price", "leadTime"][random.int(0...4)]
        }
        return ["price", "price", "noLongerNeeded", "noLongerNeeded", "leadTime", "boughtElsewhere", "other"][random.int(0...6)]
    }

    mutating func decline(quoteId: String, at time: Int64, reason: String, caseId: String?, causation: String, into out: inout Recorder) {
        var payload: [JSONMember] = [JSONMember("quoteId", .string(quoteId)), JSONMember("reason", .string(reason))]
        if reason == "boughtElsewhere" || (reason == "price" && random.chance(0.3)) {
            payload.append(JSONMember("competitor", .string(random.pick(WordLists.competitors))))
        }
        emit("quote.declined", at: time, caseId: caseId, actor: "portal", source: "customer-portal", causation: causation, .object(payload), into: &out)
    }

    /// Orders parts and delivers them, promised date against actual; returns the delivery's id and time.
    mutating func orderAndDeliver(
        at time: Int64, quoteId: String?, lines: [(WordLists.Part, Int)], cents: Int, express: Bool, caseId: String?,
        assetId: String?, siteId: String?, causation: String?, incidents: inout [Incident], into out: inout Recorder
    ) -> (eventId: String, time: Int64, orderId: String) {
        orders += 1
        let orderId = "PO-" + digits + "-" + String(orders)
        let orderDay = local(time).day
        let promisedDay = express ? workday(onOrAfter: orderDay + 1) : workday(onOrAfter: orderDay + random.int(3...8))
        var payload: [JSONMember] = [JSONMember("orderId", .string(orderId))]
        if let quoteId { payload.append(JSONMember("quoteId", .string(quoteId))) }
        payload += [
            JSONMember("lines", .array(lines.map { ["partNumber": .string($0.0.number), "quantity": .int($0.1)] })),
            JSONMember("express", .flag(express)), JSONMember("promisedDeliveryDate", .string(date(promisedDay))),
            JSONMember("amount", .euros(cents)), JSONMember("currency", .eur),
        ]
        let ordered = emit(
            "part.ordered", at: time, caseId: caseId, assetId: assetId, actor: quoteId == nil ? "portal" : "parts/" + random.pick(WordLists.partsDesk).handle,
            source: quoteId == nil ? "customer-portal" : "erp", causation: causation, .object(payload), into: &out)
        let lateDays = random.chance(min(0.5, (express ? 0.1 : 0.12) * hardship)) ? random.int(1...5) : 0
        let actualDay = workday(onOrAfter: promisedDay + lateDays)
        let deliveredAt = at(actualDay, random.int(8 * 60...15 * 60))
        let complete = random.chance(0.97)
        let delivered = emit(
            "part.delivered", at: deliveredAt, caseId: caseId, assetId: assetId, siteId: siteId, actor: "logistics", source: "erp",
            causation: ordered,
            ["orderId": .string(orderId), "promisedDate": .string(date(promisedDay)), "actualDate": .string(date(actualDay)),
             "express": .flag(express), "complete": .flag(complete)],
            into: &out)
        if actualDay > promisedDay || !complete {
            feel(express ? -0.13 : -0.07, at: deliveredAt)
            incidents.append(Incident(
                category: "parts", severity: express ? "high" : "medium", eventId: delivered, time: deliveredAt,
                weight: express ? 0.3 : 0.08,
                description: complete ? "Parts promised for \(date(promisedDay)) arrived on \(date(actualDay))." : "The parts delivery was incomplete."))
        } else {
            feel(0.002, at: deliveredAt)
        }
        return (delivered, deliveredAt, orderId)
    }

    mutating func invoice(at time: Int64, cents: Int, category: String, caseId: String? = nil, orderId: String? = nil, into out: inout Recorder) {
        invoices += 1
        var payload: [JSONMember] = [
            JSONMember("invoiceId", .string("INV-" + digits + "-" + String(invoices))), JSONMember("amount", .euros(cents)),
            JSONMember("currency", .eur), JSONMember("category", .string(category)),
        ]
        if let orderId { payload.append(JSONMember("orderId", .string(orderId))) }
        payload.append(JSONMember("dueDate", .string(date(local(time).day + 30))))
        emit("invoice.issued", at: time, caseId: caseId, actor: "erp", source: "erp", .object(payload), into: &out)
    }

    /// The days until the next routine parts order: the customer's own cadence, stretched when it is unhappy or leaving.
    mutating func schedulePartsOrder(after day: Int) {
        var gap = partsCadence * random.uniform(0.6, 1.45)
        let s = currentSatisfaction(day)
        if status == .drifting {
            gap *= random.uniform(2.2, 3.8)
        } else if s < 0.55 {
            gap *= 1 + 2 * (0.55 - s)
        }
        nextPartsOrder = day + max(7, Int(gap))
    }

    /// A routine order of wear parts: quote, decision, order, delivery and invoice; a third come through the portal without a quote.
    mutating func partsOrder(day: Int, into out: inout Recorder) {
        defer { schedulePartsOrder(after: day) }
        let machines = installed(on: day)
        guard !machines.isEmpty else { return }
        let machine = random.pick(machines)
        let model = WordLists.models[Int(machine.model)]
        let lineCount = min(5, 1 + Int(random.exponential(mean: segment == .a ? 1.5 : segment == .b ? 0.8 : 0.4)))
        var lines: [(WordLists.Part, Int)] = []
        var cents = 0
        let volume = exp(1.25 * potential) * (status == .drifting ? 0.55 : 1)
        for _ in 0..<lineCount {
            let part = random.pick(WordLists.wearParts)
            let quantity = max(1, Int(random.logNormal(median: 2 * volume, sigma: 0.5)))
            lines.append((part, quantity))
            cents += Int(Double(part.price * quantity) * model.priceFactor * priceScale * random.uniform(0.95, 1.05) * 100)
        }
        var incidents: [Incident] = []
        var time = officeTime(day)
        let asset = assetId(machine), site = siteId(Int(machine.site))
        var quoteId: String?
        var causation: String?
        if random.chance(0.65) {
            let id = nextQuoteId()
            let request = time - Int64(random.int(3_600...172_800))
            let sent = emit(
                "quote.sent", at: time, actor: "parts/" + random.pick(WordLists.partsDesk).handle, source: "erp",
                ["quoteId": .string(id), "subject": "parts", "amount": .euros(cents), "currency": .eur,
                 "requestedAt": .string(zone.text(request)), "validUntil": .string(date(day + 30))],
                into: &out)
            let answer = officeTime(day + random.int(1...12))
            if let reason = quoteDecision(machineDown: false, day: day) {
                decline(quoteId: id, at: answer, reason: reason, caseId: nil, causation: sent, into: &out)
                return
            }
            causation = emit(
                "quote.accepted", at: answer, actor: "portal", source: "customer-portal", causation: sent,
                ["quoteId": .string(id), "amount": .euros(cents), "currency": .eur], into: &out)
            quoteId = id
            time = answer + Int64(random.int(300...7_200))
        }
        let delivery = orderAndDeliver(
            at: time, quoteId: quoteId, lines: lines, cents: cents, express: random.chance(0.08), caseId: nil, assetId: asset,
            siteId: site, causation: causation, incidents: &incidents, into: &out)
        invoice(at: officeTime(local(delivery.time).day + random.int(0...3)), cents: cents, category: "parts", orderId: delivery.orderId, into: &out)
        if let incident = incidents.first, random.chance(incident.weight * (1.6 - satisfaction)) {
            complain(about: incident, caseId: nil, assetId: asset, into: &out)
        }
    }
}
