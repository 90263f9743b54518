import Foundation
import Journal
import JournalStore

/// `tpj import`: reads CSV or NDJSON exports through a mapping and records the events as migrated
/// history, in one transaction: all of it, or — refused, or a dry run — nothing.
///
/// ```swift
/// let importer = Importer(store: store, mapping: try ImportMapping(text: mappingText))
/// let report = try importer.run(sources: ["helpdesk.csv"], options: .init())
/// ```
public struct Importer {
    public struct Options: Sendable {
        /// Store nothing; report what would happen.
        public var dryRun = false
        /// Rejected rows allowed before the whole import is refused: a count, or a share of the rows read.
        public var maximumRejected: RejectLimit = .count(0)
        /// Overrides the mapping's `requireRegistered`.
        public var requireRegistered: Bool?
        /// Examples kept per reason.
        public var examplesPerReason = 3

        public init() {}
    }

    public enum RejectLimit: Sendable, Hashable {
        case count(Int)
        case share(Double)

        func allows(_ rejected: Int, of rows: Int) -> Bool {
            switch self {
            case .count(let limit): rejected <= limit
            case .share(let share): Double(rejected) <= share * Double(rows)
            }
        }
    }

    public let store: EventStore
    public let mapping: ImportMapping

    public init(store: EventStore, mapping: ImportMapping) {
        self.store = store
        self.mapping = mapping
    }

    /// Imports `sources` in order. `progress` gets the bytes read so far and the total.
    ///
    /// Rows are read, mapped and validated on another core while the journal records the rows before them.
    ///
    /// - Throws: ``SourceError`` (a file cannot be read as the mapping says: nothing stored),
    ///   ``ImportRefused`` (too many rows rejected: nothing stored, the report says why), or a storage error.
    public func run(
        sources: [String], options: Options, rejects: RejectsWriter? = nil, progress: ((Int64, Int64) -> Void)? = nil
    ) throws -> ImportReport {
        let totalBytes = sources.reduce(Int64(0)) { $0 + ((try? FileManager.default.attributesOfItem(atPath: $1)[.size] as? NSNumber)?.int64Value ?? 0) }
        let requireRegistered = options.requireRegistered ?? mapping.requireRegistered
        let validator = store.validator, mapping = self.mapping
        var report = ImportReport(importNumber: 0, mappingName: mapping.name, dryRun: options.dryRun)
        do {
            report = try store.recordImport(dryRun: options.dryRun) { recorder in
                var report = report
                report.importNumber = recorder.importNumber
                let reader = MappedRows(mapping: mapping, validator: validator, sources: sources, importNumber: recorder.importNumber)
                let queue = BoundedQueue<Result<[MappedRows.Item], any Error>>(capacity: 2)
                DispatchQueue.global(qos: .userInitiated).async { reader.produce(into: queue) }
                defer { queue.cancel() }
                while let chunk = queue.take() {
                    for item in try chunk.get() {
                        switch item {
                        case .header(let header):
                            rejects?.begin(header: header)
                        case .row(let record, let file, let row):
                            report.rowsRead += 1
                            let outcome = try Self.record(row, recorder: &recorder, requireRegistered: requireRegistered)
                            report.count(outcome, file: file, line: record.line, examples: options.examplesPerReason)
                            if case .rejected(let reason, let message) = outcome {
                                try rejects?.write(record, file: file, reason: reason + ": " + message)
                            }
                        case .progress(let bytes):
                            progress?(bytes, totalBytes)
                        case .sourceEnd(let source):
                            report.sources.append(source)
                        }
                    }
                }
                report.firstPosition = recorder.firstPosition
                report.lastPosition = recorder.lastPosition
                report.recordedAt = recorder.recordedAt
                guard options.maximumRejected.allows(report.rowsRejected, of: report.rowsRead) else {
                    throw ImportRefused(report: report)
                }
                if report.eventsStored > 0 {
                    try recorder.describe(ImportDescription(
                        importNumber: recorder.importNumber, recordedAt: recorder.recordedAt, mappingName: mapping.name, mappingSha256: mapping.sha256,
                        mapping: mapping.text, sources: report.sources, rowsRead: report.rowsRead, eventsStored: report.eventsStored,
                        alreadyRecorded: report.eventsAlreadyRecorded, rowsRejected: report.rowsRejected))
                }
                return report
            }
        } catch var refused as ImportRefused {
            refused.report.dryRun = options.dryRun
            throw refused
        }
        if options.dryRun { report.firstPosition = nil; report.lastPosition = nil }
        try rejects?.close()
        return report
    }

    /// What became of one row.
    enum RowOutcome {
        case imported(stored: Int, alreadyRecorded: Int)
        case alreadyRecorded(events: Int)
        case ignored(reason: String)
        case rejected(reason: String, message: String)
    }

    private static func record(_ row: MappedRows.Row, recorder: inout ImportRecorder, requireRegistered: Bool) throws -> RowOutcome {
        let mapped: [MappedRows.Event]
        switch row {
        case .ignored(let reason): return .ignored(reason: reason)
        case .rejected(let reason, let message): return .rejected(reason: reason, message: message)
        case .events(let events): mapped = events
        }
        // The common row makes one event: recorded without the savepoint and arrays a row of several needs.
        if mapped.count == 1 {
            let outcome = try recorder.record(mapped[0].event, requireRegistered: requireRegistered)
            if let rejection = rejection(outcome, of: mapped[0], importedFrom: recorder.firstPosition) { return rejection }
            if case .stored = outcome { return .imported(stored: 1, alreadyRecorded: 0) }
            return .alreadyRecorded(events: mapped[0].firstOnly ? 0 : 1)
        }
        let firstOfImport = recorder.firstPosition
        let outcomes = try recorder.recordRow(mapped.map(\.event), requireRegistered: requireRegistered) { index, outcome in
            rejection(outcome, of: mapped[index], importedFrom: firstOfImport) == nil
        }
        var stored = 0, already = 0
        for (index, outcome) in outcomes.enumerated() {
            if let rejection = rejection(outcome, of: mapped[index], importedFrom: firstOfImport) { return rejection }
            switch outcome {
            case .stored: stored += 1
            // A first-only event repeated by a later row is neither news nor a duplicate of this row.
            case .alreadyRecorded where !mapped[index].firstOnly: already += 1
            default: break
            }
        }
        // A row that stored nothing repeats what was recorded: by an earlier import, or an earlier row of a first-only rule.
        return stored > 0 ? .imported(stored: stored, alreadyRecorded: already) : .alreadyRecorded(events: already)
    }

    /// Why a row is rejected for what became of one of its events; nil when the event is stored or stands already.
    private static func rejection(_ outcome: ImportOutcome, of item: MappedRows.Event, importedFrom firstOfImport: Int64?) -> RowOutcome? {
        let event = item.event
        switch outcome {
        case .stored, .alreadyRecorded:
            return nil
        case .conflict(let position, let fields):
            // A first-only event (e.g. a customer's registration) stands once made; later rows just repeat it.
            if item.firstOnly { return nil }
            if let firstOfImport, position >= firstOfImport {
                return .rejected(
                    reason: "source key repeated",
                    message: "an earlier row of this import has the same source key (its \(event.type) is at position \(position)) with other \(fields.joined(separator: ", ")); make the source key tell the rows apart")
            }
            return .rejected(
                reason: "changed since imported",
                message: "the event of this row (\(event.type), eventId \(event.eventId)) was imported before, at position \(position), with other \(fields.joined(separator: ", ")); the source row changed since (record a correction instead), or rows share a source key")
        case .unknownReference(let field, let referenced):
            return .rejected(reason: "unknown reference", message: "/payload/\(field) names event \(referenced), which is no earlier event of customer \(event.customerId)")
        case .unknownCustomer:
            return .rejected(reason: "unknown customer", message: "customer \(event.customerId) has no customer.registered event; import the customer master first, or add a rule that registers customers")
        case .knownAfterRecording(let recordedAt):
            return .rejected(reason: "recorded in the future", message: "the source's recording time \(event.sourceRecordedAt!.rfc3339) is after now (\(recordedAt.rfc3339))")
        }
    }
}

/// Reads, maps and validates the rows of an import's sources, in chunks, for the recording side.
struct MappedRows: Sendable {
    struct Event {
        var event: PreparedEvent
        var firstOnly: Bool
    }

    /// A row ready to be recorded: its events, or why it is ignored or rejected.
    enum Row {
        case events([Event])
        case ignored(String)
        case rejected(String, String)
    }

    enum Item {
        case header([String]?)
        case row(SourceRecord, file: String, Row)
        case progress(Int64)
        case sourceEnd(ImportDescription.Source)
    }

    let mapping: ImportMapping
    let validator: EventValidator
    let sources: [String]
    let importNumber: Int

    /// Fills `queue` with chunks of items until the sources end, a source fails, or the queue is cancelled.
    func produce(into queue: BoundedQueue<Result<[Item], any Error>>) {
        var bytesBefore: Int64 = 0
        do {
            for (index, path) in sources.enumerated() {
                let reader = try SourceRows(path: path, mapping: mapping)
                let mapper = try RowMapper(mapping: mapping, header: reader.header, file: path)
                var chunk: [Item] = [.header(reader.header)]
                var rows = 0
                // Rows are mapped a chunk at a time, then the data keys the chunk's personal values need are
                // made in one transaction, then the rows are validated and sealed.
                var mapped: [(SourceRecord, RowMapper.Outcome)] = []
                func validateMapped() throws {
                    try validator.makeKeys(for: mapped.flatMap { _, outcome in
                        guard case .events(let events) = outcome else { return [(customerId: String, events: [ProposedEvent])]() }
                        return events.map { (customerId: $0.event.customerId!, events: [$0.event]) }
                    })
                    for (record, outcome) in mapped {
                        chunk.append(.row(record, file: path, validate(record, outcome, reference: "\(importNumber)/\(index + 1):\(record.line)")))
                    }
                    mapped.removeAll(keepingCapacity: true)
                }
                while let record = try reader.next() {
                    rows += 1
                    mapped.append((record, mapper.map(record)))
                    if mapped.count >= 4_096 {
                        try validateMapped()
                        chunk.append(.progress(bytesBefore + reader.bytesRead))
                        guard queue.put(.success(chunk)) else { return }
                        chunk = []
                    }
                }
                try validateMapped()
                chunk.append(.sourceEnd(ImportDescription.Source(file: path, bytes: reader.size, sha256: reader.finishHash(), rows: rows)))
                bytesBefore += reader.size
                chunk.append(.progress(bytesBefore))
                guard queue.put(.success(chunk)) else { return }
            }
            queue.finish()
        } catch {
            _ = queue.put(.failure(error))
            queue.finish()
        }
    }

    /// Validates (and seals) the events a row was mapped to, or says why the row is ignored or rejected.
    private func validate(_ record: SourceRecord, _ outcome: RowMapper.Outcome, reference: String) -> Row {
        let mapped: [RowMapper.MappedEvent]
        switch outcome {
        case .ignored(let reason): return .ignored(reason)
        case .noRule: return .rejected("no rule matched", "no rule of the mapping matches this row")
        case .badValue(let column, let message): return .rejected("bad value in \(column)", message)
        case .events(let events): mapped = events
        }
        var prepared: [Event] = []
        for item in mapped {
            do {
                var event = try validator.prepare(item.event, index: record.line, customerId: item.event.customerId!)
                event.sourceRecordedAt = item.sourceRecordedAt
                event.importRef = reference
                prepared.append(Event(event: event, firstOnly: item.rule.firstOnly))
            } catch {
                if case .invalidEvent(let invalid) = error {
                    var message = invalid.message
                    if let value = Self.value(at: invalid.path, in: item.event.json) { message += " (value: \(CanonicalJSON.string(value)))" }
                    return .rejected("\(item.rule.type) \(invalid.path) [\(invalid.rule)]", message)
                }
                return .rejected("invalid event", error.description)
            }
        }
        return .events(prepared)
    }
}

extension MappedRows {
    /// The value at a JSON Pointer, for error messages.
    static func value(at pointer: String, in document: JSONValue) -> JSONValue? {
        var value: JSONValue? = document
        for token in pointer.split(separator: "/") {
            if case .array(let items)? = value, let index = Int(token) { value = index < items.count ? items[index] : nil } else { value = value?[String(token)] }
        }
        return value
    }
}

/// A hand-over between one producing and one consuming thread, holding at most `capacity` items.
final class BoundedQueue<Element>: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [Element] = []
    private var finished = false
    private var cancelled = false
    private let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    /// Waits for room; false when the consumer has cancelled.
    func put(_ item: Element) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while items.count >= capacity, !cancelled { condition.wait() }
        guard !cancelled else { return false }
        items.append(item)
        condition.broadcast()
        return true
    }

    /// The next item, or nil once the producer has finished and everything is taken.
    func take() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty, !finished { condition.wait() }
        guard !items.isEmpty else { return nil }
        condition.broadcast()
        return items.removeFirst()
    }

    func finish() {
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    /// Stops the producer at its next `put`.
    func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }
}

/// The rows of one source, CSV (with its header) or NDJSON.
final class SourceRows {
    private let csv: CSVReader?
    private let ndjson: NDJSONReader?
    let header: [String]?

    init(path: String, mapping: ImportMapping) throws(SourceError) {
        switch mapping.format {
        case .csv:
            let reader = try CSVReader(path: path, delimiter: mapping.delimiter, encoding: mapping.encoding)
            guard let first = try reader.next() else { throw SourceError(file: path, line: nil, message: "the file is empty: a CSV source needs a header row") }
            header = first.fields.map { $0.trimmingCharacters(in: .whitespaces) }
            csv = reader
            ndjson = nil
        case .ndjson:
            ndjson = try NDJSONReader(path: path)
            csv = nil
            header = nil
        }
    }

    func next() throws(SourceError) -> SourceRecord? {
        if let csv { return try csv.next() }
        return try ndjson!.next()
    }
    var bytesRead: Int64 { csv?.bytesRead ?? ndjson?.bytesRead ?? 0 }
    var size: Int64 { csv?.size ?? ndjson?.size ?? 0 }
    func finishHash() -> String { csv?.finishHash() ?? ndjson!.finishHash() }
}

/// The import was refused as a whole (too many rejected rows); nothing was stored.
public struct ImportRefused: Error {
    public var report: ImportReport
}

/// What an import did, row by row: every row is imported, already recorded, ignored by a rule, or rejected with a reason.
public struct ImportReport: Sendable {
    public struct Example: Sendable {
        public var file: String
        public var line: Int
        public var message: String
    }

    public struct Reason: Sendable {
        public var rows = 0
        public var examples: [Example] = []
    }

    /// The journal's number of this import (the number it would get, for a dry run or a refused import).
    public var importNumber: Int
    public var mappingName: String
    public var dryRun: Bool
    public var sources: [ImportDescription.Source] = []
    public var rowsRead = 0
    public var rowsImported = 0
    public var rowsAlreadyRecorded = 0
    public var eventsStored = 0
    public var eventsAlreadyRecorded = 0
    public var ignored: [String: Int] = [:]
    public var rejected: [String: Reason] = [:]
    public var firstPosition: Int64?
    public var lastPosition: Int64?
    public var recordedAt: Timestamp?

    public var rowsIgnored: Int { ignored.values.reduce(0, +) }
    public var rowsRejected: Int { rejected.values.reduce(0) { $0 + $1.rows } }

    mutating func count(_ outcome: Importer.RowOutcome, file: String, line: Int, examples: Int) {
        switch outcome {
        case .imported(let stored, let already):
            rowsImported += 1
            eventsStored += stored
            eventsAlreadyRecorded += already
        case .alreadyRecorded(let events):
            rowsAlreadyRecorded += 1
            eventsAlreadyRecorded += events
        case .ignored(let reason):
            ignored[reason, default: 0] += 1
        case .rejected(let reason, let message):
            rejected[reason, default: Reason()].rows += 1
            if rejected[reason]!.examples.count < examples {
                rejected[reason]!.examples.append(Example(file: file, line: line, message: message))
            }
        }
    }

    public var json: JSONValue {
        func int(_ value: Int) -> JSONValue { .number(JSONNumber(Int64(value))) }
        var members: [JSONMember] = [
            JSONMember("import", .number(JSONNumber(Int64(importNumber)))), JSONMember("mapping", .string(mappingName)), JSONMember("dryRun", .bool(dryRun)),
            JSONMember("sources", .array(sources.map(\.json))), JSONMember("rowsRead", int(rowsRead)),
            JSONMember("rowsImported", int(rowsImported)), JSONMember("rowsAlreadyRecorded", int(rowsAlreadyRecorded)),
            JSONMember("rowsIgnored", int(rowsIgnored)), JSONMember("rowsRejected", int(rowsRejected)),
            JSONMember("eventsStored", int(eventsStored)), JSONMember("eventsAlreadyRecorded", int(eventsAlreadyRecorded)),
            JSONMember("ignored", .object(ignored.sorted { $0.key < $1.key }.map { JSONMember($0.key, int($0.value)) })),
            JSONMember("rejected", .object(rejected.sorted { $0.key < $1.key }.map { reason in
                JSONMember(reason.key, [
                    "rows": int(reason.value.rows),
                    "examples": .array(reason.value.examples.map { ["file": .string($0.file), "line": int($0.line), "message": .string($0.message)] }),
                ])
            })),
        ]
        if let firstPosition, let lastPosition {
            members.append(JSONMember("positions", ["first": .number(JSONNumber(firstPosition)), "last": .number(JSONNumber(lastPosition))]))
        }
        return .object(members)
    }
}

/// Writes rejected rows as CSV: `file,line,reason`, then the row's own fields (CSV) or its JSON text (NDJSON).
public final class RejectsWriter {
    private let handle: FileHandle
    private var wroteHeader = false

    public init(path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw SourceError(file: path, line: nil, message: "cannot write the rejects file")
        }
        self.handle = handle
    }

    func begin(header: [String]?) {
        guard !wroteHeader else { return }
        wroteHeader = true
        write(["file", "line", "reason"] + (header ?? ["record"]))
    }

    func write(_ record: SourceRecord, file: String, reason: String) throws {
        write([file, String(record.line), reason] + (record.text.map { [$0] } ?? record.fields))
    }

    private func write(_ fields: [String]) {
        handle.write(Data(CSV.record(fields).utf8))
    }

    func close() throws { try handle.close() }
}
