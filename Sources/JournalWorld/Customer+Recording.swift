import Journal

extension Customer {
    /// Records a touchpoint of this customer that occurs at `time` (seconds since 1970, UTC).
    ///
    /// The event is recorded in the night after it occurred, or some days later for the kinds of
    /// reports that are typed in late. A few events are later corrected (`touchpoint.corrected`), or
    /// entered twice and the copy voided (`touchpoint.voided`).
    ///
    /// - Returns: the event id, for causation and references.
    @discardableResult
    mutating func emit(
        _ type: String, at time: Int64, caseId: String? = nil, assetId: String? = nil, siteId: String? = nil,
        actor: String, source: String, causation: String? = nil, lateDays: Int? = nil,
        _ payload: JSONValue, into out: inout Recorder
    ) -> String {
        let late = lateDays ?? lateRecordDelay(type)
        let eventId = newEventId(time)
        let event = ProposedEvent(
            eventId: eventId, type: type, occurredAt: zone.text(time), customerId: id, caseId: caseId, assetId: assetId,
            siteId: siteId, actor: actor, source: source, correlationId: caseId, causationId: causation, payload: payload)
        let night = out.night(occurred: time, lateDays: late)
        busyUntil = max(busyUntil, local(time).day)
        let corrected = random.chance(Self.correctionRate(type))
        let twice = Self.isSometimesEnteredTwice(type) && random.chance(0.0025)
        out.add(event, customer: index, occurred: time, night: night)
        if corrected { correct(event, recordedNight: night, into: &out) }
        if twice { enterTwice(event, at: time, night: night, into: &out) }
        return eventId
    }

    private mutating func newEventId(_ time: Int64) -> String {
        let milliseconds = time * 1000 + Int64(random.next() % 1000)
        return EventID.version7(milliseconds: milliseconds, random: (random.next(), random.next())).rawValue
    }

    /// How many days after the normal night an event is recorded: mostly 0; field reports and some
    /// invoices are typed in 1–10 days late.
    private mutating func lateRecordDelay(_ type: String) -> Int {
        switch type {
        case "technician.visit.completed": random.chance(0.045) ? random.int(1...10) : 0
        case "maintenance.performed": random.chance(0.04) ? random.int(1...10) : 0
        case "invoice.issued": random.chance(0.03) ? random.int(1...7) : 0
        case "training.completed": random.chance(0.08) ? random.int(1...14) : 0
        case "part.delivered", "installation.completed": random.chance(0.015) ? random.int(1...4) : 0
        default: 0
        }
    }

    /// The probability that a recorded event of `type` is corrected later.
    static func correctionRate(_ type: String) -> Double {
        switch type {
        case "delivery.completed": 0.03
        case "technician.visit.completed": 0.02
        case "part.delivered", "maintenance.performed": 0.01
        case "invoice.issued": 0.008
        case "hotline.call.received": 0.005
        default: 0
        }
    }

    /// Whether events of `type` are sometimes entered twice.
    static func isSometimesEnteredTwice(_ type: String) -> Bool {
        switch type {
        case "note.added", "hotline.call.received", "invoice.issued", "part.requested", "quote.sent": true
        default: false
        }
    }

    /// Records a `touchpoint.corrected` for `event` some days after it was recorded.
    private mutating func correct(_ event: ProposedEvent, recordedNight: Int, into out: inout Recorder) {
        let payload = event.payload
        let field: String
        let value: JSONValue
        let reason: String
        switch event.type {
        case "technician.visit.completed":
            guard let text = payload["actualArrival"]?.stringValue, let arrival = try? Timestamp(rfc3339: text) else { return }
            let shift = Int64(random.chance(0.5) ? -1 : 1) * Int64(random.int(20...150)) * 60
            field = "actualArrival"
            value = .string(zone.text(arrival.microseconds / 1_000_000 + shift))
            reason = random.pick([
                "Technician entered the time he left the previous site.", "Arrival time typed wrongly in the field app.",
                "Arrival time taken from the vehicle log.",
            ])
        case "invoice.issued":
            guard case .number(let amount)? = payload["amount"] else { return }
            field = "amount"
            value = .number(JSONNumber((amount.value * random.uniform(0.85, 0.97) * 100).rounded() / 100))
            reason = random.pick(["Travel flat rate charged twice; corrected.", "Amount typed wrongly.", "Discount of the framework agreement not applied."])
        case "part.delivered", "delivery.completed":
            guard let text = payload["actualDate"]?.stringValue, let day = WorldCalendar.days(parsing: text) else { return }
            field = "actualDate"
            value = .string(WorldCalendar.dateText(day + (random.chance(0.5) ? -1 : 1)))
            reason = "Goods receipt was booked on the wrong day."
        case "hotline.call.received":
            guard case .number(let wait)? = payload["queueWaitSeconds"] else { return }
            field = "queueWaitSeconds"
            value = .number(JSONNumber(Int64(max(0, wait.value + Double(random.int(-40...90))))))
            reason = "Queue time taken from the telephone system."
        case "maintenance.performed":
            guard case .number(let defects)? = payload["defectsFound"] else { return }
            field = "defectsFound"
            value = .number(JSONNumber(Int64(defects.value) + 1))
            reason = "Findings completed after the workshop check."
        default:
            return
        }
        let time = officeTime(recordedNight + random.int(0...12))
        emit(
            "touchpoint.corrected", at: time, caseId: event.caseId, assetId: event.assetId,
            actor: "backoffice/" + random.pick(WordLists.dispatchers).handle, source: "crm", lateDays: 0,
            ["correctedEventId": .string(event.eventId), "corrections": .object([JSONMember(field, value)]), "reason": .string(reason)],
            into: &out)
    }

    /// Records `event` a second time by mistake, and the void of the copy a few days later.
    private mutating func enterTwice(_ event: ProposedEvent, at time: Int64, night: Int, into out: inout Recorder) {
        var copy = event
        copy.eventId = newEventId(time + 120)
        copy.occurredAt = zone.text(time + 120)
        out.add(copy, customer: index, occurred: time + 120, night: night)
        let voidTime = officeTime(night + random.int(0...6))
        emit(
            "touchpoint.voided", at: voidTime, caseId: event.caseId, actor: "backoffice/" + random.pick(WordLists.dispatchers).handle,
            source: "crm", lateDays: 0,
            ["voidedEventId": .string(copy.eventId), "reason": .string(random.pick(["Entered twice by mistake.", "Duplicate entry from the import."]))],
            into: &out)
    }
}
