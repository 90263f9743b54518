import ArgumentParser
import Foundation
import Journal
import JournalStore

extension JournalCommand {
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute the hash chain and report the first event that was altered.",
            discussion: "Exits with 1 when the chain is broken, naming the position and the reason.")

        @Option(name: .long, help: "First position to check.")
        var from: Int64 = 1

        @Option(name: .long, help: "Last position to check (default: the end of the log).")
        var to: Int64?

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions

        func validate() throws {
            guard from >= 1 else { throw ValidationError("--from must be 1 or more.") }
            if let to, to < from { throw ValidationError("--to must not be before --from.") }
        }

        func run() throws {
            try runReportingErrors(json: output.json) {
                let store = try database.openStore(create: false)
                let report = try store.verify(from: from, through: to) { checked in
                    if !output.json { Output.error("  … \(Output.count(checked)) events verified") }
                }
                if output.json {
                    var body: [JSONMember] = [
                        JSONMember("intact", .bool(report.isIntact)), JSONMember("from", .number(JSONNumber(report.first))),
                        JSONMember("to", .number(JSONNumber(report.last))), JSONMember("checked", .number(JSONNumber(report.checked))),
                    ]
                    if let failure = report.failure {
                        body.append(JSONMember("failure", [
                            "position": .number(JSONNumber(failure.position)), "reason": .string(failure.reason),
                        ]))
                    }
                    Output.json(.object(body))
                } else if let failure = report.failure {
                    Output.line("TAMPERED: position \(failure.position): \(failure.reason).")
                    Output.line("\(Output.count(report.checked)) events before it verified.")
                } else if report.checked == 0 {
                    Output.line("Nothing to verify: the journal holds no events in positions \(report.first)…\(report.last).")
                } else {
                    Output.line("OK: \(Output.count(report.checked)) events, positions \(report.first)–\(report.last), hash chain intact.")
                }
                if !report.isIntact { throw ExitCode(1) }
            }
        }
    }
}
