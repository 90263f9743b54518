import Foundation
import GRDB
import Journal

extension EventStore {
    // MARK: The tree as stored

    /// The root of the Merkle tree over the first `size` events, from the nodes stored at append time.
    public func treeRoot(size: Int64) throws(JournalError) -> [UInt8] {
        try read { db in try Self.treeRoot(size: size, in: db) }
    }

    static func treeRoot(size: Int64, in db: Database) throws -> [UInt8] {
        try MerkleTree.root(start: 0, size: Int(size)) { start, size in try MerkleNodes.subtree(start: start, size: size, in: db) }
    }

    /// The audit path of the event at `position` in the tree of the first `size` events.
    public func inclusionProof(position: Int64, size: Int64) throws(JournalError) -> [[UInt8]] {
        guard position >= 1, position <= size else {
            throw .invalidArgument("position \(position) is not in a tree of \(size) events")
        }
        return try read { db in try Self.inclusionProof(position: position, size: size, in: db) }
    }

    static func inclusionProof(position: Int64, size: Int64, in db: Database) throws -> [[UInt8]] {
        try MerkleTree.inclusionProof(index: Int(position - 1), size: Int(size)) { start, size in
            try MerkleNodes.subtree(start: start, size: size, in: db)
        }
    }

    /// The proof that the tree of the first `newSize` events extends the tree of the first `oldSize`.
    public func consistencyProof(from oldSize: Int64, to newSize: Int64) throws(JournalError) -> [[UInt8]] {
        guard oldSize >= 0, oldSize <= newSize else { throw .invalidArgument("a tree of \(oldSize) events cannot be extended to \(newSize)") }
        return try read { db in
            try MerkleTree.consistencyProof(from: Int(oldSize), to: Int(newSize)) { start, size in
                try MerkleNodes.subtree(start: start, size: size, in: db)
            }
        }
    }

    // MARK: Signed heads

    /// Signs the tree over the whole log with the journal's key and records the head.
    @discardableResult
    public func signTreeHead() throws(JournalError) -> SignedTreeHead {
        try signTreeHead(recording: true)
    }

    /// Signs the tree over the whole log with the journal's key, no earlier than the last head
    /// recorded, without recording it: for a head kept elsewhere first (a shared log's), then taken
    /// in with ``recordTreeHeads(_:)``.
    public func signUnrecordedTreeHead() throws(JournalError) -> SignedTreeHead {
        try signTreeHead(recording: false)
    }

    private func signTreeHead(recording: Bool) throws(JournalError) -> SignedTreeHead {
        let key = try keys.signingKey()
        let clock = self.clock
        return try writeTransaction { db in
            let size = try Int64.fetchOne(db, sql: "SELECT coalesce(max(position), 0) FROM event") ?? 0
            let lastSigned = try Int64.fetchOne(db, sql: "SELECT signedAtUs FROM tree_head ORDER BY id DESC LIMIT 1")
            let now = max(clock.now(), Timestamp(microseconds: lastSigned ?? Int64.min))
            let head = try SignedTreeHead(treeSize: size, rootHash: try Self.treeRoot(size: size, in: db), signedAt: now, key: key)
            if recording {
                try db.execute(
                    sql: "INSERT INTO tree_head (treeSize, rootHash, signedAtUs, publicKey, signature) VALUES (?, ?, ?, ?, ?)",
                    arguments: [head.treeSize, Data(head.rootHash), head.signedAt.microseconds, Data(head.publicKey), Data(head.signature)])
            }
            return head
        }
    }

    /// Signs a head when the log has grown since the last one (or has none yet and holds events).
    ///
    /// - Returns: the new head, or nil when the last head covers the log already.
    @discardableResult
    public func signTreeHeadIfGrown() throws(JournalError) -> SignedTreeHead? {
        guard try head() > (try latestTreeHead()?.treeSize ?? 0) else { return nil }
        return try signTreeHead()
    }

    /// Records heads signed elsewhere over this same log (a copy of a shared one takes in the heads
    /// its signer signed), oldest first: each signed later than the last recorded and covering no
    /// more than this log, with a valid signature by this journal's key and the root this log has at
    /// its size. Stops at the first that covers more than this log holds yet; returns those recorded.
    ///
    /// - Throws: ``JournalError/storage(_:)`` naming a head whose signature or root does not match:
    ///   this log is not the one it signed.
    @discardableResult
    public func recordTreeHeads(_ heads: [SignedTreeHead]) throws(JournalError) -> Int {
        let publicKey = try keys.signingPublicKey()
        return try writeTransaction { db in
            let size = try Int64.fetchOne(db, sql: "SELECT coalesce(max(position), 0) FROM event") ?? 0
            var lastSigned = try Int64.fetchOne(db, sql: "SELECT signedAtUs FROM tree_head ORDER BY id DESC LIMIT 1") ?? Int64.min
            var recorded = 0
            for head in heads where head.signedAt.microseconds > lastSigned {
                guard head.treeSize <= size else { break }
                guard head.publicKey == publicKey, head.hasValidSignature else {
                    throw JournalError.storage("the tree head of size \(head.treeSize) signed at \(head.signedAt.rfc3339) is not signed by this journal's key")
                }
                guard try Self.treeRoot(size: head.treeSize, in: db) == head.rootHash else {
                    throw JournalError.storage("the tree head of size \(head.treeSize) signed at \(head.signedAt.rfc3339) has another root than this log")
                }
                try db.execute(
                    sql: "INSERT INTO tree_head (treeSize, rootHash, signedAtUs, publicKey, signature) VALUES (?, ?, ?, ?, ?)",
                    arguments: [head.treeSize, Data(head.rootHash), head.signedAt.microseconds, Data(head.publicKey), Data(head.signature)])
                lastSigned = head.signedAt.microseconds
                recorded += 1
            }
            return recorded
        }
    }

    /// The signed heads recorded in the journal, oldest first; with `signedBy`, only those signed at or before it.
    public func treeHeads(signedBy limit: Timestamp? = nil) throws(JournalError) -> [SignedTreeHead] {
        try read { db in try Self.treeHeads(signedBy: limit, newestOnly: false, in: db) }
    }

    /// The latest signed head recorded in the journal; with `signedBy`, the latest signed at or before it.
    public func latestTreeHead(signedBy limit: Timestamp? = nil) throws(JournalError) -> SignedTreeHead? {
        try read { db in try Self.treeHeads(signedBy: limit, newestOnly: true, in: db).first }
    }

    private static func treeHeads(signedBy limit: Timestamp?, newestOnly: Bool, in db: Database) throws -> [SignedTreeHead] {
        try Row.fetchAll(
            db, sql: """
                SELECT treeSize, rootHash, signedAtUs, publicKey, signature FROM tree_head WHERE signedAtUs <= ?
                ORDER BY id \(newestOnly ? "DESC LIMIT 1" : "")
                """,
            arguments: [limit?.microseconds ?? Int64.max]
        ).map { row in
            SignedTreeHead(treeSize: row[0], rootHash: Array(row[1] as Data), signedAt: Timestamp(microseconds: row[2]),
                           publicKey: Array(row[3] as Data), signature: Array(row[4] as Data))
        }
    }

    // MARK: Checking a head

    /// What checking the journal against a signed head found.
    public struct HeadCheck: Sendable {
        public var head: SignedTreeHead
        /// Whether the head's public key is this journal's signing key.
        public var signedByThisJournal: Bool
        /// The root of the first `head.treeSize` events as they are now, hashed from their chain hashes.
        public var currentRoot: [UInt8]?
        /// Why the journal does not match the head, or nil when it does.
        public var failure: String?
        /// Where the events first depart from the head, as narrowly as the journal can tell:
        /// from the tree stored at append time (a block of 16 events) and the heads recorded in it.
        public var firstAltered: ClosedRange<Int64>?

        public var matches: Bool { failure == nil }
    }

    /// Checks that the journal still holds exactly the events `head` signed: its signature, the hash
    /// chain up to its size, and the Merkle root recomputed from the events (not from stored nodes).
    /// On a mismatch, narrows down the first altered position.
    public func check(against head: SignedTreeHead) throws(JournalError) -> HeadCheck {
        // Checking makes no key: a journal without one signed nothing.
        let signedByThisJournal = try keys.hasSigningKey() ? try keys.signingPublicKey() == head.publicKey : false
        var result = HeadCheck(head: head, signedByThisJournal: signedByThisJournal)
        guard head.hasValidSignature else {
            result.failure = "the head's signature does not verify with its public key: the head file itself was altered"
            return result
        }
        let log = try self.head()
        guard head.treeSize <= log else {
            result.failure = "the head covers \(head.treeSize) events but the journal holds \(log): events were removed"
            result.firstAltered = (log + 1)...head.treeSize
            return result
        }
        guard head.treeSize > 0 else {
            result.currentRoot = MerkleTree.emptyRoot
            if head.rootHash != MerkleTree.emptyRoot { result.failure = "the head of an empty tree has a wrong root" }
            return result
        }
        let chain = try verify(from: 1, through: head.treeSize)
        if let failure = chain.failure {
            result.failure = "the hash chain breaks at position \(failure.position): \(failure.reason)"
            result.firstAltered = failure.position...failure.position
            return result
        }
        let scan = try read { db in try Self.scanTree(size: head.treeSize, in: db) }
        result.currentRoot = scan.root
        guard scan.root != head.rootHash else { return result }
        result.failure = "the first \(head.treeSize) events are not those the head signed on \(head.signedAt.rfc3339): they were rewritten and re-hashed"
        // The tree stored at append time, if the rewrite left it, names the first block that departs from it;
        // the heads recorded in the journal that still match bound it from below.
        // Only heads that are genuinely signed with the same key count: the table can be rewritten too.
        var lower: Int64 = 1
        for earlier in try treeHeads()
        where earlier.treeSize < head.treeSize && earlier.treeSize >= lower && earlier.publicKey == head.publicKey && earlier.hasValidSignature {
            let root = try read { db in try Self.scanTree(size: earlier.treeSize, in: db).root }
            if root == earlier.rootHash { lower = earlier.treeSize + 1 }
        }
        if let block = scan.firstDivergentBlock, block.upperBound >= lower {
            result.firstAltered = max(block.lowerBound, lower)...block.upperBound
        } else {
            result.firstAltered = lower...head.treeSize
        }
        return result
    }

    /// The root of the first `size` events hashed from their chain hashes, and the first block of 16
    /// whose stored node differs from its events (the tree stored at append time disagrees there).
    private static func scanTree(size: Int64, in db: Database) throws -> (root: [UInt8], firstDivergentBlock: ClosedRange<Int64>?) {
        var tree = MerkleTree.Accumulator()
        var divergent: ClosedRange<Int64>?
        var block: [MerkleTree.Hash] = []
        let stored = try db.cachedStatement(sql: "SELECT hash FROM merkle_node WHERE level = ? AND idx = ?")
        let cursor = try Row.fetchCursor(db, sql: "SELECT position, hash FROM event WHERE position <= ? ORDER BY position", arguments: [size])
        while let row = try cursor.next() {
            let position: Int64 = row[0]
            let leaf = MerkleTree.leafHash(Array(row[1] as Data))
            tree.append(leaf: leaf)
            block.append(leaf)
            if position % MerkleNodes.blockSize == 0 {
                if divergent == nil {
                    let node = try Data.fetchOne(stored, arguments: [MerkleNodes.storedLevel, position / MerkleNodes.blockSize - 1])
                    if node.map(Array.init) != MerkleTree.root(of: block[...]) {
                        divergent = (position - MerkleNodes.blockSize + 1)...position
                    }
                }
                block.removeAll(keepingCapacity: true)
            }
        }
        return (tree.root, divergent)
    }
}
