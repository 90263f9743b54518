import ArgumentParser
import Foundation
import Journal
import JournalPostgres
import JournalStore

extension JournalCommand {
    struct Copy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy a journal verbatim (between files and PostgreSQL), or into a new one that seals its personal values.",
            discussion: """
                --to TARGET: copies the log of --db into TARGET verbatim — the same positions, recording times, payload \
                bytes and hashes, each event checked against the chain as it goes — then verifies TARGET's chain. Either \
                side may be a journal file or a PostgreSQL database (postgres://user@host/database). A target that holds \
                the first events of the source already (an interrupted copy) is continued; one that holds other events \
                is refused. The keys that seal personal values go with the log, before it (into the target's key file, or \
                its key tables in PostgreSQL); a target holding another journal's keys is refused.
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

        @Option(name: .long, help: "Where to copy to: a journal file or a PostgreSQL URL (with --protect: a new journal file).")
        var to: String?

        @Option(name: .long, help: "Where to write the signed statement (default: the new journal's path + .copy-statement.json).")
        var statement: String?

        @Option(name: .long, help: "Check a statement written by --protect.")
        var check: String?

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions

        func validate() throws {
            if check != nil {
                guard !protect, to == nil else { throw ValidationError("--check takes a statement only: give either --to TARGET, --protect --to NEW or --check STATEMENT.") }
                return
            }
            guard let to else { throw ValidationError("Give --to TARGET (a verbatim copy), --protect --to NEW or --check STATEMENT.") }
            if protect, DatabaseOptions.isPostgres(to) { throw ValidationError("--protect copies into a new journal file, not into PostgreSQL.") }
            if protect, FileManager.default.fileExists(atPath: to) {
                throw ValidationError("\(to) exists; a protected copy goes into a new journal.")
            }
            if to == database.path { throw ValidationError("--to names the journal --db names: a copy goes elsewhere.") }
        }

        func run() async throws {
            if check == nil, !protect { return try await runReportingErrors(json: output.json) { try await copyVerbatim(to: to!) } }
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
                    Self.removeJournal(at: to!)
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

        /// Copies the log of `--db` into `target` as it is recorded, then verifies the target's chain.
        /// A new journal file that the copy failed to put any event in is removed again; one that holds
        /// the first pages stays, for the copy to be continued.
        private func copyVerbatim(to target: String) async throws {
            let source = database.path
            let newFile = !DatabaseOptions.isPostgres(target) && !FileManager.default.fileExists(atPath: target)
            do {
                try await copyVerbatim(from: source, to: target)
            } catch {
                if newFile, (try? database.openStore(at: target, create: false).head()) == 0 { Self.removeJournal(at: target) }
                throw error
            }
        }

        private func copyVerbatim(from source: String, to target: String) async throws {
            try await database.withLogAndKeys(at: source, create: false) { from, sourceKeys in
                let keys = try await sourceKeys?.keyMaterial()
                try await database.withLogAndKeys(at: target, create: true, newKeys: keys) { into, targetKeys in
                    // The keys before the events: no copied event is ever there without its key.
                    if let keys { try await targetKeys?.takeIn(keys) }
                    let bar = ProgressLine(label: "Copying", enabled: !output.json)
                    let outcome = try await LogCopy(from: from, to: into).run { done, head in
                        bar.update(Double(done) / Double(max(head, 1)), Output.count(Int(done), "event"))
                    }
                    if outcome.copied > 0 {
                        if DatabaseOptions.isPostgres(target) {
                            bar.update(1, "\(Output.count(Int(outcome.head), "event")); vacuuming and analyzing", newStep: true)
                        }
                        try await into.settleAfterBulkLoad()
                    }
                    bar.finish()
                    let check = try await into.verifyChain()
                    if output.json {
                        Output.json([
                            "from": .string(PostgresJournal.redacted(source)), "to": .string(PostgresJournal.redacted(target)),
                            "resumedAfter": .number(JSONNumber(outcome.resumedAfter)), "copied": .number(JSONNumber(outcome.copied)),
                            "head": .number(JSONNumber(outcome.head)), "headHash": outcome.headHash.map { .string(Hex.encode($0)) } ?? .null,
                            "verified": .number(JSONNumber(check.checked)), "intact": .bool(check.isIntact),
                            "keys": keys.map { keys -> JSONValue in
                                [
                                    "subjects": .number(JSONNumber(Int64(keys.subjects.count))), "dataKeys": .number(JSONNumber(Int64(keys.dataKeys.count))),
                                    "destroyed": .number(JSONNumber(Int64(keys.destroyed.count))),
                                ]
                            } ?? .null,
                        ])
                    } else {
                        let resumed = outcome.resumedAfter > 0 ? " after the \(Output.count(Int(outcome.resumedAfter), "event")) it held" : ""
                        Output.line("Copied \(Output.count(Int(outcome.copied), "event")) from \(PostgresJournal.redacted(source)) into \(PostgresJournal.redacted(target))\(resumed); both end at position \(outcome.head).")
                        if let hash = outcome.headHash { Output.line("Head \(outcome.head):\(Hex.encode(hash))") }
                        if let keys {
                            Output.line("Keys: \(Output.count(keys.dataKeys.count, "data key")) of \(Output.count(keys.subjects.count, "subject")) and \(Output.count(keys.destroyed.count, "destroyed key")) copied with the log.")
                        } else {
                            Output.line("Keys: none copied, the source's key file is missing; the copy's personal values read [erased] until its keys are copied.")
                        }
                        if let failure = check.failure {
                            Output.line("TAMPERED: the copy's position \(failure.position): \(failure.reason).")
                        } else {
                            Output.line("The copy verifies: \(Output.count(Int(check.checked), "event")), hash chain intact.")
                        }
                    }
                    if check.failure != nil { throw ExitCode(1) }
                }
            }
        }

        /// Closes the journals this command opened and removes the journal file at `path` with its
        /// write-ahead log, keys and projections.
        private static func removeJournal(at path: String) {
            OpenJournals.closeAll()
            for suffix in ["", "-wal", "-shm", "-keys", "-keys-wal", "-keys-shm", "-projections", "-projections-wal", "-projections-shm"] {
                try? FileManager.default.removeItem(atPath: path + suffix)
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
