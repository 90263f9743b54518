import ArgumentParser
import Journal
import JournalProjections
import JournalScoring
import JournalStore

/// The built-in projections, in the order they are run.
func builtInProjections(_ registry: SchemaRegistry, rules: MomentRules = .bundled) -> [any Projection] {
    [JourneyTimeline(registry: registry, rules: rules), CustomerFacts()]
}

extension JournalCommand {
    struct Projections: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the projections with their version, checkpoint and lag behind the log.")

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            try runReportingErrors(json: output.json) {
                let store = try database.openStore(create: false)
                let status = try ProjectionRunner(store: store, projections: builtInProjections(store.validator.registry)).status()
                if output.json {
                    Output.json(.array(status.map { item in
                        [
                            "name": .string(item.name), "version": .number(JSONNumber(Int64(item.version))),
                            "storedVersion": item.storedVersion.map { .number(JSONNumber(Int64($0))) } ?? .null,
                            "checkpoint": .number(JSONNumber(item.checkpoint)), "head": .number(JSONNumber(item.head)),
                            "lag": .number(JSONNumber(item.lag)), "needsRebuild": .bool(item.needsRebuild),
                        ]
                    }))
                } else {
                    Output.line(Output.table(["NAME", "VERSION", "CHECKPOINT", "LAG", "STATE"], status.map { item in
                        let state = item.storedVersion == nil ? "not built yet"
                            : item.needsRebuild ? "rebuild due (stored v\(item.storedVersion!))"
                            : item.lag == 0 ? "up to date" : "behind"
                        return [item.name, "v\(item.version)", String(item.checkpoint), Output.count(item.lag), state]
                    }))
                }
            }
        }
    }

    struct Rebuild: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rebuild projections from the start of the log into new tables, then switch to them.",
            discussion: "The current tables keep answering until the rebuilt ones take over in one transaction.")

        @Argument(help: "Projections to rebuild (default: all).")
        var names: [String] = []

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            try runReportingErrors(json: output.json) {
                let store = try database.openStore(create: false)
                let runner = ProjectionRunner(store: store, projections: builtInProjections(store.validator.registry))
                var lastReport: Int64 = 0
                let folded = try runner.rebuild(names) { name, count in
                    if !output.json, count - lastReport >= 100_000 {
                        lastReport = count
                        Output.error("  … \(name): \(Output.count(count, "event"))")
                    }
                }
                if output.json {
                    Output.json(.object(folded.sorted { $0.key < $1.key }.map { JSONMember($0.key, .number(JSONNumber($0.value))) }))
                } else {
                    for (name, count) in folded.sorted(by: { $0.key < $1.key }) {
                        Output.line("Rebuilt \(name) from \(Output.count(count, "event")).")
                    }
                }
            }
        }
    }
}
