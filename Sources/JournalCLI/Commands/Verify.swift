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

        @Option(name: .long, help: "An anchor recorded earlier, POSITION:HASH (printed by verify): must still match.")
        var anchor: String?

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions

        func validate() throws {
            guard from >= 1 else { throw ValidationError("--from must be 1 or more.") }
            if let to, to < from { throw ValidationError("--to must not be before --from.") }
            if let anchor, parsedAnchor(anchor) == nil {
                throw ValidationError("--anchor takes POSITION:HASH, e.g. 59:3f2a… (64 hexadecimal digits).")
            }
        }

        private func parsedAnchor(_ text: String) -> (position: Int64, hash: [UInt8])? {
            let parts = text.split(separator: ":")
            guard parts.count == 2, let position = Int64(parts[0]), position >= 1, parts[1].count == 64,
                  let bytes = Hex.decode(String(parts[1])) else { return nil }
            return (position, bytes)
        }

        func run() throws {
            try runReportingErrors(json: output.json) {
                let store = try database.openStore(create: false)
                var report = try store.verify(from: from, through: to) { checked in
                    if !output.json { Output.error("  … \(Output.count(checked, "event")) verified") }
                }
                if report.isIntact, let anchor = anchor.flatMap(parsedAnchor) {
                    report.failure = try store.checkAnchor(position: anchor.position, hash: anchor.hash)
                }
                if output.json {
                    Output.json(report.document)
                } else if let failure = report.failure {
                    Output.line("TAMPERED: position \(failure.position): \(failure.reason).")
                    Output.line("\(Output.count(report.checked, "event")) before it verified.")
                } else if report.checked == 0 {
                    Output.line("Nothing to verify: the journal holds no events in positions \(report.first)…\(report.last).")
                } else {
                    Output.line("OK: \(Output.count(report.checked, "event")), positions \(report.first)–\(report.last), hash chain intact.")
                    if let hash = report.lastHash {
                        Output.line("Anchor: \(report.last):\(Hex.encode(hash))")
                        Output.line("Keep the anchor outside the journal; `tpj verify --anchor` proves later that nothing up to it changed.")
                    }
                }
                if !report.isIntact { throw ExitCode(1) }
            }
        }
    }
}
