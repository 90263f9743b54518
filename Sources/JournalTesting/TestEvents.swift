import Journal

/// Deterministic event ids and log checks shared by the tests.
public enum TestEvents {
    /// The event id for number `n`: `00000000-0000-7000-8000-<n as 12 hex digits>`.
    public static func id(_ n: Int) -> String {
        let hex = String(n, radix: 16)
        return "00000000-0000-7000-8000-" + String(repeating: "0", count: 12 - hex.count) + hex
    }

    /// What is wrong with a whole log read back in position order: positions not 1…n, an event id
    /// stored twice, or a customer whose stream versions are not 1…k. Empty when the log is sound.
    public static func problems(in log: [RecordedEvent]) -> [String] {
        var problems: [String] = []
        if !log.enumerated().allSatisfy({ $0.element.position == Int64($0.offset + 1) }) {
            problems.append("positions are not 1…\(log.count)")
        }
        if Set(log.map(\.eventId)).count != log.count { problems.append("an eventId is stored twice") }
        var versions: [String: Int] = [:]
        for event in log {
            let expected = versions[event.customerId, default: 0] + 1
            if event.streamVersion != expected {
                problems.append("\(event.customerId) has version \(event.streamVersion) where \(expected) was due")
            }
            versions[event.customerId] = event.streamVersion
        }
        return problems
    }
}
