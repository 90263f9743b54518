import Journal

extension Customer {
    // MARK: Service contracts

    var contractId: String { "SC-" + digits + "-" + String(contractSerial) }

    /// Signs a service contract; `existingSince` backdates a contract that ran before the journal started.
    mutating func signContract(at time: Int64, existingSince: Int? = nil, into out: inout Recorder) {
        let day = local(time).day
        let level: Int
        switch segment {
        case .a: level = [3, 3, 3, 3, 3, 2, 2, 2, 2, 1][random.int(0...9)]
        case .b: level = [3, 3, 2, 2, 2, 2, 2, 1, 1, 1][random.int(0...9)]
        case .c: level = [2, 2, 2, 1, 1, 1, 1, 1, 1, 1][random.int(0...9)]
        }
        let machineCount = max(1, machines.count)
        let base = [0, 1_200 + 800 * machineCount, 3_000 + 1_500 * machineCount, 6_000 + 2_500 * machineCount][level]
        let cents = Int(Double(base) * priceScale * random.uniform(0.85, 1.15)) * 100
        let begin = existingSince ?? local(time).day + random.int(1...30)
        let endDay = WorldCalendar.adding(years: 3, to: absolute(begin)) - startDay - 1
        contractSerial += 1
        contractEnding = false
        contract = Contract(serial: contractSerial, level: level, startDay: begin, endDay: endDay, annualValueCents: cents)
        emit(
            "contract.signed", at: time, actor: "sales/" + keyAccountManager.handle, source: "crm",
            ["contractId": .string(contractId), "level": .string(["", "basic", "standard", "premium"][level]),
             "startDate": .string(date(begin)), "endDate": .string(date(endDay)), "annualValue": .euros(cents), "currency": .eur,
             "responseTimeHours": .int(responseHours)],
            into: &out)
        contractBillingDay = begin
        while contractBillingDay < day { contractBillingDay = WorldCalendar.adding(years: 1, to: absolute(contractBillingDay)) - startDay }
        contractDecisionDay = endDay - random.int(30...75)
        scheduleContractStep()
        scheduleMaintenance(after: day)
    }

    mutating func scheduleContractStep() {
        guard let contract else {
            nextContractStep = .max
            return
        }
        nextContractStep = min(contractBillingDay, contractDecisionDay, contract.endDay + 1)
    }

    /// The contract's yearly invoice, the renewal decision before its end, and its end.
    mutating func contractStep(day: Int, into out: inout Recorder) {
        guard var current = contract else { return }
        if day > current.endDay {
            contract = nil
            scheduleContractStep()
            scheduleMaintenance(after: day)
            return
        }
        if day >= contractBillingDay {
            invoice(at: officeTime(day), cents: current.annualValueCents, category: "contract", into: &out)
            let next = WorldCalendar.adding(years: 1, to: absolute(contractBillingDay)) - startDay
            contractBillingDay = next <= current.endDay ? next : .max
        }
        if day >= contractDecisionDay {
            contractDecisionDay = .max
            let s = currentSatisfaction(day)
            let renewChance = status == .drifting ? 0.08 : s < threshold + 0.1 ? 0.45 : 0.93
            let time = officeTime(day)
            if random.chance(renewChance) {
                let years = random.int(1...3)
                let newEnd = WorldCalendar.adding(years: years, to: absolute(current.endDay)) - startDay
                current.annualValueCents = current.annualValueCents / 100 * 103
                emit(
                    "contract.renewed", at: time, actor: "sales/" + keyAccountManager.handle, source: "crm",
                    ["contractId": .string(contractId), "newEndDate": .string(date(newEnd)), "annualValue": .euros(current.annualValueCents),
                     "currency": .eur],
                    into: &out)
                let nextBilling = current.endDay + 1
                current.endDay = newEnd
                contract = current
                if contractBillingDay == .max { contractBillingDay = nextBilling }
                contractDecisionDay = newEnd - random.int(30...75)
            } else if status == .drifting || random.chance(0.5) {
                contractEnding = true
                emit(
                    "contract.cancelled", at: time, actor: "sales/" + keyAccountManager.handle, source: "crm",
                    ["contractId": .string(contractId), "effectiveDate": .string(date(current.endDay)), "cancelledBy": "customer",
                     "reason": .string(status == .drifting ? random.pick(["dissatisfaction", "switchedProvider", "price"]) : random.pick(["price", "other", "dissatisfaction"]))],
                    into: &out)
            } else {
                // The contract simply runs out: not renewed, without a word.
                contractEnding = true
            }
        }
        scheduleContractStep()
    }

    // MARK: Maintenance

    /// Plans the next maintenance: twice a year on premium contracts, yearly otherwise; without a contract only some order it.
    mutating func scheduleMaintenance(after day: Int) {
        let interval: Double = contract?.level == 3 ? 182 : 365
        nextMaintenance = day + max(30, Int(interval * random.uniform(0.85, 1.15)))
    }

    mutating func maintenance(day: Int, into out: inout Recorder) {
        defer { scheduleMaintenance(after: day) }
        let machines = installed(on: day)
        guard !machines.isEmpty else { return }
        let ordered = contract != nil || random.chance(segment == .a ? 0.5 : segment == .b ? 0.35 : 0.12)
        guard ordered, status != .drifting || contract != nil else { return }
        let machine = random.pick(machines)
        let scheduledDay = workday(onOrAfter: day)
        let delay = random.chance(0.8) ? 0 : random.chance(0.75) ? random.int(1...7) : random.int(8...30)
        let performedDay = workday(onOrAfter: scheduledDay + delay)
        let technician = pickTechnician()
        let age = day - Int(machine.installDay)
        let defects = min(6, Int(random.exponential(mean: age > 10 * 365 ? 1.2 : 0.5)))
        let kind = contract?.level == 1 ? "inspection" : ["maintenance", "maintenance", "maintenance", "inspection", "calibration"][random.int(0...4)]
        var payload: [JSONMember] = [
            JSONMember("kind", .string(kind)), JSONMember("scheduledDate", .string(date(scheduledDay))),
            JSONMember("performedDate", .string(date(performedDay))), JSONMember("defectsFound", .int(defects)),
        ]
        if defects > 0 {
            payload.append(JSONMember("findings", .string(random.pick([
                "Hydraulic hose shows wear; replace at next maintenance.", "Guide rails worn; adjustment done.",
                "Coolant contaminated; changed.", "Backlash on the Y axis within tolerance, to be watched.",
                "Door seal brittle; replacement offered.",
            ]))))
        }
        payload.append(JSONMember("technician", .string(technician.name)))
        let time = at(performedDay, random.int(13 * 60...17 * 60))
        emit(
            "maintenance.performed", at: time, assetId: assetId(machine), siteId: siteId(Int(machine.site)),
            actor: "field/" + technician.handle, source: "field-app", .object(payload), into: &out)
        feel(delay > 7 ? -0.03 : 0.01, at: time)
        if contract == nil {
            let model = WordLists.models[Int(machine.model)]
            invoice(at: officeTime(performedDay + random.int(2...8)), cents: Int(Double(random.int(900...3_200)) * model.priceFactor) * 100, category: "maintenance", into: &out)
        }
    }

    // MARK: Machines

    mutating func schedulePurchase(after day: Int) {
        let perYear = segment == .a ? 0.15 : segment == .b ? 0.07 : 0.03
        nextPurchase = day + 1 + Int(random.exponential(mean: 365 / perYear))
    }

    /// A new machine: delivery (promised against actual, complete, damaged), installation and acceptance,
    /// often operator training and sometimes a service contract.
    mutating func purchase(day: Int, into out: inout Recorder) {
        defer { schedulePurchase(after: day) }
        guard status == .active, machines.count < 40 else { return }
        let model = random.int(0...(WordLists.models.count - 1))
        let site = random.int(0...(siteCount - 1))
        var machine = Machine(model: UInt8(model), number: UInt8(machines.count + 1), site: UInt8(site), installDay: Int32.max)
        let asset = assetId(machine), siteId = siteId(site)
        let promisedDay = workday(onOrAfter: day + random.int(30...90))
        let late = random.chance(0.3) ? (random.chance(0.7) ? random.int(1...7) : random.int(8...21)) : 0
        let actualDay = workday(onOrAfter: promisedDay + late)
        let complete = random.chance(0.88)
        let damaged = random.chance(0.04)
        let deliveredAt = at(actualDay, random.int(7 * 60...11 * 60))
        var payload: [JSONMember] = [
            JSONMember("orderId", .string("SO-" + digits + "-" + String(machine.number))), JSONMember("promisedDate", .string(date(promisedDay))),
            JSONMember("actualDate", .string(date(actualDay))), JSONMember("complete", .flag(complete)), JSONMember("damaged", .flag(damaged)),
        ]
        if !complete { payload.append(JSONMember("missingItems", [.string(random.pick(WordLists.deliveryItems))])) }
        payload.append(JSONMember("carrier", .string(random.pick(WordLists.carriers))))
        if damaged { payload.append(JSONMember("notes", .string(random.pick(["Control panel cover dented.", "Transport frame bent.", "Scratches on the housing."])))) }
        let delivery = emit(
            "delivery.completed", at: deliveredAt, assetId: asset, siteId: siteId, actor: "logistics", source: "erp", .object(payload), into: &out)
        var incidents: [Incident] = []
        if late > 0 || !complete || damaged {
            feel(-(late > 7 ? 0.06 : late > 0 ? 0.03 : 0) - (complete ? 0 : 0.03) - (damaged ? 0.05 : 0), at: deliveredAt)
            incidents.append(Incident(
                category: "delivery", severity: late > 7 || damaged ? "high" : "medium", eventId: delivery, time: deliveredAt,
                weight: late > 7 || damaged ? 0.3 : 0.08,
                description: damaged ? "The machine arrived damaged." : late > 0 ? "The machine arrived \(late) days late." : "The delivery was incomplete."))
        }
        let scheduledDay = workday(onOrAfter: actualDay + random.int(3...10))
        let completedDay = workday(onOrAfter: scheduledDay + (random.chance(0.75) ? random.int(0...1) : random.int(2...6)))
        let passed = random.chance(0.85)
        let engineer = pickTechnician()
        var installation: [JSONMember] = [
            JSONMember("scheduledDate", .string(date(scheduledDay))), JSONMember("completedDate", .string(date(completedDay))),
            JSONMember("acceptancePassedFirstTime", .flag(passed)), JSONMember("acceptanceAttempts", .int(passed ? 1 : random.int(2...3))),
            JSONMember("engineer", .string(engineer.name)),
        ]
        if !passed {
            installation.append(JSONMember("notes", .string(random.pick([
                "Hydraulic pressure out of tolerance at first acceptance.", "Safety circuit failed the first test.",
                "Cycle time above the agreed value at first acceptance.",
            ]))))
        }
        let installedAt = at(completedDay, random.int(15 * 60...18 * 60))
        let installed = emit(
            "installation.completed", at: installedAt, assetId: asset, siteId: siteId, actor: "field/" + engineer.handle,
            source: "field-app", .object(installation), into: &out)
        feel(passed && completedDay <= scheduledDay + 1 ? 0.02 : -0.04, at: installedAt)
        if !passed {
            incidents.append(Incident(
                category: "quality", severity: "medium", eventId: installed, time: installedAt, weight: 0.12,
                description: "Acceptance failed at commissioning."))
        }
        machine.installDay = Int32(completedDay)
        machines.append(machine)
        if random.chance(0.6) {
            training(day: completedDay + random.int(5...30), model: model, assetId: asset, siteId: siteId, into: &out)
        }
        if contract == nil, random.chance(0.4), currentSatisfaction(completedDay) > 0.55 {
            signContract(at: officeTime(completedDay + random.int(1...14)), into: &out)
        }
        if let worst = incidents.max(by: { $0.weight < $1.weight }), random.chance(worst.weight * (1.6 - satisfaction)) {
            complain(about: worst, caseId: nil, assetId: asset, into: &out)
        }
    }

    mutating func training(day: Int, model: Int, assetId: String?, siteId: String?, into out: inout Recorder) {
        let trainer = random.pick(WordLists.academy)
        let days = [0.5, 1, 1, 2, 2, 3][random.int(0...5)]
        let participants = random.int(2...10)
        let time = officeTime(day, from: 14 * 60, to: 17 * 60)
        let rating = min(5, max(1, Int((2.2 + 3 * currentSatisfaction(day) + 0.5 * random.normal()).rounded())))
        emit(
            "training.completed", at: time, assetId: assetId, siteId: siteId, actor: "academy/" + trainer.handle, source: "lms",
            ["course": .string("Operator training \(WordLists.models[model].name)"), "participants": .int(participants),
             "days": .hours(days), "rating": .int(rating)],
            into: &out)
        invoice(at: officeTime(local(time).day + random.int(1...5)), cents: Int(days * Double(participants) * Double(random.int(280...380))) * 100, category: "training", into: &out)
    }

    // MARK: Occasional touchpoints

    mutating func scheduleExtra(after day: Int) {
        nextExtra = day + 1 + Int(random.exponential(mean: segment == .a ? 120 : segment == .b ? 220 : 400))
    }

    /// Notes, retrofit offers for old machines, training and contract offers, now and then.
    mutating func extra(day: Int, into out: inout Recorder) {
        defer { scheduleExtra(after: day) }
        let roll = random.unit()
        let machines = installed(on: day)
        if roll < 0.4 {
            note(day: day, into: &out)
        } else if roll < 0.6, let old = machines.first(where: { day - Int($0.installDay) > 12 * 365 }) {
            retrofitOffer(day: day, machine: old, into: &out)
        } else if roll < 0.68, let machine = machines.first {
            training(day: day, model: Int(machine.model), assetId: assetId(machine), siteId: siteId(Int(machine.site)), into: &out)
        } else if roll < 0.8, contract == nil, status == .active, currentSatisfaction(day) > 0.6 {
            signContract(at: officeTime(day), into: &out)
        }
    }

    mutating func retrofitOffer(day: Int, machine: Machine, into out: inout Recorder) {
        let cents = random.int(250...950) * 10_000
        let quoteId = nextQuoteId()
        let time = officeTime(day)
        let asset = assetId(machine)
        let sent = emit(
            "quote.sent", at: time, assetId: asset, actor: "sales/" + keyAccountManager.handle, source: "crm",
            ["quoteId": .string(quoteId), "subject": "retrofit", "amount": .euros(cents), "currency": .eur, "validUntil": .string(date(day + 90))],
            into: &out)
        let answer = officeTime(day + random.int(10...60))
        let s = currentSatisfaction(day)
        guard status == .active, random.chance(0.25 + 0.4 * (s - 0.5)) else {
            decline(quoteId: quoteId, at: answer, reason: random.pick(["price", "noLongerNeeded", "other"]), caseId: nil, causation: sent, into: &out)
            return
        }
        let accepted = emit(
            "quote.accepted", at: answer, assetId: asset, actor: "sales/" + keyAccountManager.handle, source: "crm", causation: sent,
            ["quoteId": .string(quoteId), "amount": .euros(cents), "currency": .eur], into: &out)
        let doneDay = workday(onOrAfter: local(answer).day + random.int(30...90))
        let technician = pickTechnician()
        emit(
            "maintenance.performed", at: at(doneDay, 16 * 60), assetId: asset, siteId: siteId(Int(machine.site)),
            actor: "field/" + technician.handle, source: "field-app", causation: accepted,
            ["kind": "retrofit", "scheduledDate": .string(date(doneDay)), "performedDate": .string(date(doneDay)), "defectsFound": 0,
             "findings": "Control and drives retrofitted; acceptance passed.", "technician": .string(technician.name)],
            into: &out)
        invoice(at: officeTime(doneDay + random.int(2...10)), cents: cents, category: "retrofit", into: &out)
    }
}
