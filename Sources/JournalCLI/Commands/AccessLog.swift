import ArgumentParser
import Foundation
import Journal
import JournalStore

extension JournalCommand {
    struct AccessLog: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "access-log",
            abstract: "Who read which customer through the server: token name and role, when, what, and the answer.",
            discussion: """
                tpj serve records every read of a customer by a token — the API's customer routes and the customer \
                page — in the journal's append-only access log (within half a second, and at shutdown). Over HTTP: \
                GET /v1/access-log (auditor or admin).
                """)

        @Option(name: .long, help: "Only reads of this customer.", transform: CustomerArgument.parse)
        var customer: String?

        @Option(name: .long, help: "Only reads at or after this time.")
        var since: TimeArgument?

        @Option(name: .long, help: "At most this many reads, oldest first.")
        var limit = 1_000

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions

        func validate() throws {
            guard (1...1_000_000).contains(limit) else { throw ValidationError("--limit must be 1 to 1000000 (got \(limit))") }
        }

        func run() throws {
            try runReportingErrors(json: output.json) {
                let records = try database.openStore(create: false).accesses(customerId: customer, since: since?.instant, limit: limit)
                if output.json {
                    Output.json(.array(records.map(\.document)))
                } else if records.isEmpty {
                    Output.line("No reads of \(customer.map { "customer \($0)" } ?? "customers") recorded\(since.map { " since \($0.instant.rfc3339)" } ?? "").")
                } else {
                    Output.line(Output.table(["AT", "TOKEN", "ROLE", "CUSTOMER", "READ", "STATUS"], records.map { record in
                        [record.at.rfc3339, record.tokenName, record.role, record.customerId, "\(record.method) \(record.target)", "\(record.status)"]
                    }))
                }
            }
        }
    }
}
