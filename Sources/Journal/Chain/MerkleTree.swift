import Crypto

/// The Merkle tree over the log, hashed as in RFC 6962 (Certificate Transparency): leaf `i` is
/// `SHA-256(0x00 ‖ hash of the event at position i + 1)` and an inner node is
/// `SHA-256(0x01 ‖ left ‖ right)`. A tree of `n` leaves splits at the largest power of two below
/// `n`; its root commits to the first `n` events, so a signed root proves each of them
/// (inclusion) and every later root proves it extends the earlier one (consistency).
///
/// The functions here take the roots of subtrees from a `subtree(start, size)` closure, so that
/// whoever stores parts of the tree decides what is read and what is recomputed.
public enum MerkleTree {
    public typealias Hash = [UInt8]

    /// The root of the empty tree: SHA-256 of nothing.
    public static let emptyRoot: Hash = Array(SHA256.hash(data: [UInt8]()))

    /// The leaf of an event: `SHA-256(0x00 ‖ chainHash)`.
    public static func leafHash(_ chainHash: some Sequence<UInt8>) -> Hash {
        var hasher = SHA256()
        hasher.update(data: [0x00])
        hasher.update(data: Array(chainHash))
        return Array(hasher.finalize())
    }

    /// An inner node: `SHA-256(0x01 ‖ left ‖ right)`.
    public static func nodeHash(_ left: Hash, _ right: Hash) -> Hash {
        var hasher = SHA256()
        hasher.update(data: [0x01])
        hasher.update(data: left)
        hasher.update(data: right)
        return Array(hasher.finalize())
    }

    /// The root of the tree over `leaves` (leaf hashes).
    public static func root(of leaves: ArraySlice<Hash>) -> Hash {
        switch leaves.count {
        case 0: return emptyRoot
        case 1: return leaves.first!
        default:
            let split = leaves.startIndex + largestPowerOfTwo(below: leaves.count)
            return nodeHash(root(of: leaves[..<split]), root(of: leaves[split...]))
        }
    }

    /// Computes the root of a tree leaf by leaf in memory proportional to its height: it keeps the
    /// roots of the complete subtrees so far, whose right-to-left fold is the tree's root.
    public struct Accumulator: Sendable {
        private var subtrees: [(size: Int, hash: Hash)] = []
        public private(set) var size = 0

        public init() {}

        public mutating func append(leaf: Hash) {
            var node = (size: 1, hash: leaf)
            while let last = subtrees.last, last.size == node.size {
                subtrees.removeLast()
                node = (last.size * 2, MerkleTree.nodeHash(last.hash, node.hash))
            }
            subtrees.append(node)
            size += 1
        }

        public var root: Hash {
            guard var root = subtrees.last?.hash else { return MerkleTree.emptyRoot }
            for subtree in subtrees.dropLast().reversed() { root = MerkleTree.nodeHash(subtree.hash, root) }
            return root
        }
    }

    /// The largest power of two strictly below `n` (n ≥ 2).
    public static func largestPowerOfTwo(below n: Int) -> Int {
        precondition(n >= 2)
        var k = 1
        while k << 1 < n { k <<= 1 }
        return k
    }

    /// The root of the leaves `start ..< start + size`, from the roots of the aligned complete
    /// subtrees `subtree` gives (each a power of two in size, starting at a multiple of its size).
    public static func root<E: Error>(
        start: Int, size: Int, subtree: (_ start: Int, _ size: Int) throws(E) -> Hash
    ) throws(E) -> Hash {
        if size == 0 { return emptyRoot }
        if size & (size - 1) == 0 { return try subtree(start, size) }
        let split = largestPowerOfTwo(below: size)
        return nodeHash(try root(start: start, size: split, subtree: subtree),
                        try root(start: start + split, size: size - split, subtree: subtree))
    }

    /// The audit path of leaf `index` in the tree of `size` leaves (RFC 6962, 2.1.1), leaf side first.
    public static func inclusionProof<E: Error>(
        index: Int, size: Int, subtree: (_ start: Int, _ size: Int) throws(E) -> Hash
    ) throws(E) -> [Hash] {
        precondition(index >= 0 && index < size)
        var start = 0, size = size, index = index
        var siblings: [Hash] = []
        while size > 1 {
            let split = largestPowerOfTwo(below: size)
            if index < split {
                siblings.append(try root(start: start + split, size: size - split, subtree: subtree))
                size = split
            } else {
                siblings.append(try root(start: start, size: split, subtree: subtree))
                start += split
                index -= split
                size -= split
            }
        }
        return siblings.reversed()
    }

    /// The proof that the tree of `newSize` leaves extends the tree of `oldSize` (RFC 6962, 2.1.2).
    public static func consistencyProof<E: Error>(
        from oldSize: Int, to newSize: Int, subtree: (_ start: Int, _ size: Int) throws(E) -> Hash
    ) throws(E) -> [Hash] {
        precondition(oldSize >= 0 && oldSize <= newSize)
        guard oldSize > 0, oldSize < newSize else { return [] }
        // SUBPROOF(m, D[start ..< start + n], b), unrolled: the nodes are collected root side first.
        var proof: [Hash] = []
        var m = oldSize, start = 0, n = newSize, complete = true
        while m != n {
            let split = largestPowerOfTwo(below: n)
            if m <= split {
                proof.append(try root(start: start + split, size: n - split, subtree: subtree))
                n = split
            } else {
                proof.append(try root(start: start, size: split, subtree: subtree))
                start += split
                m -= split
                n -= split
                complete = false
            }
        }
        if !complete { proof.append(try root(start: start, size: n, subtree: subtree)) }
        return proof.reversed()
    }

    /// Whether `proof` shows `leaf` at `index` in the tree of `size` leaves whose root is `root`
    /// (RFC 9162, 2.1.3.2).
    public static func verifyInclusion(leaf: Hash, index: Int, size: Int, proof: [Hash], root: Hash) -> Bool {
        guard index >= 0, index < size else { return false }
        var fn = index, sn = size - 1
        var r = leaf
        for p in proof {
            guard sn != 0 else { return false }
            if fn & 1 == 1 || fn == sn {
                r = nodeHash(p, r)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                r = nodeHash(r, p)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && r == root
    }

    /// Whether `proof` shows that the tree of `newSize` leaves with root `newRoot` extends the tree
    /// of `oldSize` leaves with root `oldRoot` (RFC 9162, 2.1.4.2).
    public static func verifyConsistency(oldSize: Int, newSize: Int, oldRoot: Hash, newRoot: Hash, proof: [Hash]) -> Bool {
        guard oldSize >= 0, oldSize <= newSize else { return false }
        if oldSize == newSize { return proof.isEmpty && oldRoot == newRoot }
        if oldSize == 0 { return proof.isEmpty && oldRoot == MerkleTree.emptyRoot }
        var path = proof
        if oldSize & (oldSize - 1) == 0 { path.insert(oldRoot, at: 0) }
        guard !path.isEmpty else { return false }
        var fn = oldSize - 1, sn = newSize - 1
        while fn & 1 == 1 {
            fn >>= 1
            sn >>= 1
        }
        var fr = path[0], sr = path[0]
        for c in path.dropFirst() {
            guard sn != 0 else { return false }
            if fn & 1 == 1 || fn == sn {
                fr = nodeHash(c, fr)
                sr = nodeHash(c, sr)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                sr = nodeHash(sr, c)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && fr == oldRoot && sr == newRoot
    }
}
