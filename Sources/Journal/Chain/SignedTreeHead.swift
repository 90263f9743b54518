import Crypto

/// A statement, signed with the journal's Ed25519 key, that at `signedAt` its log held `treeSize`
/// events whose Merkle tree (``MerkleTree``) has the root `rootHash`. Kept outside the journal, it
/// proves later that none of those events was altered, removed or reordered.
///
/// The signed bytes are the canonical JSON (members sorted, no white space) of
/// `{"rootHash":<hex>,"signedAt":<RFC 3339, UTC, microseconds>,"treeSize":<n>,"type":"tpj-tree-head/1"}`.
public struct SignedTreeHead: Sendable, Hashable {
    public static let type = "tpj-tree-head/1"

    public var treeSize: Int64
    public var rootHash: [UInt8]
    public var signedAt: Timestamp
    /// The raw Ed25519 public key (32 bytes).
    public var publicKey: [UInt8]
    /// The Ed25519 signature of ``statement`` (64 bytes).
    public var signature: [UInt8]

    public init(treeSize: Int64, rootHash: [UInt8], signedAt: Timestamp, publicKey: [UInt8], signature: [UInt8]) {
        self.treeSize = treeSize
        self.rootHash = rootHash
        self.signedAt = signedAt
        self.publicKey = publicKey
        self.signature = signature
    }

    /// Signs the tree of `treeSize` events with root `rootHash` at `signedAt`.
    public init(treeSize: Int64, rootHash: [UInt8], signedAt: Timestamp, key: Curve25519.Signing.PrivateKey) throws(JournalError) {
        self.init(treeSize: treeSize, rootHash: rootHash, signedAt: signedAt, publicKey: Array(key.publicKey.rawRepresentation), signature: [])
        do {
            signature = Array(try key.signature(for: statement))
        } catch {
            throw .storage("signing the tree head failed: \(error)")
        }
    }

    /// The bytes the signature covers.
    public var statement: [UInt8] {
        CanonicalJSON.bytes(.object([
            JSONMember("rootHash", .string(Hex.encode(rootHash))),
            JSONMember("signedAt", .string(signedAt.rfc3339)),
            JSONMember("treeSize", .number(JSONNumber(treeSize))),
            JSONMember("type", .string(Self.type)),
        ]))
    }

    /// Whether the signature verifies with the head's own public key.
    public var hasValidSignature: Bool {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey) else { return false }
        return key.isValidSignature(signature, for: statement)
    }

    /// The raw public half of a raw Ed25519 private key, or nil when it is not one.
    public static func publicKey(ofPrivateKey privateKey: [UInt8]) -> [UInt8]? {
        (try? Curve25519.Signing.PrivateKey(rawRepresentation: privateKey)).map { Array($0.publicKey.rawRepresentation) }
    }

    /// The key's fingerprint: the first 16 bytes of SHA-256 of the raw public key, in hexadecimal.
    public static func fingerprint(of publicKey: [UInt8]) -> String {
        Hex.encode(Array(SHA256.hash(data: publicKey).prefix(16)))
    }

    /// The head as a JSON document (`Schemas/tree-head.schema.json`), to publish or keep elsewhere.
    public var document: JSONValue {
        .object([
            JSONMember("type", .string(Self.type)),
            JSONMember("treeSize", .number(JSONNumber(treeSize))),
            JSONMember("rootHash", .string(Hex.encode(rootHash))),
            JSONMember("signedAt", .string(signedAt.rfc3339)),
            JSONMember("publicKey", .string(Hex.encode(publicKey))),
            JSONMember("keyFingerprint", .string(Self.fingerprint(of: publicKey))),
            JSONMember("signature", .string(Hex.encode(signature))),
        ])
    }

    /// Reads a head document; names the member that is missing or malformed.
    public init(document: JSONValue) throws(JournalError) {
        func text(_ name: String) throws(JournalError) -> String {
            guard let value = document[name]?.stringValue else { throw .invalidArgument("the tree head has no text member \"\(name)\"") }
            return value
        }
        func hex(_ name: String, bytes: Int) throws(JournalError) -> [UInt8] {
            guard let value = Hex.decode(try text(name)), value.count == bytes else {
                throw .invalidArgument("the tree head's \"\(name)\" must be \(bytes * 2) hexadecimal digits")
            }
            return value
        }
        guard try text("type") == Self.type else { throw .invalidArgument("the document is no tree head: \"type\" must be \"\(Self.type)\"") }
        guard case .number(let number)? = document["treeSize"], number.isInteger, let size = Int64(number.canonicalText), size >= 0 else {
            throw .invalidArgument("the tree head's \"treeSize\" must be a whole number of events")
        }
        guard let signedAt = try? Timestamp(rfc3339: try text("signedAt")) else {
            throw .invalidArgument("the tree head's \"signedAt\" must be an RFC 3339 time")
        }
        self.init(treeSize: size, rootHash: try hex("rootHash", bytes: 32), signedAt: signedAt,
                  publicKey: try hex("publicKey", bytes: 32), signature: try hex("signature", bytes: 64))
    }
}
