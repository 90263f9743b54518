import Journal

/// ABC segments by trailing-12-month service revenue (Pareto): A are the customers that together
/// make the first `aShare` of revenue, B the next ones up to `bShare`, C the rest.
public struct SegmentRules: Sendable, Hashable {
    public var aShare: Double
    public var bShare: Double
    public var windowDays: Int

    public init(aShare: Double = 0.8, bShare: Double = 0.95, windowDays: Int = 365) {
        self.aShare = aShare
        self.bShare = bShare
        self.windowDays = windowDays
    }
}

/// One customer's segment as of a date.
public struct SegmentAssignment: Sendable, Hashable {
    public var customerId: String
    public var segment: String
    public var revenue: Double
    /// Share of the portfolio's revenue of this customer and all larger ones.
    public var cumulativeShare: Double
}

public enum Segmentation {
    /// Revenue of the trailing window ending at `asOf`, from facts as known then.
    public static func trailingRevenue(_ facts: [FactRow], asOf: Timestamp, windowDays: Int) -> Double {
        let start = asOf.microseconds - Int64(windowDays) * 86_400_000_000
        return facts.reduce(0) { sum, fact in
            fact.kind == "revenue" && fact.occurred.microseconds > start ? sum + (fact.amount ?? 0) : sum
        }
    }

    /// Assigns segments from each customer's trailing revenue; ties are broken by customer id.
    public static func assign(_ revenues: [(customerId: String, revenue: Double)], rules: SegmentRules) -> [SegmentAssignment] {
        let sorted = revenues.sorted { ($0.revenue, $1.customerId) > ($1.revenue, $0.customerId) }
        let total = sorted.reduce(0) { $0 + max(0, $1.revenue) }
        var cumulative = 0.0
        return sorted.map { item in
            let before = total > 0 ? cumulative / total : 1
            cumulative += max(0, item.revenue)
            let share = total > 0 ? cumulative / total : 1
            // A customer belongs to A when the revenue before it has not yet reached the A share.
            let segment = item.revenue <= 0 ? "C" : before < rules.aShare ? "A" : before < rules.bShare ? "B" : "C"
            return SegmentAssignment(customerId: item.customerId, segment: segment, revenue: item.revenue, cumulativeShare: share)
        }
    }
}
