import Foundation
import GRDB
import Journal
import JournalScoring
import JournalStore

/// Time-dependent answers — segments, journey index, churn risk — computed at query time from the
/// projected facts and scores and an explicit as-of date, so any past answer can be reproduced.
///
/// ```swift
/// let insights = Insights(rules: .bundled, model: try .bundled())
/// let risks = try insights.churn(asOf: today, in: db)
/// ```
public struct Insights: Sendable {
    public var rules: MomentRules
    public var model: ChurnModel
    public var segmentRules: SegmentRules

    public init(rules: MomentRules, model: ChurnModel, segmentRules: SegmentRules = SegmentRules()) {
        self.rules = rules
        self.model = model
        self.segmentRules = segmentRules
    }

    /// Every customer's segment as of `asOf`, largest revenue first: every customer with a fact known
    /// by then, ranked by its trailing revenue at the start of the month (``MonthlySegments``).
    public func segments(asOf: Timestamp, in db: Database) throws -> [SegmentAssignment] {
        let month = MonthlySegments.monthStart(of: asOf)
        var revenues = try MonthlySegments.projected.revenues(at: month, db)
        // Every customer with any fact counts (with zero revenue if it had no invoices then).
        let customers = try String.fetchAll(db, sql: "SELECT DISTINCT customerId FROM facts_fact WHERE occurredAtUs <= ? AND knownAtUs <= ?",
                                            arguments: [asOf.microseconds, asOf.microseconds])
        let seen = Set(revenues.map(\.customerId))
        for customer in customers where !seen.contains(customer) { revenues.append((customer, 0)) }
        return Segmentation.assign(revenues, rules: segmentRules)
    }

    /// One customer's segment as of `asOf` (nil when nothing of it was known then), from its own facts
    /// and the month's stored boundaries: the same answer as ``segments(asOf:in:)`` gives it.
    public func segment(of history: CustomerHistory, asOf: Timestamp, in db: Database) throws -> String? {
        guard history.facts.contains(where: { $0.recorded <= asOf && $0.occurred <= asOf }) else { return nil }
        let month = MonthlySegments.monthStart(of: asOf)
        let revenue = Segmentation.trailingRevenue(history.facts(knownAt: month), asOf: month, windowDays: segmentRules.windowDays)
        guard segmentRules == MonthlySegments.rules else {
            return try segments(asOf: asOf, in: db).first { $0.customerId == history.customerId }?.segment
        }
        return try MonthlySegments.projected.boundaries(at: month, db).segment(of: history.customerId, revenue: revenue)
    }

    /// Churn risk as of `asOf` of every customer not lost by then (or of one), highest first.
    public func churn(asOf: Timestamp, customerId: String? = nil, in db: Database) throws -> [CustomerRisk] {
        // One customer costs its own facts; the portfolio is ranked once.
        let segments = customerId == nil
            ? Dictionary(try segments(asOf: asOf, in: db).map { ($0.customerId, $0.segment) }, uniquingKeysWith: { a, _ in a })
            : [:]
        var risks: [CustomerRisk] = []
        try Self.forEachHistory(in: db, customerId: customerId, scores: true) { history in
            guard let segment = try customerId == nil ? segments[history.customerId] : segment(of: history, asOf: asOf, in: db) else { return }
            let features = ChurnFeatures(
                history: history, asOf: asOf, segment: segment, segmentOrderGapDays: model.segmentOrderGapDays, rules: rules)
            guard !features.isLost else { return }
            risks.append(CustomerRisk(customerId: history.customerId, segment: segment, features: features, risk: model.score(features)))
        }
        return risks.sorted(by: CustomerRisk.ranksAbove)
    }

    /// A customer's moments of truth, episodes and journey index as of `asOf`.
    public func moments(of customerId: String, asOf: Timestamp, in db: Database) throws -> CustomerMoments {
        var result = CustomerMoments(customerId: customerId, touchpoints: [], episodes: [], journey: nil, promisesKept: 0, promisesDue: 0)
        try Self.forEachHistory(in: db, customerId: customerId, scores: true) { history in
            let scored = history.touchpoints(knownAt: asOf)
            result.touchpoints = scored
            result.episodes = Episode.episodes(of: scored.map(\.touchpoint), rules: rules)
            let facts = history.facts(knownAt: asOf)
            // A customer lost (and not won back since): its journey ended there, and the index stops with it.
            if let loss = facts.standingLoss { result.lost = CustomerMoments.Loss(at: loss.occurred, reason: loss.detail) }
            result.journey = JourneyIndex(episodes: result.episodes, asOf: result.lost?.at ?? asOf, rules: rules)
            // Promise-keeping ratio, weighted by recency with the journey's half-life.
            for row in scored {
                guard let kept = row.promiseKept else { continue }
                let age = Double(asOf.microseconds - row.touchpoint.occurred.microseconds) / 86_400_000_000
                let weight = pow(0.5, age / rules.journey.halfLifeDays)
                result.promisesDue += weight
                if kept { result.promisesKept += weight }
            }
            let resolved = Set(facts.filter { $0.kind == "complaint.resolved" }.compactMap(\.key))
            result.openComplaints = facts.filter { $0.kind == "complaint" && !resolved.contains($0.key ?? "") }.map(\.occurred)
            let proactive = facts.filter { $0.kind == "proactive" && asOf.microseconds - $0.occurred.microseconds < 365 * 86_400_000_000 }
            result.proactiveContacts12m = proactive.count
            result.lastSurvey = facts.filter { $0.kind == "survey" }.max { $0.occurred < $1.occurred }
        }
        // The reasons of each touchpoint's latest score known by then.
        let reasons = try db.cachedStatement(sql: """
            SELECT position, reasons FROM timeline_score WHERE customerId = ? AND knownAtUs <= ? ORDER BY seq
            """)
        for row in try Row.fetchAll(reasons, arguments: [customerId, asOf.microseconds]) {
            guard case .array(let items)? = try? JSONParser.parse(row[1] as String) else { continue }
            result.reasons[row[0]] = items.compactMap(\.stringValue)
        }
        return result
    }

    /// Calls `body` with each customer's history, in customer-id order, streaming both tables.
    public static func forEachHistory(
        in db: Database, customerId: String? = nil, scores withScores: Bool, _ body: (CustomerHistory) throws -> Void
    ) throws {
        let filter = customerId == nil ? "" : "WHERE customerId = ?"
        let arguments: StatementArguments = customerId.map { [$0] } ?? []
        let facts = try Row.fetchCursor(db, sql: """
            SELECT customerId, position, revision, kind, occurredAtUs, knownAtUs, amount, key, detail
            FROM facts_fact \(filter) ORDER BY customerId, position, revision
            """, arguments: arguments)
        let scores = withScores
            ? try Row.fetchCursor(db, sql: """
                SELECT customerId, position, caseId, type, occurredAtUs, knownAtUs, voided, valence, weighted, criticality,
                  severity, moment, promiseKind, promiseKept, rulesVersion FROM timeline_score \(filter) ORDER BY customerId, seq
                """, arguments: arguments)
            : nil
        var pendingFact = try facts.next()
        var pendingScore = try scores?.next()
        while pendingFact != nil || pendingScore != nil {
            let candidates = [pendingFact?["customerId"] as String?, pendingScore?["customerId"] as String?].compactMap { $0 }
            let current = candidates.min()!
            var history = CustomerHistory(customerId: current, facts: [], scores: [])
            while let row = pendingFact, (row["customerId"] as String) == current {
                history.facts.append(FactRow(
                    position: row[1], revision: row[2], kind: row[3], occurred: Timestamp(microseconds: row[4]),
                    recorded: Timestamp(microseconds: row[5]), amount: row[6], key: row[7], detail: row[8]))
                pendingFact = try facts.next()
            }
            while let row = pendingScore, (row["customerId"] as String) == current {
                let promiseKept: Int? = row[13]
                let score = MomentScore(
                    valence: row[7], weighted: row[8], criticality: row[9], severity: row[10], isMoment: (row[11] as Int) == 1,
                    reasons: [], rulesVersion: row[14])
                history.scores.append(ScoreRow(
                    touchpoint: ScoredTouchpoint(position: row[1], occurred: Timestamp(microseconds: row[4]), caseId: row[2], type: row[3], score: score),
                    recorded: Timestamp(microseconds: row[5]), voided: (row[6] as Int) == 1, promiseKept: promiseKept.map { $0 == 1 },
                    promiseKind: row[12]))
                pendingScore = try scores?.next()
            }
            try body(history)
        }
    }
}

/// One customer's churn risk with the features behind it.
public struct CustomerRisk: Sendable {
    public var customerId: String
    public var segment: String
    public var features: ChurnFeatures
    public var risk: ChurnRisk

    /// The order of every ranking: the higher probability first, ties by customer id.
    public static func ranksAbove(_ a: CustomerRisk, _ b: CustomerRisk) -> Bool {
        (a.risk.probability, b.customerId) > (b.risk.probability, a.customerId)
    }
}

/// A customer's moments of truth as of a date.
public struct CustomerMoments: Sendable {
    public var customerId: String
    public var touchpoints: [ScoreRow]
    public var episodes: [Episode]
    public var journey: JourneyIndex?
    /// Recency-weighted kept and due promises: PKR_w = kept / due.
    public var promisesKept: Double
    public var promisesDue: Double
    /// When each open complaint was filed.
    public var openComplaints: [Timestamp] = []
    public var proactiveContacts12m = 0
    public var lastSurvey: FactRow?
    /// The reason codes of each scored touchpoint, by position.
    public var reasons: [Int64: [String]] = [:]
    /// When the customer was lost, if it was by the date and not won back since: ``journey`` is the
    /// index at the loss.
    public var lost: Loss?

    public struct Loss: Sendable, Hashable {
        public var at: Timestamp
        public var reason: String?
    }

    public var promiseKeepingRatio: Double? { promisesDue > 0 ? promisesKept / promisesDue : nil }
}
