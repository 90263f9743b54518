import Foundation
import GRDB
import Journal
import JournalScoring
import JournalStore

/// One customer's views as the journal knew them at an instant, folded on the spot from the events
/// recorded by then with the rules and weights in force then: what an evidence file shows.
///
/// The timeline and the facts are folded from the customer's own events into a scratch database;
/// only the month's segment boundaries, which rank the whole portfolio, come from the journal's
/// projections (``MonthlySegments``: computed from what was known at the month's start).
public struct CustomerAsKnownAt {
    public var timeline: [TimelineEntry]
    public var moments: CustomerMoments
    /// The churn risk, or nil when the customer was lost (or had no facts) by then.
    public var risk: CustomerRisk?
    /// The segment and the trailing revenue at the month's start, or nil when nothing of it was known.
    public var segment: (segment: String, revenue: Double, monthStart: Timestamp)?

    public init(store: EventStore, customerId: String, knownAt: Timestamp, rules: MomentRules, model: ChurnModel) throws {
        let month = MonthlySegments.monthStart(of: knownAt)
        let boundaries = try store.writer.read { db in try MonthlySegments.projected.boundaries(at: month, db) }
        let events = try store.history(of: customerId, knownAt: knownAt)
        let timelineProjection = JourneyTimeline(registry: store.validator.registry, rules: rules)
        let facts = CustomerFacts()
        let scratch = try DatabaseQueue()
        let insights = Insights(rules: rules, model: model)
        (timeline, moments, risk, segment) = try scratch.write { db in
            // The tables of the customer's events that the facts' corrections read.
            try db.execute(sql: "CREATE TABLE event (position INTEGER PRIMARY KEY, eventId TEXT, customerId TEXT, type TEXT, payload TEXT, occurredAtUs INTEGER)")
            for event in events {
                try db.execute(sql: "INSERT INTO event VALUES (?, ?, ?, ?, ?, ?)", arguments: [
                    event.position, event.eventId.rawValue, event.customerId, event.type, event.payload, event.occurred.microseconds,
                ])
            }
            for projection in [timelineProjection, facts] as [any Projection] {
                let tables = ProjectionTables(projection: projection.name, generation: 1)
                try projection.createTables(db, tables)
                try projection.completeTables(db, tables)
                try projection.apply(events, db, tables)
                for table in projection.tables {
                    try db.execute(sql: "CREATE VIEW \(ProjectionTables.view(projection.name, table)) AS SELECT * FROM \(tables[table])")
                }
            }
            // The portfolio's boundaries, not the ones of this customer alone.
            let segmentTable = ProjectionTables(projection: facts.name, generation: 1)["segment"]
            try db.execute(sql: "DELETE FROM \(segmentTable)")
            try db.execute(sql: """
                INSERT INTO \(segmentTable) (monthStartUs, customers, lastARevenue, lastACustomerId, lastBRevenue, lastBCustomerId)
                VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [month.microseconds, boundaries.customers, boundaries.lastA?.revenue, boundaries.lastA?.customerId,
                                 boundaries.lastB?.revenue, boundaries.lastB?.customerId])
            let entries = try JourneyTimeline.entries(of: customerId, in: db)
            let moments = try insights.moments(of: customerId, asOf: knownAt, in: db)
            let risk = try insights.churn(asOf: knownAt, customerId: customerId, in: db).first
            var segment: (String, Double, Timestamp)?
            try Insights.forEachHistory(in: db, customerId: customerId, scores: false) { history in
                guard let found = try insights.segment(of: history, asOf: knownAt, in: db) else { return }
                let revenue = Segmentation.trailingRevenue(history.facts(knownAt: month), asOf: month, windowDays: insights.segmentRules.windowDays)
                segment = (found, revenue, month)
            }
            return (entries, moments, risk, segment)
        }
    }
}
