import Foundation
import GRDB
import Journal
import JournalStore
import JournalTesting
import Testing

/// The Merkle tree over the log: RFC 6962 hashing and proofs, the nodes stored at append time, and
/// signed heads that catch a log rewritten and re-hashed after them.
@Suite struct MerkleTreeTests {
    /// The leaves and roots of the RFC 6962 test vectors used by Certificate Transparency's reference code.
    static let vectorLeaves: [[UInt8]] = [
        [], [0x00], [0x10], [0x20, 0x21], [0x30, 0x31], [0x40, 0x41, 0x42, 0x43],
        [0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57], Array(0x60...0x6f),
    ]
    static let vectorRoots = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]

    @Test func rootsMatchTheReferenceVectors() {
        let leaves = Self.vectorLeaves.map(MerkleTree.leafHash)
        var accumulator = MerkleTree.Accumulator()
        for size in 1...8 {
            accumulator.append(leaf: leaves[size - 1])
            #expect(Hex.encode(MerkleTree.root(of: leaves[..<size])) == Self.vectorRoots[size - 1])
            #expect(Hex.encode(accumulator.root) == Self.vectorRoots[size - 1])
        }
        #expect(Hex.encode(MerkleTree.emptyRoot) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func everyInclusionAndConsistencyProofVerifiesAndNoAlteredOneDoes() {
        let leaves = (0..<70).map { MerkleTree.leafHash([UInt8(truncatingIfNeeded: $0), 7]) }
        func subtree(_ start: Int, _ size: Int) -> MerkleTree.Hash { MerkleTree.root(of: leaves[start..<(start + size)]) }
        for size in 1...leaves.count {
            let root = MerkleTree.root(of: leaves[..<size])
            for index in 0..<size {
                let proof = MerkleTree.inclusionProof(index: index, size: size, subtree: subtree)
                #expect(MerkleTree.verifyInclusion(leaf: leaves[index], index: index, size: size, proof: proof, root: root))
                #expect(!MerkleTree.verifyInclusion(leaf: leaves[(index + 1) % 70], index: index, size: size, proof: proof, root: root))
                if size > 1 {
                    #expect(!MerkleTree.verifyInclusion(leaf: leaves[index], index: (index + 1) % size, size: size, proof: proof, root: root))
                    var bent = proof
                    bent[bent.count - 1][0] ^= 1
                    #expect(!MerkleTree.verifyInclusion(leaf: leaves[index], index: index, size: size, proof: bent, root: root))
                }
            }
            #expect(!MerkleTree.verifyConsistency(oldSize: 0, newSize: size, oldRoot: leaves[0], newRoot: root, proof: []),
                    "the empty tree has one root")
            #expect(MerkleTree.verifyConsistency(oldSize: 0, newSize: size, oldRoot: MerkleTree.emptyRoot, newRoot: root, proof: []))
            for old in 1...size {
                let proof = MerkleTree.consistencyProof(from: old, to: size, subtree: subtree)
                let oldRoot = MerkleTree.root(of: leaves[..<old])
                #expect(MerkleTree.verifyConsistency(oldSize: old, newSize: size, oldRoot: oldRoot, newRoot: root, proof: proof))
                if old < size {
                    var otherRoot = oldRoot
                    otherRoot[5] ^= 0x40
                    #expect(!MerkleTree.verifyConsistency(oldSize: old, newSize: size, oldRoot: otherRoot, newRoot: root, proof: proof))
                }
            }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func theStoredTreeIsTheTreeOfTheEventsAtEverySize(kind: StoreKind) throws {
        // Given events appended one by one, in batches, and in batches of which one fails,
        let store = try EventStore(writer: kind.makeWriter(), clock: steppingClock())
        var n = 0
        var random = SplitMix64(seed: 61_962)
        while n < 150 {
            let count = Int(1 + random.next() % 23)
            let events = (0..<count).map { i in Events.call(n + i + 1) }
            switch random.next() % 4 {
            case 0:
                // a transaction whose second batch fails leaves no node of the first
                #expect(throws: JournalError.self) {
                    try store.append([AppendBatch(customerId: "C-1", events: events),
                                      AppendBatch(customerId: "C-2", expected: .exactly(999), events: [Events.call(90_000 + n)])])
                }
                try store.append(events, to: "C-1")
            case 1:
                // nor does a batch refused inside a transaction that records others
                let outcomes = try store.writeEach(try store.prepare([
                    AppendBatch(customerId: "C-3", expected: .exactly(999), events: [Events.call(90_000 + n)]),
                    AppendBatch(customerId: "C-4", events: events),
                ]))
                #expect(outcomes.count == 2)
            default:
                try store.append(events, to: "C-\(n % 5)")
            }
            n += count
        }
        // then the root from the stored nodes equals the root of the events' leaves at every size,
        let leaves = try store.events(after: 0, limit: 1_000).map { MerkleTree.leafHash($0.hash) }
        #expect(leaves.count == n)
        for size in 0...n {
            #expect(try store.treeRoot(size: Int64(size)) == MerkleTree.root(of: leaves[..<size]), "size \(size)")
        }
        // and the store's proofs verify against it.
        for size in [1, 15, 16, 17, 64, 100, n] {
            let root = try store.treeRoot(size: Int64(size))
            for position in Set([1, size / 2 + 1, size]) {
                let proof = try store.inclusionProof(position: Int64(position), size: Int64(size))
                #expect(MerkleTree.verifyInclusion(leaf: leaves[position - 1], index: position - 1, size: size, proof: proof, root: root))
            }
            let proof = try store.consistencyProof(from: 13, to: Int64(max(size, 13)))
            #expect(MerkleTree.verifyConsistency(
                oldSize: 13, newSize: max(size, 13), oldRoot: try store.treeRoot(size: 13), newRoot: try store.treeRoot(size: Int64(max(size, 13))), proof: proof))
        }
        #expect(throws: JournalError.self) { try store.inclusionProof(position: Int64(n + 1), size: Int64(n)) }
    }

    @Test func aLogRewrittenAndReHashedAfterASignedHeadIsCaughtAndTheAlteredBlockNamed() throws {
        // Given a journal of 100 events and a head signed over it, kept outside,
        let path = TestSupport.temporaryDirectory().appendingPathComponent("journal.sqlite").path
        let store = try EventStore(writer: JournalDatabase.open(path: path), clock: steppingClock())
        for n in 1...100 { try store.append([Events.call(n)], to: "C-\(n % 7)") }
        let early = try store.signTreeHead()
        for n in 101...120 { try store.append([Events.call(n)], to: "C-\(n % 7)") }
        let head = try store.signTreeHead()
        #expect(head.hasValidSignature && head.treeSize == 120 && early.treeSize == 100)
        #expect(try store.check(against: head).matches)
        let kept = try SignedTreeHead(document: try JSONParser.parse(CanonicalJSON.bytes(head.document)))
        #expect(kept == head)

        // When someone with write access changes event 107 and re-hashes the chain after it,
        try rewrite(path, position: 107, reading: store)
        // then the chain alone still verifies,
        #expect(try store.verify().isIntact)
        // but the head does not, and the first altered position is named within its block of 16 (after the earlier head).
        let check = try store.check(against: kept)
        #expect(!check.matches)
        #expect(check.failure?.contains("rewritten and re-hashed") == true)
        let range = try #require(check.firstAltered)
        #expect(range.contains(107) && range.count <= 16 && range.lowerBound > 100)
        // The earlier head still matches: nothing before 101 changed.
        #expect(try store.check(against: early).matches)

        // A head whose bytes were changed fails on its signature,
        var forged = head
        forged.rootHash = check.currentRoot!
        #expect(try store.check(against: forged).failure?.contains("signature") == true)
        // and a head over more events than the journal holds says events were removed.
        let other = try EventStore(writer: JournalDatabase.inMemory(), clock: steppingClock())
        for n in 1...130 { try other.append([Events.call(n)], to: "C-1") }
        let longer = try other.signTreeHead()
        let removed = try store.check(against: longer)
        #expect(removed.failure?.contains("removed") == true && !removed.signedByThisJournal)
    }

    /// Changes one event's payload and re-hashes the chain from it to the end, triggers dropped.
    private func rewrite(_ path: String, position: Int64, reading store: EventStore) throws {
        let raw = try DatabaseQueue(path: path)
        try raw.inDatabase { db in
            for trigger in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'event'") {
                try db.execute(sql: "DROP TRIGGER \(trigger)")
            }
            try db.execute(sql: "UPDATE event SET payload = replace(payload, '\"machineDown\":true', '\"machineDown\":false') WHERE position = ?", arguments: [position])
        }
        var prevHash = try #require(try store.events(after: position - 2, limit: 1).first).hash
        let events = try store.events(after: position - 1, limit: 1_000)
        #expect(events.first?.payload.contains("\"machineDown\":false") == true)
        try raw.inDatabase { db in
            for event in events {
                var envelope: [UInt8] = []
                EventChain.writeCanonicalEnvelope(of: event, into: &envelope)
                let hash = EventChain.hash(prevHash: prevHash, envelope: envelope)
                try db.execute(sql: "UPDATE event SET prevHash = ?, hash = ? WHERE position = ?", arguments: [Data(prevHash), Data(hash), event.position])
                prevHash = hash
            }
        }
    }
}
