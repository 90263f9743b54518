import ArgumentParser
import Foundation
import Journal
import JournalStore
import JournalTesting

extension JournalCommand {
    struct Demo: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a small, realistic demo world into a new journal.",
            discussion: """
                Four customers whose journeys use every event type: a breakdown with a broken promise and a
                technician report typed in a week late, a complaint and its recovery, declined quotes and a
                lost customer, a correction, a void and a reactivation. Each event is recorded at the time
                it would have been, so --known-at questions have real answers.
                """)

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            try runReportingErrors(json: output.json) {
                let writer = try database.openWriter(create: true)
                let registry = try database.registry()
                let stored = try DemoWorld.write { clock in EventStore(writer: writer, registry: registry, clock: clock) }
                if output.json {
                    Output.json([
                        "path": .string(database.path), "events": .number(JSONNumber(Int64(stored))),
                        "customers": .array(DemoWorld.customers.map { .string($0.id) }),
                    ])
                } else {
                    Output.line("Wrote the demo world to \(database.path): \(stored) events of \(DemoWorld.customers.count) customers.")
                    for customer in DemoWorld.customers { Output.line("  \(customer.id)  \(customer.name)") }
                    Output.line("Try: tpj history C-1001 --order occurred")
                }
            }
        }
    }
}
