import Journal

/// One revision of one business fact (see the `facts` projection).
public struct FactRow: Sendable, Hashable {
    public var position: Int64
    public var revision: Int
    public var kind: String
    public var occurred: Timestamp
    public var recorded: Timestamp
    public var amount: Double?
    public var key: String?
    public var detail: String?

    public init(position: Int64, revision: Int, kind: String, occurred: Timestamp, recorded: Timestamp, amount: Double?, key: String?, detail: String?) {
        self.position = position
        self.revision = revision
        self.kind = kind
        self.occurred = occurred
        self.recorded = recorded
        self.amount = amount
        self.key = key
        self.detail = detail
    }
}

/// One score of one touchpoint from the score history (see the timeline projection).
public struct ScoreRow: Sendable, Hashable {
    public var touchpoint: ScoredTouchpoint
    public var recorded: Timestamp
    public var voided: Bool
    public var promiseKept: Bool?
    public var promiseKind: String?

    public init(touchpoint: ScoredTouchpoint, recorded: Timestamp, voided: Bool, promiseKept: Bool?, promiseKind: String?) {
        self.touchpoint = touchpoint
        self.recorded = recorded
        self.voided = voided
        self.promiseKept = promiseKept
        self.promiseKind = promiseKind
    }
}

/// Everything recorded about one customer's facts and scores, answerable as known at any instant.
public struct CustomerHistory: Sendable {
    public var customerId: String
    /// Fact rows in (position, revision) order.
    public var facts: [FactRow]
    /// Score rows in the order they were written.
    public var scores: [ScoreRow]

    public init(customerId: String, facts: [FactRow], scores: [ScoreRow]) {
        self.customerId = customerId
        self.facts = facts
        self.scores = scores
    }

    /// The facts as known at `asOf`: the latest revision recorded by then of each event that occurred by then.
    public func facts(knownAt asOf: Timestamp) -> [FactRow] {
        var result: [FactRow] = []
        var index = 0
        while index < facts.count {
            let position = facts[index].position
            var end = index
            while end < facts.count, facts[end].position == position { end += 1 }
            let group = facts[index..<end].filter { $0.recorded <= asOf && $0.occurred <= asOf }
            if let revision = group.map(\.revision).max() {
                result += group.filter { $0.revision == revision && $0.kind != "void" }
            }
            index = end
        }
        return result
    }

    /// The touchpoints' latest scores as known at `asOf` (voided ones left out).
    public func touchpoints(knownAt asOf: Timestamp) -> [ScoreRow] {
        var latest: [Int64: ScoreRow] = [:]
        for row in scores where row.recorded <= asOf && row.touchpoint.occurred <= asOf {
            latest[row.touchpoint.position] = row
        }
        return latest.values.filter { !$0.voided }.sorted { $0.touchpoint.position < $1.touchpoint.position }
    }
}

extension [FactRow] {
    /// The loss the customer stands in: the latest `lost` fact, unless a `reactivated` one came after
    /// it (by occurrence, then position).
    public var standingLoss: FactRow? {
        let last = filter { $0.kind == "lost" || $0.kind == "reactivated" }.max { ($0.occurred, $0.position) < ($1.occurred, $1.position) }
        return last?.kind == "lost" ? last : nil
    }
}
