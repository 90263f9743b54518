import Journal

/// The churn features of one customer as of a date (cx-metrics §2.5), each with the facts behind it
/// so that a reason can be told in a specific sentence.
public struct ChurnFeatures: Sendable, Hashable {
    /// Feature values by name (see ``ChurnFeatures/names``).
    public var values: [String: Double]
    /// Sentences explaining each feature's value, by name.
    public var sentences: [String: String]
    public var segment: String
    /// The customer was lost (and not won back) by then: there is no risk left to score.
    public var isLost: Bool

    /// Every feature, in the order they are reported.
    public static let names = [
        "recencyRatio", "revenueDecline", "declinedQuotes6m", "hitRateDrop", "brokenPromises12m", "journeyDeficit",
        "journeyDrop", "openComplaints", "complaints12m", "calls90d", "detractor", "contractLapsed",
    ]

    /// Computes the features from a customer's history as known at `asOf`.
    ///
    /// - Parameters:
    ///   - segment: the customer's ABC segment at `asOf`.
    ///   - segmentOrderGapDays: usual days between parts orders per segment; a customer's own median
    ///     gap is shrunk towards it when there are few orders.
    public init(history: CustomerHistory, asOf: Timestamp, segment: String, segmentOrderGapDays: [String: Double], rules: MomentRules) {
        let day = 86_400_000_000.0
        let facts = history.facts(knownAt: asOf)
        func daysAgo(_ t: Timestamp) -> Double { Double(asOf.microseconds - t.microseconds) / day }
        func within(_ days: Double) -> [FactRow] { facts.filter { daysAgo($0.occurred) < days } }
        var values: [String: Double] = [:]
        var sentences: [String: String] = [:]
        self.segment = segment

        isLost = facts.standingLoss != nil

        // 1. Recency of parts orders against the customer's own cadence, shrunk to the segment's.
        let orders = facts.filter { $0.kind == "order" }.map(\.occurred).sorted()
        let segmentGap = segmentOrderGapDays[segment] ?? 120
        var gaps: [Double] = []
        for index in orders.indices.dropFirst() { gaps.append(Double(orders[index].microseconds - orders[index - 1].microseconds) / day) }
        let ownMedian = median(gaps) ?? segmentGap
        let n = Double(gaps.count)
        let expected = max(7, (n * ownMedian + 3 * segmentGap) / (n + 3))
        let since = orders.last ?? facts.map(\.occurred).min() ?? asOf
        let recency = daysAgo(since)
        values["recencyRatio"] = min(6, recency / expected)
        sentences["recencyRatio"] = orders.isEmpty
            ? "No parts order in \(Int(recency)) days of relationship (segment \(segment) usually orders every \(Int(segmentGap)) days)"
            : "No parts order for \(format1(recency / expected))× the usual interval (\(Int(recency)) days; usually \(Int(expected.rounded())))"

        // 2. Revenue trend: last 12 months against the 12 before.
        let last12 = sum(facts.filter { $0.kind == "revenue" && daysAgo($0.occurred) < 365 })
        let previous12 = sum(facts.filter { $0.kind == "revenue" && daysAgo($0.occurred) >= 365 && daysAgo($0.occurred) < 730 })
        let trend = previous12 > 0 ? max(-1, min(1, (last12 - previous12) / previous12)) : 0
        values["revenueDecline"] = max(0, -trend)
        sentences["revenueDecline"] = "Parts and service revenue \(percent(trend)) vs the prior 12 months (\(money(last12)) after \(money(previous12)))"

        // 3–4. Quotes declined lately and the hit rate against the 24-month baseline.
        let quotes6 = within(182.5), quotes24 = within(730)
        let declined6 = quotes6.count { $0.kind == "quote.declined" }, accepted6 = quotes6.count { $0.kind == "quote.accepted" }
        let declined24 = quotes24.count { $0.kind == "quote.declined" }, accepted24 = quotes24.count { $0.kind == "quote.accepted" }
        values["declinedQuotes6m"] = Double(min(5, declined6))
        sentences["declinedQuotes6m"] = "\(declined6) quote\(declined6 == 1 ? "" : "s") declined in the last 6 months"
        let hit6 = accepted6 + declined6 > 0 ? Double(accepted6) / Double(accepted6 + declined6) : nil
        let hit24 = accepted24 + declined24 > 0 ? Double(accepted24) / Double(accepted24 + declined24) : nil
        values["hitRateDrop"] = hit6.flatMap { h6 in hit24.map { max(0, $0 - h6) } } ?? 0
        sentences["hitRateDrop"] = "Quote hit rate \(Int(((hit6 ?? 0) * 100).rounded()))% in 6 months vs \(Int(((hit24 ?? 0) * 100).rounded()))% over 24 months"

        // 5–7. Broken promises and the journey index, from the scores as known then.
        let scored = history.touchpoints(knownAt: asOf)
        let broken = scored.filter { $0.promiseKept == false && daysAgo($0.touchpoint.occurred) < 365 }
        values["brokenPromises12m"] = Double(min(10, broken.count))
        let kinds = Set(broken.compactMap(\.promiseKind)).sorted().joined(separator: ", ")
        sentences["brokenPromises12m"] = "\(broken.count) broken promise\(broken.count == 1 ? "" : "s") in 12 months\(kinds.isEmpty ? "" : " (\(kinds))")"
        let episodes = Episode.episodes(of: scored.map(\.touchpoint), rules: rules)
        let journey = JourneyIndex(episodes: episodes, asOf: asOf, rules: rules)
        let halfYearAgo = Timestamp(microseconds: asOf.microseconds - Int64(182.5 * day))
        let earlierEpisodes = Episode.episodes(of: history.touchpoints(knownAt: halfYearAgo).map(\.touchpoint), rules: rules)
        let earlier = JourneyIndex(episodes: earlierEpisodes, asOf: halfYearAgo, rules: rules)
        values["journeyDeficit"] = max(0, -(journey?.value ?? 0))
        values["journeyDrop"] = max(0, (earlier?.value ?? journey?.value ?? 0) - (journey?.value ?? 0))
        let journeyText = journey.map { "Journey index \($0.display)/100 (\($0.band))" } ?? "No scored touchpoints"
        sentences["journeyDeficit"] = journeyText
        sentences["journeyDrop"] = "Journey index fell from \(earlier?.display ?? journey?.display ?? 50) to \(journey?.display ?? 50) in six months"

        // 8–9. Complaints: open ones and how many lately.
        let filed = facts.filter { $0.kind == "complaint" }
        let resolved = Set(facts.filter { $0.kind == "complaint.resolved" }.compactMap(\.key))
        let open = filed.filter { $0.key == nil || !resolved.contains($0.key!) }
        values["openComplaints"] = Double(min(5, open.count))
        let oldest = open.map { Int(daysAgo($0.occurred)) }.max() ?? 0
        sentences["openComplaints"] = "\(open.count) open complaint\(open.count == 1 ? "" : "s")\(open.isEmpty ? "" : ", oldest \(oldest) days")"
        let recentComplaints = filed.count { daysAgo($0.occurred) < 365 }
        values["complaints12m"] = Double(min(5, recentComplaints))
        sentences["complaints12m"] = "\(recentComplaints) complaint\(recentComplaints == 1 ? "" : "s") in 12 months"

        // 10. Hotline intensity.
        let calls = within(90).count { $0.kind == "call" }
        values["calls90d"] = Double(min(10, calls))
        sentences["calls90d"] = "\(calls) hotline call\(calls == 1 ? "" : "s") in 90 days"

        // 11. Voice: the latest survey.
        let survey = facts.filter { $0.kind == "survey" }.max { ($0.occurred, $0.position) < ($1.occurred, $1.position) }
        let recommend = survey?.amount, csi = survey?.detail.flatMap { Int($0) }
        let detractor = (recommend.map { $0 <= 6 } ?? false) || (csi.map { $0 <= 2 } ?? false)
        values["detractor"] = detractor ? 1 : 0
        sentences["detractor"] = "Last survey: " + [recommend.map { "recommend \(Int($0))/10" }, csi.map { "satisfaction \($0)/5" }]
            .compactMap { $0 }.joined(separator: ", ")

        // 12. Contract not renewed or cancelled in the last 12 months.
        var lapsed: String?
        var contractEnds: [String: String] = [:]
        for fact in facts.sorted(by: { $0.occurred < $1.occurred }) {
            if fact.kind == "contract", let key = fact.key, let end = fact.detail { contractEnds[key] = end }
            if fact.kind == "contract.cancelled", daysAgo(fact.occurred) < 365 { lapsed = "Service contract \(fact.key ?? "") cancelled" }
        }
        let latestEnd = contractEnds.max { $0.value < $1.value }
        if lapsed == nil, let (contract, end) = latestEnd, let endDate = try? Timestamp(utcDate: end), endDate < asOf, daysAgo(endDate) < 365 {
            lapsed = "Service contract \(contract) ended \(end) without renewal"
        }
        values["contractLapsed"] = lapsed == nil ? 0 : 1
        sentences["contractLapsed"] = lapsed ?? "Contract in force or none"

        self.values = values
        self.sentences = sentences
    }
}

func median(_ values: [Double]) -> Double? {
    guard !values.isEmpty else { return nil }
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

private func sum(_ facts: [FactRow]) -> Double { facts.reduce(0) { $0 + ($1.amount ?? 0) } }

func format1(_ value: Double) -> String {
    guard let tenths = Int(exactly: (value * 10).rounded()) else { return "\(value)" }
    return "\(tenths / 10).\(abs(tenths % 10))"
}

private func percent(_ fraction: Double) -> String {
    guard let value = Int(exactly: (fraction * 100).rounded()) else { return "\(fraction * 100)%" }
    return value > 0 ? "+\(value)%" : "\(value)%"
}

private func money(_ amount: Double) -> String {
    guard let whole = Int(exactly: amount.rounded()) else { return "\(amount)" }
    var digits = String(whole)
    var groups: [String] = []
    while digits.count > 3 {
        groups.insert(String(digits.suffix(3)), at: 0)
        digits.removeLast(3)
    }
    groups.insert(digits, at: 0)
    return groups.joined(separator: ",")
}
