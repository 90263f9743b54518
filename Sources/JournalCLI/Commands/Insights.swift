import ArgumentParser
import Foundation
import Journal
import JournalProjections
import JournalScoring
import JournalStore

/// The rules and weights that scores are computed with, and the date they are computed for.
struct ScoringOptions: ParsableArguments {
    @Option(name: .long, help: "The answer as of this time (ISO-8601 with offset, or YYYY-MM-DD; default: now).")
    var asOf: TimeArgument?

    @OptionGroup var rules: RulesOptions

    var instant: Timestamp { asOf?.instant ?? JournalClock.live.now() }

    func momentRules() throws -> MomentRules { try rules.momentRules() }
}

/// The moments-of-truth rules the timeline projection scores with.
struct RulesOptions: ParsableArguments {
    @Option(name: .long, help: "Moments-of-truth rules file (default: $TPJ_RULES, else the bundled Schemas/moments-of-truth.json).")
    var rules: String?

    /// Whether a rules file is given (`--rules` or `$TPJ_RULES`).
    var namesAFile: Bool { rules != nil || !(ProcessInfo.processInfo.environment["TPJ_RULES"] ?? "").isEmpty }

    /// The content of the rules file in use (nil: the bundled rules).
    func fileContent() throws -> (content: JSONValue, path: String)? {
        guard let path = rules ?? ProcessInfo.processInfo.environment["TPJ_RULES"].flatMap({ $0.isEmpty ? nil : $0 }) else { return nil }
        do {
            return (try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: path)))), path)
        } catch {
            throw CLIError(code: 65, message: "cannot read the moments-of-truth rules \(path): \(error)")
        }
    }

    func momentRules() throws -> MomentRules {
        do {
            return try MomentRules.load(path: rules ?? ProcessInfo.processInfo.environment["TPJ_RULES"])
        } catch {
            throw CLIError(code: 65, message: error.description)
        }
    }
}

/// The built-in projections brought up to date, then `body` on one snapshot of the journal and its projections. With `customer`,
/// first checks that none of its events was altered (``EventStore/requireIntact(customerId:)``).
func withInsights<T>(_ database: DatabaseOptions, _ scoring: ScoringOptions, model: ChurnModel = .bundled, segmentRules: SegmentRules = SegmentRules(),
                     store: EventStore? = nil, customer: String? = nil,
                     _ body: (Insights, ProjectionSnapshot) throws -> T) throws -> T {
    let store = try store ?? database.openStore(create: false)
    if let customer { try store.requireIntact(customerId: customer) }
    let rules = try scoring.momentRules()
    try catchUp(builtInRunner(store, rules: rules), store: store)
    let insights = Insights(rules: rules, model: model, segmentRules: segmentRules)
    return try store.readProjections { snapshot in try body(insights, snapshot) }
}

extension JournalCommand {
    struct Moments: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A customer's moments of truth: scored touchpoints with reasons, episodes, the journey index and companion indices.")

        @Argument(help: "The customer id.", transform: CustomerArgument.parse)
        var customer: String

        @OptionGroup var scoring: ScoringOptions
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            try runReportingErrors(json: output.json) {
                let asOf = scoring.instant
                let moments = try withInsights(database, scoring, customer: customer) { insights, snapshot in
                    try snapshot.moments(of: customer, asOf: asOf, insights)
                }
                guard !moments.touchpoints.isEmpty else {
                    throw CLIError(code: 66, message: "customer \(customer) has no scored touchpoints as of \(asOf.rfc3339)")
                }
                if output.json {
                    Output.json(Documents.moments(moments, asOf: asOf))
                    return
                }
                Output.line(moments.text(asOf: asOf))
            }
        }
    }

    struct Segments: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "ABC segments by trailing-12-month service revenue (Pareto), as of a date.",
            discussion: "A segment holds for a calendar month: customers are ranked by their revenue of the 12 months up to the start of the month of --as-of (00:00 UTC on the 1st), as known then.")

        @Option(name: .long, help: "Share of revenue made by A customers.")
        var aShare = 0.8

        @Option(name: .long, help: "Share of revenue made by A and B customers together.")
        var bShare = 0.95

        @Flag(name: .long, help: "List every customer, not only the summary.")
        var list = false

        @OptionGroup var scoring: ScoringOptions
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions

        func validate() throws {
            guard aShare > 0, aShare < bShare, bShare <= 1 else {
                throw ValidationError("--a-share and --b-share must satisfy 0 < a-share < b-share ≤ 1 (got \(aShare), \(bShare))")
            }
        }

        func run() throws {
            try runReportingErrors(json: output.json) {
                let asOf = scoring.instant
                let assignments = try withInsights(database, scoring, segmentRules: SegmentRules(aShare: aShare, bShare: bShare)) { insights, snapshot in
                    try snapshot.segments(asOf: asOf, insights)
                }
                if output.json {
                    Output.json(Documents.segments(assignments, rules: SegmentRules(aShare: aShare, bShare: bShare), asOf: asOf))
                    return
                }
                let total = assignments.reduce(0) { $0 + $1.revenue }
                Output.line("ABC segments as of \(asOf.rfc3339) by service revenue of the 12 months up to \(MonthlySegments.monthStart(of: asOf).utcDate) (A: first \(Int(aShare * 100))%, B: up to \(Int(bShare * 100))%)")
                Output.line(Output.table(["SEGMENT", "CUSTOMERS", "REVENUE", "SHARE"], SegmentSummary.of(assignments).map { summary in
                    [summary.segment, Output.count(summary.customers), String(format: "%.0f", summary.revenue),
                     total > 0 ? String(format: "%.1f%%", summary.revenue / total * 100) : "-"]
                }))
                if list {
                    Output.line("")
                    Output.line(Output.table(["CUSTOMER", "SEGMENT", "REVENUE 12M", "CUMULATIVE"], assignments.map {
                        [$0.customerId, $0.segment, String(format: "%.0f", $0.revenue), String(format: "%.1f%%", $0.cumulativeShare * 100)]
                    }))
                }
            }
        }
    }
}
