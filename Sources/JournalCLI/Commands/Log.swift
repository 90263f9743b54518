import ArgumentParser
import Journal
import JournalStore

extension JournalCommand {
    struct Log: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The global log in position order, from a position on.")

        @Option(name: .long, help: "Show events after this position.")
        var after: Int64 = 0

        @Option(name: .long, help: "Show at most this many events.")
        var limit: Int = 100

        @OptionGroup var reader: ReaderOptions
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions

        func validate() throws {
            guard after >= 0 else { throw ValidationError("--after must be 0 or more.") }
            guard (1...100_000).contains(limit) else { throw ValidationError("--limit must be between 1 and 100000.") }
        }

        func run() throws {
            try runReportingErrors(json: output.json) {
                let store = try database.openStore(create: false)
                let events = try store.events(after: after, limit: limit).map(store.disclosure(try reader.masking()).event)
                let next = events.last?.position ?? after
                if output.json {
                    Output.json(["events": .array(events.map(\.json)), "next": .number(JSONNumber(next))])
                } else if events.isEmpty {
                    Output.line("No events after position \(after) (the journal's last position is \(try store.head())).")
                } else {
                    Output.line(Output.eventTable(events, withCustomer: true))
                    if events.count == limit { Output.line("More: tpj log --after \(next) --limit \(limit)") }
                }
            }
        }
    }
}
