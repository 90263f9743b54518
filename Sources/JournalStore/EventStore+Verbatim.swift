import Foundation
import GRDB
import Journal

extension EventStore {
    /// Stores events recorded by another store of this log exactly as they are — positions, recording
    /// times, payload bytes and hashes — after checking that each extends this journal at its end and
    /// hashes to its stored hash (``ChainWalk``), and extends the Merkle tree with them: all or none.
    ///
    /// - Throws: ``JournalError/invalidArgument(_:)`` naming the first event that does not extend this journal.
    public func recordVerbatim(_ events: [RecordedEvent]) throws(JournalError) {
        guard !events.isEmpty else { return }
        let extendsTree = self.extendsTree
        try appendTransaction { db in
            let last = try Row.fetchOne(db, sql: "SELECT position, recordedAtUs, hash FROM event ORDER BY position DESC LIMIT 1")
            var walk = ChainWalk(
                after: last?[0] ?? 0, hash: (last?[2] as Data?).map { Array($0) } ?? EventChain.genesisHash, recordedUs: last?[1] ?? .min)
            var tree = extendsTree ? try MerkleNodes(db: db, head: walk.position) : nil
            let insert = try db.cachedStatement(sql: """
                INSERT INTO event (\(EventRow.columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for event in events {
                if let reason = walk.step(event) {
                    throw JournalError.invalidArgument("event \(event.position) does not extend this journal: \(reason)")
                }
                let e = event.envelope
                try insert.execute(arguments: [
                    event.position, e.eventId.rawValue, e.customerId, event.streamVersion, e.type, e.schemaVersion, e.occurredAt,
                    e.occurred.microseconds, event.recorded.microseconds, e.caseId, e.assetId, e.siteId, e.actor, e.source,
                    e.correlationId, e.causationId, event.payload, Data(event.prevHash), Data(event.hash),
                    event.sourceRecordedAt?.microseconds, event.importRef,
                ])
                try tree?.add(chainHash: event.hash, at: event.position)
            }
        }
    }
}
