import Journal
import JournalScoring

/// Scores the touchpoints of a case (or a touchpoint without one) from the timeline's rows, and
/// records each changed score in the score history.
///
/// One instance serves one fold of events into `timeline` (a batch, inside its transaction, or one
/// customer of a rebuild): it keeps the rows of the cases it has read (payloads parsed once) and
/// the surveys about each touchpoint, and keeps them in step with what it writes.
/// ``inserted(_:customerId:caseId:)``, ``amended(_:knownAtUs:)`` and ``surveyAdded(about:)`` tell it about
/// the fold's other writes.
final class CaseScoring {
    let scorer: TouchpointScorer
    let timeline: any TimelineRows
    private var cases: [CaseKey: [Row]] = [:]
    /// The canonical JSON of a score's reasons, written into a buffer kept for it: most touchpoints a
    /// case scores again keep their score, and comparing their reasons then makes no string.
    private var reasonsBytes: [UInt8] = []
    private var surveys: [String: [SurveyAnswer]] = [:]
    /// The position of the event being folded, and how many scores it has recorded so far.
    private var cause: (position: Int64, scores: Int64) = (0, 0)

    init(scorer: TouchpointScorer, timeline: any TimelineRows) {
        self.scorer = scorer
        self.timeline = timeline
    }

    private struct CaseKey: Hashable {
        var customerId: String
        var caseId: String
    }

    struct Row {
        var position: Int64
        var eventId: String
        var type: String
        var occurred: Timestamp
        var payload: JSONValue
        var voided: Bool
        var valence: Double?
        var reasons: String?
        var ref: String?
        var source: String?
    }

    /// The event at `position` is being folded: the scores recorded next are its doing.
    func folding(_ position: Int64) {
        cause = (position, 0)
    }

    /// The `seq` of the next score recorded: the causing event's position × 2²⁰ plus the scores it
    /// recorded before. It orders a customer's score history as it was recorded, and is the same
    /// however the log was folded — in one pass, in batches, or customer by customer.
    private func nextSeq() throws -> Int64 {
        guard cause.scores < 1 << 20 else {
            throw JournalError.invalidArgument("the event at position \(cause.position) changes more than 1,048,576 scores")
        }
        defer { cause.scores += 1 }
        return cause.position << 20 | cause.scores
    }

    /// A row the batch has just inserted into the timeline.
    func inserted(_ row: Row, customerId: String, caseId: String?) {
        guard let caseId else { return }
        // In place: a copy of the case's rows would retain every field of every row.
        guard let entry = cases.index(forKey: CaseKey(customerId: customerId, caseId: caseId)) else { return }
        let index = cases.values[entry].firstIndex { ($0.occurred, $0.position) > (row.occurred, row.position) } ?? cases.values[entry].endIndex
        cases.values[entry].insert(row, at: index)
    }

    /// The touchpoint `eventId` was corrected or voided: drops its case's rows and the surveys (it may
    /// be one) so they are read again, then scores its case again.
    func amended(_ eventId: String, knownAtUs: Int64) throws {
        surveys = [:]
        guard let (customerId, caseId) = try timeline.place(of: eventId) else { return }
        if let caseId { cases[CaseKey(customerId: customerId, caseId: caseId)] = nil }
        try rescore(customerId: customerId, caseId: caseId, eventId: eventId, knownAtUs: knownAtUs)
    }

    /// A survey about `eventId` was inserted.
    func surveyAdded(about eventId: String) {
        surveys[eventId] = nil
    }

    /// Scores again every scored touchpoint of the case that `eventId` belongs to.
    func rescore(around eventId: String, knownAtUs: Int64) throws {
        guard let (customerId, caseId) = try timeline.place(of: eventId) else { return }
        try rescore(customerId: customerId, caseId: caseId, eventId: eventId, knownAtUs: knownAtUs)
    }

    /// Scores again every scored touchpoint of the case `caseId`, or the touchpoint `eventId` when it has no case.
    func rescore(customerId: String, caseId: String?, eventId: String, knownAtUs: Int64) throws {
        var touchpoints: [Row]
        if let caseId {
            let key = CaseKey(customerId: customerId, caseId: caseId)
            // Taken out while they are scored, so that changing them copies nothing.
            touchpoints = try cases.removeValue(forKey: key) ?? timeline.touchpoints(.inCase(customerId: customerId, caseId: caseId))
            defer { cases[key] = touchpoints }
            try rescore(&touchpoints, customerId: customerId, caseId: caseId, knownAtUs: knownAtUs)
        } else {
            touchpoints = try timeline.touchpoints(.event(eventId))
            try rescore(&touchpoints, customerId: customerId, caseId: nil, knownAtUs: knownAtUs)
        }
    }

    private func rescore(_ rows: inout [Row], customerId: String, caseId: String?, knownAtUs: Int64) throws {
        let machineDown = rows.contains { !$0.voided && $0.payload["machineDown"] == .bool(true) }
        var earlierContacts = 0, earlierVisits = 0
        for index in rows.indices {
            let row = rows[index]
            defer {
                if !row.voided {
                    if row.type == "hotline.call.received" { earlierContacts += 1 }
                    if row.type == "technician.visit.completed" { earlierVisits += 1 }
                }
            }
            guard scorer.rules.rule(for: row.type) != nil else { continue }
            if row.type == "survey.answered", row.ref != nil { continue }
            if row.voided {
                if row.valence != nil { try record(nil, of: &rows[index], customerId: customerId, caseId: caseId, knownAtUs: knownAtUs) }
                continue
            }
            var context = CaseContext()
            context.machineDown = machineDown
            context.source = row.source
            context.earlierContacts = earlierContacts
            context.earlierVisits = earlierVisits
            context.followedUpAt = rows[(index + 1)...].first { !$0.voided && $0.occurred > row.occurred }?.occurred
            if row.type == "technician.visit.completed", let number = row.payload["visitNumber"] {
                context.promiseMadeAt = rows.last {
                    !$0.voided && $0.type == "technician.visit.scheduled" && $0.payload["visitNumber"] == number && $0.occurred <= row.occurred
                }?.occurred
            }
            if row.type == "complaint.resolved", let complaintId = row.ref {
                let complaint = try timeline.touchpoints(.referring(customerId: customerId, reference: complaintId)).filter { !$0.voided }
                context.complaintFiledAt = complaint.first { $0.type == "complaint.filed" }?.occurred
                context.promisedResolutionDate = complaint.last { $0.type == "complaint.acknowledged" }?
                    .payload["promisedResolutionDate"]?.stringValue
            }
            context.surveys = try surveys(about: row.eventId, customerId: customerId)
            let score = scorer.score(type: row.type, occurred: row.occurred, payload: row.payload, context: context)
            try record(score, of: &rows[index], customerId: customerId, caseId: caseId, knownAtUs: knownAtUs)
        }
    }

    private func surveys(about eventId: String, customerId: String) throws -> [SurveyAnswer] {
        if let known = surveys[eventId] { return known }
        let answers = try timeline.touchpoints(.referring(customerId: customerId, reference: eventId))
            .filter { $0.type == "survey.answered" && !$0.voided }
            .map { survey in
                SurveyAnswer(csi: survey.payload["csi"]?.intValue, ces: survey.payload["ces"]?.intValue,
                             recommend: survey.payload["recommend"]?.intValue)
            }
        surveys[eventId] = answers
        return answers
    }

    private static func reasons(_ score: MomentScore) -> String {
        CanonicalJSON.string(.array(score.reasons.map(JSONValue.string)))
    }

    /// Whether `stored`, a touchpoint's reasons as canonical JSON, holds exactly `reasons`. Compared as
    /// bytes, not as strings: the stored reasons were written by the same canonical form, so the bytes
    /// are equal exactly when the reasons are.
    private func same(_ reasons: [String], as stored: String?) -> Bool {
        guard let stored else { return false }
        reasonsBytes.removeAll(keepingCapacity: true)
        reasonsBytes.append(UInt8(ascii: "["))
        for (index, reason) in reasons.enumerated() {
            if index > 0 { reasonsBytes.append(UInt8(ascii: ",")) }
            CanonicalJSON.writeString(reason, into: &reasonsBytes)
        }
        reasonsBytes.append(UInt8(ascii: "]"))
        return stored.utf8.elementsEqual(reasonsBytes)
    }

    /// Writes a changed score to `row` and to the timeline and its history; nil marks a voided touchpoint.
    private func record(_ score: MomentScore?, of row: inout Row, customerId: String, caseId: String?, knownAtUs: Int64) throws {
        if let score, score.valence == row.valence, same(score.reasons, as: row.reasons) { return }
        let reasons = score.map(Self.reasons)
        try timeline.record(RecordedScore(
            seq: try nextSeq(), touchpoint: row, customerId: customerId, caseId: caseId, knownAtUs: knownAtUs, score: score,
            reasons: reasons, rulesVersion: scorer.rules.version))
        row.valence = score?.valence
        row.reasons = reasons
    }
}
