import GRDB
import Journal
import JournalScoring

/// Scores the touchpoints of a case (or a touchpoint without one) from the timeline's rows, and
/// records each changed score in the score history.
struct CaseScoring {
    let scorer: TouchpointScorer
    let tables: TimelineTables

    private struct Row {
        var position: Int64
        var eventId: String
        var type: String
        var occurred: Timestamp
        var payload: JSONValue
        var voided: Bool
        var valence: Double?
        var reasons: String?
        var ref: String?
    }

    /// Scores again every scored touchpoint of the case that `eventId` belongs to.
    func rescore(around eventId: String, recordedAtUs: Int64, _ db: Database) throws {
        guard let target = try GRDB.Row.fetchOne(
            db, sql: "SELECT customerId, caseId FROM \(tables.entry) WHERE eventId = ?", arguments: [eventId])
        else { return }
        let customerId: String = target["customerId"]
        let caseId: String? = target["caseId"]
        let rows: [Row]
        if let caseId {
            rows = try fetch(db, "customerId = ? AND caseId = ?", [customerId, caseId])
        } else {
            rows = try fetch(db, "eventId = ?", [eventId])
        }
        let live = rows.filter { !$0.voided }
        let machineDown = live.contains { $0.payload["machineDown"] == .bool(true) }
        for (index, row) in rows.enumerated() where scorer.rules.rule(for: row.type) != nil {
            if row.type == "survey.answered", row.ref != nil { continue }
            if row.voided {
                if row.valence != nil { try record(nil, row, customerId: customerId, caseId: caseId, recordedAtUs: recordedAtUs, db) }
                continue
            }
            let earlier = rows[..<index].filter { !$0.voided }
            var context = CaseContext()
            context.machineDown = machineDown
            context.earlierContacts = earlier.count { $0.type == "hotline.call.received" }
            context.earlierVisits = earlier.count { $0.type == "technician.visit.completed" }
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
            context.surveys = try fetch(db, "customerId = ? AND ref = ? AND type = 'survey.answered'", [customerId, row.eventId])
                .filter { !$0.voided }
                .map { survey in
                    SurveyAnswer(csi: survey.payload["csi"]?.integer, ces: survey.payload["ces"]?.integer,
                                 recommend: survey.payload["recommend"]?.integer)
                }
            let score = scorer.score(type: row.type, occurred: row.occurred, payload: row.payload, context: context)
            try record(score, row, customerId: customerId, caseId: caseId, recordedAtUs: recordedAtUs, db)
        }
    }

    /// Writes a changed score to the row and the history; nil marks a voided touchpoint.
    private func record(_ score: MomentScore?, _ row: Row, customerId: String, caseId: String?, recordedAtUs: Int64, _ db: Database) throws {
        let reasons = score.map { CanonicalJSON.string(.array($0.reasons.map(JSONValue.string))) }
        if let score, score.valence == row.valence, reasons == row.reasons { return }
        try db.execute(
            sql: """
                UPDATE \(tables.entry) SET score = ?, valence = ?, impact = ?, moment = ?, promiseKind = ?, promiseKept = ?,
                  reasons = ?, rulesVersion = ? WHERE position = ?
                """,
            arguments: [score?.score, score?.valence, score?.impact, score.map { $0.isMoment ? 1 : 0 }, score?.promiseCheck?.kind,
                        score?.promiseCheck.map { $0.kept ? 1 : 0 }, reasons, score?.rulesVersion, row.position])
        let insert = try db.cachedStatement(sql: """
            INSERT INTO \(tables.score) (position, customerId, caseId, type, occurredAtUs, recordedAtUs, voided, valence, weighted,
              criticality, severity, moment, promiseKind, promiseKept, lateSeconds, reasons, rulesVersion)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        try insert.execute(arguments: [
            row.position, customerId, caseId, row.type, row.occurred.microseconds, recordedAtUs, score == nil ? 1 : 0,
            score?.valence ?? 0, score?.weighted ?? 0, score?.criticality ?? 0, score?.severity ?? 0,
            score.map { $0.isMoment ? 1 : 0 } ?? 0, score?.promiseCheck?.kind, score?.promiseCheck.map { $0.kept ? 1 : 0 },
            score?.promiseCheck?.lateSeconds, reasons ?? "[]", scorer.rules.version,
        ])
    }

    private func fetch(_ db: Database, _ condition: String, _ arguments: StatementArguments) throws -> [Row] {
        let statement = try db.cachedStatement(sql: """
            SELECT position, eventId, type, occurredAtUs, payload, status, valence, reasons, ref FROM \(tables.entry)
            WHERE \(condition) ORDER BY occurredAtUs, position
            """)
        return try GRDB.Row.fetchAll(statement, arguments: arguments).map { row in
            Row(position: row[0], eventId: row[1], type: row[2], occurred: Timestamp(microseconds: row[3]),
                payload: (try? JSONParser.parse(row[4] as String)) ?? .null, voided: (row[5] as String) == "voided",
                valence: row[6], reasons: row[7], ref: row[8])
        }
    }
}

extension JSONValue {
    /// The value as a whole number, if it is one.
    var integer: Int? {
        if case .number(let number) = self, number.isInteger { return Int(number.value) }
        return nil
    }
}
