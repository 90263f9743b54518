import Crypto
import Foundation
import GRDB
import Journal

/// Copies a journal whose personal values are stored in the clear (written before sealing existed)
/// into a new journal that seals them: the log is immutable, so its events cannot be sealed in place.
/// The copy re-chains the same events — same ids, envelopes and payloads, in the same order — as one
/// import that keeps each event's recording time, so as-of questions get the same answers; and a
/// statement signed with the new journal's key links the old head to the new one.
public struct ProtectedCopy {
    public let source: EventStore
    public let target: EventStore

    public init(from source: EventStore, to target: EventStore) {
        self.source = source
        self.target = target
    }

    /// The signed link between the two journals.
    public struct Statement: Sendable, Equatable {
        public static let kind = "tpj copy --protect"

        public var copiedAt: Timestamp
        public var fromJournal: String
        public var fromHead: Int64
        public var fromHash: [UInt8]
        public var toJournal: String
        public var toFirst: Int64
        public var toHead: Int64
        public var toHash: [UInt8]
        public var events: Int64
        public var publicKey: Data
        public var signature: Data

        /// What is signed: the statement without its signature, as canonical JSON.
        var signedDocument: JSONValue {
            [
                "statement": .string(Self.kind), "copiedAt": .string(copiedAt.rfc3339), "events": .number(JSONNumber(events)),
                "from": ["journal": .string(fromJournal), "head": .string("\(fromHead):\(Hex.encode(fromHash))")],
                "to": ["journal": .string(toJournal), "first": .number(JSONNumber(toFirst)), "head": .string("\(toHead):\(Hex.encode(toHash))")],
                "publicKey": .string(publicKey.base64EncodedString()),
            ]
        }

        public var document: JSONValue {
            guard case .object(var members) = signedDocument else { return signedDocument }
            members.append(JSONMember("signature", .string(signature.base64EncodedString())))
            return .object(members)
        }

        /// Whether the signature is the public key's over the rest of the statement.
        public var signatureIsValid: Bool {
            guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey) else { return false }
            return key.isValidSignature(signature, for: CanonicalJSON.bytes(signedDocument))
        }

        /// Whether the statement names `journal`'s signing key.
        public func isSigned(byKeyOf journal: EventStore) throws(JournalError) -> Bool {
            try journal.keys.signingKey().publicKey.rawRepresentation == publicKey
        }
    }

    /// Verifies the source's chain, copies every event into the target (which must hold none) as one
    /// import, and returns the signed statement. All or nothing: a refused event leaves the target empty.
    ///
    /// - Parameter progress: told how many events were copied, every 10,000.
    public func run(progress: ((Int64) -> Void)? = nil) throws -> Statement {
        guard try target.head() == 0 else { throw JournalError.invalidArgument("the target journal holds events; a protected copy goes into a new journal") }
        let verified = try source.verify()
        if let failure = verified.failure {
            throw JournalError.invalidArgument("the journal to copy does not verify: position \(failure.position): \(failure.reason); nothing was copied")
        }
        guard let fromHash = verified.lastHash, verified.last > 0 else { throw JournalError.invalidArgument("the journal to copy holds no events") }
        let plain = source.disclosure(.plain)
        let validator = target.validator
        var copied: Int64 = 0
        let range: (first: Int64, last: Int64) = try target.recordImport(dryRun: false) { recorder in
            var chunk: [RecordedEvent] = []
            func flush() throws {
                let proposed = chunk.map { event in (event, Self.proposal(plain.event(event))) }
                try validator.makeKeys(for: proposed.map { ($0.0.customerId, [$0.1]) })
                for (event, proposal) in proposed {
                    var prepared = try validator.prepare(proposal, index: Int(event.position), customerId: event.customerId)
                    prepared.sourceRecordedAt = event.knownAt
                    prepared.importRef = "\(recorder.importNumber)/copy:\(event.position)"
                    guard case .stored = try recorder.record(prepared, requireRegistered: false) else {
                        throw JournalError.invalidArgument("event \(event.position) (\(event.eventId)) could not be copied; nothing was copied")
                    }
                    copied += 1
                }
                chunk.removeAll(keepingCapacity: true)
                progress?(copied)
            }
            try source.forEachEvent(after: 0) { event in
                guard event.position <= verified.last else { return false }
                chunk.append(event)
                if chunk.count == 10_000 { try flush() }
                return true
            }
            if !chunk.isEmpty { try flush() }
            let description = "{\"copyOf\":\(CanonicalJSON.string(.string(source.writer.path))),\"head\":\"\(verified.last):\(Hex.encode(fromHash))\"}"
            try recorder.describe(ImportDescription(
                importNumber: recorder.importNumber, recordedAt: recorder.recordedAt, mappingName: Statement.kind,
                mappingSha256: Hex.encode(SHA256.hash(data: Data(description.utf8))), mapping: description,
                sources: [.init(file: source.writer.path, bytes: Self.fileSize(source.writer.path), sha256: Hex.encode(fromHash), rows: Int(verified.last))],
                rowsRead: Int(copied), eventsStored: Int(copied), alreadyRecorded: 0, rowsRejected: 0))
            return (recorder.firstPosition ?? 0, recorder.lastPosition ?? 0)
        }
        let check = try target.verify()
        guard check.isIntact, let toHash = check.lastHash, check.last == range.last else {
            throw JournalError.storage("the copy does not verify: \(check.failure.map { "position \($0.position): \($0.reason)" } ?? "unexpected head")")
        }
        let key = try target.keys.signingKey()
        var statement = Statement(
            copiedAt: target.clock.now(), fromJournal: source.writer.path, fromHead: verified.last, fromHash: fromHash,
            toJournal: target.writer.path, toFirst: range.first, toHead: range.last, toHash: toHash, events: copied,
            publicKey: key.publicKey.rawRepresentation, signature: Data())
        statement.signature = try key.signature(for: CanonicalJSON.bytes(statement.signedDocument))
        return statement
    }

    static func fileSize(_ path: String) -> Int64 {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.int64Value ?? 0
    }

    /// The event as a producer would send it again: the same id, envelope and payload.
    static func proposal(_ event: RecordedEvent) -> ProposedEvent {
        ProposedEvent(
            eventId: event.eventId.rawValue, type: event.type, schemaVersion: event.schemaVersion, occurredAt: event.occurredAt,
            customerId: event.customerId, caseId: event.caseId, assetId: event.assetId, siteId: event.siteId, actor: event.actor,
            source: event.source, correlationId: event.correlationId, causationId: event.causationId, payload: event.payloadJSON)
    }
}

extension ProtectedCopy.Statement {
    /// Reads a statement written by ``document``.
    public init(document: JSONValue) throws(JournalError) {
        func text(_ value: JSONValue?, _ path: String) throws(JournalError) -> String {
            guard let text = value?.stringValue else { throw .invalidArgument("the statement has no \(path)") }
            return text
        }
        func head(_ value: JSONValue?, _ path: String) throws(JournalError) -> (Int64, [UInt8]) {
            let parts = try text(value, path).split(separator: ":")
            guard parts.count == 2, let position = Int64(parts[0]), let hash = Hex.decode(String(parts[1])), hash.count == 32 else {
                throw .invalidArgument("\(path) must be POSITION:HASH")
            }
            return (position, hash)
        }
        guard try text(document["statement"], "statement") == Self.kind else { throw .invalidArgument("not a statement of \(Self.kind)") }
        guard let copiedAt = try? Timestamp(rfc3339: try text(document["copiedAt"], "copiedAt")) else { throw .invalidArgument("copiedAt is no timestamp") }
        guard case .number(let eventCount)? = document["events"], let events = Int64(exactly: eventCount.value),
              case .number(let firstPosition)? = document["to"]?["first"], let first = Int64(exactly: firstPosition.value) else {
            throw .invalidArgument("the statement has no events or to.first")
        }
        guard let publicKey = Data(base64Encoded: try text(document["publicKey"], "publicKey")),
              let signature = Data(base64Encoded: try text(document["signature"], "signature")) else {
            throw .invalidArgument("publicKey and signature must be base64")
        }
        let (fromHead, fromHash) = try head(document["from"]?["head"], "from.head")
        let (toHead, toHash) = try head(document["to"]?["head"], "to.head")
        self.init(copiedAt: copiedAt, fromJournal: try text(document["from"]?["journal"], "from.journal"), fromHead: fromHead, fromHash: fromHash,
                  toJournal: try text(document["to"]?["journal"], "to.journal"), toFirst: first, toHead: toHead, toHash: toHash,
                  events: events, publicKey: publicKey, signature: signature)
    }
}
