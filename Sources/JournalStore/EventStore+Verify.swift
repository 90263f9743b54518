import Foundation
import GRDB
import Journal

extension EventStore {
    /// Recomputes the hash chain over `from...through` (the whole log by default) in one consistent snapshot.
    ///
    /// Each event must follow its predecessor's position without a gap, carry the predecessor's hash as
    /// `prevHash` (zeros for position 1), hash to its stored `hash`, have a `recordedAt` that does not go
    /// back, and an `occurredAtUs` that matches its `occurredAt`. The first event that fails stops the check.
    ///
    /// - Parameter progress: called every 100,000 events with the number checked so far.
    public func verify(
        from start: Int64 = 1, through end: Int64? = nil, progress: ((Int64) -> Void)? = nil
    ) throws(JournalError) -> VerificationReport {
        guard start >= 1 else { throw .invalidArgument("the range must start at position 1 or later, got \(start)") }
        if let end, end < start { throw .invalidArgument("the range end \(end) is before its start \(start)") }
        return try read { db in
            let head = try Int64.fetchOne(db, sql: "SELECT coalesce(max(position), 0) FROM event") ?? 0
            let last = min(end ?? head, head)
            var report = VerificationReport(first: start, last: last, checked: 0, head: head, lastHash: nil, failure: nil)
            guard start <= last else { return report }
            var walk = ChainWalk()
            if start > 1 {
                guard let before = try Row.fetchOne(
                    db, sql: "SELECT position, recordedAtUs, hash FROM event WHERE position < ? ORDER BY position DESC LIMIT 1",
                    arguments: [start])
                else {
                    report.failure = VerificationFailure(position: start, reason: "no event precedes position \(start); position 1 is missing")
                    return report
                }
                walk = ChainWalk(after: before[0], hash: (before[2] as Data?).map { Array($0) } ?? [], recordedUs: before[1])
            }
            let cursor = try Row.fetchCursor(
                db, sql: "SELECT \(EventRow.columns) FROM event WHERE position >= ? AND position <= ? ORDER BY position",
                arguments: [start, last])
            var cachedRecorded: (Int64, String) = (Int64.min, "")
            while let row = try cursor.next() {
                if let reason = Self.check(row, walk: &walk, cachedRecorded: &cachedRecorded) {
                    report.failure = VerificationFailure(position: row[0], reason: reason)
                    return report
                }
                report.checked += 1
                if report.checked % 100_000 == 0 { progress?(report.checked) }
            }
            if report.checked > 0 { report.lastHash = walk.hash }
            if walk.position < last {
                report.failure = VerificationFailure(position: walk.position + 1, reason: "event \(walk.position + 1) is missing: the log ends at \(walk.position)")
            }
            return report
        }
    }

    /// Checks that `row` holds an event of the right types, then walks the chain past it
    /// (``ChainWalk``); returns why it fails, or nil.
    private static func check(_ row: Row, walk: inout ChainWalk, cachedRecorded: inout (Int64, String)) -> String? {
        let position: Int64 = row[0]
        if position != walk.position + 1 {
            return "position \(position) follows \(walk.position): events \(walk.position + 1)…\(position - 1) are missing"
        }
        for (index, name) in [(1, "eventId"), (2, "customerId"), (4, "type"), (6, "occurredAt"), (16, "payload")]
        where (row[index] as DatabaseValue).storage.isNotText {
            return "column \(name) holds no text"
        }
        guard let prevHash = row[17] as Data?, let hash = row[18] as Data?,
            let recordedUs = row[8] as Int64?, let occurredUs = row[7] as Int64?,
            let version = row[3] as Int64?, let schemaVersion = row[5] as Int64?
        else {
            return "a required column is NULL or of the wrong type"
        }
        let eventIdText: String = row[1]
        // Hashed as stored: an id that is not in the canonical form was never appended as it stands.
        guard let eventId = EventID(eventIdText), eventId.rawValue == eventIdText else {
            return "eventId \"\(eventIdText.prefix(64))\" is not a UUID in lower case"
        }
        if cachedRecorded.0 != recordedUs { cachedRecorded = (recordedUs, Timestamp(microseconds: recordedUs).rfc3339) }
        let envelope = EventEnvelope(
            eventId: eventId, customerId: row[2], type: row[4], schemaVersion: Int(schemaVersion), occurredAt: row[6],
            occurred: Timestamp(microseconds: occurredUs), caseId: row[9], assetId: row[10], siteId: row[11], actor: row[12],
            source: row[13], correlationId: row[14], causationId: row[15])
        let payload: String = row[16]
        return walk.step(
            position: position, streamVersion: Int(version), envelope: envelope, occurredUs: occurredUs, recordedUs: recordedUs,
            recordedAt: cachedRecorded.1, sourceRecordedAt: (row[19] as Int64?).map { Timestamp(microseconds: $0).rfc3339 },
            importRef: row[20], payload: payload.utf8, prevHash: Array(prevHash), hash: Array(hash))
    }
}

extension EventStore {
    /// Checks an anchor recorded earlier: the event at `position` must still exist and have `hash`
    /// (``VerificationFailure/anchor(position:expected:stored:)``).
    public func checkAnchor(position: Int64, hash: [UInt8]) throws(JournalError) -> VerificationFailure? {
        let stored = try read { db in
            try Data.fetchOne(db, sql: "SELECT hash FROM event WHERE position = ?", arguments: [position])
        }
        return .anchor(position: position, expected: hash, stored: stored.map(Array.init))
    }
}

extension DatabaseValue.Storage {
    fileprivate var isNotText: Bool {
        if case .string = self { return false }
        return true
    }
}
