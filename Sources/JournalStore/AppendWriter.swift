import Foundation
import GRDB
import GRDBSQLite
import Journal

/// The work of one append transaction: assigns positions, stream versions and `recordedAt`,
/// checks idempotency, expected versions and references, chains the hashes, inserts, and extends
/// the stored Merkle tree.
private let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

struct AppendWriter {
    fileprivate let db: Database
    fileprivate var position: Int64
    private var prevHash: [UInt8]
    fileprivate let recorded: Timestamp
    private let recordedText: String
    private var envelope: [UInt8] = []
    private let insert: Statement
    private let findEventId: Statement
    private let streamVersion: Statement
    private var tree: MerkleNodes?

    init(db: Database, clock: JournalClock, limit: ClockLimit, tree extendsTree: Bool) throws {
        self.db = db
        let last = try Row.fetchOne(db, sql: "SELECT position, recordedAtUs, hash FROM event ORDER BY position DESC LIMIT 1")
        position = last?[0] ?? 0
        prevHash = (last?[2] as Data?).map { Array($0) } ?? EventChain.genesisHash
        let lastRecorded = Timestamp(microseconds: last?[1] ?? Int64.min)
        // Read inside the write transaction, after the lock is held: recordedAt is when the events became visible.
        recorded = max(clock.now(), lastRecorded)
        try limit.check(recorded)
        recordedText = recorded.rfc3339
        envelope.reserveCapacity(1024)
        insert = try db.cachedStatement(sql: """
            INSERT INTO event (position, eventId, customerId, streamVersion, type, schemaVersion, occurredAt,
              occurredAtUs, recordedAtUs, caseId, assetId, siteId, actor, source, correlationId, causationId,
              payload, prevHash, hash, sourceRecordedAtUs, importRef)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        findEventId = try db.cachedStatement(sql: "SELECT position FROM event WHERE eventId = ?")
        streamVersion = try db.cachedStatement(sql: "SELECT coalesce(max(streamVersion), 0) FROM event WHERE customerId = ?")
        tree = extendsTree ? try MerkleNodes(db: db, head: position) : nil
    }

    mutating func append(_ batch: PreparedBatch) throws -> AppendResult {
        var version = try Int.fetchOne(streamVersion, arguments: [batch.customerId]) ?? 0
        let firstNew = position + 1
        var positions = [Int64](repeating: 0, count: batch.events.count)
        if !batch.expected.matches(version) {
            // A stale expected version is fine only for a re-send of events that are all stored already.
            return try batch.resent(streamVersion: version, stored: batch.events.map { try storedEvent($0.eventId) })
        }
        var appended: Set<EventID> = []
        for (index, event) in batch.events.enumerated() {
            for reference in event.references where !appended.contains(reference.eventId) {
                try checkReference(reference, of: event, index: batch.inputIndex(index), customerId: batch.customerId)
            }
            // Every event is tried as new; the unique-eventId trigger tells a re-send apart, which
            // spares the common case a lookup per event.
            if try insert(event, at: position + 1, version: version + 1) {
                position += 1
                version += 1
                positions[index] = position
                appended.insert(event.eventId)
            } else {
                let stored = try storedEvent(event.eventId)!
                try event.requireSameContent(as: stored, index: batch.inputIndex(index))
                positions[index] = stored.position
            }
        }
        return AppendResult(
            customerId: batch.customerId, positions: positions, appended: appended.count,
            newPositions: appended.isEmpty ? nil : firstNew...position, duplicates: batch.events.count - appended.count,
            streamVersion: version)
    }

    private func storedEvent(_ eventId: EventID) throws -> RecordedEvent? {
        guard let position = try storedPosition(of: eventId) else { return nil }
        return try EventRow.fetchOne(db, sql: "SELECT \(EventRow.columns) FROM event WHERE position = ?", arguments: [position])
    }

    fileprivate func storedPosition(of eventId: EventID) throws -> Int64? {
        let s = findEventId.sqliteStatement
        sqlite3_reset(s)
        bind(s, 1, eventId.rawValue)
        // Reset before returning: a statement left on a row keeps a read snapshot open after the
        // commit, and the next BEGIN IMMEDIATE would then fail at once once another connection writes.
        defer { sqlite3_reset(s) }
        let code = try step(s, expecting: SQLITE_ROW, SQLITE_DONE)
        return code == SQLITE_ROW ? sqlite3_column_int64(s, 0) : nil
    }

    private func bind(_ statement: SQLiteStatement, _ index: Int32, _ value: String?) {
        guard var value else {
            sqlite3_bind_null(statement, index)
            return
        }
        value.withUTF8 { _ = sqlite3_bind_text(statement, index, $0.baseAddress, Int32($0.count), transient) }
    }

    @discardableResult
    private func step(_ statement: SQLiteStatement, expecting codes: Int32...) throws -> Int32 {
        let code = sqlite3_step(statement)
        guard codes.contains(code) else {
            let message = String(cString: sqlite3_errmsg(db.sqliteConnection))
            sqlite3_reset(statement)
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message)
        }
        return code
    }

    private func checkReference(
        _ reference: (field: String, eventId: EventID), of event: PreparedEvent, index: Int, customerId: String
    ) throws {
        let owner = try String.fetchOne(
            db, sql: "SELECT customerId FROM event WHERE eventId = ?", arguments: [reference.eventId.rawValue])
        guard owner == customerId else {
            throw JournalError.unknownReference(
                index: index, eventId: event.eventId, field: reference.field, referenced: reference.eventId,
                customerId: customerId)
        }
    }

    /// Inserts `event` at the end of the log; returns false, storing nothing, when its eventId is already recorded.
    fileprivate mutating func insert(_ event: PreparedEvent, at position: Int64, version: Int) throws -> Bool {
        EventChain.writeCanonicalEnvelope(
            event.envelope, position: position, streamVersion: version, recordedAt: recordedText,
            sourceRecordedAt: event.sourceRecordedAt?.rfc3339, importRef: event.importRef, payload: event.payload, into: &envelope)
        let hash = EventChain.hash(prevHash: prevHash, envelope: envelope)
        // Bound through the C API: GRDB's StatementArguments box every value, which costs more
        // than the insert itself on this hot path.
        let s = insert.sqliteStatement
        sqlite3_reset(s)
        sqlite3_bind_int64(s, 1, position)
        bind(s, 2, event.eventId.rawValue)
        bind(s, 3, event.customerId)
        sqlite3_bind_int64(s, 4, Int64(version))
        bind(s, 5, event.type)
        sqlite3_bind_int64(s, 6, Int64(event.schemaVersion))
        bind(s, 7, event.occurredAt)
        sqlite3_bind_int64(s, 8, event.occurred.microseconds)
        sqlite3_bind_int64(s, 9, recorded.microseconds)
        bind(s, 10, event.caseId)
        bind(s, 11, event.assetId)
        bind(s, 12, event.siteId)
        bind(s, 13, event.actor)
        bind(s, 14, event.source)
        bind(s, 15, event.correlationId)
        bind(s, 16, event.causationId)
        event.payload.withUnsafeBufferPointer { _ = sqlite3_bind_text(s, 17, $0.baseAddress, Int32($0.count), transient) }
        prevHash.withUnsafeBufferPointer { _ = sqlite3_bind_blob(s, 18, $0.baseAddress, 32, transient) }
        hash.withUnsafeBufferPointer { _ = sqlite3_bind_blob(s, 19, $0.baseAddress, 32, transient) }
        if let source = event.sourceRecordedAt { sqlite3_bind_int64(s, 20, source.microseconds) } else { sqlite3_bind_null(s, 20) }
        bind(s, 21, event.importRef)
        let code = sqlite3_step(s)
        if code & 0xFF == SQLITE_CONSTRAINT,
            String(cString: sqlite3_errmsg(db.sqliteConnection)) == JournalSchema.eventIdRecordedMessage
        {
            sqlite3_reset(s)
            return false
        }
        guard code == SQLITE_DONE else {
            let message = String(cString: sqlite3_errmsg(db.sqliteConnection))
            sqlite3_reset(s)
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message)
        }
        prevHash = hash
        try tree?.add(chainHash: hash, at: position)
        return true
    }
}

/// What became of one migrated event (``ImportRecorder/record(_:requireRegistered:)``).
public enum ImportOutcome: Sendable, Hashable {
    case stored(position: Int64)
    /// The same event id with identical content is stored already (a row imported before).
    case alreadyRecorded(position: Int64)
    /// The same event id is stored with other content: the source row changed since it was imported.
    case conflict(position: Int64, differingFields: [String])
    /// A payload reference names no earlier event of the customer.
    case unknownReference(field: String, referenced: EventID)
    /// The customer has no `customer.registered` event (refused only when registration is required).
    case unknownCustomer
    /// The source's recording time is after the journal's recording time of this import.
    case knownAfterRecording(recordedAt: Timestamp)
}

extension AppendWriter {
    /// The journal's recording time of this transaction.
    var recordedAt: Timestamp { recorded }

    /// Records one migrated event at the end of the log, or says why not (storing nothing for it).
    mutating func appendMigrated(_ event: PreparedEvent, version: inout Int) throws -> ImportOutcome {
        if let known = event.sourceRecordedAt, known > recorded { return .knownAfterRecording(recordedAt: recorded) }
        for reference in event.references {
            let owner = try String.fetchOne(db, sql: "SELECT customerId FROM event WHERE eventId = ?", arguments: [reference.eventId.rawValue])
            if owner != event.customerId { return .unknownReference(field: reference.field, referenced: reference.eventId) }
        }
        if try insert(event, at: position + 1, version: version + 1) {
            position += 1
            version += 1
            return .stored(position: position)
        }
        let stored = try storedPosition(of: event.eventId)!
        let recordedEvent = try EventRow.fetchOne(db, sql: "SELECT \(EventRow.columns) FROM event WHERE position = ?", arguments: [stored])!
        let differences = event.sameContent(as: recordedEvent)
        return differences.isEmpty ? .alreadyRecorded(position: stored) : .conflict(position: stored, differingFields: differences)
    }
}
