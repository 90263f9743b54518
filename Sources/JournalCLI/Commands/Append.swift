import ArgumentParser
import Foundation
import Journal
import JournalStore

extension JournalCommand {
    struct Append: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Append events from a JSON array or NDJSON (a file, or - for standard input).",
            discussion: """
                With --customer, the input is one customer's batch; each event may omit customerId. \
                Without it, every event must carry customerId; each customer's events form a batch, \
                and all batches are stored in one transaction. Either way nothing is stored if any \
                event is invalid. Re-sending an event with the same eventId and content is a no-op.
                """)

        @Option(name: .long, help: "The customer whose stream the events extend.", transform: CustomerArgument.parse)
        var customer: String?

        @Option(name: .long, help: "Fail unless the customer's stream is at this version (0: no events yet).")
        var expectedVersion: Int?

        @Argument(help: "A file with a JSON array or NDJSON of events, or - for standard input.")
        var file: String = "-"

        @Flag(name: .long, help: "Refuse events of customers that have no customer.registered event (otherwise a warning).")
        var requireRegistered = false

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions

        func validate() throws {
            if expectedVersion != nil, customer == nil {
                throw ValidationError("--expected-version needs --customer.")
            }
            if let expectedVersion, expectedVersion < 0 {
                throw ValidationError("--expected-version must be 0 or more.")
            }
        }

        func run() throws {
            try runReportingErrors(json: output.json) {
                let bytes = try readInput()
                let events = try EventInput.parse(bytes)
                let batches = try makeBatches(events)
                let store = try database.openStore(create: true)
                let registering = batches.filter { $0.events.contains { $0.type == "customer.registered" } }.map(\.customerId)
                let unknown = try store.unregistered(batches.map(\.customerId).filter { !registering.contains($0) })
                let names = unknown.prefix(5).joined(separator: ", ") + (unknown.count > 5 ? " and \(unknown.count - 5) more" : "")
                if requireRegistered, !unknown.isEmpty {
                    throw CLIError(code: 65, message: "unknown customer\(unknown.count == 1 ? "" : "s") \(names): no customer.registered event; register first, or leave out --require-registered. Nothing was stored.")
                }
                let results = try store.append(batches)
                report(results)
                if !unknown.isEmpty, !output.json {
                    Output.error("warning: customer\(unknown.count == 1 ? "" : "s") \(names) ha\(unknown.count == 1 ? "s" : "ve") no customer.registered event (--require-registered refuses such appends)")
                }
            }
        }

        private func readInput() throws -> [UInt8] {
            if file == "-" {
                if isatty(FileHandle.standardInput.fileDescriptor) == 1 {
                    throw CLIError(code: 64, message: "give a FILE of events, or pipe them in and pass -")
                }
                return Array(FileHandle.standardInput.readDataToEndOfFile())
            }
            guard let data = FileManager.default.contents(atPath: file) else {
                throw CLIError(code: 66, message: "cannot read \(file): no such file, or no permission")
            }
            return Array(data)
        }

        private func makeBatches(_ events: [ProposedEvent]) throws -> [AppendBatch] {
            if let customer {
                return [AppendBatch(customerId: customer, expected: expectedVersion.map(ExpectedVersion.init) ?? .any, events: events)]
            }
            var order: [String] = []
            var grouped: [String: [ProposedEvent]] = [:]
            var indices: [String: [Int]] = [:]
            for (index, event) in events.enumerated() {
                guard let customerId = event.customerId else {
                    throw JournalError.invalidEvent(InvalidEvent(
                        index: index, eventId: event.eventId, path: "/customerId", rule: "required",
                        message: "customerId is missing; give it in every event or pass --customer"))
                }
                if grouped[customerId] == nil { order.append(customerId) }
                grouped[customerId, default: []].append(event)
                indices[customerId, default: []].append(index)
            }
            return order.map { AppendBatch(customerId: $0, events: grouped[$0]!, inputIndices: indices[$0]!) }
        }

        private func report(_ results: [AppendResult]) {
            if output.json {
                let items: [JSONValue] = results.map { result in
                    [
                        "customerId": .string(result.customerId), "appended": .number(JSONNumber(Int64(result.appended))),
                        "duplicates": .number(JSONNumber(Int64(result.duplicates))),
                        "streamVersion": .number(JSONNumber(Int64(result.streamVersion))),
                        "positions": .array(result.positions.map { .number(JSONNumber($0)) }),
                    ]
                }
                Output.json(customer == nil ? ["batches": .array(items)] : items[0])
                return
            }
            for result in results.prefix(20) {
                var line = "\(result.customerId): appended \(Output.count(result.appended)) event\(result.appended == 1 ? "" : "s")"
                if let range = result.newPositions {
                    line += range.count == 1 ? " at position \(range.lowerBound)" : " at positions \(range.lowerBound)–\(range.upperBound)"
                }
                line += ", stream version \(result.streamVersion)"
                if result.duplicates > 0 { line += "; \(result.duplicates) already recorded (no change)" }
                Output.line(line + ".")
            }
            if results.count > 20 {
                let appended = results.reduce(0) { $0 + $1.appended }
                let duplicates = results.reduce(0) { $0 + $1.duplicates }
                var line = "… \(Output.count(results.count, "customer")), \(Output.count(appended, "event")) appended in all"
                if duplicates > 0 { line += "; \(Output.count(duplicates)) already recorded (no change)" }
                Output.line(line + ".")
            }
        }
    }
}
