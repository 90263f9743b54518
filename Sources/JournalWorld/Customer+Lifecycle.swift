import Foundation
import Journal

extension Customer {
    // MARK: Hidden satisfaction

    /// Satisfaction on `day`: it drifts back towards the customer's baseline (half-life about 100 days);
    /// a customer that has started to leave only comes back with good experiences.
    mutating func currentSatisfaction(_ day: Int) -> Double {
        if day > satisfactionDay {
            let target = status == .drifting ? min(baseline, threshold - 0.08) : baseline
            satisfaction = target + (satisfaction - target) * exp(-Double(day - satisfactionDay) / 145)
            satisfactionDay = day
        }
        return satisfaction
    }

    /// Moves satisfaction by `delta` at `time`; bad experiences weigh more than good ones in the deltas given.
    mutating func feel(_ delta: Double, at time: Int64) {
        let day = local(time).day
        _ = currentSatisfaction(day)
        satisfaction = min(1, max(0, satisfaction + delta))
        if delta < 0, status == .active, lossDay == .max, satisfaction < threshold + 0.1 {
            nextReview = min(nextReview, day + 1)
        }
    }

    // MARK: The day's work

    /// Runs every process of this customer that is due on `day`.
    ///
    /// - Returns: the next day on which something is due (a step due today that was set up by another
    ///   one, such as the first invoice of a contract signed today, runs tomorrow).
    mutating func step(day: Int, into out: inout Recorder) -> Int {
        switch status {
        case .prospect:
            if day >= joinDay { join(day: day, into: &out) }
            return wakeDay
        case .lost:
            if day >= reactivationDay { reactivate(day: day, into: &out) }
            return wakeDay
        case .active, .drifting:
            break
        }
        if day >= nextReview { review(day: day, into: &out) }
        // A customer about to leave starts nothing new.
        guard status != .lost, day < lossDay else { return wakeDay }
        if day >= nextBreakdown { breakdown(day: day, into: &out) }
        if day >= nextQuestion { question(day: day, into: &out) }
        if day >= nextPartsOrder { partsOrder(day: day, into: &out) }
        if day >= nextMaintenance { maintenance(day: day, into: &out) }
        if day >= nextContractStep { contractStep(day: day, into: &out) }
        if day >= nextPurchase { purchase(day: day, into: &out) }
        if day >= nextExtra { extra(day: day, into: &out) }
        return wakeDay
    }

    /// Master data is recorded; a new customer's first machine is delivered and installed.
    mutating func join(day: Int, into out: inout Recorder) {
        status = .active
        // Some customers were already on their way out when the journal started.
        if existing, satisfaction < threshold, random.chance(0.6) {
            status = .drifting
            lossDay = day + random.int(40...360)
            lossReason = ["competitor", "competitor", "dissatisfaction", "price"][random.int(0...3)]
        }
        let time = officeTime(day)
        let info = countryInfo
        var sites: [JSONValue] = []
        for site in 0..<siteCount {
            sites.append(["siteId": .string(siteId(site)), "city": .string(random.pick(info.cities)), "country": .string(info.code)])
        }
        let since = existing ? day - random.int(365...(30 * 365)) : day
        var payload: [JSONMember] = [
            JSONMember("name", .string(name)), JSONMember("country", .string(info.code)),
            JSONMember("industry", .string(random.pick(WordLists.industries))),
        ]
        if segment != .c { payload.append(JSONMember("keyAccountManager", .string(keyAccountManager.name))) }
        payload += [JSONMember("customerSince", .string(date(since))), JSONMember("sites", .array(sites)),
                    JSONMember("contacts", .array(contacts.map(\.document)))]
        emit("customer.registered", at: time, actor: "crm/" + keyAccountManager.handle, source: "crm", .object(payload), into: &out)
        let contractChance = segment == .a ? 0.8 : segment == .b ? 0.5 : 0.15
        if existing, random.chance(contractChance) {
            signContract(at: time + Int64(random.int(300...3_600)), existingSince: day - random.int(0...(3 * 365 - 40)), into: &out)
        }
        if !existing { purchase(day: day, into: &out) }
        scheduleBreakdown(after: day)
        scheduleQuestion(after: day)
        nextPartsOrder = day + Int(random.uniform(7, partsCadence))
        if contract == nil { scheduleMaintenance(after: day) }
        if existing { schedulePurchase(after: day) }
        scheduleExtra(after: day)
        nextReview = day + 7
        lastReview = day
    }

    // MARK: Churn

    static let insolvencyPerWeek = 0.004 / 52
    static let retirementPerWeek = 0.05 / 52

    /// The regular look at the customer: exogenous losses, shocks, starting or giving up the search
    /// for another provider, and the loss itself. Weekly for a customer near or past its threshold,
    /// every four weeks otherwise (a bad experience brings the next look forward).
    mutating func review(day: Int, into out: inout Recorder) {
        let weeks = Double(day - lastReview) / 7
        lastReview = day
        nextReview = day + 7
        if lossDay != .max, day >= lossDay {
            // Everything already under way happens first.
            if day <= busyUntil {
                nextReview = busyUntil + 1
                return
            }
            lose(day: day, into: &out)
            return
        }
        let s = currentSatisfaction(day)
        // Losses without warning: insolvency, or the last old machine retired.
        if random.chance(weeks * Self.insolvencyPerWeek * (segment == .c ? 1.6 : 0.8)) {
            lossReason = "insolvency"
            lossDay = day
            return
        }
        if !machines.isEmpty, machines.allSatisfy({ day - Int($0.installDay) > 18 * 365 }), random.chance(weeks * Self.retirementPerWeek) {
            lossReason = "machineRetired"
            lossDay = day + random.int(0...30)
            return
        }
        // Shocks from outside: a new purchasing manager, a price war, a competitor's campaign.
        if random.chance(weeks * 0.002) {
            satisfaction = max(0, s - random.uniform(0.15, 0.45))
        }
        switch status {
        case .active where s < threshold && random.chance(0.2):
            status = .drifting
            lossDay = day + random.int(150...420)
            lossReason = ["competitor", "competitor", "competitor", "dissatisfaction", "dissatisfaction", "price"][random.int(0...5)]
            schedulePartsOrder(after: day)
            if random.chance(0.3) { note(day: day, into: &out) }
        case .drifting where s > threshold + 0.12 && random.chance(0.12):
            // Won back.
            status = .active
            lossDay = .max
        default:
            break
        }
        if status == .active, satisfaction > threshold + 0.1 { nextReview = day + 28 }
    }

    /// The customer is lost: a running contract is cancelled first; now and then a lost customer comes back later.
    mutating func lose(day: Int, into out: inout Recorder) {
        let time = officeTime(day)
        if contract != nil, !contractEnding {
            let reason = lossReason == "insolvency" ? "other" : lossReason == "machineRetired" ? "machineRetired"
                : lossReason == "price" ? "price" : lossReason == "competitor" ? "switchedProvider" : "dissatisfaction"
            emit(
                "contract.cancelled", at: time, actor: "sales/" + keyAccountManager.handle, source: "crm",
                ["contractId": .string(contractId), "effectiveDate": .string(date(local(time).day + 30)),
                 "cancelledBy": lossReason == "insolvency" ? "manufacturer" : "customer", "reason": .string(reason)],
                into: &out)
        }
        var payload: [JSONMember] = [JSONMember("reason", .string(lossReason))]
        if lossReason == "competitor" { payload.append(JSONMember("competitor", .string(random.pick(WordLists.competitors)))) }
        payload.append(JSONMember("notes", .string(Self.lossNotes[lossReason] ?? "No orders for a long time.")))
        emit("customer.lost", at: time + 600, actor: "kam/" + keyAccountManager.handle, source: "crm", .object(payload), into: &out)
        status = .lost
        contract = nil
        lossDay = .max
        if lossReason != "insolvency", random.chance(0.12) {
            reactivationDay = day + random.int(150...800)
        }
    }

    static let lossNotes = [
        "competitor": "Buys parts and service from another provider.",
        "dissatisfaction": "Repeated problems with our service; the customer has stopped ordering.",
        "price": "Buys parts from a broker because of price.",
        "insolvency": "Insolvency proceedings opened.",
        "machineRetired": "The last machine of ours was taken out of service.",
    ]

    /// A lost customer comes back, usually with a retrofit or a large order.
    mutating func reactivate(day: Int, into out: inout Recorder) {
        reactivationDay = .max
        let time = officeTime(day)
        let quoteId = nextQuoteId()
        let cents = random.int(80...600) * 10_000
        let sent = emit(
            "quote.sent", at: time, actor: "sales/" + keyAccountManager.handle, source: "crm",
            ["quoteId": .string(quoteId), "subject": "retrofit", "amount": .euros(cents), "currency": .eur, "validUntil": .string(date(day + 90))],
            into: &out)
        let accepted = officeTime(day + random.int(14...60))
        emit(
            "quote.accepted", at: accepted, actor: "sales/" + keyAccountManager.handle, source: "crm", causation: sent,
            ["quoteId": .string(quoteId), "amount": .euros(cents), "currency": .eur], into: &out)
        let (year, _, _) = WorldCalendar.civil(absolute(day))
        emit(
            "customer.reactivated", at: accepted + 300, actor: "kam/" + keyAccountManager.handle, source: "crm",
            ["reason": "Retrofit offer accepted", "campaign": .string("Reactivation \(year)")], into: &out)
        invoice(at: officeTime(local(accepted).day + random.int(20...60)), cents: cents, category: "retrofit", into: &out)
        let restart = local(accepted).day + 1
        status = .active
        satisfaction = baseline - 0.05
        satisfactionDay = restart
        scheduleBreakdown(after: restart)
        scheduleQuestion(after: restart)
        schedulePartsOrder(after: restart)
        scheduleMaintenance(after: restart)
        schedulePurchase(after: restart)
        scheduleExtra(after: restart)
        nextContractStep = .max
        nextReview = restart + 7
        lastReview = restart
    }
}
