import Crypto
import Foundation
import GRDB
import Journal

/// Evidence of one customer's history that anyone can check offline, without the journal or tpj
/// (`tools/verify-evidence`, format `Schemas/evidence.schema.json`): the customer's events exactly as
/// stored (the canonical envelope each chain hash covers), each with its inclusion proof in a signed
/// tree head, that head, what the events show to the reader (sealed values disclosed where their key
/// still exists), and views rendered from them as known at a date. The whole document is signed with
/// the journal's key, so no byte of it can change unnoticed.
public struct Evidence: Sendable {
    public static let type = "tpj-evidence/1"

    public var customerId: String
    /// The date the evidence speaks for (nil: when it was made).
    public var knownAt: Timestamp?
    public var createdAt: Timestamp
    public var head: SignedTreeHead
    public var events: [RecordedEvent]
    public var proofs: [[[UInt8]]]
    /// The events' payloads and actors as the reader may see them.
    public var disclosed: [RecordedEvent]
    /// Named views, each rendered as lines of text.
    public var views: [(name: String, lines: [String])] = []

    /// The document without its signature: what the signature covers, as canonical JSON.
    public var body: JSONValue {
        var members: [JSONMember] = [
            JSONMember("type", .string(Self.type)),
            JSONMember("customerId", .string(customerId)),
            JSONMember("createdAt", .string(createdAt.rfc3339)),
            JSONMember("treeHead", head.document),
            JSONMember("events", .array(zip(events, proofs).map { event, proof in
                var envelope: [UInt8] = []
                EventChain.writeCanonicalEnvelope(of: event, into: &envelope)
                return .object([
                    JSONMember("position", .number(JSONNumber(event.position))),
                    JSONMember("prevHash", .string(Hex.encode(event.prevHash))),
                    JSONMember("hash", .string(Hex.encode(event.hash))),
                    JSONMember("envelope", .string(String(decoding: envelope, as: UTF8.self))),
                    JSONMember("inclusionProof", .array(proof.map { .string(Hex.encode($0)) })),
                ])
            })),
            JSONMember("disclosed", .array(disclosed.map { event in
                // As text (its canonical JSON), so the file's signature never depends on how a reader writes numbers.
                var members = [
                    JSONMember("position", .number(JSONNumber(event.position))),
                    JSONMember("payload", .string(event.payload)),
                ]
                if let actor = event.actor { members.append(JSONMember("actor", .string(actor))) }
                return .object(members)
            })),
            JSONMember("views", .object(views.map { JSONMember($0.name, .array($0.lines.map(JSONValue.string))) })),
        ]
        if let knownAt { members.append(JSONMember("knownAt", .string(knownAt.rfc3339))) }
        return .object(members)
    }

    /// The signed document: ``body`` with `signature`, the journal key's Ed25519 signature of the body's canonical bytes.
    public func document(signedBy keys: KeyStore) throws(JournalError) -> JSONValue {
        let body = self.body
        let signature: Data
        do {
            signature = try keys.signingKey().signature(for: CanonicalJSON.bytes(body))
        } catch let error as JournalError {
            throw error
        } catch {
            throw .storage("signing the evidence failed: \(error)")
        }
        guard case .object(var members) = body else { return body }
        members.append(JSONMember("signature", .string(Hex.encode(Array(signature)))))
        return .object(members)
    }
}

extension EventStore {
    /// The evidence of `customerId`'s events in the latest tree head signed by `knownAt`, or — without
    /// a date — in the latest head, signed now when none covers the whole log.
    ///
    /// - Throws: ``JournalError/invalidArgument(_:)`` for a customer without events in the head, or when
    ///   no head was signed by `knownAt`.
    public func evidence(of customerId: String, knownAt: Timestamp?, disclosure: Disclosure) throws(JournalError) -> Evidence {
        // Nothing is signed for a customer the journal does not know.
        guard try streamVersion(of: customerId) > 0 else { throw .invalidArgument("no customer \(customerId): the journal holds no events of it") }
        let head: SignedTreeHead
        if let knownAt {
            guard let signed = try latestTreeHead(signedBy: knownAt) else {
                throw .invalidArgument("no tree head was signed by \(knownAt.rfc3339): the journal can prove only what a head signed (tpj seal)")
            }
            head = signed
        } else if let latest = try latestTreeHead(), latest.treeSize == (try self.head()) {
            head = latest
        } else {
            head = try signTreeHead()
        }
        let events = try history(of: customerId).filter { $0.position <= head.treeSize }
        guard !events.isEmpty else {
            throw .invalidArgument("customer \(customerId) has no events in the \(head.treeSize) events the head of \(head.signedAt.rfc3339) signed")
        }
        let proofs = try read { db in
            try events.map { event in try Self.inclusionProof(position: event.position, size: head.treeSize, in: db) }
        }
        return Evidence(
            customerId: customerId, knownAt: knownAt, createdAt: clock.now(), head: head, events: events, proofs: proofs,
            disclosed: events.map(disclosure.event))
    }
}
