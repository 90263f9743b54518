import Foundation
import Journal
import Logging
import PostgresNIO

/// The work of one append transaction in PostgreSQL, by the same rules as the SQLite journal's:
/// locks the log's head, assigns positions, stream versions and `recordedAt`, checks idempotency,
/// expected versions and references, chains the hashes and inserts.
struct PostgresAppend {
    let connection: PostgresConnection
    let logger: Logger
    private var position: Int64
    private var prevHash: [UInt8]
    private let recorded: Timestamp
    private let recordedText: String
    private var envelope: [UInt8] = []

    /// Locks the head row: every other appender waits here until this transaction ends, so the
    /// positions it gives out commit in their order.
    init(connection: PostgresConnection, logger: Logger, clock: JournalClock, limit: ClockLimit) async throws {
        self.connection = connection
        self.logger = logger
        let rows = try await connection.query("SELECT position, hash, recorded_at_us FROM log_head FOR UPDATE", logger: logger)
        guard let (head, hash, lastRecorded) = try await rows.decode((Int64, Data, Int64).self).first(where: { _ in true }) else {
            throw JournalError.storage("the log head row is missing")
        }
        position = head
        prevHash = Array(hash)
        // Read after the lock is held: recordedAt is when the events became visible.
        recorded = max(clock.now(), Timestamp(microseconds: lastRecorded))
        try limit.check(recorded)
        recordedText = recorded.rfc3339
    }

    mutating func append(_ batch: PreparedBatch) async throws -> AppendResult {
        var version = try await streamVersion(of: batch.customerId)
        let firstNew = position + 1
        var positions = [Int64](repeating: 0, count: batch.events.count)
        if !batch.expected.matches(version) {
            // A stale expected version is fine only for a re-send of events that are all stored already.
            var stored: [RecordedEvent?] = []
            for event in batch.events { stored.append(try await storedEvent(event.eventId)) }
            return try batch.resent(streamVersion: version, stored: stored)
        }
        var appended: Set<EventID> = []
        for (index, event) in batch.events.enumerated() {
            if let stored = try await storedEvent(event.eventId) {
                try event.requireSameContent(as: stored, index: batch.inputIndex(index))
                positions[index] = stored.position
                continue
            }
            for reference in event.references where !appended.contains(reference.eventId) {
                let owner = try await connection.query(
                    "SELECT customer_id FROM event WHERE event_id = \(reference.eventId.rawValue)", logger: logger
                ).decode(String.self).first { _ in true }
                guard owner == batch.customerId else {
                    throw JournalError.unknownReference(
                        index: batch.inputIndex(index), eventId: event.eventId, field: reference.field, referenced: reference.eventId,
                        customerId: batch.customerId)
                }
            }
            try await insert(event, at: position + 1, version: version + 1)
            position += 1
            version += 1
            positions[index] = position
            appended.insert(event.eventId)
        }
        return AppendResult(
            customerId: batch.customerId, positions: positions, appended: appended.count,
            newPositions: appended.isEmpty ? nil : firstNew...position, duplicates: batch.events.count - appended.count,
            streamVersion: version)
    }

    private func streamVersion(of customerId: String) async throws -> Int {
        try await connection.query(
            "SELECT coalesce(max(stream_version), 0)::integer FROM event WHERE customer_id = \(customerId)", logger: logger
        ).decode(Int.self).first { _ in true } ?? 0
    }

    private func storedEvent(_ eventId: EventID) async throws -> RecordedEvent? {
        try await PostgresEventRow.fetch(
            "SELECT \(unescaped: PostgresEventRow.columns) FROM event WHERE event_id = \(eventId.rawValue)",
            on: connection, logger: logger
        ).first
    }

    private mutating func insert(_ event: PreparedEvent, at position: Int64, version: Int) async throws {
        EventChain.writeCanonicalEnvelope(
            event.envelope, position: position, streamVersion: version, recordedAt: recordedText,
            sourceRecordedAt: event.sourceRecordedAt?.rfc3339, importRef: event.importRef, payload: event.payload, into: &envelope)
        let hash = EventChain.hash(prevHash: prevHash, envelope: envelope)
        let recordedEvent = RecordedEvent(
            position: position, streamVersion: version, envelope: event.envelope, recorded: recorded,
            sourceRecordedAt: event.sourceRecordedAt, importRef: event.importRef,
            payload: String(decoding: event.payload, as: UTF8.self), prevHash: prevHash, hash: hash)
        try await PostgresEventRow.insert(CollectionOfOne(recordedEvent), on: connection, logger: logger)
        prevHash = hash
    }
}
