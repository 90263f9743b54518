import ArgumentParser
import Foundation
import Journal
import JournalProjections
import JournalScoring
import JournalStore

extension JournalCommand {
    struct Timeline: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A customer's journey: touchpoints in business-time order, corrections and voids applied.",
            discussion: """
                Reads the timeline projection (brought up to date first). With --known-at T the timeline is \
                computed from the events recorded by T: the journey exactly as the journal knew it then. \
                Without filters it opens with the hotline summary: open cases, complaints, broken promises, \
                last visit and contact, next planned visit, contract and SLA, key account manager, machines, \
                segment and churn risk (--summary prints only that).
                """)

        @Argument(help: "The customer id.", transform: CustomerArgument.parse)
        var customer: String

        @Option(name: .long, help: "Only touchpoints that occurred at or after this time (ISO-8601 with offset, or YYYY-MM-DD).")
        var from: TimeArgument?

        @Option(name: .long, help: "Only touchpoints that occurred before this time.")
        var to: TimeArgument?

        @Option(name: .long, help: "Only touchpoints of this kind (hotline, visit, part, complaint, …); repeatable.")
        var kind: [String] = []

        @Option(name: .long, help: "Only touchpoints of this machine (asset id).")
        var asset: String?

        @Option(name: .long, help: "Only touchpoints of this service case.")
        var `case`: String?

        @Option(name: .long, help: "The timeline as known at this time.")
        var knownAt: TimeArgument?

        @Flag(name: .customLong("summary"), help: "Print only the hotline summary of the customer (as of now, or --known-at).")
        var summaryOnly = false

        @OptionGroup var rules: RulesOptions
        @OptionGroup var reader: ReaderOptions
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions

        func validate() throws {
            if summaryOnly, from != nil || to != nil || !kind.isEmpty || asset != nil || `case` != nil {
                throw ValidationError("--summary is of the whole customer; it takes no --from, --to, --kind, --asset or --case.")
            }
        }

        func run() throws {
            try runReportingErrors(json: output.json) {
                let store = try database.openStore(create: false)
                var timeline = JourneyTimeline(registry: store.validator.registry, rules: try rules.momentRules())
                // As known at a date: scored with the rules recorded by then, unless a rules file is given.
                if let knownAt, !rules.namesAFile, let recorded = try ConfigurationLog(store: store).momentRules(at: knownAt.instant) {
                    timeline = JourneyTimeline(registry: store.validator.registry, rules: recorded.rules)
                }
                let filter = TimelineFilter(
                    from: from?.instant, to: to?.instant, kinds: Set(kind), assetId: asset, caseId: `case`)
                var entries: [TimelineEntry]
                if let knownAt {
                    entries = try timeline.entries(of: customer, knownAt: knownAt.instant, filter: filter, store: store)
                } else {
                    // Read from the projection, shown only while the customer's events are as written.
                    try store.requireIntact(customerId: customer)
                    try catchUp(ProjectionRunner(store: store, projections: [timeline]), store: store)
                    entries = try timeline.entries(of: customer, filter: filter, store: store)
                }
                let disclosure = store.disclosure(try reader.masking())
                entries = entries.map { $0.disclosed(by: disclosure) }
                let asOf = knownAt?.instant ?? store.clock.now()
                if summaryOnly {
                    guard !entries.isEmpty else { throw CLIError(code: 66, message: "customer \(customer) has no touchpoints\(knownAt == nil ? "" : " known at \(asOf.rfc3339)")") }
                    let (summary, risk) = try hotlineSummary(of: entries, asOf: asOf, store: store, rules: timeline.rules)
                    if output.json {
                        Output.json(summary.document(customerId: customer, risk: risk))
                    } else {
                        Output.line(summary.text(risk: risk))
                    }
                } else if output.json {
                    var bytes: [UInt8] = []
                    Documents.writeTimeline(entries, into: &bytes)
                    Output.line(String(decoding: bytes, as: UTF8.self))
                } else if entries.isEmpty {
                    Output.line("No touchpoints of customer \(customer)\(filter == TimelineFilter() ? "" : " match the filters").")
                } else {
                    // The whole journey opens with the hotline summary; a filtered one shows only what was asked for.
                    if filter == TimelineFilter() {
                        let (summary, risk) = try hotlineSummary(of: entries, asOf: asOf, store: store, rules: timeline.rules)
                        Output.line(summary.text(risk: risk) + "\n")
                    }
                    Output.line(JourneyTimeline.text(entries))
                }
            }
        }

        /// The hotline summary as of `asOf`, and the customer's churn risk then under the weights recorded by then.
        private func hotlineSummary(
            of entries: [TimelineEntry], asOf: Timestamp, store: EventStore, rules: MomentRules
        ) throws -> (HotlineSummary, CustomerRisk?) {
            try catchUp(builtInRunner(store, rules: rules), store: store)
            let model = try ConfigurationLog(store: store).churnModel(at: asOf)?.model ?? .bundled
            let risk = try store.readProjections { try $0.churn(asOf: asOf, customerId: customer, Insights(rules: rules, model: model)).first }
            return (HotlineSummary(entries: entries, asOf: asOf), risk)
        }
    }
}
