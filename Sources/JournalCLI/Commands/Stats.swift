import ArgumentParser
import Journal
import JournalStore

extension JournalCommand {
    struct Stats: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Counts and time span of the journal.")

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            try runReportingErrors(json: output.json) {
                let stats = try database.openStore(create: false).stats()
                func time(_ t: Timestamp?) -> JSONValue { t.map { .string($0.rfc3339) } ?? .null }
                if output.json {
                    Output.json([
                        "path": .string(database.path), "events": .number(JSONNumber(stats.events)),
                        "customers": .number(JSONNumber(stats.customers)), "headPosition": .number(JSONNumber(stats.headPosition)),
                        "firstRecordedAt": time(stats.firstRecorded), "lastRecordedAt": time(stats.lastRecorded),
                        "firstOccurredAt": time(stats.firstOccurred), "lastOccurredAt": time(stats.lastOccurred),
                        "databaseBytes": .number(JSONNumber(stats.databaseBytes)),
                        "eventsByType": .object(stats.eventsByType.map { JSONMember($0.type, .number(JSONNumber($0.count))) }),
                    ])
                    return
                }
                Output.line("Journal    \(database.path) (\(Output.count(stats.databaseBytes / 1024)) KiB)")
                Output.line("Events     \(Output.count(stats.events)) (last position \(stats.headPosition))")
                Output.line("Customers  \(Output.count(stats.customers))")
                if let first = stats.firstOccurred, let last = stats.lastOccurred {
                    Output.line("Occurred   \(first.utcDate) … \(last.utcDate)")
                }
                if let first = stats.firstRecorded, let last = stats.lastRecorded {
                    Output.line("Recorded   \(first.utcDate) … \(last.utcDate)")
                }
                if !stats.eventsByType.isEmpty {
                    Output.line("")
                    Output.line(Output.table(["TYPE", "EVENTS"], stats.eventsByType.map { [$0.type, Output.count($0.count)] }))
                }
            }
        }
    }
}
