import Foundation
import ArgumentParser
import Journal
import JournalProjections
import JournalScoring
import JournalStore

/// A runner of the built-in projections, scoring with `rules`, then the `declared` ones.
func builtInRunner(_ store: EventStore, rules: MomentRules, declared: [DeclaredProjection] = []) -> ProjectionRunner {
    ProjectionRunner.builtIn(store: store, rules: rules, declared: declared)
}

/// Brings the projections up to date before a read, with a progress line on a terminal when that takes
/// long (the first fold after a large import or an upgrade).
func catchUp(_ runner: ProjectionRunner, store: EventStore) throws {
    let bar = ProgressLine(label: "Folding the log into the projections")
    defer { bar.finish() }
    try runner.catchUp { progress in bar.update(progress) }
}

extension JournalCommand {
    struct Projections: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the projections with their version, checkpoint and lag behind the log; follow the log.",
            discussion: """
                --follow keeps the projections up to date: it folds what is appended, by any process, as it \
                arrives — woken by changes to the journal's files, without polling — until interrupted (Ctrl-C; \
                every batch is its own transaction, so stopping loses nothing). It prints a line whenever a \
                checkpoint moves.

                --wait-for N waits until every projection has folded the log up to position N (folded by a \
                follower; this command folds nothing itself), then lists them. After --timeout seconds it \
                gives up with exit code 75.
                """)

        @Flag(name: .long, help: "Fold new appends as they arrive, until interrupted.")
        var follow = false

        @Option(name: .long, help: "Wait until every projection has folded the log up to this position.")
        var waitFor: Int64?

        @Option(name: .long, help: "Seconds --wait-for waits at most (default 30).")
        var timeout: Double = 30

        @OptionGroup var rules: RulesOptions
        @OptionGroup var declared: DeclaredOptions
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions

        func validate() throws {
            if follow, waitFor != nil { throw ValidationError("--follow and --wait-for cannot be combined.") }
            if let waitFor, waitFor < 0 { throw ValidationError("--wait-for takes a position of 0 or more, got \(waitFor).") }
            if !(timeout > 0) { throw ValidationError("--timeout takes a positive number of seconds, got \(timeout).") }
        }

        func run() throws {
            try runReportingErrors(json: output.json) {
                let store = try database.openStore(create: false)
                let runner = builtInRunner(store, rules: try rules.momentRules(), declared: try declared.load(store))
                if follow {
                    try followLog(runner)
                    return
                }
                if let waitFor {
                    let watcher = try JournalWatcher(watching: store)
                    guard try runner.wait(until: waitFor, timeout: timeout, watcher: watcher) else {
                        let behind = try runner.status().filter { $0.needsRebuild || $0.checkpoint < waitFor }.map { item in
                            item.storedVersion == nil ? "\(item.name) not built yet"
                                : item.needsRebuild ? "\(item.name) due for a rebuild" : "\(item.name) at \(item.checkpoint)"
                        }
                        throw CLIError(code: 75, message: """
                            the projections did not reach position \(waitFor) within \(timeout) s (\(behind.joined(separator: ", "))); \
                            is `tpj projections --follow` running?
                            """)
                    }
                }
                printStatus(try runner.status())
            }
        }

        private func followLog(_ runner: ProjectionRunner) throws {
            let watcher = try JournalWatcher(watching: runner.store)
            StopSignals.install(waking: watcher)
            var previous: [String: Int64] = [:]
            if !output.json { Output.error("Following \(database.path); Ctrl-C stops.") }
            try runner.follow(watcher) { reached in
                guard !StopSignals.received else { return false }
                guard reached != previous else { return true }
                let folded = reached.reduce(Int64(0)) { $0 + $1.value - (previous[$1.key] ?? $1.value) }
                previous = reached
                let at = JournalClock.live.now().rfc3339
                let names = runner.projections.map(\.name)
                if output.json {
                    Output.json([
                        "at": .string(at),
                        "checkpoints": .object(names.map { JSONMember($0, .number(JSONNumber(reached[$0] ?? 0))) }),
                    ])
                } else {
                    let checkpoints = names.map { "\($0) \(reached[$0] ?? 0)" }.joined(separator: "  ")
                    Output.line("\(at)  \(checkpoints)" + (folded > 0 ? "  (+\(Output.count(folded, "event")) folded)" : ""))
                }
                return true
            }
        }

        private func printStatus(_ status: [ProjectionStatus]) {
            if output.json {
                Output.json(.array(status.map(\.document)))
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

    struct Rebuild: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rebuild projections from the start of the log into new tables, then switch to them.",
            discussion: """
                The current tables keep answering until the rebuilt ones take over in one transaction. One rebuild \
                runs at a time per journal: a second one, from any process, waits for the first.
                """)

        @Argument(help: "Projections to rebuild (default: all).")
        var names: [String] = []

        @OptionGroup var rules: RulesOptions
        @OptionGroup var declared: DeclaredOptions
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            try runReportingErrors(json: output.json) {
                let store = try database.openStore(create: false)
                let runner = builtInRunner(store, rules: try rules.momentRules(), declared: try declared.load(store))
                let bar = ProgressLine(label: "Rebuilding", enabled: !output.json)
                let folded = try runner.rebuild(names) { progress in bar.update(progress) }
                bar.finish()
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

/// SIGINT and SIGTERM stop a follower between two batches: the handler only sets a flag and wakes the
/// watcher's wait. The signals are unblocked first, since a parent may have started us with them blocked.
enum StopSignals {
    nonisolated(unsafe) private static var flag: sig_atomic_t = 0
    nonisolated(unsafe) private static var wakeDescriptor: Int32 = -1

    static var received: Bool { flag != 0 }

    static func install(waking watcher: JournalWatcher) {
        wakeDescriptor = watcher.interruptDescriptor
        for number in [SIGINT, SIGTERM] {
            signal(number) { _ in
                StopSignals.flag = 1
                var byte: UInt8 = 1
                _ = write(StopSignals.wakeDescriptor, &byte, 1)
            }
        }
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGINT)
        sigaddset(&signals, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &signals, nil)
    }
}
