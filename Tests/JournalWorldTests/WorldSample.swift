import Journal
import JournalStore
import JournalWorld

/// A generated world held in memory for the tests, with the facts they ask about.
struct WorldSample: Sendable {
    struct Event: Sendable {
        var recordedAt: Timestamp
        var occurred: Timestamp
        var event: ProposedEvent
    }

    let configuration: WorldConfiguration
    let summary: WorldSummary
    /// Every event in recording order.
    let events: [Event]

    init(_ configuration: WorldConfiguration) throws {
        var events: [Event] = []
        summary = try WorldGenerator.generate(configuration) { night in
            for batch in night.batches {
                for event in batch.events {
                    events.append(Event(recordedAt: night.recordedAt, occurred: try Timestamp(rfc3339: event.occurredAt), event: event))
                }
            }
        }
        self.configuration = configuration
        self.events = events
    }

    /// One shared world of 1,000 customers over 3 years.
    static let shared = Result { try WorldSample(WorldConfiguration(customers: 1_000, years: 3, seed: 11)) }

    var byCustomer: [String: [Event]] {
        Dictionary(grouping: events) { $0.event.customerId! }
    }

    func count(_ type: String) -> Int {
        events.count { $0.event.type == type }
    }

    var end: Timestamp { summary.lastRecorded! }
}

extension JSONValue {
    var number: Double? {
        if case .number(let n) = self { return n.value }
        return nil
    }
}

/// Days between two instants.
func days(_ from: Timestamp, _ to: Timestamp) -> Double {
    Double(to.microseconds - from.microseconds) / 86_400_000_000
}
