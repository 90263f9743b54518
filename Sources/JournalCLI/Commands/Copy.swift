import ArgumentParser
import Foundation
import Journal
import JournalStore

extension JournalCommand {
    struct Copy: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy a journal into a new one that seals its personal values, with a signed statement linking the two.",
            discussion: """
                --protect --to NEW: a journal written before sealing holds personal values in the clear, and its log \
                cannot be changed. This verifies it, copies every event — same ids, envelopes and payloads, in the same \
                order, each with its recording time, so as-of answers stay the same — into the new journal NEW as one \
                import that seals them, and writes a statement signed with NEW's key (Ed25519, kept in NEW's key file) \
                linking the old head to the new one (default NEW.copy-statement.json). The old journal stays as it was: \
                retire it (and its backups) once the copy is checked.
                --check FILE: checks a statement's signature, and that both journals (when present) still have the heads it names.
                """)

        @Flag(name: .long, help: "Copy into a new journal that seals personal values.")
        var protect = false

        @Option(name: .long, help: "The new journal's path (must not hold events).")
        var to: String?

        @Option(name: .long, help: "Where to write the signed statement (default: the new journal's path + .copy-statement.json).")
        var statement: String?

        @Option(name: .long, help: "Check a statement written by --protect.")
        var check: String?

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions

        func validate() throws {
            guard protect != (check != nil) else { throw ValidationError("Give either --protect --to NEW or --check STATEMENT.") }
            if protect, to == nil { throw ValidationError("--protect needs --to NEW, the new journal's path.") }
            if let to, FileManager.default.fileExists(atPath: to) {
                throw ValidationError("\(to) exists; a protected copy goes into a new journal.")
            }
        }

        func run() throws {
            try runReportingErrors(json: output.json) {
                if let check { return try checkStatement(check) }
                let source = try database.openStore(create: false)
                let copied: ProtectedCopy.Statement
                do {
                    let target = try database.openStore(at: to!, create: true)
                    let total = max(1, try source.head())
                    let bar = ProgressLine(label: "Copying")
                    copied = try ProtectedCopy(from: source, to: target).run { bar.update(Double($0) / Double(total), Output.count(Int($0), "event")) }
                    bar.finish()
                } catch {
                    // The new journal did not exist before: a copy that failed leaves none of its files (or keys) behind.
                    OpenJournals.closeAll()
                    for suffix in ["", "-wal", "-shm", "-keys", "-keys-wal", "-keys-shm", "-projections", "-projections-wal", "-projections-shm"] {
                        try? FileManager.default.removeItem(atPath: to! + suffix)
                    }
                    throw error
                }
                let path = statement ?? to! + ".copy-statement.json"
                try Data((CanonicalJSON.string(copied.document) + "\n").utf8).write(to: URL(fileURLWithPath: path))
                if output.json {
                    Output.json(["statement": .string(path), "copy": copied.document])
                } else {
                    Output.line("Copied \(Output.count(Int(copied.events), "event")) into \(to!), personal values sealed; positions \(copied.toFirst)–\(copied.toHead).")
                    Output.line("Old head \(copied.fromHead):\(Hex.encode(copied.fromHash))")
                    Output.line("New head \(copied.toHead):\(Hex.encode(copied.toHash))")
                    Output.line("Signed statement: \(path) (check it with `tpj copy --check \(path)`).")
                }
            }
        }

        private func checkStatement(_ path: String) throws {
            guard let data = FileManager.default.contents(atPath: path) else { throw CLIError(code: 66, message: "cannot read \(path)") }
            let parsed: ProtectedCopy.Statement
            do {
                parsed = try ProtectedCopy.Statement(document: JSONParser.parse(String(decoding: data, as: UTF8.self)))
            } catch let error as JournalError {
                throw CLIError(code: 65, message: "\(path): \(error.description)")
            } catch {
                throw CLIError(code: 65, message: "\(path): not JSON: \(error)")
            }
            var problems: [String] = [], absent: [String] = []
            if !parsed.signatureIsValid { problems.append("the signature does not match the statement") }
            for (label, journal, position, hash) in [("old", parsed.fromJournal, parsed.fromHead, parsed.fromHash), ("new", parsed.toJournal, parsed.toHead, parsed.toHash)] {
                guard FileManager.default.fileExists(atPath: journal) else {
                    // The old journal may be retired once its copy is checked; the new one is what the statement vouches for.
                    if label == "new" { problems.append("the new journal \(journal) is not here: its head and key cannot be checked") }
                    else { absent.append(journal) }
                    continue
                }
                let store = try database.openStore(at: journal, create: false)
                if let failure = try store.checkAnchor(position: position, hash: hash) {
                    problems.append("the \(label) journal \(journal): position \(failure.position): \(failure.reason)")
                }
                if label == "new", try !parsed.isSigned(byKeyOf: store) {
                    problems.append("the statement was not signed with the new journal's key")
                }
            }
            if output.json {
                Output.json([
                    "valid": .bool(problems.isEmpty), "problems": .array(problems.map(JSONValue.string)),
                    "oldJournalChecked": .bool(absent.isEmpty),
                ])
            } else if problems.isEmpty {
                let old = absent.isEmpty ? "the old head \(parsed.fromHead) and " : ""
                Output.line("OK: signed by the new journal's key; \(old)the new head \(parsed.toHead) \(absent.isEmpty ? "are" : "is") as stated.")
                for journal in absent { Output.line("The old journal \(journal) is not here (retired?): its head \(parsed.fromHead) was not checked.") }
            } else {
                for problem in problems { Output.line("FAILED: \(problem)") }
            }
            if !problems.isEmpty { throw ExitCode(1) }
        }
    }
}
