import Foundation
import Journal
import JournalWorld

/// The world generator alone: producing the events, without validating or storing them.
///
/// `tpj-bench generate [--customers N] [--years N] [--seed N]` prints
/// `{"benchmark":"generate","customers":…,"events":…,"eventsPerSecond":…,"seconds":…,"years":…}`.
enum GenerateBenchmark {
    static func run(_ arguments: [String]) throws {
        var configuration = WorldConfiguration(customers: 20_000, years: 2, seed: 1)
        var iterator = arguments.makeIterator()
        while let flag = iterator.next() {
            guard let value = iterator.next() else { fail("\(flag) needs a value") }
            switch flag {
            case "--customers": configuration.customers = number(value, "--customers takes a number")
            case "--years": configuration.years = number(value, "--years takes a number")
            case "--seed": configuration.seed = UInt64(number(value, "--seed takes a number"))
            default: fail("unknown option \(flag) for generate")
            }
        }
        if let problem = configuration.problem { fail(problem) }
        progress("generating \(configuration.customers) customers × \(configuration.years) years")
        var events = 0
        var elapsed = 0.0
        let summary = try {
            var summary: WorldSummary?
            elapsed = try seconds {
                summary = try WorldGenerator.generate(configuration) { night in events += night.eventCount }
            }
            return summary!
        }()
        precondition(summary.events == events)
        let result: JSONValue = [
            "benchmark": "generate", "customers": .number(JSONNumber(Int64(configuration.customers))),
            "years": .number(JSONNumber(Int64(configuration.years))), "events": .number(JSONNumber(Int64(events))),
            "seconds": .number(JSONNumber((elapsed * 100).rounded() / 100)),
            "eventsPerSecond": .number(JSONNumber(Int64((Double(events) / elapsed).rounded()))),
        ]
        print(CanonicalJSON.string(result))
    }
}
