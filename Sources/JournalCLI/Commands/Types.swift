import ArgumentParser
import Journal
import JournalStore

extension JournalCommand {
    struct Types: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the event types the journal accepts, with their schema versions.")

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            try runReportingErrors(json: output.json) {
                let entries = try database.registry().allEntries
                if output.json {
                    Output.json(.array(entries.map { entry in
                        [
                            "type": .string(entry.type), "schemaVersion": .number(JSONNumber(Int64(entry.version))),
                            "kind": entry.touchpointKind.map(JSONValue.string) ?? .null,
                            "title": entry.title.map(JSONValue.string) ?? .null,
                        ]
                    }))
                } else {
                    Output.line(Output.table(
                        ["TYPE", "VERSION", "KIND", "TITLE"],
                        entries.map { [$0.type, "v\($0.version)", $0.touchpointKind ?? "-", $0.title ?? ""] }))
                }
            }
        }
    }
}
