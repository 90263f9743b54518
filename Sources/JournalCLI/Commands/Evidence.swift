import ArgumentParser
import Foundation
import Journal
import JournalProjections
import JournalStore

extension JournalCommand {
    struct EvidenceCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "evidence",
            abstract: "Write one customer's history as a self-contained, signed evidence file anyone can verify offline.",
            discussion: """
                The file (JSON, Schemas/evidence.schema.json) holds the customer's events exactly as stored, each \
                with its inclusion proof in a signed tree head (the latest signed by --known-at, or one signed now), \
                that head, the events as the reader may see them (values whose key was destroyed read [erased]), \
                and the customer's timeline, moments, churn risk and segment as known at the date, scored with the rules and weights the log recorded by then. The journal's key signs the whole file. \
                tools/verify-evidence FILE checks it without tpj.
                """)

        @Argument(help: "The customer.", transform: CustomerArgument.parse)
        var customer: String

        @Option(name: .long, help: "The evidence as known at this time: proofs in the latest head signed by then.")
        var knownAt: TimeArgument?

        @Option(name: .long, help: "The file to write (never overwritten).")
        var out: String

        @OptionGroup var rules: RulesOptions
        @OptionGroup var weights: WeightsOptions
        @OptionGroup var reader: ReaderOptions
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            try runReportingErrors(json: output.json) {
                let store = try database.openStore(create: false)
                // The month's segment boundaries rank the portfolio: read from the facts projection, brought up
                // to date (the views themselves are folded on the spot, so no other projection is touched).
                try catchUp(ProjectionRunner(store: store, projections: [CustomerFacts()]), store: store)
                // Rules and weights named explicitly score the views; else those in force then.
                let (evidence, bytes) = try EvidenceFile.make(
                    store: store, customerId: customer, knownAt: knownAt?.instant, disclosure: store.disclosure(try reader.masking()),
                    rules: rules.namesAFile ? try rules.momentRules() : nil, model: weights.namesAFile ? try weights.model(journal: database.path).0 : nil)
                try Output.writeNewFile(bytes, to: out)
                let head = evidence.head
                if output.json {
                    Output.json([
                        "file": .string(out), "customerId": .string(customer), "events": .number(JSONNumber(Int64(evidence.events.count))),
                        "treeHead": head.document, "bytes": .number(JSONNumber(Int64(bytes.count))),
                    ])
                } else {
                    Output.line("Evidence for \(customer): \(Output.count(evidence.events.count, "event")) with inclusion proofs in the head of "
                        + "\(Output.count(head.treeSize, "event")) signed \(head.signedAt.rfc3339) (key \(SignedTreeHead.fingerprint(of: head.publicKey))).")
                    Output.line("Written to \(out) (\(Output.count(bytes.count, "byte"))); check it with tools/verify-evidence \(out).")
                }
            }
        }
    }
}
