import GRDB
import Journal
import JournalScoring

/// Where the timeline's fold reads and writes touchpoints: the projection's tables
/// (``TimelineTableRows``, a catch-up), or memory (``CustomerTimelineRows``, one customer of a
/// rebuild, whose rows are then written once). The fold is the same code either way.
protocol TimelineRows: AnyObject {
    /// Adds a touchpoint, not yet scored.
    func insert(_ touchpoint: NewTouchpoint) throws
    /// The customer and case of the touchpoint `eventId`.
    func place(of eventId: String) throws -> (customerId: String, caseId: String?)?
    /// The current payload of the touchpoint `eventId`.
    func payload(of eventId: String) throws -> String?
    /// Corrects the touchpoint `eventId` to `payload` (the first original is kept), or voids it when
    /// `payload` is nil, by the amendment `amendedBy`, known at `amendedAtUs`.
    func amend(_ eventId: String, payload: String?, amendedBy: String, amendedAtUs: Int64) throws
    /// The touchpoints `selection` picks, in business-time order.
    func touchpoints(_ selection: TouchpointSelection) throws -> [CaseScoring.Row]
    /// Sets a touchpoint's current score (nil: voided) and appends it to the score history.
    func record(_ score: RecordedScore) throws
}

/// A touchpoint as an event adds it to the timeline.
struct NewTouchpoint {
    var event: RecordedEvent
    var kind: String
    var reference: String?
    /// The event's payload, parsed: the fold has it already.
    var payload: JSONValue
}

/// Which touchpoints the fold reads back.
enum TouchpointSelection {
    /// The touchpoints of a customer's case.
    case inCase(customerId: String, caseId: String)
    /// One touchpoint.
    case event(String)
    /// A customer's touchpoints about one business object (complaint, order, quote) or event (surveys).
    case referring(customerId: String, reference: String)
}

/// A score as the fold records it: the touchpoint's new current score and a row of the score history.
struct RecordedScore {
    var seq: Int64
    var touchpoint: CaseScoring.Row
    var customerId: String
    var caseId: String?
    var knownAtUs: Int64
    /// Nil for a voided touchpoint.
    var score: MomentScore?
    /// The score's reason codes as stored: a canonical JSON array; nil with `score`.
    var reasons: String?
    var rulesVersion: Int

    /// Binds a history row, in the order of ``TimelineTableRows/scoreColumns``.
    func bindHistory(to statement: inout BoundStatement) {
        statement.bind(seq)
        statement.bind(touchpoint.position)
        statement.bind(customerId)
        statement.bind(caseId)
        statement.bind(touchpoint.type)
        statement.bind(touchpoint.occurred.microseconds)
        statement.bind(knownAtUs)
        statement.bind(score == nil ? 1 : 0)
        statement.bind(score?.valence ?? 0)
        statement.bind(score?.weighted ?? 0)
        statement.bind(score?.criticality ?? 0)
        statement.bind(score?.severity ?? 0)
        statement.bind(score.map { $0.isMoment ? 1 : 0 } ?? 0)
        statement.bind(score?.promiseCheck?.kind)
        statement.bind(score?.promiseCheck.map { $0.kept ? 1 : 0 })
        statement.bind(score?.promiseCheck?.lateSeconds)
        statement.bind(reasons ?? "[]")
        statement.bind(rulesVersion)
    }

    /// Binds a touchpoint's score columns, `score` … `rulesVersion`, all NULL when `score` is nil.
    static func bindColumns(of score: MomentScore?, reasons: String?, to statement: inout BoundStatement) {
        statement.bind(score?.score)
        statement.bind(score?.valence)
        statement.bind(score?.impact)
        statement.bind(score.map { $0.isMoment ? 1 : 0 })
        statement.bind(score?.promiseCheck?.kind)
        statement.bind(score?.promiseCheck.map { $0.kept ? 1 : 0 })
        statement.bind(reasons)
        statement.bind(score?.rulesVersion)
    }
}

/// The timeline's touchpoints in one generation of its tables.
final class TimelineTableRows: TimelineRows {
    let db: Database
    let entry: String
    let score: String

    /// The columns of a score history row, in the order of ``RecordedScore/bindHistory(to:)``.
    static let scoreColumns = """
        seq, position, customerId, caseId, type, occurredAtUs, knownAtUs, voided, valence, weighted, criticality, severity, moment,
        promiseKind, promiseKept, lateSeconds, reasons, rulesVersion
        """

    /// The columns a new touchpoint is inserted with, in the order of ``bind(_:payload:to:)``.
    static let touchpointColumns = """
        position, eventId, customerId, occurredAtUs, occurredAt, knownAtUs, type, kind, caseId, assetId, siteId, actor, ref, payload, source
        """

    static func bind(_ touchpoint: NewTouchpoint, payload: String, to statement: inout BoundStatement) {
        let event = touchpoint.event
        statement.bind(event.position)
        statement.bind(event.eventId.rawValue)
        statement.bind(event.customerId)
        statement.bind(event.occurred.microseconds)
        statement.bind(event.occurredAt)
        statement.bind(event.knownAt.microseconds)
        statement.bind(event.type)
        statement.bind(touchpoint.kind)
        statement.bind(event.caseId)
        statement.bind(event.assetId)
        statement.bind(event.siteId)
        statement.bind(event.actor)
        statement.bind(touchpoint.reference)
        statement.bind(payload)
        statement.bind(event.source)
    }

    static func placeholders(_ count: Int) -> String {
        Array(repeating: "?", count: count).joined(separator: ", ")
    }

    /// The statements' text, made once: a catch-up runs them for every event.
    let insertTouchpointSQL: String
    /// Inserts a touchpoint as a rebuild's fold left it: ``touchpointColumns``, then the amendment's
    /// and the score's columns.
    let insertFoldedTouchpointSQL: String
    let updateScoreSQL: String
    let insertScoreSQL: String

    init(_ db: Database, entry: String, score: String) {
        self.db = db
        self.entry = entry
        self.score = score
        insertTouchpointSQL = "INSERT INTO \(entry) (\(Self.touchpointColumns), status) VALUES (\(Self.placeholders(15)), 'recorded')"
        insertFoldedTouchpointSQL = """
            INSERT INTO \(entry) (\(Self.touchpointColumns), originalPayload, status, amendedBy, amendedAtUs,
              score, valence, impact, moment, promiseKind, promiseKept, reasons, rulesVersion)
            VALUES (\(Self.placeholders(27)))
            """
        updateScoreSQL = """
            UPDATE \(entry) SET score = ?, valence = ?, impact = ?, moment = ?, promiseKind = ?, promiseKept = ?, reasons = ?, rulesVersion = ?
            WHERE eventId = ?
            """
        insertScoreSQL = "INSERT INTO \(score) (\(Self.scoreColumns)) VALUES (\(Self.placeholders(18)))"
    }

    func insert(_ touchpoint: NewTouchpoint) throws {
        var insert = try BoundStatement(db, sql: insertTouchpointSQL)
        Self.bind(touchpoint, payload: touchpoint.event.payload, to: &insert)
        try insert.run()
    }

    func place(of eventId: String) throws -> (customerId: String, caseId: String?)? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT customerId, caseId FROM \(entry) WHERE eventId = ?"), arguments: [eventId])
            .map { ($0[0], $0[1]) }
    }

    func payload(of eventId: String) throws -> String? {
        try String.fetchOne(db.cachedStatement(sql: "SELECT payload FROM \(entry) WHERE eventId = ?"), arguments: [eventId])
    }

    func amend(_ eventId: String, payload: String?, amendedBy: String, amendedAtUs: Int64) throws {
        if let payload {
            try db.cachedStatement(sql: """
                UPDATE \(entry) SET originalPayload = coalesce(originalPayload, payload), payload = ?,
                  status = CASE status WHEN 'voided' THEN 'voided' ELSE 'corrected' END, amendedBy = ?, amendedAtUs = ?
                WHERE eventId = ?
                """).execute(arguments: [payload, amendedBy, amendedAtUs, eventId])
        } else {
            try db.cachedStatement(sql: "UPDATE \(entry) SET status = 'voided', amendedBy = ?, amendedAtUs = ? WHERE eventId = ?")
                .execute(arguments: [amendedBy, amendedAtUs, eventId])
        }
    }

    func touchpoints(_ selection: TouchpointSelection) throws -> [CaseScoring.Row] {
        let (condition, arguments): (String, StatementArguments) = switch selection {
        case .inCase(let customerId, let caseId): ("customerId = ? AND caseId = ?", [customerId, caseId])
        case .event(let eventId): ("eventId = ?", [eventId])
        case .referring(let customerId, let reference): ("customerId = ? AND ref = ?", [customerId, reference])
        }
        let statement = try db.cachedStatement(sql: """
            SELECT position, eventId, type, occurredAtUs, payload, status, valence, reasons, ref, source FROM \(entry)
            WHERE \(condition) ORDER BY occurredAtUs, position
            """)
        return try Row.fetchAll(statement, arguments: arguments).map { row in
            CaseScoring.Row(position: row[0], eventId: row[1], type: row[2], occurred: Timestamp(microseconds: row[3]),
                            payload: (try? JSONParser.parse(row[4] as String)) ?? .null, voided: (row[5] as String) == "voided",
                            valence: row[6], reasons: row[7], ref: row[8], source: row[9])
        }
    }

    func record(_ recorded: RecordedScore) throws {
        var update = try BoundStatement(db, sql: updateScoreSQL)
        RecordedScore.bindColumns(of: recorded.score, reasons: recorded.reasons, to: &update)
        update.bind(recorded.touchpoint.eventId)
        try update.run()
        var insert = try BoundStatement(db, sql: insertScoreSQL)
        recorded.bindHistory(to: &insert)
        try insert.run()
    }
}

/// A touchpoint as the timeline's `entry` row holds it, while a rebuild folds its customer in memory.
private struct FoldedTouchpoint {
    var new: NewTouchpoint
    var payload: String
    /// `payload` parsed: the event's, as the fold parsed it; after a correction, once it is read back.
    var parsed: JSONValue?
    var originalPayload: String?
    var status = "recorded"
    var amendedBy: String?
    var amendedAtUs: Int64?
    var score: MomentScore?
    var reasons: String?
}

/// One customer's touchpoints held in memory while a rebuild folds its events; ``rows`` are then
/// written, each touchpoint once, as the fold left it, and the score history.
final class CustomerTimelineRows: TimelineRows {
    private typealias Touchpoint = FoldedTouchpoint

    private var touchpoints: [Touchpoint] = []
    private var byEvent: [String: Int] = [:]
    private var byCase: [String: [Int]] = [:]
    private var byReference: [String: [Int]] = [:]
    private var history: [RecordedScore] = []

    func insert(_ touchpoint: NewTouchpoint) throws {
        let index = touchpoints.count
        touchpoints.append(Touchpoint(new: touchpoint, payload: touchpoint.event.payload, parsed: touchpoint.payload))
        byEvent[touchpoint.event.eventId.rawValue] = index
        if let caseId = touchpoint.event.caseId { byCase[caseId, default: []].append(index) }
        if let reference = touchpoint.reference { byReference[reference, default: []].append(index) }
    }

    func place(of eventId: String) throws -> (customerId: String, caseId: String?)? {
        byEvent[eventId].map { (touchpoints[$0].new.event.customerId, touchpoints[$0].new.event.caseId) }
    }

    func payload(of eventId: String) throws -> String? {
        byEvent[eventId].map { touchpoints[$0].payload }
    }

    func amend(_ eventId: String, payload: String?, amendedBy: String, amendedAtUs: Int64) throws {
        guard let index = byEvent[eventId] else { return }
        if let payload {
            touchpoints[index].originalPayload = touchpoints[index].originalPayload ?? touchpoints[index].payload
            touchpoints[index].payload = payload
            touchpoints[index].parsed = nil
            if touchpoints[index].status != "voided" { touchpoints[index].status = "corrected" }
        } else {
            touchpoints[index].status = "voided"
        }
        touchpoints[index].amendedBy = amendedBy
        touchpoints[index].amendedAtUs = amendedAtUs
    }

    func touchpoints(_ selection: TouchpointSelection) throws -> [CaseScoring.Row] {
        let indices: [Int] = switch selection {
        case .inCase(_, let caseId): byCase[caseId] ?? []
        case .event(let eventId): byEvent[eventId].map { [$0] } ?? []
        case .referring(_, let reference): byReference[reference] ?? []
        }
        return indices
            .sorted { (touchpoints[$0].new.event.occurred, touchpoints[$0].new.event.position) < (touchpoints[$1].new.event.occurred, touchpoints[$1].new.event.position) }
            .map { index in
                if touchpoints[index].parsed == nil {
                    touchpoints[index].parsed = (try? JSONParser.parse(touchpoints[index].payload)) ?? .null
                }
                let touchpoint = touchpoints[index]
                return CaseScoring.Row(
                    position: touchpoint.new.event.position, eventId: touchpoint.new.event.eventId.rawValue, type: touchpoint.new.event.type,
                    occurred: touchpoint.new.event.occurred, payload: touchpoint.parsed ?? .null, voided: touchpoint.status == "voided",
                    valence: touchpoint.score?.valence, reasons: touchpoint.reasons, ref: touchpoint.new.reference, source: touchpoint.new.event.source)
            }
    }

    func record(_ recorded: RecordedScore) throws {
        if let index = byEvent[recorded.touchpoint.eventId] {
            touchpoints[index].score = recorded.score
            touchpoints[index].reasons = recorded.reasons
        }
        history.append(recorded)
    }

    /// The customer's rows as the fold left them.
    var rows: FoldedTimelineRows { FoldedTimelineRows(touchpoints: touchpoints, history: history) }
}

/// A customer's timeline rows as a rebuild's fold left them, ready to be written.
struct FoldedTimelineRows {
    fileprivate let touchpoints: [FoldedTouchpoint]
    let history: [RecordedScore]

    /// Writes the touchpoints, in position order, and the score history into the tables.
    func write(to tables: TimelineTableRows) throws {
        var insert = try BoundStatement(tables.db, sql: tables.insertFoldedTouchpointSQL)
        for touchpoint in touchpoints {
            TimelineTableRows.bind(touchpoint.new, payload: touchpoint.payload, to: &insert)
            insert.bind(touchpoint.originalPayload)
            insert.bind(touchpoint.status)
            insert.bind(touchpoint.amendedBy)
            insert.bind(touchpoint.amendedAtUs)
            RecordedScore.bindColumns(of: touchpoint.score, reasons: touchpoint.reasons, to: &insert)
            try insert.run()
        }
        var score = try BoundStatement(tables.db, sql: tables.insertScoreSQL)
        for recorded in history {
            recorded.bindHistory(to: &score)
            try score.run()
        }
    }
}
