import Journal
import NIOCore
import PostgresNIO

/// The signed tree heads of a log kept in PostgreSQL (``PostgresSchema/v6``): signed by the server
/// that holds the lease to (``PostgresLease``), each with its name, and read by every server into its
/// copy of the log and by `tpj verify --as-of`. Append-only, in order of size and time.
public struct PostgresTreeHeads: Sendable {
    let journal: PostgresJournal

    public init(journal: PostgresJournal) { self.journal = journal }

    /// A head as stored, with the server that signed it.
    public struct Stored: Sendable, Hashable {
        public var head: SignedTreeHead
        public var signedBy: String
    }

    /// Stores `head`, signed by `signedBy`.
    ///
    /// - Throws: ``JournalError/storage(_:)`` for a head that covers more than the log, or less or
    ///   earlier than the last one.
    public func record(_ head: SignedTreeHead, signedBy: String) async throws(JournalError) {
        let query: PostgresQuery = """
            INSERT INTO tree_head (tree_size, root_hash, signed_at_us, public_key, signature, signed_by)
            VALUES (\(head.treeSize), \(ByteBuffer(bytes: head.rootHash)), \(head.signedAt.microseconds), \(ByteBuffer(bytes: head.publicKey)),
                    \(ByteBuffer(bytes: head.signature)), \(signedBy))
            """
        try await journal.run { connection in _ = try await connection.query(query, logger: journal.logger) }
    }

    /// The latest head signed at or before `instant`, if any.
    public func latest(signedBy instant: Timestamp) async throws(JournalError) -> Stored? {
        try await heads("WHERE signed_at_us <= \(instant.microseconds) ORDER BY id DESC LIMIT 1").first
    }

    /// Why the log no longer holds exactly the events `head` signed, or nil when it does: its
    /// signature, the hash chain up to its size, and the Merkle root recomputed from the events'
    /// chain hashes, in one snapshot of the log.
    public func failure(of head: SignedTreeHead) async throws(JournalError) -> String? {
        guard head.hasValidSignature else { return "the head's signature does not verify" }
        return try await journal.transaction { connection in
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: journal.logger)
            var walk = ChainWalk()
            var tree = MerkleTree.Accumulator()
            let rows = try await connection.query(
                "SELECT \(unescaped: PostgresEventRow.columns) FROM event WHERE position <= \(head.treeSize) ORDER BY position", logger: journal.logger)
            for try await row in rows {
                let event = try PostgresEventRow.decode(row)
                if let reason = walk.step(event) { return "position \(event.position): \(reason)" }
                tree.append(leaf: MerkleTree.leafHash(event.hash))
            }
            guard Int64(tree.size) == head.treeSize else { return "the log holds \(tree.size) of the \(head.treeSize) events the head signed" }
            return tree.root == head.rootHash ? nil : "the events up to \(head.treeSize) hash to another root than the head signed"
        }
    }

    /// The public half of the journal's signing key, once the database holds one.
    public func signingPublicKey() async throws(JournalError) -> [UInt8]? {
        try await PostgresKeys(journal: journal).existingSecrets()?.signingKey.flatMap(SignedTreeHead.publicKey(ofPrivateKey:))
    }

    /// The heads signed after `instant` (all of them for nil), oldest first.
    public func heads(signedAfter instant: Timestamp? = nil) async throws(JournalError) -> [Stored] {
        try await heads("WHERE signed_at_us > \(instant?.microseconds ?? Int64.min) ORDER BY id")
    }

    /// The heads `filter` (a `WHERE` and `ORDER BY` clause) selects.
    private func heads(_ filter: PostgresQuery) async throws(JournalError) -> [Stored] {
        let query = PostgresQuery(
            unsafeSQL: "SELECT tree_size, root_hash, signed_at_us, public_key, signature, signed_by FROM tree_head \(filter.sql)", binds: filter.binds)
        return try await journal.run { connection in
            var heads: [Stored] = []
            for try await (size, root, signedAt, key, signature, signedBy) in try await connection.query(query, logger: journal.logger)
                .decode((Int64, ByteBuffer, Int64, ByteBuffer, ByteBuffer, String).self)
            {
                heads.append(Stored(
                    head: SignedTreeHead(
                        treeSize: size, rootHash: Array(buffer: root), signedAt: Timestamp(microseconds: signedAt), publicKey: Array(buffer: key),
                        signature: Array(buffer: signature)),
                    signedBy: signedBy))
            }
            return heads
        }
    }
}
