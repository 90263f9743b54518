import GRDB
import Journal
import JournalScoring
import JournalStore

/// One consistent read of the log and its projections: every answer taken from a snapshot sees the
/// same commits. The server and the command line read projections only through it, never through a
/// database connection; it is valid only inside the closure of ``EventStore/readProjections(_:)``.
///
/// ```swift
/// let (entries, risk) = try await store.readProjections { snapshot in
///     (try snapshot.timeline(of: "C-1001"), try snapshot.churn(asOf: now, customerId: "C-1001", insights).first)
/// }
/// ```
public struct ProjectionSnapshot {
    let db: Database

    /// Whether the log holds any event of the customer.
    public func hasEvents(of customerId: String) throws -> Bool {
        try EventStore.streamVersion(of: customerId, in: db) > 0
    }

    /// The customer's journey timeline as folded, the touchpoints `filter` admits.
    public func timeline(of customerId: String, filter: TimelineFilter = TimelineFilter()) throws -> [TimelineEntry] {
        try JourneyTimeline.entries(of: customerId, filter: filter, in: db)
    }

    /// Appends the customer's stored timeline document (the JSON array of its entries) to `output`;
    /// false, appending nothing, when none is stored (no touchpoints, its rewrite is not committed, or
    /// a rebuild of the timeline has not switched yet).
    public func appendTimelineDocument(of customerId: String, to output: inout [UInt8]) throws -> Bool {
        try JourneyTimeline.appendDocument(of: customerId, to: &output, in: db)
    }

    /// The customer's moments of truth as of `asOf`.
    public func moments(of customerId: String, asOf: Timestamp, _ insights: Insights) throws -> CustomerMoments {
        try insights.moments(of: customerId, asOf: asOf, in: db)
    }

    /// Churn risk as of `asOf`: of one customer, or of every customer not lost by then.
    public func churn(asOf: Timestamp, customerId: String? = nil, _ insights: Insights) throws -> [CustomerRisk] {
        try insights.churn(asOf: asOf, customerId: customerId, in: db)
    }

    /// The ABC segments of the portfolio as of `asOf`.
    public func segments(asOf: Timestamp, _ insights: Insights) throws -> [SegmentAssignment] {
        try insights.segments(asOf: asOf, in: db)
    }

    /// The portfolio ranked by risk as of `asOf` (``RiskBoard``).
    public func ranking(_ board: RiskBoard, asOf: Timestamp, insights: Insights, weights: String) throws -> [CustomerRisk] {
        try board.ranking(asOf: asOf, insights: insights, weights: weights, in: db)
    }

    /// Customers matching `text` (``CustomerDirectory``), a page of them with the count of all.
    public func search(_ text: String, limit: Int, offset: Int = 0) throws -> CustomerDirectory.Page {
        try CustomerDirectory.search(text, limit: limit, offset: offset, in: db)
    }

    /// The names of the customers that have one.
    public func names(of customerIds: some Sequence<String>) throws -> [String: String] {
        try CustomerDirectory.names(of: customerIds, in: db)
    }

    /// The samples a churn model is fitted on (``ChurnTraining``).
    public func churnSamples(_ training: ChurnTraining, progress: ((Int, Int) -> Void)? = nil) throws -> [ChurnSample] {
        try training.samples(in: db, progress: progress)
    }
}

extension EventStore {
    /// Runs `body` on one consistent snapshot of the log and its projections.
    public func readProjections<T>(_ body: (ProjectionSnapshot) throws -> T) throws -> T {
        try writer.read { db in try body(ProjectionSnapshot(db: db)) }
    }

    /// Runs `body` on one consistent snapshot of the log and its projections, without blocking the
    /// caller's thread while it waits for a connection.
    public func readProjections<T: Sendable>(_ body: @escaping @Sendable (ProjectionSnapshot) throws -> T) async throws -> T {
        try await writer.read { db in try body(ProjectionSnapshot(db: db)) }
    }
}
