/// What the producer believes a customer's stream version to be before its append.
public enum ExpectedVersion: Sendable, Hashable, CustomStringConvertible {
    /// No check.
    case any
    /// The customer must have no events yet.
    case noStream
    /// The customer's last event must have exactly this stream version.
    case exactly(Int)

    /// `0` means ``noStream``.
    public init(_ version: Int) {
        self = version == 0 ? .noStream : .exactly(version)
    }

    /// True when a stream at `actual` satisfies the expectation.
    public func matches(_ actual: Int) -> Bool {
        switch self {
        case .any: true
        case .noStream: actual == 0
        case .exactly(let version): actual == version
        }
    }

    public var description: String {
        switch self {
        case .any: "any"
        case .noStream: "0 (no events yet)"
        case .exactly(let version): String(version)
        }
    }
}
