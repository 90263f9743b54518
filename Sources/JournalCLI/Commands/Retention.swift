import ArgumentParser
import Foundation
import Journal
import JournalProjections
import JournalStore

extension JournalCommand {
    struct Retention: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply a retention policy: personal values past their period read [erased].",
            subcommands: [Apply.self])

        struct Apply: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Destroy the keys of personal values whose year has passed out of their retention period.",
                discussion: """
                    The policy (Schemas/retention-policy.schema.json) gives whole years per kind of value — contact, \
                    employee, text — counted after the year the value occurred in: with text kept 3 years, free text \
                    of 2022 reads [erased] from 1 January 2026. Each run records a retention.applied event per kind \
                    in the stream journal:privacy, and rebuilds the declared projections when keys were destroyed. \
                    `tpj serve --retention FILE` applies it every night.
                    """)

            @Option(name: .long, help: "The retention policy file, e.g. tools/policies/retention.json.")
            var policy: String

            @Option(name: .long, help: "Apply as of this date instead of today (YYYY-MM-DD or ISO-8601 with offset).")
            var today: TimeArgument?

            @OptionGroup var declaredOptions: DeclaredOptions
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var output: OutputOptions

            func run() throws {
                try runReportingErrors(json: output.json) {
                    let parsed = try RetentionPolicy(file: policy)
                    let store = try database.openStore(create: false)
                    let (outcomes, rebuilt) = try JournalProjections.Retention(store: store, declared: try declaredOptions.load(store))
                        .apply(parsed, today: today?.instant)
                    if output.json {
                        Output.json(["kinds": .array(outcomes.map(\.document)), "rebuilt": .array(rebuilt.map(JSONValue.string))])
                        return
                    }
                    for outcome in outcomes {
                        Output.line("\(outcome.kind.rawValue): kept \(outcome.retentionYears) years; "
                            + "\(Output.count(outcome.keysDestroyed, "key")) of values before \(outcome.destroyedBefore) destroyed (position \(outcome.position)).")
                    }
                    if outcomes.isEmpty { Output.line("The policy names no kind; nothing was destroyed.") }
                    if !rebuilt.isEmpty { Output.line("Rebuilt \(rebuilt.joined(separator: ", ")).") }
                }
            }
        }
    }
}
