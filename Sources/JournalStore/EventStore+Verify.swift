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
            var expectedPrevHash = EventChain.genesisHash
            var previousPosition = start - 1
            var previousRecorded = Int64.min
            if start > 1 {
                guard let before = try Row.fetchOne(
                    db, sql: "SELECT position, recordedAtUs, hash FROM event WHERE position < ? ORDER BY position DESC LIMIT 1",
                    arguments: [start])
                else {
                    report.failure = VerificationFailure(position: start, reason: "no event precedes position \(start); position 1 is missing")
                    return report
                }
                previousPosition = before[0]
                previousRecorded = before[1]
                expectedPrevHash = (before[2] as Data?).map { Array($0) } ?? []
            }
            let cursor = try Row.fetchCursor(
                db, sql: "SELECT \(EventRow.columns) FROM event WHERE position >= ? AND position <= ? ORDER BY position",
                arguments: [start, last])
            var buffer: [UInt8] = []
            buffer.reserveCapacity(2048)
            var cachedRecorded: (Int64, String) = (Int64.min, "")
            while let row = try cursor.next() {
                let position: Int64 = row[0]
                if let reason = Self.check(
                    row, previousPosition: previousPosition, expectedPrevHash: expectedPrevHash,
                    previousRecorded: previousRecorded, cachedRecorded: &cachedRecorded, buffer: &buffer)
                {
                    report.failure = VerificationFailure(position: position, reason: reason)
                    return report
                }
                previousPosition = position
                previousRecorded = row[8]
                expectedPrevHash = Array(row[18] as Data)
                report.checked += 1
                if report.checked % 100_000 == 0 { progress?(report.checked) }
            }
            if report.checked > 0 { report.lastHash = expectedPrevHash }
            if previousPosition < last {
                report.failure = VerificationFailure(position: previousPosition + 1, reason: "event \(previousPosition + 1) is missing: the log ends at \(previousPosition)")
            }
            return report
        }
    }

    private static func check(
        _ row: Row, previousPosition: Int64, expectedPrevHash: [UInt8], previousRecorded: Int64,
        cachedRecorded: inout (Int64, String), buffer: inout [UInt8]
    ) -> String? {
        let position: Int64 = row[0]
        if position != previousPosition + 1 {
            return "position \(position) follows \(previousPosition): events \(previousPosition + 1)…\(position - 1) are missing"
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
        if Array(prevHash) != expectedPrevHash {
            return "prevHash \(Hex.encode(prevHash.prefix(8)))… is not the hash of position \(previousPosition) (\(Hex.encode(expectedPrevHash.prefix(8)))…)"
        }
        if recordedUs < previousRecorded {
            return "recordedAt goes back in time: \(Timestamp(microseconds: recordedUs)) after \(Timestamp(microseconds: previousRecorded))"
        }
        let occurredAt: String = row[6]
        guard let occurred = try? Timestamp(rfc3339: occurredAt), occurred.microseconds == occurredUs else {
            return "occurredAtUs \(occurredUs) does not match occurredAt \"\(occurredAt)\""
        }
        if cachedRecorded.0 != recordedUs { cachedRecorded = (recordedUs, Timestamp(microseconds: recordedUs).rfc3339) }
        let eventIdText: String = row[1]
        // Hashed as stored: an id that is not in the canonical form was never appended as it stands.
        guard let eventId = EventID(eventIdText), eventId.rawValue == eventIdText else {
            return "eventId \"\(eventIdText.prefix(64))\" is not a UUID in lower case"
        }
        let envelope = EventEnvelope(
            eventId: eventId, customerId: row[2], type: row[4], schemaVersion: Int(schemaVersion), occurredAt: occurredAt,
            occurred: occurred, caseId: row[9], assetId: row[10], siteId: row[11], actor: row[12], source: row[13],
            correlationId: row[14], causationId: row[15])
        let payload: String = row[16]
        EventChain.writeCanonicalEnvelope(
            envelope, position: position, streamVersion: Int(version), recordedAt: cachedRecorded.1,
            sourceRecordedAt: (row[19] as Int64?).map { Timestamp(microseconds: $0).rfc3339 }, importRef: row[20],
            payload: payload.utf8, into: &buffer)
        let recomputed = EventChain.hash(prevHash: Array(prevHash), envelope: buffer)
        if recomputed != Array(hash) {
            return "hash does not match the stored content: recomputed \(Hex.encode(recomputed.prefix(8)))…, stored \(Hex.encode(hash.prefix(8)))…"
        }
        return nil
    }
}

extension EventStore {
    /// Checks an anchor recorded earlier: the event at `position` must still exist and have `hash`.
    ///
    /// With an intact chain, a matching anchor proves that nothing up to `position` was changed,
    /// removed or rewritten — including a truncation followed by a re-built chain, which the chain
    /// alone cannot show.
    public func checkAnchor(position: Int64, hash: [UInt8]) throws(JournalError) -> VerificationFailure? {
        let stored = try read { db in
            try Data.fetchOne(db, sql: "SELECT hash FROM event WHERE position = ?", arguments: [position])
        }
        guard let stored else {
            return VerificationFailure(position: position, reason: "the anchored event \(position) is missing: the log was truncated")
        }
        guard Array(stored) == hash else {
            return VerificationFailure(
                position: position,
                reason: "hash \(Hex.encode(stored.prefix(8)))… differs from the anchor \(Hex.encode(hash.prefix(8)))…: the log up to here was rewritten")
        }
        return nil
    }
}

extension DatabaseValue.Storage {
    fileprivate var isNotText: Bool {
        if case .string = self { return false }
        return true
    }
}

/// The outcome of ``EventStore/verify(from:through:progress:)``.
public struct VerificationReport: Sendable, Hashable {
    public var first: Int64
    public var last: Int64
    public var checked: Int64
    /// The journal's last position when the check ran.
    public var head: Int64
    /// The hash of the last event checked: record it outside the journal as an anchor.
    public var lastHash: [UInt8]?
    /// The first event that failed, or nil when the range verified.
    public var failure: VerificationFailure?

    public var isIntact: Bool { failure == nil }

    /// The report as JSON (`tpj verify --json` and the HTTP API).
    public var document: JSONValue {
        var body: [JSONMember] = [
            JSONMember("intact", .bool(isIntact)), JSONMember("from", .number(JSONNumber(first))),
            JSONMember("to", .number(JSONNumber(last))), JSONMember("checked", .number(JSONNumber(checked))),
            JSONMember("head", .number(JSONNumber(head))),
        ]
        if let lastHash { body.append(JSONMember("lastHash", .string(Hex.encode(lastHash)))) }
        if let failure {
            body.append(JSONMember("failure", ["position": .number(JSONNumber(failure.position)), "reason": .string(failure.reason)]))
        }
        return .object(body)
    }
}

public struct VerificationFailure: Sendable, Hashable {
    public var position: Int64
    public var reason: String
}
