import Journal

/// What a touchpoint's case tells about it: needed because a visit's payload does not say whether the
/// machine is down, when its arrival was promised, or whether the hotline called back in time.
public struct CaseContext: Sendable, Hashable {
    /// Some touchpoint of the case reported the machine down.
    public var machineDown = false
    /// The system that recorded the touchpoint (the event's `source`): whether a report is expected of it.
    public var source: String?
    /// Inbound contacts (hotline calls) of the case before this touchpoint.
    public var earlierContacts = 0
    /// Technician visits of the case completed before this one.
    public var earlierVisits = 0
    /// When the arrival promise of this visit was made (its `technician.visit.scheduled`).
    public var promiseMadeAt: Timestamp?
    /// When the complaint this touchpoint answers was filed.
    public var complaintFiledAt: Timestamp?
    /// The complaint's acknowledged resolution date (`YYYY-MM-DD`), if one was promised.
    public var promisedResolutionDate: String?
    /// When the case next moved after a hotline call (the callback or a scheduled visit); nil while nothing followed.
    public var followedUpAt: Timestamp?
    /// Survey answers about this touchpoint.
    public var surveys: [SurveyAnswer] = []

    public init() {}
}

/// One survey answer's items.
public struct SurveyAnswer: Sendable, Hashable {
    /// CSAT / CSI on 1–5.
    public var csi: Int?
    /// Customer effort score (CES 2.0) on 1–7.
    public var ces: Int?
    /// Likelihood to recommend on 0–10.
    public var recommend: Int?

    public init(csi: Int? = nil, ces: Int? = nil, recommend: Int? = nil) {
        self.csi = csi
        self.ces = ces
        self.recommend = recommend
    }

    /// V: mean of the items present — CSAT (x−3)/2, CES (x−4)/3, NPS +1/0/−1; nil without items.
    public var voice: Double? {
        var items: [Double] = []
        if let csi { items.append((Double(csi) - 3) / 2) }
        if let ces { items.append((Double(ces) - 4) / 3) }
        if let recommend { items.append(recommend >= 9 ? 1 : recommend >= 7 ? 0 : -1) }
        return items.isEmpty ? nil : items.reduce(0, +) / Double(items.count)
    }
}

/// Scores touchpoints by the rules (cx-metrics §2.1): promise, outcome, effort and voice components,
/// their weighted mean v, and a = λ·v when negative.
///
/// ```swift
/// let scorer = TouchpointScorer(rules: rules)
/// let score = scorer.score(type: "technician.visit.completed", occurred: t, payload: payload, context: context)
/// score?.reasons   // ["PROMISE_BROKEN arrival +6h", "NOT_FIXED", …]
/// ```
public struct TouchpointScorer: Sendable {
    public let rules: MomentRules

    public init(rules: MomentRules) {
        self.rules = rules
    }

    /// The score of a touchpoint, or nil when its type is not scored.
    public func score(type: String, occurred: Timestamp, payload: JSONValue, context: CaseContext) -> MomentScore? {
        guard let rule = rules.rule(for: type) else { return nil }
        var parts = Parts()
        switch type {
        case "hotline.call.received": hotline(payload, occurred: occurred, context, &parts)
        case "technician.visit.completed": visit(payload, context, &parts)
        case "delivery.completed": delivery(payload, &parts)
        case "installation.completed": installation(payload, &parts)
        case "part.delivered": partDelivered(payload, &parts)
        case "complaint.resolved": complaintResolved(payload, occurred: occurred, context, &parts)
        case "maintenance.performed": maintenance(payload, &parts)
        case "quote.sent": quote(payload, occurred: occurred, &parts)
        case "training.completed":
            parts.outcome = 1
            if let rating = payload["rating"]?.intValue { parts.voice(SurveyAnswer(csi: rating), label: "rating") }
        case "survey.answered":
            parts.voice(SurveyAnswer(csi: payload["csi"]?.intValue, ces: payload["ces"]?.intValue, recommend: payload["recommend"]?.intValue), label: "survey")
        default: return nil
        }
        for survey in context.surveys { parts.voice(survey, label: "survey") }
        return finish(parts, type: type, rule: rule, context: context, payload: payload)
    }

    // MARK: Components per touchpoint type

    private func hotline(_ payload: JSONValue, occurred: Timestamp, _ context: CaseContext, _ parts: inout Parts) {
        if let promised = payload["callbackPromisedBy"]?.instant, let followed = context.followedUpAt {
            parts.promise("reaction", due: promised, actual: followed, window: max(promised.microseconds - occurred.microseconds, 60_000_000), rules)
        }
        if payload["abandoned"]?.bool == true {
            parts.outcome = -1
            parts.reasons.append("ABANDONED_CALL")
            parts.flags += 1
        } else if payload["solvedOnCall"]?.bool == true {
            parts.outcome = 1
            parts.reasons.append("SOLVED_ON_CALL")
        } else {
            parts.outcome = 0
            parts.reasons.append("OUTCOME_PENDING")
        }
        if let wait = payload["queueWaitSeconds"]?.double, wait > rules.thresholds.queueWaitTargetSeconds {
            parts.flags += 1
            parts.reasons.append("QUEUE_WAIT \(Int(wait))s > \(Int(rules.thresholds.queueWaitTargetSeconds))s")
        }
        if context.earlierContacts > 0 {
            parts.flags += 1
            parts.reasons.append("REPEAT_CONTACT \(context.earlierContacts + 1). call")
        }
    }

    private func visit(_ payload: JSONValue, _ context: CaseContext, _ parts: inout Parts) {
        if let promised = payload["promisedArrival"]?.instant, let actual = payload["actualArrival"]?.instant {
            let tolerance = Int64(rules.thresholds.arrivalToleranceMinutes * 60_000_000)
            let defaultWindow = Int64(rules.thresholds.defaultArrivalWindowHours * 3_600_000_000)
            let window = context.promiseMadeAt.map { promised.microseconds - $0.microseconds } ?? defaultWindow
            parts.promise("arrival", due: promised, actual: actual, window: window > 0 ? window : defaultWindow, tolerance: tolerance, rules)
        }
        if payload["fixed"]?.bool == true {
            parts.outcome = 1
            parts.reasons.append(context.earlierVisits == 0 ? "FIXED_FIRST_TIME" : "FIXED")
        } else {
            parts.outcome = -1
            parts.reasons.append(payload["revisitRequired"]?.bool == true ? "REVISIT_REQUIRED" : "NOT_FIXED")
        }
        if context.earlierVisits > 0 || (payload["visitNumber"]?.intValue ?? 1) > 1 {
            parts.flags += 1
            parts.reasons.append("REPEAT_CONTACT visit \(max(context.earlierVisits + 1, payload["visitNumber"]?.intValue ?? 1))")
        }
        if payload["report"] == nil, rules.expectsReport(from: context.source) {
            parts.flags += 1
            parts.reasons.append("MISSING_DOCUMENTATION")
        }
    }

    private func delivery(_ payload: JSONValue, _ parts: inout Parts) {
        parts.datePromise("delivery", payload, due: "promisedDate", actual: "actualDate", windowDays: rules.thresholds.deliveryWindowDays, rules)
        parts.completeness(payload, failure: "INCOMPLETE_DELIVERY")
    }

    private func installation(_ payload: JSONValue, _ parts: inout Parts) {
        parts.datePromise("installation", payload, due: "scheduledDate", actual: "completedDate",
                          windowDays: rules.thresholds.installationWindowDays, rules)
        if payload["acceptancePassedFirstTime"]?.bool == true {
            parts.outcome = 1
        } else {
            parts.outcome = -1
            parts.reasons.append("ACCEPTANCE_FAILED")
        }
        if let attempts = payload["acceptanceAttempts"]?.intValue, attempts > 1 {
            parts.flags += attempts - 1
            parts.reasons.append("ACCEPTANCE_ATTEMPTS \(attempts)")
        }
    }

    private func partDelivered(_ payload: JSONValue, _ parts: inout Parts) {
        let express = payload["express"]?.bool == true
        parts.datePromise("part", payload, due: "promisedDate", actual: "actualDate",
                          windowDays: express ? rules.thresholds.expressPartWindowDays : rules.thresholds.partWindowDays, rules)
        parts.completeness(payload, failure: "WRONG_OR_MISSING_PART")
    }

    private func complaintResolved(_ payload: JSONValue, occurred: Timestamp, _ context: CaseContext, _ parts: inout Parts) {
        if let date = context.promisedResolutionDate, let due = try? Timestamp(utcDate: date) {
            let end = Timestamp(microseconds: due.microseconds + 86_400_000_000)
            let window = context.complaintFiledAt.map { end.microseconds - $0.microseconds } ?? 7 * 86_400_000_000
            parts.promise("resolution", due: end, actual: occurred, window: max(window, 3_600_000_000), rules)
        }
        guard payload["customerSatisfied"]?.bool != false else {
            parts.outcome = -1
            parts.reasons.append("COMPLAINT_UNRESOLVED")
            return
        }
        let days = context.complaintFiledAt.map { Double(occurred.microseconds - $0.microseconds) / 86_400_000_000 }
        if let days, days > rules.thresholds.complaintQuickDays {
            parts.outcome = -0.3
            parts.reasons.append("COMPLAINT_RESOLVED_SLOWLY \(Int(days.rounded()))d")
        } else {
            parts.outcome = 1
            parts.reasons.append(days.map { "COMPLAINT_RESOLVED_QUICKLY \(Int($0.rounded()))d" } ?? "COMPLAINT_RESOLVED")
        }
    }

    private func maintenance(_ payload: JSONValue, _ parts: inout Parts) {
        parts.datePromise("maintenance", payload, due: "scheduledDate", actual: "performedDate",
                          windowDays: rules.thresholds.maintenanceWindowDays, rules)
        parts.outcome = 1
    }

    private func quote(_ payload: JSONValue, occurred: Timestamp, _ parts: inout Parts) {
        if let requested = payload["requestedAt"]?.instant {
            let target = Int64(rules.thresholds.quoteTurnaroundHours * 3_600_000_000)
            parts.promise("quote", due: Timestamp(microseconds: requested.microseconds + target), actual: occurred, window: target, rules)
        }
        parts.outcome = 1
    }

    // MARK: Valence

    private func finish(_ parts: Parts, type: String, rule: MomentRules.TouchpointRule, context: CaseContext, payload: JSONValue) -> MomentScore {
        let weights = rules.components.weights
        // No flags is neutral (0), not delight; a survey on its own has no effort component.
        let effort: Double? = parts.flags > 0
            ? -min(1, rules.components.effortPenaltyPerFlag * Double(parts.flags)) : (type == "survey.answered" ? nil : 0)
        let voice = parts.voices.isEmpty ? nil : parts.voices.reduce(0, +) / Double(parts.voices.count)
        var sum = 0.0, total = 0.0
        for (value, weight) in [(parts.promise, weights.promise), (parts.outcome, weights.outcome), (effort, weights.effort), (voice, weights.voice)] {
            guard let value else { continue }
            sum += weight * value
            total += weight
        }
        let valence = total > 0 ? sum / total : 0
        let machineDown = context.machineDown || payload["machineDown"]?.bool == true
        let isMoment: Bool
        switch rule.moment {
        case .always: isMoment = true
        case .never: isMoment = false
        case .machineDown: isMoment = machineDown
        case .firstInCase: isMoment = machineDown && context.earlierVisits == 0
        }
        var reasons = parts.reasons
        if let voice, let label = parts.voiceLabel { reasons.append("VOICE \(label) \(voice >= 0 ? "+" : "")\(String(format2: voice))") }
        return MomentScore(
            promise: parts.promise, outcome: parts.outcome, effort: effort, voice: voice, valence: valence,
            weighted: valence < 0 ? rules.negativityWeight * valence : valence,
            criticality: machineDown ? (rule.machineDownCriticality ?? rule.criticality) : rule.criticality,
            severity: machineDown ? rules.machineDownSeverity : 1, isMoment: isMoment,
            reasons: reasons, promiseCheck: parts.promiseCheck, rulesVersion: rules.version)
    }
}

/// The components of one touchpoint while they are collected.
private struct Parts {
    var promise: Double?
    var promiseCheck: PromiseCheck?
    var outcome: Double?
    var flags = 0
    var voices: [Double] = []
    var voiceLabel: String?
    var reasons: [String] = []

    /// P: +1 when kept; when broken, base + slope · min(1, late / window). The worst promise counts.
    /// Lateness within `tolerance` counts as kept; beyond it, lateness counts from `due`.
    mutating func promise(_ kind: String, due: Timestamp, actual: Timestamp, window: Int64, tolerance: Int64 = 0, _ rules: MomentRules) {
        let late = actual.microseconds - due.microseconds
        let value: Double
        let check: PromiseCheck
        if late <= tolerance {
            value = 1
            check = PromiseCheck(kind: kind, kept: true, lateSeconds: 0)
            reasons.append("PROMISE_KEPT \(kind)")
        } else {
            let ratio = min(1, Double(late) / Double(max(window, 1)))
            value = rules.components.brokenPromiseBase + rules.components.brokenPromiseLateSlope * ratio
            check = PromiseCheck(kind: kind, kept: false, lateSeconds: late / 1_000_000)
            reasons.insert("PROMISE_BROKEN \(kind) \(lateness(late / 1_000_000))", at: 0)
        }
        if promise == nil || value < promise! {
            promise = value
            promiseCheck = check
        }
    }

    /// A promise given as dates (`YYYY-MM-DD`): late by whole days.
    mutating func datePromise(_ kind: String, _ payload: JSONValue, due: String, actual: String, windowDays: Double, _ rules: MomentRules) {
        guard let dueDate = payload[due]?.stringValue.flatMap({ try? Timestamp(utcDate: $0) }),
            let actualDate = payload[actual]?.stringValue.flatMap({ try? Timestamp(utcDate: $0) })
        else { return }
        promise(kind, due: dueDate, actual: actualDate, window: Int64(windowDays * 86_400_000_000), rules)
    }

    /// O for deliveries: +1 when complete and undamaged, −1 otherwise.
    mutating func completeness(_ payload: JSONValue, failure: String) {
        if payload["damaged"]?.bool == true {
            outcome = -1
            reasons.append("DAMAGED")
        } else if payload["complete"]?.bool == false {
            outcome = -1
            reasons.append(failure)
        } else {
            outcome = 1
        }
    }

    mutating func voice(_ answer: SurveyAnswer, label: String) {
        guard let value = answer.voice else { return }
        voices.append(value)
        voiceLabel = label
    }
}

extension String {
    /// Two decimals, without Foundation.
    init(format2 value: Double) {
        guard let hundredths = Int(exactly: (abs(value) * 100).rounded()) else {
            self = "\(value)"
            return
        }
        let text = "\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100)"
        self = value < 0 && hundredths > 0 ? "-" + text : text
    }
}

extension JSONValue {
    var bool: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    var double: Double? {
        if case .number(let number) = self { return number.value }
        return nil
    }

    var instant: Timestamp? {
        stringValue.flatMap { try? Timestamp(rfc3339: $0) }
    }
}
