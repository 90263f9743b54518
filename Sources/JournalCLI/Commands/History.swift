import ArgumentParser
import Journal
import JournalStore

extension JournalCommand {
    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A customer's events exactly as recorded, optionally as known at a past instant.",
            discussion: """
                --known-at T shows only what the journal had recorded by T (the auditor's question); \
                --occurred-after T and --occurred-before T only what happened from T on, or before T. \
                Times are ISO-8601 with offset, or a date YYYY-MM-DD meaning 00:00 UTC.
                """)

        @Argument(help: "The customer id.", transform: CustomerArgument.parse)
        var customer: String

        @Option(name: .long, help: "Order: stream (as recorded) or occurred (as it happened).")
        var order: HistoryOrder = .stream

        @Option(name: .long, help: "Only events recorded at or before this time (ISO-8601 with offset, or YYYY-MM-DD).")
        var knownAt: TimeArgument?

        @Option(name: .long, help: "Only events that occurred at or after this time (ISO-8601 with offset, or YYYY-MM-DD).")
        var occurredAfter: TimeArgument?

        @Option(name: .long, help: "Only events that occurred before this time (ISO-8601 with offset, or YYYY-MM-DD).")
        var occurredBefore: TimeArgument?

        @OptionGroup var reader: ReaderOptions
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            try runReportingErrors(json: output.json) {
                let store = try database.openStore(create: false)
                let events = try store.history(
                    of: customer, order: order, knownAt: knownAt?.instant,
                    occurredAfter: occurredAfter?.instant, occurredBefore: occurredBefore?.instant
                ).map(store.disclosure(try reader.masking()).event)
                if output.json {
                    Output.json(.array(events.map(\.json)))
                } else if events.isEmpty {
                    let version = try store.streamVersion(of: customer)
                    Output.line(version == 0
                        ? "Customer \(customer) has no events."
                        : "Customer \(customer) has \(version) events, none within the given times.")
                } else {
                    Output.line(Output.eventTable(events, withCustomer: false))
                }
            }
        }
    }
}

extension HistoryOrder: ExpressibleByArgument {}
