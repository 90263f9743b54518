import GRDB
import Journal
import Synchronization

/// The portfolio's churn risk as of the start of a UTC day, ranked, and kept: computed once a day
/// (and when the projections are rebuilt or other weights apply), then brought up to date by scoring
/// again only the customers with events folded since. The at-risk list is then a read of the
/// ranking, however large the portfolio.
///
/// Exact: its answer is ``Insights/churn(asOf:customerId:in:)`` as of the day's start on the folded
/// log. A customer's risk depends only on its own facts and scores known by then and on the segment
/// boundaries of the month, which rank facts known at the month's start: new events recorded after the
/// day's start change nothing, those recorded earlier change their own customers, and those recorded by
/// the month's start (an import of history) change the boundaries, so everyone is ranked afresh.
///
/// ```swift
/// let board = RiskBoard()
/// let ranked = try store.writer.read { db in try board.ranking(asOf: RiskBoard.dayStart(of: now), insights: insights, weights: "bundled", in: db) }
/// ```
public final class RiskBoard: Sendable {
    private struct State {
        var asOf: Timestamp
        var weights: String
        /// The generations of the facts and timeline projections it was computed from.
        var generations: [Int64]
        /// The log position both projections had folded.
        var folded: Int64
        var risks: [String: CustomerRisk]
        var ranked: [CustomerRisk]
    }

    private let state = Mutex<State?>(nil)
    private let rankings = Atomic<Int>(0)

    /// How many times the whole portfolio was ranked afresh.
    public var rankingsAfresh: Int { rankings.load(ordering: .relaxed) }

    public init() {}

    /// The start (00:00 UTC) of the day `instant` falls in.
    public static func dayStart(of instant: Timestamp) -> Timestamp {
        let day: Int64 = 86_400_000_000
        let days = instant.microseconds >= 0 ? instant.microseconds / day : (instant.microseconds - day + 1) / day
        return Timestamp(microseconds: days * day)
    }

    /// Every customer not lost by `asOf`, highest risk first (ties by customer id), as `insights`
    /// scores them on what the projections in `db` have folded. `weights` names the churn weights
    /// `insights` holds: other weights start the ranking afresh.
    public func ranking(asOf: Timestamp, insights: Insights, weights: String, in db: Database) throws -> [CustomerRisk] {
        let projections = try Row.fetchAll(db, sql: """
            SELECT name, generation, checkpoint FROM projection WHERE name IN (?, ?) ORDER BY name
            """, arguments: [CustomerFacts().name, JourneyTimeline.projectionName])
        let generations = projections.map { $0["generation"] as Int64? ?? 0 }
        let folded = projections.map { $0["checkpoint"] as Int64 }.min() ?? 0
        return try state.withLock { state in
            func rankAfresh(_ state: inout State?) throws -> [CustomerRisk] {
                let ranked = try insights.churn(asOf: asOf, in: db)
                state = State(asOf: asOf, weights: weights, generations: generations, folded: folded,
                              risks: Dictionary(ranked.map { ($0.customerId, $0) }, uniquingKeysWith: { first, _ in first }), ranked: ranked)
                rankings.add(1, ordering: .relaxed)
                return ranked
            }
            guard var current = state, current.asOf == asOf, current.weights == weights, current.generations == generations,
                  projections.count == 2, folded >= current.folded
            else { return try rankAfresh(&state) }
            guard folded > current.folded else { return current.ranked }
            // What the new events can change: nothing if recorded after `asOf`; the month's segment
            // boundaries, so everyone, if recorded by the month's start (an import of history); else
            // the risk of their own customers.
            let changed = try Row.fetchAll(db, sql: """
                SELECT customerId, min(coalesce(sourceRecordedAtUs, recordedAtUs)) FROM event
                WHERE position > ? AND position <= ? GROUP BY customerId
                """, arguments: [current.folded, folded]).map { (customerId: $0[0] as String, knownAt: $0[1] as Int64) }
            if changed.contains(where: { $0.knownAt <= MonthlySegments.monthStart(of: asOf).microseconds }) {
                return try rankAfresh(&state)
            }
            let rescored = changed.filter { $0.knownAt <= asOf.microseconds }.map(\.customerId)
            for customerId in rescored {
                current.risks[customerId] = try insights.churn(asOf: asOf, customerId: customerId, in: db).first
            }
            if !rescored.isEmpty { current.ranked = current.risks.values.sorted(by: CustomerRisk.ranksAbove) }
            current.folded = folded
            state = current
            return current.ranked
        }
    }
}
