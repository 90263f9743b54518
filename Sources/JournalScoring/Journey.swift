import Foundation
import Journal

/// A scored touchpoint as episodes and the journey index need it.
public struct ScoredTouchpoint: Sendable, Hashable {
    public var position: Int64
    public var occurred: Timestamp
    /// The case it belongs to; touchpoints without a case are episodes of their own.
    public var caseId: String?
    public var type: String
    public var score: MomentScore

    public init(position: Int64, occurred: Timestamp, caseId: String?, type: String, score: MomentScore) {
        self.position = position
        self.occurred = occurred
        self.caseId = caseId
        self.type = type
        self.score = score
    }

    /// The episode key: the case, or the touchpoint itself.
    public var episodeKey: String { caseId ?? "\(type) #\(position)" }
}

/// An episode (a case) as the customer remembers it: by its peak and its end (cx-metrics §2.2).
public struct Episode: Sendable, Hashable {
    public var key: String
    public var touchpoints: Int
    /// Inbound contacts (hotline calls).
    public var contacts: Int
    public var first: Timestamp
    public var last: Timestamp
    /// a with the largest magnitude.
    public var peak: Double
    /// a of the last touchpoint (capped for recovered complaints).
    public var end: Double
    public var mean: Double
    /// E = ω·(peak + end)/2 + (1 − ω)·mean, shrunk for repeat contacts when positive.
    public var value: Double
    /// c_e and s_e: the largest criticality and severity among its touchpoints.
    public var criticality: Double
    public var severity: Double

    /// Folds an episode's touchpoints, given in business-time order.
    public init?(key: String, touchpoints: [ScoredTouchpoint], rules: MomentRules) {
        guard let lastTouchpoint = touchpoints.last, let firstTouchpoint = touchpoints.first else { return nil }
        let values = touchpoints.map(\.score.weighted)
        let peak = values.max { abs($0) < abs($1) }!
        var end = lastTouchpoint.score.weighted
        let hadFailure = values.contains { $0 < 0 }
        if hadFailure, touchpoints.contains(where: { $0.type.hasPrefix("complaint.") }) {
            end = min(end, rules.episode.recoveredComplaintEndCap)
        }
        let mean = values.reduce(0, +) / Double(values.count)
        let omega = rules.episode.peakEndWeight
        var value = omega * (peak + end) / 2 + (1 - omega) * mean
        let contacts = touchpoints.count { $0.type == "hotline.call.received" }
        if contacts > 1, value > 0 {
            value *= power(rules.episode.repeatContactDecay, contacts - 1)
        }
        self.key = key
        self.touchpoints = touchpoints.count
        self.contacts = contacts
        self.first = firstTouchpoint.occurred
        self.last = lastTouchpoint.occurred
        self.peak = peak
        self.end = end
        self.mean = mean
        self.value = value
        self.criticality = touchpoints.map(\.score.criticality).max()!
        self.severity = touchpoints.map(\.score.severity).max()!
    }

    /// Groups touchpoints into episodes, oldest episode first.
    public static func episodes(of touchpoints: [ScoredTouchpoint], rules: MomentRules) -> [Episode] {
        var groups: [String: [ScoredTouchpoint]] = [:]
        for touchpoint in touchpoints { groups[touchpoint.episodeKey, default: []].append(touchpoint) }
        return groups.compactMap { key, members in
            Episode(key: key, touchpoints: members.sorted { ($0.occurred, $0.position) < ($1.occurred, $1.position) }, rules: rules)
        }.sorted { ($0.last, $0.key) < ($1.last, $1.key) }
    }
}

/// A customer's journey index J: episodes weighted by recency (half-life), criticality and severity (cx-metrics §2.3).
public struct JourneyIndex: Sendable, Hashable {
    /// J in [−λ, 1].
    public var value: Double
    /// 0–100: 50 + 50·J when J ≥ 0, 50 + 50·J/λ when negative.
    public var display: Int
    /// `strong`, `stable`, `at risk` or `critical`.
    public var band: String
    public var episodes: Int

    /// The index as of `asOf` over the episodes that ended by then; nil without episodes.
    public init?(episodes: [Episode], asOf: Timestamp, rules: MomentRules) {
        var weighted = 0.0, total = 0.0, count = 0
        for episode in episodes where episode.last <= asOf {
            let ageDays = Double(asOf.microseconds - episode.last.microseconds) / 86_400_000_000
            let weight = pow(0.5, ageDays / rules.journey.halfLifeDays) * episode.criticality * episode.severity
            weighted += weight * episode.value
            total += weight
            count += 1
        }
        guard count > 0, total > 0 else { return nil }
        value = weighted / total
        let scaled = value >= 0 ? 50 + 50 * value : 50 + 50 * value / rules.negativityWeight
        display = Int(scaled.rounded())
        let bands = rules.journey.bands
        band = scaled >= bands.strong ? "strong" : scaled >= bands.stable ? "stable" : scaled >= bands.atRisk ? "at risk" : "critical"
        self.episodes = count
    }
}

func power(_ base: Double, _ exponent: Int) -> Double {
    var result = 1.0
    for _ in 0..<max(0, exponent) { result *= base }
    return result
}
