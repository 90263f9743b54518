import ArgumentParser
import Foundation
import Journal
import JournalProjections
import JournalStore

extension JournalCommand {
    struct Erase: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Erase a data subject's personal values (crypto-shredding); every hash stays valid.",
            discussion: """
                Destroys the keys that sealed the subject's values — a customer's contact persons and the free \
                text recorded about it, or everything naming an employee — so they read [erased] everywhere from \
                now on, rebuilds declared projections whose tables held the subject's pseudonyms, and records an \
                erasure.performed event (in the customer's stream, or in journal:privacy for an employee). \
                Cannot be undone; `tpj verify` and earlier anchors still pass. A running server stops showing \
                the values at its next read.
                """)

        @Option(name: .long, help: "The customer whose contact persons and free text to erase.", transform: CustomerArgument.parse)
        var customer: String?

        @Option(name: .long, help: "A data subject: customer:<id> or employee:<name as recorded>.")
        var subject: String?

        @Option(name: .long, help: "Why (e.g. the request's reference); recorded in the log, so it must not name the person.")
        var reason: String

        @Option(name: .long, help: "Who asks for the erasure (recorded as the event's actor).")
        var by: String?

        @OptionGroup var declaredOptions: DeclaredOptions
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions

        func validate() throws {
            guard (customer == nil) != (subject == nil) else {
                throw ValidationError("Give either --customer C or --subject customer:<id>|employee:<name>.")
            }
            if let subject, DataSubject(subject) == nil {
                throw ValidationError("--subject takes customer:<id> or employee:<name as recorded>, got \"\(subject)\".")
            }
            if case .customer(let id)? = subject.flatMap(DataSubject.init), let problem = EventValidator.identifierProblem(id) {
                throw ValidationError("--subject customer:<id>: the id \(problem).")
            }
            if reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                throw ValidationError("--reason must say why (e.g. the request's reference).")
            }
        }

        func run() throws {
            try runReportingErrors(json: output.json) {
                let subject = customer.map(DataSubject.customer) ?? DataSubject(subject!)!
                let store = try database.openStore(create: false)
                let eraser = Eraser(store: store, declared: try declaredOptions.load(store))
                let report = try eraser.erase(subject, reason: reason, actor: by) { line in
                    if !output.json { Output.error("  … \(line)") }
                }
                if output.json {
                    Output.json(report.document)
                } else {
                    let years = report.years.isEmpty ? "" : " (values of \(report.years.map(String.init).joined(separator: ", ")))"
                    Output.line("Erased \(report.subject.kindName == "customer" ? report.subject.description : "the employee"): "
                        + "\(Output.count(report.keysDestroyed, "key")) destroyed\(years); recorded at position \(report.position) in \(report.stream).")
                    if !report.rebuilt.isEmpty { Output.line("Rebuilt \(report.rebuilt.joined(separator: ", ")), which held its pseudonyms.") }
                    Output.line("Its values read \(KeyStore.erasedText) from now on; `tpj verify` and earlier anchors still pass.")
                }
            }
        }
    }
}
