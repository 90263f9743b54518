import Foundation
import GRDB
import Journal

extension EventStore {
    /// Records a migrated history in one write transaction: every event of the import is stored, or —
    /// when `body` throws, or for a dry run — none is. The transaction holds the journal's write lock
    /// until it ends; live appends wait for it.
    ///
    /// ```swift
    /// let summary = try store.recordImport(dryRun: false) { recorder in
    ///     for event in prepared { _ = try recorder.record(event, requireRegistered: true) }
    ///     try recorder.describe(description)
    /// }
    /// ```
    public func recordImport<T>(dryRun: Bool, _ body: (inout ImportRecorder) throws -> T) throws -> T {
        let clock = self.clock, limit = clockLimit, tree = extendsTree
        var result: T?
        do {
            try writer.write { db in
                var recorder = try ImportRecorder(db: db, writer: try AppendWriter(db: db, clock: clock, limit: limit, tree: tree))
                result = try body(&recorder)
                if dryRun { throw DryRunRollback() }
            }
            commits.publish()
        } catch is DryRunRollback {
        } catch let error as DatabaseError {
            throw JournalDatabase.translate(error, path: writer.path)
        }
        return result!
    }

    /// Those of `customerIds` that have no `customer.registered` event in the journal.
    public func unregistered(_ customerIds: [String]) throws(JournalError) -> [String] {
        try read { db in
            try customerIds.filter { customerId in
                try !(Bool.fetchOne(
                    db, sql: "SELECT EXISTS (SELECT 1 FROM event WHERE customerId = ? AND type = 'customer.registered')",
                    arguments: [customerId]) ?? false)
            }
        }
    }

    /// The imports recorded in this journal, oldest first.
    public func imports() throws(JournalError) -> [ImportDescription] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM import ORDER BY importNumber").map(ImportDescription.init(row:))
        }
    }
}

private struct DryRunRollback: Error {}

/// Records the events of one import inside its transaction (see ``EventStore/recordImport(dryRun:_:)``).
public struct ImportRecorder {
    private let db: Database
    private var writer: AppendWriter
    private var versions: [String: Int] = [:]
    private var current: (customerId: String, version: Int)?
    private var registered: [String: Bool] = [:]
    public private(set) var firstPosition: Int64?
    public private(set) var lastPosition: Int64?
    /// The number this import gets in the journal: one more than the last recorded import's.
    public let importNumber: Int

    init(db: Database, writer: AppendWriter) throws {
        self.db = db
        self.writer = writer
        importNumber = try Int.fetchOne(db, sql: "SELECT coalesce(max(importNumber), 0) + 1 FROM import") ?? 1
    }

    /// The journal's recording time of the whole import.
    public var recordedAt: Timestamp { writer.recordedAt }

    /// Stores one migrated event at the end of the log, or says why it was not stored.
    public mutating func record(_ event: PreparedEvent, requireRegistered: Bool) throws -> ImportOutcome {
        if requireRegistered, event.type != "customer.registered", try !isRegistered(event.customerId) {
            return .unknownCustomer
        }
        // Rows usually come grouped by customer or case: the current customer's version is kept at hand.
        if current?.customerId != event.customerId {
            if let current { versions[current.customerId] = current.version }
            current = (event.customerId, try versions[event.customerId] ?? EventStore.streamVersion(of: event.customerId, in: db))
        }
        let outcome = try writer.appendMigrated(event, version: &current!.version)
        if case .stored(let position) = outcome {
            if firstPosition == nil { firstPosition = position }
            lastPosition = position
            if event.type == "customer.registered" { registered[event.customerId] = true }
        }
        return outcome
    }

    /// Records the events of one source row, all or none: at the first outcome `accept` refuses, whatever
    /// the row stored is rolled back. Returns the outcomes up to and including that one.
    public mutating func recordRow(
        _ events: [PreparedEvent], requireRegistered: Bool, accept: (Int, ImportOutcome) -> Bool
    ) throws -> [ImportOutcome] {
        guard events.count > 1 else {
            return try events.map { try record($0, requireRegistered: requireRegistered) }
        }
        let saved = (writer, versions, current, registered, firstPosition, lastPosition)
        try db.execute(sql: "SAVEPOINT row")
        var outcomes: [ImportOutcome] = []
        for (index, event) in events.enumerated() {
            let outcome = try record(event, requireRegistered: requireRegistered)
            outcomes.append(outcome)
            if !accept(index, outcome) {
                try db.execute(sql: "ROLLBACK TO row")
                (writer, versions, current, registered, firstPosition, lastPosition) = saved
                break
            }
        }
        try db.execute(sql: "RELEASE row")
        return outcomes
    }

    /// Whether the customer has a `customer.registered` event, stored before or earlier in this import.
    public mutating func isRegistered(_ customerId: String) throws -> Bool {
        if let known = registered[customerId] { return known }
        let known = try Bool.fetchOne(
            db, sql: "SELECT EXISTS (SELECT 1 FROM event WHERE customerId = ? AND type = 'customer.registered')",
            arguments: [customerId]) ?? false
        registered[customerId] = known
        return known
    }

    /// Writes the import's description, which every imported event's `importRef` names.
    public func describe(_ description: ImportDescription) throws {
        try db.execute(
            sql: """
                INSERT INTO import (importNumber, recordedAtUs, mappingName, mappingSha256, mapping, sources, rowsRead,
                  eventsStored, alreadyRecorded, rowsRejected, firstPosition, lastPosition)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                description.importNumber, description.recordedAt.microseconds, description.mappingName, description.mappingSha256,
                description.mapping, CanonicalJSON.string(.array(description.sources.map(\.json))), description.rowsRead,
                description.eventsStored, description.alreadyRecorded, description.rowsRejected, firstPosition, lastPosition,
            ])
    }
}

/// One import as the journal keeps it: the mapping it used, the files it read, what it stored.
public struct ImportDescription: Sendable, Hashable {
    public struct Source: Sendable, Hashable {
        public var file: String
        public var bytes: Int64
        public var sha256: String
        public var rows: Int

        public init(file: String, bytes: Int64, sha256: String, rows: Int) {
            self.file = file
            self.bytes = bytes
            self.sha256 = sha256
            self.rows = rows
        }

        public var json: JSONValue {
            ["file": .string(file), "bytes": .number(JSONNumber(bytes)), "sha256": .string(sha256), "rows": .number(JSONNumber(Int64(rows)))]
        }
    }

    /// The journal's number of the import (1, 2, 3 …); every imported event's `importRef` starts with it.
    public var importNumber: Int
    public var recordedAt: Timestamp
    public var mappingName: String
    public var mappingSha256: String
    /// The mapping document exactly as read.
    public var mapping: String
    public var sources: [Source]
    public var rowsRead: Int
    public var eventsStored: Int
    public var alreadyRecorded: Int
    public var rowsRejected: Int
    public var firstPosition: Int64?
    public var lastPosition: Int64?

    public init(
        importNumber: Int, recordedAt: Timestamp, mappingName: String, mappingSha256: String, mapping: String, sources: [Source],
        rowsRead: Int, eventsStored: Int, alreadyRecorded: Int, rowsRejected: Int, firstPosition: Int64? = nil, lastPosition: Int64? = nil
    ) {
        self.importNumber = importNumber
        self.recordedAt = recordedAt
        self.mappingName = mappingName
        self.mappingSha256 = mappingSha256
        self.mapping = mapping
        self.sources = sources
        self.rowsRead = rowsRead
        self.eventsStored = eventsStored
        self.alreadyRecorded = alreadyRecorded
        self.rowsRejected = rowsRejected
        self.firstPosition = firstPosition
        self.lastPosition = lastPosition
    }

    init(row: Row) throws {
        let sourcesJSON = try JSONParser.parse(row["sources"] as String)
        var sources: [Source] = []
        if case .array(let items) = sourcesJSON {
            for item in items {
                sources.append(Source(
                    file: item["file"]?.stringValue ?? "", bytes: Int64(item["bytes"]?.intValue ?? 0),
                    sha256: item["sha256"]?.stringValue ?? "", rows: item["rows"]?.intValue ?? 0))
            }
        }
        self.init(
            importNumber: row["importNumber"], recordedAt: Timestamp(microseconds: row["recordedAtUs"]), mappingName: row["mappingName"],
            mappingSha256: row["mappingSha256"], mapping: row["mapping"], sources: sources, rowsRead: row["rowsRead"],
            eventsStored: row["eventsStored"], alreadyRecorded: row["alreadyRecorded"], rowsRejected: row["rowsRejected"],
            firstPosition: row["firstPosition"], lastPosition: row["lastPosition"])
    }
}
