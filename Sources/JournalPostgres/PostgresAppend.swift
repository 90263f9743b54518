import Foundation
import Journal
import Logging
import PostgresNIO

/// The work of one append transaction in PostgreSQL, by the same rules as the SQLite journal's:
/// locks the log's head, assigns positions, stream versions and `recordedAt`, checks idempotency,
/// expected versions and references, chains the hashes and inserts.
///
/// A call costs a fixed number of round trips whatever its size: the head lock, one read of every
/// stored event the call names (its ids and the ids it refers to), one read of its customers' stream
/// versions, then the new rows, ``PostgresEventRow/rowsPerStatement`` to a statement — each sent
/// while the next rows are chained.
struct PostgresAppend {
    let connection: PostgresConnection
    let logger: Logger
    private var position: Int64
    private var prevHash: [UInt8]
    private let recorded: Timestamp
    private let recordedText: String
    private var envelope: [UInt8] = []
    /// Events stored before this call, by id, for the ids the call names.
    private var stored: [EventID: RecordedEvent] = [:]
    /// Events this call has recorded so far, by id.
    private var recordedNow: [EventID: RecordedEvent] = [:]
    /// Each customer's stream version as this call has left it so far.
    private var versions: [String: Int] = [:]
    /// Recorded and not inserted yet.
    private var pending: [RecordedEvent] = []
    /// The insert statement the server is running while the next rows are chained here.
    private var inFlight: Task<Void, any Error>?
    /// Whether rows may be sent in the middle of a batch. Off when the calls of a group must each be
    /// undone in memory (``endOfCall()``): a call's rows then stay here until it has succeeded.
    var flushesWithinCall = true

    /// Locks the head row: every other appender waits here until this transaction ends, so the
    /// positions it gives out commit in their order.
    init(connection: PostgresConnection, logger: Logger, clock: JournalClock, limit: ClockLimit) async throws {
        self.connection = connection
        self.logger = logger
        let rows = try await connection.query("SELECT * FROM lock_log_head()", logger: logger)
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

    /// Reads what the call's batches need of the stored log: which of the events it names are stored
    /// (and those), and its customers' stream versions.
    mutating func load(_ batches: [PreparedBatch]) async throws {
        var ids: Set<String> = []
        var customers: Set<String> = []
        for batch in batches {
            customers.insert(batch.customerId)
            for event in batch.events {
                ids.insert(event.eventId.rawValue)
                for reference in event.references { ids.insert(reference.eventId.rawValue) }
            }
        }
        // One probe of the id index per id (a subquery each: a plain `= ANY` of thousands of ids is
        // planned as a scan of the whole log), then the rows of those found, usually none.
        var found: [Int64] = []
        let probes = try await connection.query(
            "SELECT (SELECT position FROM event WHERE event_id = id) FROM unnest(\(Array(ids))::text[]) AS id", logger: logger)
        for try await position in probes.decode(Int64?.self) {
            if let position { found.append(position) }
        }
        if !found.isEmpty {
            for event in try await PostgresEventRow.fetch(
                "SELECT \(unescaped: PostgresEventRow.columns) FROM event WHERE position = ANY(\(found))", on: connection, logger: logger)
            {
                stored[event.eventId] = event
            }
        }
        let customerList = Array(customers)
        // Each customer's last version from the end of its index, however long its stream.
        let rows = try await connection.query(
            """
            SELECT customer, (SELECT max(stream_version) FROM event WHERE customer_id = customer)::integer
            FROM unnest(\(customerList)::text[]) AS customer
            """,
            logger: logger)
        for try await (customer, version) in rows.decode((String, Int?).self) { versions[customer] = version ?? 0 }
    }

    /// Appends one call's batches in order; an error names the batch when there are several.
    mutating func append(call batches: [PreparedBatch]) async throws -> [AppendResult] {
        var results: [AppendResult] = []
        results.reserveCapacity(batches.count)
        for batch in batches {
            do {
                results.append(try await append(batch))
            } catch let error as JournalError where batches.count > 1 {
                throw error.inBatch(of: batch.customerId)
            }
        }
        return results
    }

    mutating func append(_ batch: PreparedBatch) async throws -> AppendResult {
        var version = versions[batch.customerId] ?? 0
        let firstNew = position + 1
        var positions = [Int64](repeating: 0, count: batch.events.count)
        if !batch.expected.matches(version) {
            // A stale expected version is fine only for a re-send of events that are all stored already.
            return try batch.resent(streamVersion: version, stored: batch.events.map { known($0.eventId) })
        }
        var appended = 0
        for (index, event) in batch.events.enumerated() {
            if let earlier = known(event.eventId) {
                try event.requireSameContent(as: earlier, index: batch.inputIndex(index))
                positions[index] = earlier.position
                continue
            }
            for reference in event.references where known(reference.eventId)?.customerId != batch.customerId {
                throw JournalError.unknownReference(
                    index: batch.inputIndex(index), eventId: event.eventId, field: reference.field, referenced: reference.eventId,
                    customerId: batch.customerId)
            }
            position += 1
            version += 1
            try await record(event, at: position, version: version)
            positions[index] = position
            appended += 1
        }
        versions[batch.customerId] = version
        return AppendResult(
            customerId: batch.customerId, positions: positions, appended: appended,
            newPositions: appended == 0 ? nil : firstNew...position, duplicates: batch.events.count - appended,
            streamVersion: version)
    }

    /// Inserts what is still pending and waits for every insert; the transaction's last step before it commits.
    mutating func finish() async throws {
        try await flush()
        try await inFlight?.value
        inFlight = nil
    }

    /// Sends the rows of the calls so far once there are enough for a statement.
    mutating func endOfCall() async throws {
        if pending.count >= PostgresEventRow.rowsPerStatement { try await flush() }
    }

    /// Waits for an insert still running, after an error: the transaction is rolled back after it.
    func abandon() async {
        _ = try? await inFlight?.value
    }

    /// Sends the pending rows as the next insert statement, once the one before has succeeded, and
    /// returns while the server runs it.
    private mutating func flush() async throws {
        try await inFlight?.value
        guard !pending.isEmpty else { return inFlight = nil }
        let rows = pending, connection = connection, logger = logger
        pending = []
        inFlight = Task { try await PostgresEventRow.insert(rows, on: connection, logger: logger) }
    }

    private func known(_ eventId: EventID) -> RecordedEvent? { recordedNow[eventId] ?? stored[eventId] }

    private mutating func record(_ event: PreparedEvent, at position: Int64, version: Int) async throws {
        EventChain.writeCanonicalEnvelope(
            event.envelope, position: position, streamVersion: version, recordedAt: recordedText,
            sourceRecordedAt: event.sourceRecordedAt?.rfc3339, importRef: event.importRef, payload: event.payload, into: &envelope)
        let hash = EventChain.hash(prevHash: prevHash, envelope: envelope)
        let recordedEvent = RecordedEvent(
            position: position, streamVersion: version, envelope: event.envelope, recorded: recorded,
            sourceRecordedAt: event.sourceRecordedAt, importRef: event.importRef,
            payload: String(decoding: event.payload, as: UTF8.self), prevHash: prevHash, hash: hash)
        recordedNow[event.eventId] = recordedEvent
        pending.append(recordedEvent)
        prevHash = hash
        if flushesWithinCall, pending.count >= PostgresEventRow.rowsPerStatement { try await flush() }
    }
}
