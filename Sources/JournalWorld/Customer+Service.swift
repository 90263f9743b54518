import Journal

/// A broken promise or failure that a complaint can be about.
struct Incident {
    var category: String
    var severity: String
    var eventId: String
    var time: Int64
    /// How likely it alone makes the customer complain.
    var weight: Double
    var description: String
}

extension Customer {
    /// Yearly breakdowns of one machine by age: the bathtub curve (teething troubles, wear-out).
    static func failuresPerYear(ageDays: Int) -> Double {
        switch ageDays {
        case ..<365: 1.3
        case ..<(3 * 365): 0.5
        case ..<(10 * 365): 0.35
        case ..<(15 * 365): 0.55
        case ..<(20 * 365): 0.85
        default: 1.15
        }
    }

    /// Draws the day of the next breakdown after `day` from the installed base's failure rate.
    mutating func scheduleBreakdown(after day: Int) {
        var rate = 0.0
        for machine in machines where Int(machine.installDay) <= day {
            rate += Self.failuresPerYear(ageDays: day - Int(machine.installDay))
        }
        nextBreakdown = rate > 0 ? day + 1 + Int(random.exponential(mean: 365 / rate)) : day + 90
    }

    mutating func scheduleQuestion(after day: Int) {
        let rate = 0.25 * Double(max(1, machines.count { Int($0.installDay) <= day }))
        nextQuestion = day + 1 + Int(random.exponential(mean: 365 / rate))
    }

    /// Hours within which a technician is promised after a breakdown call.
    var responseHours: Int {
        switch contract?.level {
        case 3: 8
        case 2: 24
        case 1: 48
        default: 72
        }
    }

    // MARK: Hotline

    /// A hotline call, repeated after an abandoned one. Returns the answered call's id and time and whether it solved the issue.
    mutating func call(
        at start: Int64, caseId: String, assetId: String?, siteId: String?, topic: String, machineDown: Bool,
        solveChance: Double, incidents: inout [Incident], into out: inout Recorder
    ) -> (eventId: String, time: Int64, solved: Bool) {
        var time = start
        var attempt = 0
        while true {
            attempt += 1
            let agent = random.pick(WordLists.hotlineAgents)
            let wait = min(3_600, Int(random.logNormal(median: 45, sigma: 1.1)))
            let abandonChance = wait > 240 ? 0.45 : wait > 120 ? 0.12 : 0.015
            if attempt < 3, random.chance(abandonChance) {
                let id = emit(
                    "hotline.call.received", at: time, caseId: caseId, assetId: assetId, siteId: siteId, actor: "telephony",
                    source: "hotline",
                    ["queueWaitSeconds": .int(wait), "abandoned": .yes, "solvedOnCall": .no, "machineDown": .flag(machineDown),
                     "topic": .string(topic)],
                    into: &out)
                feel(-0.03, at: time)
                incidents.append(Incident(
                    category: "communication", severity: machineDown ? "high" : "medium", eventId: id, time: time, weight: 0.04,
                    description: "Hung up after \(wait / 60) minutes in the hotline queue."))
                time += Int64(wait + random.int(300...2_400))
                continue
            }
            if wait > 300 { feel(-0.015, at: time) }
            let solved = random.chance(solveChance)
            var payload: [JSONMember] = [
                JSONMember("queueWaitSeconds", .int(wait)), JSONMember("abandoned", .no),
                JSONMember("solvedOnCall", .flag(solved)), JSONMember("machineDown", .flag(machineDown)),
                JSONMember("durationSeconds", .int(random.int(90...1_200))), JSONMember("topic", .string(topic)),
                JSONMember("agent", .string(agent.name)),
            ]
            let callbackBy: Int64? = !solved && random.chance(0.3) ? time + Int64(random.int(1...3)) * 3600 : nil
            if let callbackBy { payload.append(JSONMember("callbackPromisedBy", .string(zone.text(callbackBy)))) }
            let id = emit(
                "hotline.call.received", at: time, caseId: caseId, assetId: assetId, siteId: siteId,
                actor: "hotline/" + agent.handle, source: "hotline", .object(payload), into: &out)
            if solved { feel(0.015, at: time) }
            if let callbackBy, random.chance(min(0.5, 0.14 * hardship)) {
                // Nobody called back: the customer calls again.
                let again = callbackBy + Int64(random.int(15...90)) * 60
                let repeatWait = min(3_600, Int(random.logNormal(median: 45, sigma: 1.0)))
                let repeatId = emit(
                    "hotline.call.received", at: again, caseId: caseId, assetId: assetId, siteId: siteId,
                    actor: "hotline/" + random.pick(WordLists.hotlineAgents).handle, source: "hotline",
                    ["queueWaitSeconds": .int(repeatWait), "abandoned": .no, "solvedOnCall": .no, "machineDown": .flag(machineDown),
                     "durationSeconds": .int(random.int(60...400)), "topic": .string("Callback did not happen: \(topic)")],
                    into: &out)
                feel(-0.09, at: again)
                incidents.append(Incident(
                    category: "communication", severity: machineDown ? "high" : "medium", eventId: repeatId, time: again, weight: 0.12,
                    description: "We were promised a call back and nobody called."))
                return (id, again, solved)
            }
            return (id, time, solved)
        }
    }

    /// A question to the hotline that is not a breakdown.
    mutating func question(day: Int, into out: inout Recorder) {
        defer { scheduleQuestion(after: day) }
        let machines = installed(on: day)
        guard !machines.isEmpty, !isWeekend(day) else { return }
        let machine = random.pick(machines)
        cases += 1
        var incidents: [Incident] = []
        _ = call(
            at: at(day, random.int(7 * 60...17 * 60)), caseId: caseId(cases), assetId: assetId(machine),
            siteId: siteId(Int(machine.site)), topic: random.pick(WordLists.questionTopics), machineDown: false,
            solveChance: 0.8, incidents: &incidents, into: &out)
        if let incident = incidents.last, random.chance(incident.weight * 0.5) {
            complain(about: incident, caseId: caseId(cases), assetId: assetId(machine), into: &out)
        }
    }

    // MARK: Breakdown case

    /// A breakdown: hotline call, technician visits, parts when needed, the invoice; perhaps a complaint and a survey.
    mutating func breakdown(day: Int, into out: inout Recorder) {
        defer { scheduleBreakdown(after: day) }
        let machines = installed(on: day)
        guard !machines.isEmpty else { return }
        let weights = machines.map { Self.failuresPerYear(ageDays: day - Int($0.installDay)) }
        let machine = machines[random.weighted(weights)]
        cases += 1
        var work = Case(id: caseId(cases), machine: machine, asset: assetId(machine), site: siteId(Int(machine.site)),
                        topic: random.pick(WordLists.breakdownTopics), machineDown: random.chance(0.5))
        let start = at(day, isWeekend(day) ? random.int(7 * 60...15 * 60) : random.int(6 * 60...19 * 60))
        let call = call(
            at: start, caseId: work.id, assetId: work.asset, siteId: work.site, topic: work.topic, machineDown: work.machineDown,
            solveChance: work.machineDown ? 0.12 : 0.3, incidents: &work.incidents, into: &out)
        work.lastId = call.eventId
        work.time = call.time + Int64(random.int(300...1_800))
        var fixed = call.solved
        // Visits until fixed, with a part ordered in between when the first visit finds a defective part.
        while !fixed, work.visits < 4 {
            let outcome = visit(&work, into: &out)
            fixed = outcome == .fixed
            guard outcome == .needsPart else { continue }
            guard let delivered = repairPart(&work, into: &out) else { break }  // declined: bought elsewhere
            work.partsCents += delivered.cents
            work.lastId = delivered.eventId
            work.time = delivered.time + Int64(random.int(900...7_200))
        }
        if fixed { close(work, into: &out) }
        if work.visits > 0 {
            let level = contract?.level ?? 0
            let rate = level >= 2 ? random.int(95...110) : random.int(115...135)
            let labour = level == 3 ? 0 : Int(work.labourHours * Double(rate) * 100) + work.visits * random.int(150...250) * 100
            let total = labour + work.partsCents
            if total > 0 {
                let category = work.partsCents > 0 ? (labour > 0 ? "repair" : "parts") : "service"
                invoice(at: officeTime(local(work.time).day + random.int(2...10)), cents: total, category: category, caseId: work.id, into: &out)
            }
        }
        // Complaints are mostly about broken promises; an unhappy customer complains sooner.
        if let worst = work.incidents.max(by: { $0.weight < $1.weight }) {
            let chance = min(0.85, work.incidents.reduce(0) { $0 + $1.weight } * (1.6 - satisfaction))
            if random.chance(chance) {
                complain(about: worst, caseId: work.id, assetId: work.asset, into: &out)
            }
        }
        if let lastVisitId = work.lastVisitId, random.chance(status == .drifting ? 0.12 : 0.22) {
            survey(after: work.time, about: lastVisitId, caseId: work.id, into: &out)
        }
    }

    /// Records that a fixed case is closed, when its last report is in. The id is derived from the case, so
    /// closing draws no random numbers and the rest of the world stays as it was.
    private mutating func close(_ work: Case, into out: inout Recorder) {
        let eventId = EventID.nameBased(namespace: Self.caseClosingNamespace, name: work.id)
        let event = ProposedEvent(
            eventId: eventId.rawValue, type: "case.closed", occurredAt: zone.text(work.time), customerId: id, caseId: work.id,
            assetId: work.asset, siteId: work.site, actor: "service-desk", source: "service-desk", correlationId: work.id,
            payload: .object([JSONMember("resolution", .string("resolved"))]))
        out.add(event, customer: index, occurred: work.time, night: out.night(occurred: work.time, lateDays: 0))
    }

    private static let caseClosingNamespace = EventID("6b1f3c2e-5a0d-4f7e-9c41-2d8e7a9b0c15")!

    /// A breakdown case under way.
    struct Case {
        var id: String
        var machine: Machine
        var asset: String
        var site: String
        var topic: String
        var machineDown: Bool
        var incidents: [Incident] = []
        var lastId: String?
        var lastVisitId: String?
        var time: Int64 = 0
        var visits = 0
        var labourHours = 0.0
        var partsCents = 0
    }

    enum VisitOutcome { case fixed, needsPart, notFixed }

    /// One technician visit of a case: scheduled with a promised arrival, then the report.
    private mutating func visit(_ work: inout Case, into out: inout Recorder) -> VisitOutcome {
        work.visits += 1
        let number = work.visits
        let technician = pickTechnician()
        let hours = number == 1 ? Double(responseHours) * random.uniform(0.5, 1) : random.uniform(2, 20)
        var promised = workingTime(notBefore: work.time + Int64(hours * 3600))
        promised -= promised % 1800
        if promised <= work.time { promised += 1800 }
        let scheduled = emit(
            "technician.visit.scheduled", at: work.time, caseId: work.id, assetId: work.asset, siteId: work.site,
            actor: "dispatch/" + random.pick(WordLists.dispatchers).handle, source: "dispatch", causation: work.lastId,
            ["visitNumber": .int(number), "promisedArrival": .string(zone.text(promised)), "reason": number == 1 ? "breakdown" : "repair",
             "technician": .string(technician.name)],
            into: &out)
        // Arrival: mostly on time, sometimes hours late (more often at remote sites).
        var lateMinutes = 0
        let arrival: Int64
        if random.chance(min(0.6, 0.2 * hardship)) {
            lateMinutes = random.chance(0.7) ? random.int(30...180) : random.int(181...1_560)
            arrival = promised + Int64(lateMinutes) * 60
        } else {
            arrival = max(work.time + 1800, promised - Int64(random.int(0...90)) * 60)
        }
        let hoursWorked = Double(random.int(3...12)) / 2
        work.labourHours += hoursWorked
        // About three in four breakdowns are fixed on the first visit; a part is missing in one in six.
        let roll = random.unit()
        let outcome: VisitOutcome = number == 1 ? (roll < 0.17 ? .needsPart : roll < 0.26 ? .notFixed : .fixed)
            : random.chance(0.9) ? .fixed : .notFixed
        let fixed = outcome == .fixed
        var payload: [JSONMember] = [
            JSONMember("visitNumber", .int(number)), JSONMember("promisedArrival", .string(zone.text(promised))),
            JSONMember("actualArrival", .string(zone.text(arrival))), JSONMember("fixed", .flag(fixed)),
            JSONMember("revisitRequired", .flag(!fixed)), JSONMember("technician", .string(technician.name)),
            JSONMember("workHours", .hours(hoursWorked)),
        ]
        if fixed, random.chance(0.3) {
            let part = random.pick(WordLists.repairParts)
            work.partsCents += Int(Double(part.price) * priceScale) * 100
            payload.append(JSONMember("partsUsed", .array([.string(part.number)])))
        }
        let report = switch outcome {
        case .fixed: "\(work.topic): cause found and repaired, test run OK."
        case .needsPart: "\(work.topic): defective part identified, replacement requested."
        case .notFixed: "\(work.topic): fault could not be cleared, another visit needed."
        }
        payload.append(JSONMember("report", .string(report + " Confirmed with " + contact(number + cases).name + ".")))
        let reportTime = arrival + Int64(hoursWorked * 3600)
        let visitId = emit(
            "technician.visit.completed", at: reportTime, caseId: work.id, assetId: work.asset, siteId: work.site,
            actor: "field/" + technician.handle, source: "field-app", causation: scheduled, .object(payload), into: &out)
        work.lastVisitId = visitId
        work.lastId = visitId
        if lateMinutes > 180 {
            feel(work.machineDown ? -0.22 : -0.15, at: reportTime)
            work.incidents.append(Incident(
                category: "response-time", severity: work.machineDown ? "high" : "medium", eventId: visitId, time: reportTime,
                weight: 0.3,
                description: "Technician came \(lateMinutes / 60) hours late\(work.machineDown ? " while the machine stood still" : "")."))
        } else if lateMinutes > 0 {
            feel(-0.07, at: reportTime)
            work.incidents.append(Incident(
                category: "response-time", severity: "low", eventId: visitId, time: reportTime, weight: 0.06,
                description: "Technician arrived later than promised."))
        } else {
            feel(0.005, at: reportTime)
        }
        if fixed {
            feel(number == 1 ? 0.01 : 0, at: reportTime)
        } else if outcome == .notFixed {
            feel(-0.11, at: reportTime)
            work.incidents.append(Incident(
                category: "technician", severity: work.machineDown ? "high" : "medium", eventId: visitId, time: reportTime,
                weight: number >= 2 ? 0.35 : 0.18, description: "The technician could not fix the machine on visit \(number)."))
        }
        work.time = reportTime + Int64(random.int(600...3_600))
        return outcome
    }

    /// The repair part of a breakdown: request, quote, decision, order and delivery.
    /// Returns nil when the customer declined the quote.
    private mutating func repairPart(_ work: inout Case, into out: inout Recorder) -> (eventId: String, time: Int64, cents: Int)? {
        let start = work.time, caseId = work.id, assetId = work.asset, siteId = work.site, machineDown = work.machineDown
        let part = random.pick(WordLists.repairParts)
        let model = WordLists.models[Int(work.machine.model)]
        let cents = Int(Double(part.price) * model.priceFactor * priceScale * random.uniform(0.9, 1.15) * 100)
        requests += 1
        let requestId = "PR-" + digits + "-" + String(requests)
        let requested = emit(
            "part.requested", at: start, caseId: caseId, assetId: assetId, siteId: siteId, actor: "field/" + pickTechnician().handle,
            source: "field-app", causation: work.lastId,
            ["requestId": .string(requestId), "lines": [["partNumber": .string(part.number), "quantity": 1, "description": .string(part.description)]],
             "machineDown": .flag(machineDown), "urgency": machineDown ? "express" : "standard"],
            into: &out)
        let quoteTime = workingTime(notBefore: start + Int64(machineDown ? random.int(1_800...10_800) : random.int(3_600...172_800)))
        let decision = quoteDecision(machineDown: machineDown, day: local(quoteTime).day)
        let quoteId = nextQuoteId()
        let quote = emit(
            "quote.sent", at: quoteTime, caseId: caseId, actor: "parts/" + random.pick(WordLists.partsDesk).handle, source: "erp",
            causation: requested,
            ["quoteId": .string(quoteId), "subject": "parts", "amount": .euros(cents), "currency": .eur,
             "requestedAt": .string(zone.text(start)), "validUntil": .string(date(local(quoteTime).day + 30))],
            into: &out)
        let answerTime = quoteTime + Int64(machineDown ? random.int(900...14_400) : random.int(3_600...259_200))
        if let reason = decision {
            decline(quoteId: quoteId, at: answerTime, reason: reason, caseId: caseId, causation: quote, into: &out)
            return nil
        }
        let accepted = emit(
            "quote.accepted", at: answerTime, caseId: caseId, actor: "portal", source: "customer-portal", causation: quote,
            ["quoteId": .string(quoteId), "amount": .euros(cents), "currency": .eur], into: &out)
        let delivery = orderAndDeliver(
            at: answerTime + Int64(random.int(300...3_600)), quoteId: quoteId, lines: [(part, 1)], cents: cents,
            express: machineDown, caseId: caseId, assetId: assetId, siteId: siteId, causation: accepted,
            incidents: &work.incidents, into: &out)
        return (delivery.eventId, delivery.time, cents)
    }
}
