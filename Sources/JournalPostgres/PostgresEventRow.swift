import Foundation
import Journal
import Logging
import PostgresNIO

/// Reads recorded events from `event` rows.
enum PostgresEventRow {
    /// The columns every read of events selects, in this order.
    static let columns = """
        position, event_id, customer_id, stream_version, type, schema_version, occurred_at, occurred_at_us, \
        recorded_at_us, case_id, asset_id, site_id, actor, source, correlation_id, causation_id, payload, \
        prev_hash, hash, source_recorded_at_us, import_ref
        """

    static func fetch(_ query: PostgresQuery, on connection: PostgresConnection, logger: Logger) async throws -> [RecordedEvent] {
        var events: [RecordedEvent] = []
        for try await row in try await connection.query(query, logger: logger) {
            events.append(try decode(row))
        }
        return events
    }

    static func decode(_ row: PostgresRow) throws -> RecordedEvent {
        let cells = row.makeRandomAccess()
        func text(_ index: Int) throws -> String { try cells[index].decode(String.self) }
        func optional(_ index: Int) throws -> String? { try cells[index].decode(String?.self) }
        let eventIdText = try text(1)
        guard let eventId = EventID(eventIdText) else {
            throw JournalError.storage("event \(try cells[0].decode(Int64.self)) has an event id that is not a UUID: \(eventIdText.prefix(64))")
        }
        let envelope = EventEnvelope(
            eventId: eventId, customerId: try text(2), type: try text(4), schemaVersion: try cells[5].decode(Int.self),
            occurredAt: try text(6), occurred: Timestamp(microseconds: try cells[7].decode(Int64.self)),
            caseId: try optional(9), assetId: try optional(10), siteId: try optional(11), actor: try optional(12),
            source: try optional(13), correlationId: try optional(14), causationId: try optional(15))
        return RecordedEvent(
            position: try cells[0].decode(Int64.self), streamVersion: try cells[3].decode(Int.self), envelope: envelope,
            recorded: Timestamp(microseconds: try cells[8].decode(Int64.self)),
            sourceRecordedAt: try cells[19].decode(Int64?.self).map(Timestamp.init(microseconds:)),
            importRef: try optional(20), payload: try text(16),
            prevHash: Array(try cells[17].decode(Data.self)), hash: Array(try cells[18].decode(Data.self)))
    }

    /// Rows per `INSERT` statement: 21 parameters each, under PostgreSQL's limit of 65,535 per statement.
    static let rowsPerStatement = 1_000

    /// Inserts `events` as they are, in order, a statement per ``rowsPerStatement`` of them: the schema's
    /// triggers check that each extends the log at its end.
    static func insert(_ events: some Collection<RecordedEvent>, on connection: PostgresConnection, logger: Logger) async throws {
        var rest = events[...]
        while !rest.isEmpty {
            let chunk = rest.prefix(rowsPerStatement)
            rest = rest.dropFirst(chunk.count)
            var bindings = PostgresBindings(capacity: chunk.count * 21)
            var sql = "INSERT INTO event (\(columns)) VALUES "
            for (row, event) in chunk.enumerated() {
                let first = row * 21
                sql += (row == 0 ? "(" : ", (") + (1...21).map { "$\(first + $0)" }.joined(separator: ", ") + ")"
                let e = event.envelope
                bindings.append(event.position)
                bindings.append(e.eventId.rawValue)
                bindings.append(e.customerId)
                bindings.append(event.streamVersion)
                bindings.append(e.type)
                bindings.append(e.schemaVersion)
                bindings.append(e.occurredAt)
                bindings.append(e.occurred.microseconds)
                bindings.append(event.recorded.microseconds)
                for link in [e.caseId, e.assetId, e.siteId, e.actor, e.source, e.correlationId, e.causationId] { bindings.append(link) }
                bindings.append(event.payload)
                try bindings.append(Data(event.prevHash))
                try bindings.append(Data(event.hash))
                bindings.append(event.sourceRecordedAt?.microseconds)
                bindings.append(event.importRef)
            }
            try await connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger)
        }
    }
}
