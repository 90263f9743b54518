import ArgumentParser
import Foundation
import Journal
import JournalStore

extension JournalCommand {
    struct Keys: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The journal's signing key (Ed25519), which signs its tree heads.",
            subcommands: [Create.self, Show.self], defaultSubcommand: Show.self)

        struct Create: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Make the signing key if the journal has none (tpj init makes it too).")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var output: OutputOptions

            func run() throws {
                try runReportingErrors(json: output.json) {
                    let store = try database.openStore(create: false)
                    let made = try !store.keys.hasSigningKey()
                    if !output.json { Output.line(made ? "Made the journal's signing key." : "The journal has its signing key already; it is kept.") }
                    try Keys.report(store, journal: database.path, output: output)
                }
            }
        }

        struct Show: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Print the public key and its fingerprint, to publish beside the signed heads.")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var output: OutputOptions

            func run() throws {
                try runReportingErrors(json: output.json) {
                    let store = try database.openStore(create: false)
                    guard try store.keys.hasSigningKey() else {
                        throw JournalError.invalidArgument("the journal has no signing key yet: make it with `tpj keys create` (tpj init and tpj seal make it too)")
                    }
                    try Keys.report(store, journal: database.path, output: output)
                }
            }
        }

        static func report(_ store: EventStore, journal: String, output: OutputOptions) throws {
            let publicKey = try store.keys.signingPublicKey()
            let path = KeyStore.path(of: journal)
            if output.json {
                Output.json([
                    "publicKey": .string(Hex.encode(publicKey)),
                    "keyFingerprint": .string(SignedTreeHead.fingerprint(of: publicKey)),
                    "algorithm": "Ed25519", "keyFile": .string(path),
                ])
            } else {
                Output.line("Signing key (Ed25519) in \(path), readable by its owner only.")
                Output.line("Public key:  \(Hex.encode(publicKey))")
                Output.line("Fingerprint: \(SignedTreeHead.fingerprint(of: publicKey))")
            }
        }
    }

    struct Seal: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sign the Merkle tree over the whole log (a signed tree head) and record it.",
            discussion: """
                The head says: at this time the log held N events whose Merkle root is R, signed with the \
                journal's Ed25519 key. Write it out with --out and keep it elsewhere (publish it, mail it, \
                print it): `tpj verify --head FILE` later proves that none of those N events was altered, and \
                evidence files prove single events against it.
                """)

        @Option(name: .long, help: "Also write the head to this file (JSON, Schemas/tree-head.schema.json).")
        var out: String?

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            try runReportingErrors(json: output.json) {
                let head = try database.openStore(create: false).signTreeHead()
                if let out {
                    var bytes = CanonicalJSON.bytes(head.document)
                    bytes.append(0x0A)
                    try Output.writeNewFile(bytes, to: out)
                }
                if output.json {
                    Output.json(head.document)
                } else {
                    Output.line("Signed tree head: \(Output.count(head.treeSize, "event")), root \(Hex.encode(head.rootHash)),")
                    Output.line("signed \(head.signedAt.rfc3339) by key \(SignedTreeHead.fingerprint(of: head.publicKey)).")
                    if let out { Output.line("Written to \(out); keep it outside the journal. `tpj verify --head \(out)` checks the journal against it.") }
                }
            }
        }
    }
}

extension JournalCommand {
    struct Prove: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the proof that a later signed tree head extends an earlier one (RFC 6962 consistency).",
            discussion: """
                Both heads must be this journal's and must match it. The file (Schemas/consistency-proof.schema.json) \
                holds both heads and the proof; tools/verify-evidence FILE checks it without tpj: nothing the earlier \
                head signed was changed, removed or reordered by the time of the later one.
                """)

        @Option(name: .long, help: "The earlier head (tpj seal --out).")
        var from: String

        @Option(name: .long, help: "The later head.")
        var to: String

        @Option(name: .long, help: "The file to write (never overwritten).")
        var out: String

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            try runReportingErrors(json: output.json) {
                let store = try database.openStore(create: false)
                let (old, new) = (try Verify.readHead(from), try Verify.readHead(to))
                guard old.treeSize <= new.treeSize else {
                    throw JournalError.invalidArgument("\(from) covers \(old.treeSize) events, more than \(to) (\(new.treeSize)): give the earlier head as --from")
                }
                for (head, file) in [(old, from), (new, to)] {
                    let check = try store.check(against: head)
                    guard check.signedByThisJournal else { throw JournalError.invalidArgument("\(file) is not signed with this journal's key") }
                    if let failure = check.failure { throw JournalError.invalidArgument("\(file) does not match the journal: \(failure)") }
                }
                let proof = try store.consistencyProof(from: old.treeSize, to: new.treeSize)
                guard MerkleTree.verifyConsistency(oldSize: Int(old.treeSize), newSize: Int(new.treeSize), oldRoot: old.rootHash, newRoot: new.rootHash, proof: proof) else {
                    throw JournalError.storage("the consistency proof does not verify: the journal's stored tree differs from its events")
                }
                let document: JSONValue = [
                    "type": "tpj-consistency-proof/1", "from": old.document, "to": new.document,
                    "proof": .array(proof.map { .string(Hex.encode($0)) }),
                ]
                var bytes = CanonicalJSON.bytes(document)
                bytes.append(0x0A)
                try Output.writeNewFile(bytes, to: out)
                if output.json {
                    Output.json(["file": .string(out), "fromSize": .number(JSONNumber(old.treeSize)), "toSize": .number(JSONNumber(new.treeSize)),
                                 "proofHashes": .number(JSONNumber(Int64(proof.count)))])
                } else {
                    Output.line("The head of \(Output.count(new.treeSize, "event")) (\(new.signedAt.rfc3339)) extends the head of \(Output.count(old.treeSize, "event")) (\(old.signedAt.rfc3339)): a proof of \(proof.count == 1 ? "1 hash" : "\(proof.count) hashes").")
                    Output.line("Written to \(out); check it with tools/verify-evidence \(out).")
                }
            }
        }
    }
}
