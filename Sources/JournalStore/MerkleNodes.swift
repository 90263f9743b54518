import Foundation
import GRDB
import Journal

/// The stored part of the log's Merkle tree (``MerkleTree``): the root of every complete, aligned
/// block of 16 events and of every complete subtree above them, written in the transaction that
/// completes it. Proofs read these and hash the few events below a block again; `tpj verify --head`
/// compares them with the events to find where a rewritten log first departs from the tree it had.
struct MerkleNodes {
    /// Nodes are stored from this level up: subtrees of 2^4 = 16 events.
    static let storedLevel = 4
    static let blockSize: Int64 = 1 << storedLevel

    /// The leaves of the block being filled.
    private var leaves: [MerkleTree.Hash]
    private let insert: Statement
    private let select: Statement

    /// The writer of the tree of a log whose last position is `head`, in the open transaction of `db`.
    init(db: Database, head: Int64) throws {
        let blockStart = head - head % Self.blockSize
        leaves = try Data.fetchAll(
            db, sql: "SELECT hash FROM event WHERE position > ? AND position <= ? ORDER BY position", arguments: [blockStart, head]
        ).map(MerkleTree.leafHash)
        leaves.reserveCapacity(Int(Self.blockSize))
        insert = try db.cachedStatement(sql: "INSERT INTO merkle_node (level, idx, hash) VALUES (?, ?, ?)")
        select = try db.cachedStatement(sql: "SELECT hash FROM merkle_node WHERE level = ? AND idx = ?")
    }

    /// Adds the event at `position` (the next one) with its chain hash; stores the nodes it completes.
    mutating func add(chainHash: [UInt8], at position: Int64) throws {
        leaves.append(MerkleTree.leafHash(chainHash))
        guard position % Self.blockSize == 0 else { return }
        var hash = MerkleTree.root(of: leaves[...])
        leaves.removeAll(keepingCapacity: true)
        var level = Self.storedLevel
        var index = position / Self.blockSize - 1
        try insert.execute(arguments: [level, index, Data(hash)])
        while index % 2 == 1 {
            guard let left = try Data.fetchOne(select, arguments: [level, index - 1]) else {
                throw JournalError.storage("the Merkle tree misses node \(level)/\(index - 1)")
            }
            hash = MerkleTree.nodeHash(Array(left), hash)
            level += 1
            index /= 2
            try insert.execute(arguments: [level, index, Data(hash)])
        }
    }

    /// Stores the tree of the events already in the log (a journal from before the tree).
    static func backfill(_ db: Database) throws {
        var nodes = try MerkleNodes(db: db, head: 0)
        let cursor = try Row.fetchCursor(db, sql: "SELECT position, hash FROM event ORDER BY position")
        while let row = try cursor.next() {
            try nodes.add(chainHash: Array(row[1] as Data), at: row[0])
        }
    }

    /// The root of the aligned complete subtree of `size` leaves from leaf `start`, as `db` holds it:
    /// a stored node, or for fewer than 16 leaves, hashed from the events' chain hashes.
    static func subtree(start: Int, size: Int, in db: Database) throws -> MerkleTree.Hash {
        if size >= Int(blockSize) {
            let level = size.trailingZeroBitCount
            guard let hash = try Data.fetchOne(
                db.cachedStatement(sql: "SELECT hash FROM merkle_node WHERE level = ? AND idx = ?"), arguments: [level, start / size])
            else { throw JournalError.storage("the Merkle tree misses node \(level)/\(start / size): the log is shorter than the tree asked for") }
            return Array(hash)
        }
        let hashes = try Data.fetchAll(
            db.cachedStatement(sql: "SELECT hash FROM event WHERE position > ? AND position <= ? ORDER BY position"),
            arguments: [start, start + size])
        guard hashes.count == size else { throw JournalError.storage("the log misses events \(start + 1)…\(start + size)") }
        return MerkleTree.root(of: hashes.map(MerkleTree.leafHash)[...])
    }
}
