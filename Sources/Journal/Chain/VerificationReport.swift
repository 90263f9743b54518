/// The outcome of a check of the log's chain (``JournalLog/verifyChain()``).
public struct VerificationReport: Sendable, Hashable {
    public var first: Int64
    public var last: Int64
    public var checked: Int64
    /// The journal's last position when the check ran.
    public var head: Int64
    /// The hash of the last event checked: record it outside the journal as an anchor.
    public var lastHash: [UInt8]?
    /// The first event that failed, or nil when the range verified.
    public var failure: VerificationFailure?

    public init(first: Int64, last: Int64, checked: Int64, head: Int64, lastHash: [UInt8]?, failure: VerificationFailure?) {
        self.first = first
        self.last = last
        self.checked = checked
        self.head = head
        self.lastHash = lastHash
        self.failure = failure
    }

    public var isIntact: Bool { failure == nil }

    /// The report as JSON (`tpj verify --json` and the HTTP API).
    public var document: JSONValue {
        var body: [JSONMember] = [
            JSONMember("intact", .bool(isIntact)), JSONMember("from", .number(JSONNumber(first))),
            JSONMember("to", .number(JSONNumber(last))), JSONMember("checked", .number(JSONNumber(checked))),
            JSONMember("head", .number(JSONNumber(head))),
        ]
        if let lastHash { body.append(JSONMember("lastHash", .string(Hex.encode(lastHash)))) }
        if let failure {
            body.append(JSONMember("failure", ["position": .number(JSONNumber(failure.position)), "reason": .string(failure.reason)]))
        }
        return .object(body)
    }
}

/// The first event at which a check of the log failed, and why.
public struct VerificationFailure: Sendable, Hashable {
    public var position: Int64
    public var reason: String

    public init(position: Int64, reason: String) {
        self.position = position
        self.reason = reason
    }
}

extension VerificationFailure {
    /// How an anchor recorded earlier (`position`, `expected` hash) fails against the hash stored at
    /// that position now (`stored`, nil when the event is gone); nil when it still holds.
    ///
    /// With an intact chain, a matching anchor proves that nothing up to `position` was changed,
    /// removed or rewritten — including a truncation followed by a re-built chain, which the chain
    /// alone cannot show.
    public static func anchor(position: Int64, expected: [UInt8], stored: [UInt8]?) -> VerificationFailure? {
        guard let stored else {
            return VerificationFailure(position: position, reason: "the anchored event \(position) is missing: the log was truncated")
        }
        guard stored == expected else {
            return VerificationFailure(
                position: position,
                reason: "hash \(Hex.encode(stored.prefix(8)))… differs from the anchor \(Hex.encode(expected.prefix(8)))…: the log up to here was rewritten")
        }
        return nil
    }
}

extension JournalLog {
    /// Checks an anchor recorded earlier against this log (``VerificationFailure/anchor(position:expected:stored:)``).
    public func verifyAnchor(position: Int64, hash: [UInt8]) async throws(JournalError) -> VerificationFailure? {
        .anchor(position: position, expected: hash, stored: try await event(at: position)?.hash)
    }
}
