import ArgumentParser
import Foundation
import Journal
import JournalPostgres
import JournalStore

extension JournalCommand {
    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute the hash chain and report the first event that was altered.",
            discussion: "Exits with 1 when the chain is broken, naming the position and the reason.")

        @Option(name: .long, help: "First position to check.")
        var from: Int64 = 1

        @Option(name: .long, help: "Last position to check (default: the end of the log).")
        var to: Int64?

        @Option(name: .long, help: "An anchor recorded earlier, POSITION:HASH (printed by verify): must still match.")
        var anchor: String?

        @Option(name: .long, help: "A signed tree head kept elsewhere (tpj seal --out): the journal must still hold exactly the events it signed.")
        var head: String?

        @Option(name: .long, help: "Check the journal against the latest tree head it signed by this time: what it had committed to then.")
        var asOf: TimeArgument?

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions

        func validate() throws {
            guard from >= 1 else { throw ValidationError("--from must be 1 or more.") }
            if let to, to < from { throw ValidationError("--to must not be before --from.") }
            if head != nil || asOf != nil, anchor != nil || to != nil || from != 1 {
                throw ValidationError("--head and --as-of check the events a head signed; they take no --from, --to or --anchor.")
            }
            if head != nil, asOf != nil { throw ValidationError("Give either --head FILE or --as-of TIME.") }
            if let anchor, parsedAnchor(anchor) == nil {
                throw ValidationError("--anchor takes POSITION:HASH, e.g. 59:3f2a… (64 hexadecimal digits).")
            }
        }

        /// Walks the whole chain of a journal in PostgreSQL, and checks `--anchor` if given; with
        /// `--as-of`, checks the log against the latest head its nodes signed by then.
        private func verifyWhole(_ url: String) async throws {
            guard from == 1, to == nil, head == nil else {
                throw CLIError(code: 64, message: "a journal in PostgreSQL is verified whole, or against the heads its nodes signed (--as-of): --from, --to and --head need a journal file")
            }
            if let asOf {
                return try await PostgresJournal.withJournal(url: url) { journal in
                    let heads = PostgresTreeHeads(journal: journal)
                    guard let signed = try await heads.latest(signedBy: asOf.instant) else {
                        throw JournalError.invalidArgument("no tree head was signed by \(asOf.instant.rfc3339): the nodes sign them (tpj serve --db postgres://…)")
                    }
                    if !output.json {
                        Output.line("The latest head signed by \(asOf.instant.rfc3339) is of \(signed.head.signedAt.rfc3339), by node \(signed.signedBy): \(Output.count(signed.head.treeSize, "event")).")
                    }
                    let failure = try await heads.failure(of: signed.head)
                    let ours = try await heads.signingPublicKey() == signed.head.publicKey
                    if output.json {
                        var members: [JSONMember] = [
                            JSONMember("matches", .bool(failure == nil)), JSONMember("treeSize", .number(JSONNumber(signed.head.treeSize))),
                            JSONMember("signedAt", .string(signed.head.signedAt.rfc3339)), JSONMember("signedBy", .string(signed.signedBy)),
                            JSONMember("keyFingerprint", .string(SignedTreeHead.fingerprint(of: signed.head.publicKey))),
                            JSONMember("signedByThisJournal", .bool(ours)),
                        ]
                        if let failure { members.append(JSONMember("failure", .string(failure))) }
                        Output.json(.object(members))
                    } else if let failure {
                        Output.line("TAMPERED: \(failure).")
                    } else {
                        Output.line("OK: the journal holds exactly the \(Output.count(signed.head.treeSize, "event")) the head signed on \(signed.head.signedAt.rfc3339).")
                    }
                    if !ours { Output.error("Note: the head was signed by key \(SignedTreeHead.fingerprint(of: signed.head.publicKey)), not this journal's key.") }
                    if failure != nil { throw ExitCode(1) }
                }
            }
            let anchor = anchor.flatMap(parsedAnchor)
            let report = try await database.withLog(at: url, create: false) { log in
                var report = try await log.verifyChain()
                if report.isIntact, let anchor { report.failure = try await log.verifyAnchor(position: anchor.position, hash: anchor.hash) }
                return report
            }
            try show(report)
        }

        private func parsedAnchor(_ text: String) -> (position: Int64, hash: [UInt8])? {
            let parts = text.split(separator: ":")
            guard parts.count == 2, let position = Int64(parts[0]), position >= 1, parts[1].count == 64,
                  let bytes = Hex.decode(String(parts[1])) else { return nil }
            return (position, bytes)
        }

        func run() async throws {
            if DatabaseOptions.isPostgres(database.path) {
                return try await runReportingErrors(json: output.json) { try await verifyWhole(database.path) }
            }
            try runReportingErrors(json: output.json) {
                let store = try database.openStore(create: false)
                if let head { return try checkHead(try Self.readHead(head), store: store) }
                if let asOf {
                    guard let signed = try store.latestTreeHead(signedBy: asOf.instant) else {
                        throw JournalError.invalidArgument("no tree head was signed by \(asOf.instant.rfc3339): sign heads with tpj seal (tpj serve signs them itself)")
                    }
                    if !output.json { Output.line("The latest head signed by \(asOf.instant.rfc3339) is of \(signed.signedAt.rfc3339): \(Output.count(signed.treeSize, "event")).") }
                    return try checkHead(signed, store: store)
                }
                var report = try store.verify(from: from, through: to) { checked in
                    if !output.json { Output.error("  … \(Output.count(checked, "event")) verified") }
                }
                if report.isIntact, let anchor = anchor.flatMap(parsedAnchor) {
                    report.failure = try store.checkAnchor(position: anchor.position, hash: anchor.hash)
                }
                try show(report)
            }
        }

        /// Prints a report; exits with 1 when the chain is broken.
        private func show(_ report: VerificationReport) throws {
            if output.json {
                Output.json(report.document)
            } else if let failure = report.failure {
                Output.line("TAMPERED: position \(failure.position): \(failure.reason).")
                Output.line("\(Output.count(report.checked, "event")) before it verified.")
            } else if report.checked == 0 {
                Output.line("Nothing to verify: the journal holds no events in positions \(report.first)…\(report.last).")
            } else {
                Output.line("OK: \(Output.count(report.checked, "event")), positions \(report.first)–\(report.last), hash chain intact.")
                if let hash = report.lastHash {
                    Output.line("Anchor: \(report.last):\(Hex.encode(hash))")
                    Output.line("Keep the anchor outside the journal; `tpj verify --anchor` proves later that nothing up to it changed.")
                }
            }
            if !report.isIntact { throw ExitCode(1) }
        }

        static func readHead(_ path: String) throws -> SignedTreeHead {
            let document: JSONValue
            do {
                document = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
            } catch {
                throw JournalError.invalidArgument("cannot read the tree head \(path): \(error)")
            }
            return try SignedTreeHead(document: document)
        }

        private func checkHead(_ head: SignedTreeHead, store: EventStore) throws {
            let check = try store.check(against: head)
            if output.json {
                var members: [JSONMember] = [
                    JSONMember("matches", .bool(check.matches)),
                    JSONMember("treeSize", .number(JSONNumber(check.head.treeSize))),
                    JSONMember("signedAt", .string(check.head.signedAt.rfc3339)),
                    JSONMember("keyFingerprint", .string(SignedTreeHead.fingerprint(of: check.head.publicKey))),
                    JSONMember("signedByThisJournal", .bool(check.signedByThisJournal)),
                ]
                if let failure = check.failure { members.append(JSONMember("failure", .string(failure))) }
                if let range = check.firstAltered {
                    members.append(JSONMember("firstAltered", ["from": .number(JSONNumber(range.lowerBound)), "to": .number(JSONNumber(range.upperBound))]))
                }
                Output.json(.object(members))
            } else if let failure = check.failure {
                Output.line("TAMPERED: \(failure).")
                if let range = check.firstAltered {
                    Output.line(range.count == 1 ? "First altered position: \(range.lowerBound)."
                        : "First altered position: between \(range.lowerBound) and \(range.upperBound); every event before \(range.lowerBound) is as signed.")
                }
            } else {
                Output.line("OK: the journal holds exactly the \(Output.count(check.head.treeSize, "event")) the head signed on \(check.head.signedAt.rfc3339).")
            }
            if !check.signedByThisJournal {
                Output.error("Note: the head was signed by key \(SignedTreeHead.fingerprint(of: check.head.publicKey)), not this journal's key.")
            }
            if !check.matches { throw ExitCode(1) }
        }
    }
}
