import Foundation
import Journal
import Logging
import NIOCore
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

    /// Rows per `INSERT` statement.
    static let rowsPerStatement = 5_000

    /// Inserts `events` as they are, in order, one statement per ``rowsPerStatement`` of them, each
    /// column bound as one array: the schema's triggers check that each extends the log at its end.
    static func insert(_ events: some Collection<RecordedEvent>, on connection: PostgresConnection, logger: Logger) async throws {
        var rest = events[...]
        while !rest.isEmpty {
            let chunk = rest.prefix(rowsPerStatement)
            rest = rest.dropFirst(chunk.count)
            func column<Value>(_ value: (RecordedEvent) -> Value?) -> PostgresArray<Value> { PostgresArray(chunk.map(value)) }
            var bindings = PostgresBindings(capacity: 21)
            bindings.append(column { $0.position })
            bindings.append(column { $0.eventId.rawValue })
            bindings.append(column { $0.customerId })
            bindings.append(column { Int32($0.streamVersion) })
            bindings.append(column { $0.type })
            bindings.append(column { Int32($0.schemaVersion) })
            bindings.append(column { $0.occurredAt })
            bindings.append(column { $0.occurred.microseconds })
            bindings.append(column { $0.recorded.microseconds })
            bindings.append(column { $0.caseId })
            bindings.append(column { $0.assetId })
            bindings.append(column { $0.siteId })
            bindings.append(column { $0.actor })
            bindings.append(column { $0.source })
            bindings.append(column { $0.correlationId })
            bindings.append(column { $0.causationId })
            bindings.append(column { $0.payload })
            bindings.append(column { ByteBuffer(bytes: $0.prevHash) })
            bindings.append(column { ByteBuffer(bytes: $0.hash) })
            bindings.append(column { $0.sourceRecordedAt?.microseconds })
            bindings.append(column { $0.importRef })
            let parameters = (1...21).map { "$\($0)" }.joined(separator: ", ")
            try await connection.query(
                PostgresQuery(unsafeSQL: "INSERT INTO event (\(columns)) SELECT * FROM unnest(\(parameters))", binds: bindings), logger: logger)
        }
    }
}
