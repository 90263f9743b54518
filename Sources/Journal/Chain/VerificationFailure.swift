/// The first event at which a check of the log failed, and why.
public struct VerificationFailure: Sendable, Hashable {
    public var position: Int64
    public var reason: String

    public init(position: Int64, reason: String) {
        self.position = position
        self.reason = reason
    }
}
