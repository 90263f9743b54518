import Foundation
import GRDB
import GRDBSQLite
import Journal

/// Reads stored events from rows (positional access, no Codable: scans run at over a million rows a second).
enum EventRow {
    static let columns = """
        position, eventId, customerId, streamVersion, type, schemaVersion, occurredAt, occurredAtUs, recordedAtUs, \
        caseId, assetId, siteId, actor, source, correlationId, causationId, payload, prevHash, hash, sourceRecordedAtUs, importRef
        """

    /// ``columns`` with the chain hashes left empty, for reads that fold events and never check the
    /// chain: two fewer copies of 32 bytes, each allocated twice, for every event.
    static let columnsWithoutHashes = columns.replacingOccurrences(of: "prevHash, hash,", with: "x'' AS prevHash, x'' AS hash,")

    /// The current row of `statement` (selecting ``columns``), read through the C API: a rebuild
    /// decodes millions of events, and reading each column through `Row` cost as much as the query.
    static func decode(statement s: SQLiteStatement) -> RecordedEvent {
        decode(statement: s, payload: text(s, 16) ?? "")
    }

    /// The current row of `statement` as `disclosure` shows it, its payload disclosed straight from
    /// the row's bytes.
    static func decode(statement s: SQLiteStatement, disclosedBy disclosure: Disclosure) -> RecordedEvent {
        var payload = "null"
        if let bytes = sqlite3_column_text(s, 16) {
            payload = disclosure.json(UnsafeBufferPointer(start: bytes, count: Int(sqlite3_column_bytes(s, 16))))
        }
        var event = decode(statement: s, payload: payload)
        event.actor = disclosure.value(event.actor)
        return event
    }

    private static func decode(statement s: SQLiteStatement, payload: String) -> RecordedEvent {
        let envelope = EventEnvelope(
            eventId: EventID(text(s, 1) ?? "") ?? EventID("00000000-0000-0000-0000-000000000000")!, customerId: text(s, 2) ?? "",
            type: text(s, 4) ?? "", schemaVersion: Int(sqlite3_column_int64(s, 5)), occurredAt: text(s, 6) ?? "",
            occurred: Timestamp(microseconds: sqlite3_column_int64(s, 7)), caseId: text(s, 9), assetId: text(s, 10), siteId: text(s, 11),
            actor: text(s, 12), source: text(s, 13), correlationId: text(s, 14), causationId: text(s, 15))
        return RecordedEvent(
            position: sqlite3_column_int64(s, 0), streamVersion: Int(sqlite3_column_int64(s, 3)), envelope: envelope,
            recorded: Timestamp(microseconds: sqlite3_column_int64(s, 8)),
            sourceRecordedAt: sqlite3_column_type(s, 19) == SQLITE_NULL ? nil : Timestamp(microseconds: sqlite3_column_int64(s, 19)),
            importRef: text(s, 20), payload: payload, prevHash: bytes(s, 17), hash: bytes(s, 18))
    }

    private static func text(_ statement: SQLiteStatement, _ column: Int32) -> String? {
        guard let pointer = sqlite3_column_text(statement, column) else { return nil }
        return String(decoding: UnsafeBufferPointer(start: pointer, count: Int(sqlite3_column_bytes(statement, column))), as: UTF8.self)
    }

    private static func bytes(_ statement: SQLiteStatement, _ column: Int32) -> [UInt8] {
        guard let pointer = sqlite3_column_blob(statement, column) else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: Int(sqlite3_column_bytes(statement, column))))
    }

    static func fetchAll(_ db: Database, sql: String, arguments: StatementArguments = []) throws -> [RecordedEvent] {
        try fetchAll(db.makeStatement(sql: sql), arguments: arguments)
    }

    /// The events `statement` selects; disclosed by `disclosure` when one is given.
    static func fetchAll(_ statement: Statement, arguments: StatementArguments = [], disclosedBy disclosure: Disclosure? = nil) throws -> [RecordedEvent] {
        assert(statement.columnCount == 21, "an event is read from the columns of EventRow.columns, in their order")
        let cursor = try Row.fetchCursor(statement, arguments: arguments)
        var events: [RecordedEvent] = []
        if let disclosure {
            while try cursor.next() != nil { events.append(decode(statement: statement.sqliteStatement, disclosedBy: disclosure)) }
        } else {
            while try cursor.next() != nil { events.append(decode(statement: statement.sqliteStatement)) }
        }
        return events
    }

    static func fetchOne(_ db: Database, sql: String, arguments: StatementArguments = []) throws -> RecordedEvent? {
        try fetchAll(db, sql: sql, arguments: arguments).first
    }
}
