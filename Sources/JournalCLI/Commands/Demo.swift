import ArgumentParser
import Foundation
import Journal
import JournalStore
import JournalWorld

extension JournalCommand {
    struct Demo: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Generate a realistic after-sales world into a new journal.",
            discussion: """
                A deterministic world of customers with ABC behaviour and installed machines: deliveries and \
                installations, breakdowns with hotline calls, technician visits and parts, routine parts orders, \
                maintenance, contracts, complaints and surveys, late-recorded reports, corrections and voids. A hidden \
                satisfaction per customer drives declined quotes, silence, contracts not renewed and lost customers.

                The same --customers, --years, --seed and --start always give the same events. The world is recorded \
                night by night: what occurred on a day is appended at 02:00 UTC the next day, so --known-at questions \
                have real answers. Business times carry the customer's local offset (e.g. +01:00, summer +02:00).
                """)

        @Option(help: "Number of customers (1 to 5,000,000).")
        var customers = 200

        @Option(help: "Years to simulate (1 to 30).")
        var years = 3

        @Option(help: "Seed of the world; the same seed gives the same events.")
        var seed: UInt64 = 1

        @Option(help: "First day of the world, YYYY-MM-DD.")
        var start = "2023-01-01"

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions

        var world: WorldConfiguration {
            WorldConfiguration(customers: customers, years: years, seed: seed, start: start)
        }

        func validate() throws {
            if let problem = world.problem { throw ValidationError(problem + ".") }
            // The world is recorded night by night until its end: it must end before today, not in the future.
            if let first = try? Timestamp(utcDate: start) {
                let end = first.microseconds + Int64(years) * 366 * 86_400_000_000
                if end > JournalClock.live.now().microseconds {
                    throw ValidationError("a world of \(years) years from \(start) would be recorded past today; choose an earlier --start or fewer --years.")
                }
            }
        }

        func run() throws {
            try runReportingErrors(json: output.json) {
                let progress = ProgressLine(label: "Generating \(Output.count(customers, "customer")) × \(Output.count(years, "year"))", enabled: !output.json)
                let summary = try WorldGenerator.write(world, using: { clock in
                    try database.openStore(create: true, clock: clock)
                }, progress: { step in
                    let rate = step.seconds > 0 ? Int(Double(step.events) / step.seconds) : 0
                    progress.update(step.fraction, "\(Output.count(step.events, "event"))  \(Output.count(rate)) events/s")
                })
                progress.finish()
                // A new journal, as `tpj init` makes one: with the key that signs its tree heads.
                _ = try database.openStore(create: false).keys.signingPublicKey()
                report(summary, seconds: progress.elapsed)
            }
        }

        private func report(_ summary: WorldSummary, seconds: Double) {
            func time(_ t: Timestamp?) -> JSONValue { t.map { .string($0.rfc3339) } ?? .null }
            func int(_ value: Int) -> JSONValue { .number(JSONNumber(Int64(value))) }
            let rate = seconds > 0 ? Int(Double(summary.events) / seconds) : 0
            if output.json {
                Output.json([
                    "path": .string(database.path), "events": int(summary.events), "customers": int(summary.customers),
                    "lostCustomers": int(summary.lostCustomers), "losses": int(summary.losses), "reactivations": int(summary.reactivations),
                    "transactions": int(summary.nights), "seed": seed <= UInt64(Int64.max) ? .number(JSONNumber(Int64(seed))) : .string(String(seed)),
                    "years": int(years), "start": .string(start),
                    "firstOccurredAt": time(summary.firstOccurred), "lastOccurredAt": time(summary.lastOccurred),
                    "firstRecordedAt": time(summary.firstRecorded), "lastRecordedAt": time(summary.lastRecorded),
                    "seconds": .number(JSONNumber((seconds * 100).rounded() / 100)), "eventsPerSecond": int(rate),
                    "eventsByType": .object(summary.eventsByType.sorted { $0.key < $1.key }.map { JSONMember($0.key, int($0.value)) }),
                ])
                return
            }
            Output.line("Wrote a demo world to \(database.path): \(Output.count(summary.events, "event")) of \(Output.count(summary.customers, "customer")).")
            Output.line("Lost       \(Output.count(summary.lostCustomers, "customer")) (\(Output.count(summary.losses)) \(summary.losses == 1 ? "loss" : "losses"), \(Output.count(summary.reactivations)) reactivated)")
            if let first = summary.firstOccurred, let last = summary.lastOccurred {
                Output.line("Occurred   \(first.utcDate) … \(last.utcDate)")
            }
            Output.line("Recorded   \(Output.count(summary.nights, "nightly transaction")) in \(String(format: "%.1f", seconds)) s (\(Output.count(rate)) events/s)")
            Output.line("Seed       \(summary.configuration.seed) (tpj demo --customers \(customers) --years \(years) --seed \(seed) --start \(start))")
            Output.line("Try: tpj stats, tpj history C-100001 --order occurred, tpj timeline C-100001")
        }
    }
}
