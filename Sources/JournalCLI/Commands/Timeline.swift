import ArgumentParser
import Foundation
import Journal
import JournalProjections
import JournalStore

extension JournalCommand {
    struct Timeline: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A customer's journey: touchpoints in business-time order, corrections and voids applied.",
            discussion: """
                Reads the timeline projection (brought up to date first). With --known-at T the timeline is \
                computed from the events recorded by T: the journey exactly as the journal knew it then.
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

        @OptionGroup var rules: RulesOptions
        @OptionGroup var reader: ReaderOptions
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions

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
                if output.json {
                    var bytes: [UInt8] = []
                    Documents.writeTimeline(entries, into: &bytes)
                    Output.line(String(decoding: bytes, as: UTF8.self))
                } else if entries.isEmpty {
                    Output.line("No touchpoints of customer \(customer)\(filter == TimelineFilter() ? "" : " match the filters").")
                } else {
                    Output.line(JourneyTimeline.text(entries))
                }
            }
        }
    }
}
