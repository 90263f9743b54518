import GRDB
import Journal
import JournalScoring

/// Scores the touchpoints of a case (or a touchpoint without one) from the timeline's rows, and
/// records each changed score in the score history.
///
/// One instance serves one batch, inside its transaction: it keeps the rows of the cases it has read
/// (payloads parsed once) and the surveys about each touchpoint, and keeps them in step with what it
/// writes. ``inserted(_:customerId:caseId:)``, ``amended(_:knownAtUs:_:)`` and ``surveyAdded(about:)`` tell it about
/// the batch's other writes.
final class CaseScoring {
    let scorer: TouchpointScorer
    let tables: TimelineTables
    private var cases: [CaseKey: [Row]] = [:]
    private var surveys: [String: [SurveyAnswer]] = [:]

    init(scorer: TouchpointScorer, tables: TimelineTables) {
        self.scorer = scorer
        self.tables = tables
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

    /// A row the batch has just inserted into the timeline.
    func inserted(_ row: Row, customerId: String, caseId: String?) {
        guard let caseId else { return }
        let key = CaseKey(customerId: customerId, caseId: caseId)
        guard var rows = cases[key] else { return }
        let index = rows.firstIndex { ($0.occurred, $0.position) > (row.occurred, row.position) } ?? rows.endIndex
        rows.insert(row, at: index)
        cases[key] = rows
    }

    /// The touchpoint `eventId` was corrected or voided: drops its case's rows and the surveys (it may
    /// be one) so they are read again, then scores its case again.
    func amended(_ eventId: String, knownAtUs: Int64, _ db: Database) throws {
        surveys = [:]
        let lookup = try db.cachedStatement(sql: "SELECT customerId, caseId FROM \(tables.entry) WHERE eventId = ?")
        guard let target = try GRDB.Row.fetchOne(lookup, arguments: [eventId]) else { return }
        let customerId: String = target["customerId"], caseId: String? = target["caseId"]
        if let caseId { cases[CaseKey(customerId: customerId, caseId: caseId)] = nil }
        try rescore(customerId: customerId, caseId: caseId, eventId: eventId, knownAtUs: knownAtUs, db)
    }

    /// A survey about `eventId` was inserted.
    func surveyAdded(about eventId: String) {
        surveys[eventId] = nil
    }

    /// Scores again every scored touchpoint of the case that `eventId` belongs to.
    func rescore(around eventId: String, knownAtUs: Int64, _ db: Database) throws {
        let lookup = try db.cachedStatement(sql: "SELECT customerId, caseId FROM \(tables.entry) WHERE eventId = ?")
        guard let target = try GRDB.Row.fetchOne(lookup, arguments: [eventId]) else { return }
        try rescore(customerId: target["customerId"], caseId: target["caseId"], eventId: eventId, knownAtUs: knownAtUs, db)
    }

    /// Scores again every scored touchpoint of the case `caseId`, or the touchpoint `eventId` when it has no case.
    func rescore(customerId: String, caseId: String?, eventId: String, knownAtUs: Int64, _ db: Database) throws {
        var rows: [Row]
        if let caseId {
            let key = CaseKey(customerId: customerId, caseId: caseId)
            if let cached = cases[key] {
                rows = cached
            } else {
                rows = try fetch(db, "customerId = ? AND caseId = ?", [customerId, caseId])
            }
            defer { cases[key] = rows }
            try rescore(&rows, customerId: customerId, caseId: caseId, knownAtUs: knownAtUs, db)
        } else {
            rows = try fetch(db, "eventId = ?", [eventId])
            try rescore(&rows, customerId: customerId, caseId: nil, knownAtUs: knownAtUs, db)
        }
    }

    private func rescore(_ rows: inout [Row], customerId: String, caseId: String?, knownAtUs: Int64, _ db: Database) throws {
        let live = rows.filter { !$0.voided }
        let machineDown = live.contains { $0.payload["machineDown"] == .bool(true) }
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
                if row.valence != nil {
                    try record(nil, row, customerId: customerId, caseId: caseId, knownAtUs: knownAtUs, db)
                    rows[index].valence = nil
                    rows[index].reasons = nil
                }
                continue
            }
            var context = CaseContext()
            context.machineDown = machineDown
            context.source = row.source
            context.earlierContacts = earlierContacts
            context.earlierVisits = earlierVisits
            context.followedUpAt = rows[(index + 1)...].first { !$0.voided && $0.occurred > row.occurred }?.occurred
            if row.type == "technician.visit.completed", let number = row.payload["visitNumber"] {
                context.promiseMadeAt = live.last {
                    $0.type == "technician.visit.scheduled" && $0.payload["visitNumber"] == number && $0.occurred <= row.occurred
                }?.occurred
            }
            if row.type == "complaint.resolved", let complaintId = row.ref {
                let complaint = try fetch(db, "customerId = ? AND ref = ?", [customerId, complaintId]).filter { !$0.voided }
                context.complaintFiledAt = complaint.first { $0.type == "complaint.filed" }?.occurred
                context.promisedResolutionDate = complaint.last { $0.type == "complaint.acknowledged" }?
                    .payload["promisedResolutionDate"]?.stringValue
            }
            context.surveys = try surveys(about: row.eventId, customerId: customerId, db)
            let score = scorer.score(type: row.type, occurred: row.occurred, payload: row.payload, context: context)
            if try record(score, row, customerId: customerId, caseId: caseId, knownAtUs: knownAtUs, db) {
                rows[index].valence = score?.valence
                rows[index].reasons = score.map(Self.reasons)
            }
        }
    }

    private func surveys(about eventId: String, customerId: String, _ db: Database) throws -> [SurveyAnswer] {
        if let known = surveys[eventId] { return known }
        let answers = try fetch(db, "customerId = ? AND ref = ? AND type = 'survey.answered'", [customerId, eventId])
            .filter { !$0.voided }
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

    /// Writes a changed score to the row and the history; nil marks a voided touchpoint. Returns false
    /// when the score has not changed.
    @discardableResult
    private func record(_ score: MomentScore?, _ row: Row, customerId: String, caseId: String?, knownAtUs: Int64, _ db: Database) throws -> Bool {
        let reasons = score.map(Self.reasons)
        if let score, score.valence == row.valence, reasons == row.reasons { return false }
        let update = try db.cachedStatement(sql: """
            UPDATE \(tables.entry) SET score = ?, valence = ?, impact = ?, moment = ?, promiseKind = ?, promiseKept = ?,
              reasons = ?, rulesVersion = ? WHERE position = ?
            """)
        try update.execute(
            arguments: [score?.score, score?.valence, score?.impact, score.map { $0.isMoment ? 1 : 0 }, score?.promiseCheck?.kind,
                        score?.promiseCheck.map { $0.kept ? 1 : 0 }, reasons, score?.rulesVersion, row.position])
        let insert = try db.cachedStatement(sql: """
            INSERT INTO \(tables.score) (position, customerId, caseId, type, occurredAtUs, knownAtUs, voided, valence, weighted,
              criticality, severity, moment, promiseKind, promiseKept, lateSeconds, reasons, rulesVersion)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        try insert.execute(arguments: [
            row.position, customerId, caseId, row.type, row.occurred.microseconds, knownAtUs, score == nil ? 1 : 0,
            score?.valence ?? 0, score?.weighted ?? 0, score?.criticality ?? 0, score?.severity ?? 0,
            score.map { $0.isMoment ? 1 : 0 } ?? 0, score?.promiseCheck?.kind, score?.promiseCheck.map { $0.kept ? 1 : 0 },
            score?.promiseCheck?.lateSeconds, reasons ?? "[]", scorer.rules.version,
        ])
        return true
    }

    private func fetch(_ db: Database, _ condition: String, _ arguments: StatementArguments) throws -> [Row] {
        let statement = try db.cachedStatement(sql: """
            SELECT position, eventId, type, occurredAtUs, payload, status, valence, reasons, ref, source FROM \(tables.entry)
            WHERE \(condition) ORDER BY occurredAtUs, position
            """)
        return try GRDB.Row.fetchAll(statement, arguments: arguments).map { row in
            Row(position: row[0], eventId: row[1], type: row[2], occurred: Timestamp(microseconds: row[3]),
                payload: (try? JSONParser.parse(row[4] as String)) ?? .null, voided: (row[5] as String) == "voided",
                valence: row[6], reasons: row[7], ref: row[8], source: row[9])
        }
    }
}

