import Journal

/// The moment-of-truth score of one touchpoint, with the reasons that made it.
public struct MomentScore: Sendable, Hashable {
    /// The components present, each in [−1, +1]: promise (P), outcome (O), effort (F), voice (V).
    public var promise: Double?
    public var outcome: Double?
    public var effort: Double?
    public var voice: Double?
    /// v: weighted mean of the components present, in [−1, +1].
    public var valence: Double
    /// a: the valence with negativity bias (λ·v when negative): the value used for episodes.
    public var weighted: Double
    /// c: criticality of the touchpoint type.
    public var criticality: Double
    /// s: severity (machine down).
    public var severity: Double
    /// True when the rules count this touchpoint as a moment of truth.
    public var isMoment: Bool
    /// Reason codes, most important first, e.g. `PROMISE_BROKEN arrival +6h`.
    public var reasons: [String]
    /// The promise this touchpoint was measured against, if any.
    public var promiseCheck: PromiseCheck?
    /// The rules version that produced the score.
    public var rulesVersion: Int

    public init(
        promise: Double? = nil, outcome: Double? = nil, effort: Double? = nil, voice: Double? = nil, valence: Double, weighted: Double,
        criticality: Double, severity: Double, isMoment: Bool, reasons: [String], promiseCheck: PromiseCheck? = nil, rulesVersion: Int
    ) {
        self.promise = promise
        self.outcome = outcome
        self.effort = effort
        self.voice = voice
        self.valence = valence
        self.weighted = weighted
        self.criticality = criticality
        self.severity = severity
        self.isMoment = isMoment
        self.reasons = reasons
        self.promiseCheck = promiseCheck
        self.rulesVersion = rulesVersion
    }

    /// impact = c · s · a: ranks the moments that hurt (or helped) most.
    public var impact: Double { criticality * severity * weighted }
    /// The score on −100 … +100 shown to staff: round(100 · v).
    public var score: Int { Int((100 * valence).rounded()) }
    /// The score on 0 … 100: round(50 + 50 · v).
    public var display: Int { Int((50 + 50 * valence).rounded()) }
}

/// A promise measured at a touchpoint: what was promised, and whether it was kept.
public struct PromiseCheck: Sendable, Hashable {
    public init(kind: String, kept: Bool, lateSeconds: Int64) {
        self.kind = kind
        self.kept = kept
        self.lateSeconds = lateSeconds
    }

    /// `reaction`, `arrival`, `delivery`, `part`, `maintenance`, `installation`, `quote` or `resolution`.
    public var kind: String
    public var kept: Bool
    /// How late, in seconds (0 when kept).
    public var lateSeconds: Int64
}

/// Human form of a duration for reason codes: `+45min`, `+6h`, `+2d`.
func lateness(_ seconds: Int64) -> String {
    if seconds < 3600 { return "+\(max(1, seconds / 60))min" }
    if seconds < 2 * 86_400 { return "+\((seconds + 1800) / 3600)h" }
    return "+\((seconds + 43_200) / 86_400)d"
}
