import ArgumentParser
import Foundation
import Journal
import JournalStore

extension JournalCommand {
    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an empty journal file (or check an existing one).")

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            try runReportingErrors(json: output.json) {
                let existed = FileManager.default.fileExists(atPath: database.path)
                let store = try database.openStore(create: true)
                let stats = try store.stats()
                // The key that signs the journal's tree heads (`tpj seal`), in the key file beside it.
                _ = try store.keys.signingPublicKey()
                if output.json {
                    Output.json(["path": .string(database.path), "created": .bool(!existed), "events": .number(JSONNumber(stats.events))])
                } else if existed {
                    Output.line("Journal \(database.path) already exists: \(Output.count(stats.events, "event")).")
                } else {
                    Output.line("Created journal \(database.path) (SQLite, WAL, synchronous=FULL).")
                }
            }
        }
    }
}
