import Journal

extension Customer {
    /// A complaint about a broken promise or failure: filed, acknowledged, sometimes escalated, then
    /// resolved (to the customer's satisfaction or not) or left open.
    mutating func complain(about incident: Incident, caseId: String?, assetId: String?, followUp: Bool = false, into out: inout Recorder) {
        complaints += 1
        let complaintId = "CMP-" + digits + "-" + String(complaints)
        let filedAt = workingTime(notBefore: incident.time + Int64(random.int(1_800...172_800)))
        let channel = random.int(0...2)
        let filed = emit(
            "complaint.filed", at: filedAt, caseId: caseId, assetId: assetId,
            actor: channel == 0 ? "hotline/" + random.pick(WordLists.hotlineAgents).handle : "kam/" + keyAccountManager.handle,
            source: ["hotline", "crm", "email"][channel],
            ["complaintId": .string(complaintId), "category": .string(incident.category), "severity": .string(incident.severity),
             "description": .string(incident.description + " Raised by " + contact(complaints).name + " (" + contact(complaints).role + ")."),
             "relatedEventId": .string(incident.eventId)],
            into: &out)
        feel(-0.02, at: filedAt)
        let manager = random.pick(WordLists.serviceManagers)
        let slow = random.chance(min(0.5, 0.12 * hardship))
        let ackTime = workingTime(notBefore: filedAt + Int64(slow ? random.int(4 * 86_400...9 * 86_400) : random.int(3_600...86_400)))
        let ackDay = local(ackTime).day
        let promisedDay = ackDay + random.int(7...21)
        let ack = emit(
            "complaint.acknowledged", at: ackTime, caseId: caseId, actor: "service/" + manager.handle, source: "crm", causation: filed,
            ["complaintId": .string(complaintId), "acknowledgedBy": .string(manager.name), "promisedResolutionDate": .string(date(promisedDay))],
            into: &out)
        feel(slow ? -0.03 : 0.01, at: ackTime)
        var last = ack
        let serious = incident.severity == "high" || incident.severity == "critical"
        if random.chance(serious ? 0.3 : 0.12) {
            let escalated = officeTime(ackDay + random.int(3...14))
            last = emit(
                "complaint.escalated", at: escalated, caseId: caseId, actor: "service/" + manager.handle, source: "crm", causation: ack,
                ["complaintId": .string(complaintId), "escalatedTo": .string(random.pick(["Head of Service", "Managing Director", "Key Account Management"])),
                 "reason": .string(random.pick(["Customer asked for a manager.", "No solution within the promised time.", "Repeated problem on the same machine."]))],
                into: &out)
        }
        guard random.chance(followUp ? 0.9 : 0.8) else {
            // Left open: nobody resolves it; the customer may complain again.
            openComplaints += 1
            feel(-0.1, at: at(promisedDay, 12 * 60))
            if !followUp, random.chance(0.45) {
                let reminder = Incident(
                    category: "communication", severity: "medium", eventId: filed, time: at(promisedDay + random.int(5...25), 10 * 60),
                    weight: 0, description: "Still no answer to complaint \(complaintId).")
                complain(about: reminder, caseId: caseId, assetId: assetId, followUp: true, into: &out)
            }
            return
        }
        let onTime = random.chance(0.75)
        let resolvedDay = onTime ? max(ackDay + 1, promisedDay - random.int(0...6)) : promisedDay + random.int(1...20)
        let resolvedAt = officeTime(resolvedDay)
        let s = currentSatisfaction(local(resolvedAt).day)
        let satisfied = random.chance(min(0.9, max(0.1, 0.45 + 0.6 * (s - 0.5) + (onTime ? 0.15 : -0.1))))
        var payload: [JSONMember] = [
            JSONMember("complaintId", .string(complaintId)),
            JSONMember("resolution", .string(random.pick(Self.resolutions[incident.category] ?? Self.resolutions["other"]!))),
            JSONMember("customerSatisfied", .flag(satisfied)),
        ]
        if satisfied, serious, random.chance(0.4) {
            payload.append(JSONMember("goodwillAmount", .euros(random.int(2...20) * 5_000)))
            payload.append(JSONMember("currency", .eur))
        }
        let resolved = emit(
            "complaint.resolved", at: resolvedAt, caseId: caseId, actor: "service/" + manager.handle, source: "crm", causation: last,
            .object(payload), into: &out)
        // Service recovery: a complaint resolved well can leave the customer happier than before.
        feel(satisfied ? 0.08 : -0.06, at: resolvedAt)
        if random.chance(0.35) {
            survey(after: resolvedAt, about: resolved, caseId: caseId, into: &out)
        }
    }

    static let resolutions: [String: [String]] = [
        "response-time": ["Apology and goodwill credit; dispatch rule for this region changed.", "Second technician assigned to the region.", "Apology; response times are now monitored weekly."],
        "technician": ["Senior technician sent; root cause fixed.", "Repair redone free of charge.", "Technician trained on this machine type."],
        "parts": ["Express freight refunded.", "Parts stock for this machine type raised.", "Apology; supplier changed for this part."],
        "communication": ["Call-back rule enforced by the hotline lead.", "Second hotline shift from next month.", "Customer gets a named contact person."],
        "delivery": ["Missing items delivered; freight refunded.", "Damage repaired on site at no cost."],
        "quality": ["Commissioning repeated; acceptance passed.", "Machine adjusted free of charge."],
        "other": ["Explained and settled with the customer."],
    ]

    var keyAccountManager: WordLists.Person {
        WordLists.keyAccountManagers[(number * 7 + country) % WordLists.keyAccountManagers.count]
    }

    /// A satisfaction survey about `eventId`, answered some days after `time`; the scores follow the hidden satisfaction.
    mutating func survey(after time: Int64, about eventId: String, caseId: String?, into out: inout Recorder) {
        let day = local(time).day + random.int(3...14)
        let answered = at(day, random.int(8 * 60...21 * 60))
        let s = currentSatisfaction(day)
        let csi = min(5, max(1, Int((1 + 4 * s + 0.55 * random.normal()).rounded())))
        let recommend = min(10, max(0, Int((11 * s - 0.5 + 1.2 * random.normal()).rounded())))
        let (year, month, _) = WorldCalendar.civil(absolute(day))
        var payload: [JSONMember] = [JSONMember("surveyId", .string("S-\(year)-Q\((month - 1) / 3 + 1)"))]
        let form = random.int(0...9)
        if form < 8 { payload.append(JSONMember("csi", .int(csi))) }
        if form >= 2 || form == 0 { payload.append(JSONMember("recommend", .int(recommend))) }
        if random.chance(0.3) {
            let comments = recommend <= 6 ? Self.detractorComments : recommend <= 8 ? Self.passiveComments : Self.promoterComments
            payload.append(JSONMember("comment", .string(random.pick(comments) + " — " + contact(day).name)))
        }
        payload.append(JSONMember("relatedEventId", .string(eventId)))
        emit("survey.answered", at: answered, caseId: caseId, actor: "survey", source: "survey-tool", .object(payload), into: &out)
    }

    static let detractorComments = [
        "Spare parts are too expensive and take too long.", "Nobody called back.", "The technician came far too late.",
        "We are looking at other service providers.", "Same fault again after the repair.",
    ]
    static let passiveComments = [
        "Slow start, but the problem was solved.", "Good technician, but the hotline is hard to reach.", "Prices are high.",
    ]
    static let promoterComments = [
        "Fast and competent, thank you.", "The technician knew the machine very well.", "Very good service, as always.",
    ]

    /// An internal note of the key account manager.
    mutating func note(day: Int, into out: inout Recorder) {
        let text: String
        if status == .drifting, random.chance(0.5) {
            text = random.pick([
                "Customer mentions an offer from \(random.pick(WordLists.competitors)).",
                "New plant manager prefers an independent service provider. Offer a visit.",
                "Purchasing asks for a price comparison for wear parts.", "Customer did not answer the last two calls.",
            ])
        } else {
            text = random.pick([
                "Customer plans to extend the line next year.", "Visited the plant; machines in good condition.",
                "Discussed a bonus agreement for wear parts.", "Customer asks about remote diagnostics.",
                "New maintenance manager introduced himself.", "Annual review meeting held.",
            ])
        }
        emit(
            "note.added", at: officeTime(day), actor: "kam/" + keyAccountManager.handle, source: "crm",
            ["text": .string(text), "visibility": "internal", "author": .string(keyAccountManager.name)], into: &out)
    }
}
