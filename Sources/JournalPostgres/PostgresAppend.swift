import Foundation
import Journal
import Logging
import NIOCore
import PostgresNIO

/// One append to a PostgreSQL journal, by the same rules as the SQLite journal's: idempotent
/// re-sends, expected versions, references, gapless positions and stream versions, one recording
/// time, the hash chain.
///
/// The append is planned here against the log as read (``load(_:on:logger:)``): which events are
/// stored already, each customer's stream version, the head. The new events get stream versions and
/// tentative positions after that head, and their canonical envelopes without position and
/// recording time. ``commit(on:clock:limit:logger:)`` then sends them to `append_events`
/// (``PostgresSchema/v7``), which locks the head, fills both in, chains and inserts in one statement:
/// the head is never locked across a round trip. Positions are moved to where the function put the
/// events (``resolve(_:)``).
///
/// Another append that commits between the read and the statement makes the plan stale. It then
/// fails with a unique violation and stores nothing (``isStale(_:)``), and the journal plans again.
/// A plan made in a transaction that locked the head first (``LockedHead``) cannot go stale; its
/// rows are chained here (``commit(on:under:clock:limit:logger:)``).
struct PostgresAppend {
    /// The head as the reads saw it: the tentative positions follow it.
    private let seenHead: Int64
    /// The last tentative position given out.
    private var position: Int64
    /// Events stored before this append, by id, for the ids it names.
    private var stored: [EventID: RecordedEvent]
    /// Events this append records, by id, at their tentative positions.
    private var recordedNow: [EventID: RecordedEvent] = [:]
    /// Each customer's stream version as this append has left it so far.
    private var versions: [String: Int]
    /// The new events' rows, in position order.
    private var rows: [Row] = []
    /// Where the new events went: the tentative positions are moved by this much.
    private var shift: Int64 = 0

    private struct Row {
        let event: PreparedEvent
        let streamVersion: Int
        /// The payload's stored bytes as text, as the row and an event recorded now hold it.
        let payload: String
        let envelopeHead: [UInt8]
        let envelopeTail: [UInt8]
    }

    /// Whether the plan holds any event not stored yet.
    var isEmpty: Bool { rows.isEmpty }

    /// Reads what `batches` need of the stored log: which of the events they name are stored (and
    /// those), their customers' stream versions, and the head — the first three in one statement, so
    /// that the plan is made on one state of the log, in which every stored event found lies at or
    /// before the head. (Read apart, a re-send whose original commits between the reads would find
    /// its event missing but its stream moved on, and be refused as a conflict.)
    static func load(_ batches: [PreparedBatch], on connection: PostgresConnection, logger: Logger) async throws -> PostgresAppend {
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
        // planned as a scan of the whole log), and each customer's last version from the end of its
        // index, however long its stream.
        let rows = try await connection.query(
            """
            SELECT TRUE, id, (SELECT position FROM event WHERE event_id = id), (SELECT position FROM log_head)
            FROM unnest(\(Array(ids))::text[]) AS id
            UNION ALL
            SELECT FALSE, customer, (SELECT max(stream_version) FROM event WHERE customer_id = customer)::bigint,
                   (SELECT position FROM log_head)
            FROM unnest(\(Array(customers))::text[]) AS customer
            """,
            logger: logger)
        var found: [Int64] = []
        var versions: [String: Int] = [:]
        var head: Int64 = 0
        for try await (isId, key, value, position) in rows.decode((Bool, String, Int64?, Int64).self) {
            head = position
            if isId {
                if let value { found.append(value) }
            } else {
                versions[key] = Int(value ?? 0)
            }
        }
        // The rows of the events found, usually none; they never change once stored.
        var stored: [EventID: RecordedEvent] = [:]
        if !found.isEmpty {
            for event in try await PostgresEventRow.fetch(
                "SELECT \(unescaped: PostgresEventRow.columns) FROM event WHERE position = ANY(\(found))", on: connection, logger: logger)
            {
                stored[event.eventId] = event
            }
        }
        return PostgresAppend(seenHead: head, position: head, stored: stored, versions: versions)
    }

    private init(seenHead: Int64, position: Int64, stored: [EventID: RecordedEvent], versions: [String: Int]) {
        self.seenHead = seenHead
        self.position = position
        self.stored = stored
        self.versions = versions
    }

    /// Plans one call's batches in order; an error names the batch when there are several. The
    /// results hold tentative positions until ``resolve(_:)``.
    mutating func plan(call batches: [PreparedBatch]) throws(JournalError) -> [AppendResult] {
        var results: [AppendResult] = []
        results.reserveCapacity(batches.count)
        for batch in batches {
            do {
                results.append(try plan(batch))
            } catch where batches.count > 1 {
                throw error.inBatch(of: batch.customerId)
            }
        }
        return results
    }

    private mutating func plan(_ batch: PreparedBatch) throws(JournalError) -> AppendResult {
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
            add(event, at: position, version: version)
            positions[index] = position
            appended += 1
        }
        versions[batch.customerId] = version
        return AppendResult(
            customerId: batch.customerId, positions: positions, appended: appended,
            newPositions: appended == 0 ? nil : firstNew...position, duplicates: batch.events.count - appended,
            streamVersion: version)
    }

    private func known(_ eventId: EventID) -> RecordedEvent? { recordedNow[eventId] ?? stored[eventId] }

    private mutating func add(_ event: PreparedEvent, at position: Int64, version: Int) {
        var head: [UInt8] = [], tail: [UInt8] = []
        EventChain.writeEnvelopeHead(event.envelope, importRef: event.importRef, payload: event.payload, into: &head)
        EventChain.writeEnvelopeTail(
            event.envelope, streamVersion: version, sourceRecordedAt: event.sourceRecordedAt?.rfc3339, into: &tail)
        let payload = String(decoding: event.payload, as: UTF8.self)
        rows.append(Row(event: event, streamVersion: version, payload: payload, envelopeHead: head, envelopeTail: tail))
        // What a later event of this append that repeats or refers to it compares with; the recording
        // time and hashes come with the commit, and no check reads them.
        recordedNow[event.eventId] = RecordedEvent(
            position: position, streamVersion: version, envelope: event.envelope, recorded: Timestamp(microseconds: 0),
            sourceRecordedAt: event.sourceRecordedAt, importRef: event.importRef, payload: payload, prevHash: [], hash: [])
    }

    /// Records the new events through `append_events`, in one statement of at most
    /// ``PostgresEventRow/rowsPerStatement`` rows, and learns where they went.
    ///
    /// - Throws: ``JournalError/clockAhead(recordedAt:systemTime:maximumLeadSeconds:)`` when the
    ///   recording time would run too far ahead; PostgreSQL's errors as they come (a stale plan's
    ///   unique violation among them).
    mutating func commit(on connection: PostgresConnection, clock: JournalClock, limit: ClockLimit, logger: Logger) async throws {
        precondition(rows.count <= PostgresEventRow.rowsPerStatement, "an append of more rows than a statement takes is sent under the head's lock")
        let clockReading = clock.now().microseconds
        let latest = limit.latestAllowed()
        func column<Value>(_ value: (Row) -> Value?) -> PostgresArray<Value> { PostgresArray(rows.map(value)) }
        var bindings = PostgresBindings(capacity: 21)
        bindings.append(column { $0.event.eventId.rawValue })
        bindings.append(column { $0.event.envelope.customerId })
        bindings.append(column { Int32($0.streamVersion) })
        bindings.append(column { $0.event.envelope.type })
        bindings.append(column { Int32($0.event.envelope.schemaVersion) })
        bindings.append(column { $0.event.envelope.occurredAt })
        bindings.append(column { $0.event.envelope.occurred.microseconds })
        bindings.append(column { $0.event.envelope.caseId })
        bindings.append(column { $0.event.envelope.assetId })
        bindings.append(column { $0.event.envelope.siteId })
        bindings.append(column { $0.event.envelope.actor })
        bindings.append(column { $0.event.envelope.source })
        bindings.append(column { $0.event.envelope.correlationId })
        bindings.append(column { $0.event.envelope.causationId })
        bindings.append(column { $0.payload })
        bindings.append(column { $0.event.sourceRecordedAt?.microseconds })
        bindings.append(column { $0.event.importRef })
        bindings.append(column { ByteBuffer(bytes: $0.envelopeHead) })
        bindings.append(column { ByteBuffer(bytes: $0.envelopeTail) })
        bindings.append(clockReading)
        bindings.append(latest.microseconds)
        let parameters = (1...21).map { "$\($0)" }.joined(separator: ", ")
        let answer = try await connection.query(
            PostgresQuery(unsafeSQL: "SELECT * FROM append_events(\(parameters))", binds: bindings), logger: logger)
        guard let (previousHead, recorded) = try await answer.decode((Int64?, Int64).self).first(where: { _ in true }) else {
            throw JournalError.storage("append_events returned no row")
        }
        guard let previousHead else {
            throw JournalError.clockAhead(
                recordedAt: Timestamp(microseconds: recorded), systemTime: Timestamp(microseconds: latest.microseconds - limit.maximumLeadMicroseconds),
                maximumLeadSeconds: limit.maximumLeadMicroseconds / 1_000_000)
        }
        shift = previousHead - seenHead
    }

    /// Records the new events in the transaction `connection` is in, which locked the head `head`: the
    /// rows are chained here and inserted as they are (the schema's trigger checks that they extend
    /// the log), ``PostgresEventRow/rowsPerStatement`` to a statement, the next rows chained while
    /// the server inserts the last.
    ///
    /// - Throws: ``JournalError/clockAhead(recordedAt:systemTime:maximumLeadSeconds:)`` when the
    ///   recording time would run too far ahead; PostgreSQL's errors as they come.
    mutating func commit(
        on connection: PostgresConnection, under head: LockedHead, clock: JournalClock, limit: ClockLimit, logger: Logger
    ) async throws {
        let recorded = max(clock.now(), head.recorded)
        try limit.check(recorded)
        let recordedText = recorded.rfc3339
        shift = head.position - seenHead
        var prevHash = head.hash
        var middle: [UInt8] = []
        var inFlight: Task<Void, any Error>?
        do {
            for start in stride(from: 0, to: rows.count, by: PostgresEventRow.rowsPerStatement) {
                var chunk: [RecordedEvent] = []
                chunk.reserveCapacity(min(PostgresEventRow.rowsPerStatement, rows.count - start))
                for (offset, row) in rows[start..<min(rows.count, start + PostgresEventRow.rowsPerStatement)].enumerated() {
                    let position = head.position + Int64(start + offset + 1)
                    middle.removeAll(keepingCapacity: true)
                    EventChain.writeEnvelopeMiddle(position: position, recordedAt: recordedText, into: &middle)
                    let hash = EventChain.hash(prevHash: prevHash, head: row.envelopeHead, middle: middle, tail: row.envelopeTail)
                    chunk.append(RecordedEvent(
                        position: position, streamVersion: row.streamVersion, envelope: row.event.envelope, recorded: recorded,
                        sourceRecordedAt: row.event.sourceRecordedAt, importRef: row.event.importRef,
                        payload: row.payload, prevHash: prevHash, hash: hash))
                    prevHash = hash
                }
                try await inFlight?.value
                inFlight = Task { [chunk] in try await PostgresEventRow.insert(chunk, on: connection, logger: logger) }
            }
            try await inFlight?.value
        } catch {
            // The transaction is rolled back once the insert still running has ended.
            _ = try? await inFlight?.value
            throw error
        }
    }

    /// The head as a transaction locked it (`lock_log_head()`): every other append waits until that
    /// transaction ends.
    struct LockedHead: Sendable {
        let position: Int64
        let hash: [UInt8]
        let recorded: Timestamp

        static func lock(on connection: PostgresConnection, logger: Logger) async throws -> LockedHead {
            let rows = try await connection.query("SELECT * FROM lock_log_head()", logger: logger)
            guard let (position, hash, recorded) = try await rows.decode((Int64, Data, Int64).self).first(where: { _ in true }) else {
                throw JournalError.storage("the log head row is missing")
            }
            return LockedHead(position: position, hash: Array(hash), recorded: Timestamp(microseconds: recorded))
        }
    }

    /// `result` with its tentative positions moved to where the events were recorded.
    func resolve(_ result: AppendResult) -> AppendResult {
        guard shift != 0 else { return result }
        var result = result
        result.positions = result.positions.map { $0 > seenHead ? $0 + shift : $0 }
        result.newPositions = result.newPositions.map { ($0.lowerBound + shift)...($0.upperBound + shift) }
        return result
    }

    /// Whether `error` says that the plan was stale: an event id or a customer's stream version was
    /// taken by an append that committed after the reads (23505: unique violation).
    static func isStale(_ error: any Error) -> Bool {
        (error as? PSQLError)?.serverInfo?[.sqlState] == "23505"
    }
}
