import GRDBSQLite
import Foundation
import Journal
import JournalImport
@_spi(Benchmarks) import JournalStore
import JournalTesting

// Append benchmark: raw SQLite floor vs the journal's batched append, durable single appends, full read,
// and the same batches recorded into SQLite and into PostgreSQL (StoresBenchmark).
// Usage: tpj-bench [stores] [--events N] [--customers N] [--batch-customers N] [--single N] [--dir DIR]
//        (stores: only the two stores side by side)
//        tpj-bench generate [--customers N] [--years N] [--seed N]   (the world generator alone, see GenerateBenchmark)
// Prints one JSON object on stdout; progress on stderr.

struct Settings {
    var events = 1_000_000
    var customers = 10_000
    var batchCustomers = 100
    var single = 2_000
    var directory = NSTemporaryDirectory() + "tpj-bench-\(getpid())"
    /// Only (p), the two stores side by side.
    var storesOnly = false

    init(_ arguments: [String]) {
        var arguments = arguments.dropFirst()
        if arguments.first == "stores" {
            storesOnly = true
            arguments = arguments.dropFirst()
        }
        var iterator = arguments.makeIterator()
        while let flag = iterator.next() {
            guard let value = iterator.next() else { fail("\(flag) needs a value") }
            switch flag {
            case "--events": events = number(value, "--events takes a number")
            case "--customers": customers = number(value, "--customers takes a number")
            case "--batch-customers": batchCustomers = number(value, "--batch-customers takes a number")
            case "--single": single = number(value, "--single takes a number")
            case "--dir": directory = value
            default: fail("unknown option \(flag)")
            }
        }
        guard events > 0, customers > 0, events % customers == 0 else { fail("--events must be a positive multiple of --customers") }
    }
}

func number(_ text: String, _ message: String) -> Int {
    guard let value = Int(text), value >= 0 else { fail(message) }
    return value
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("tpj-bench: \(message)\n".utf8))
    exit(64)
}

func progress(_ message: String) {
    FileHandle.standardError.write(Data("[bench] \(message)\n".utf8))
}

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// Events grouped into one batch per customer, in the order each customer first appears.
func batches(_ events: [ProposedEvent]) -> [AppendBatch] {
    var order: [String] = []
    var grouped: [String: [ProposedEvent]] = [:]
    for event in events {
        if grouped[event.customerId!] == nil { order.append(event.customerId!) }
        grouped[event.customerId!, default: []].append(event)
    }
    return order.map { AppendBatch(customerId: $0, events: grouped[$0]!) }
}

func removeDatabase(_ path: String) {
    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
}

@main
enum AppendBenchmark {
    static func main() async throws {
        if CommandLine.arguments.dropFirst().first == "generate" {
            try GenerateBenchmark.run(Array(CommandLine.arguments.dropFirst(2)))
            return
        }
        let settings = Settings(CommandLine.arguments)
        try FileManager.default.createDirectory(atPath: settings.directory, withIntermediateDirectories: true)
        let perCustomer = settings.events / settings.customers

        // Input: NDJSON, one chunk per transaction of `batchCustomers` customers, as a producer would send it.
        progress("generating \(settings.events) events for \(settings.customers) customers")
        var generator = TouchpointGenerator(seed: 20_261_124)
        var chunks: [[UInt8]] = []
        var inputBytes = 0
        for first in stride(from: 0, to: settings.customers, by: settings.batchCustomers) {
            var chunk: [UInt8] = []
            for customer in first..<min(first + settings.batchCustomers, settings.customers) {
                for var event in generator.events(forCustomer: customer, count: perCustomer) {
                    event.customerId = TouchpointGenerator.customerId(customer)
                    CanonicalJSON.write(event.json, into: &chunk)
                    chunk.append(0x0A)
                }
            }
            inputBytes += chunk.count
            chunks.append(chunk)
        }

        /// (b) The journal's batched append: parse NDJSON, validate against the schemas, canonicalise, hash, insert.
        func journalAppend(into path: String, sealing: Bool = true, tree: Bool = true) throws -> Double {
            removeDatabase(path)
            try? FileManager.default.removeItem(atPath: KeyStore.path(of: path))
            var store = try EventStore(writer: JournalDatabase.open(path: path), sealing: sealing)
            store.extendsTree = tree
            let input = chunks
            return try seconds {
                _ = try store.appendPipelined(transactions: input.count) { index in try batches(EventInput.parse(input[index])) }
            }
        }

        /// (b1) What `tpj append FILE` does with the whole input: every customer's batch in one transaction.
        func cliAppend(into path: String) throws -> Double {
            removeDatabase(path)
            let store = try EventStore(writer: JournalDatabase.open(path: path))
            let input = chunks
            return try seconds {
                _ = try store.append(batches(input.flatMap { try EventInput.parse($0) }))
            }
        }

        /// (a) The floor: the identical rows through the SQLite C API, same schema, triggers, pragmas and transactions.
        func rawInsert(rows: [RecordedEvent], into path: String, schema: String = JournalSchema.v1) throws -> Double {
            removeDatabase(path)
            var db: OpaquePointer?
            guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nil) == SQLITE_OK else { fail("open \(path)") }
            defer { sqlite3_close(db) }
            func exec(_ sql: String) {
                if sqlite3_exec(db, sql, nil, nil, nil) != SQLITE_OK { fail("sqlite: \(String(cString: sqlite3_errmsg(db)))") }
            }
            exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA cache_size = -65536;")
            exec(schema)
            var statement: OpaquePointer?
            let sql = """
                INSERT INTO event (position, eventId, customerId, streamVersion, type, schemaVersion, occurredAt, occurredAtUs,
                  recordedAtUs, caseId, assetId, siteId, actor, source, correlationId, causationId, payload, prevHash, hash)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
            guard sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK else { fail("prepare") }
            defer { sqlite3_finalize(statement) }
            let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)
            func text(_ index: Int32, _ value: String?) {
                if let value { sqlite3_bind_text(statement, index, value, -1, transient) } else { sqlite3_bind_null(statement, index) }
            }
            let perTransaction = settings.batchCustomers * perCustomer
            return seconds {
                var index = 0
                while index < rows.count {
                    exec("BEGIN IMMEDIATE")
                    for row in rows[index..<min(index + perTransaction, rows.count)] {
                        sqlite3_bind_int64(statement, 1, row.position)
                        text(2, row.eventId.rawValue)
                        text(3, row.customerId)
                        sqlite3_bind_int64(statement, 4, Int64(row.streamVersion))
                        text(5, row.type)
                        sqlite3_bind_int64(statement, 6, Int64(row.schemaVersion))
                        text(7, row.occurredAt)
                        sqlite3_bind_int64(statement, 8, row.occurred.microseconds)
                        sqlite3_bind_int64(statement, 9, row.recorded.microseconds)
                        text(10, row.caseId)
                        text(11, row.assetId)
                        text(12, row.siteId)
                        text(13, row.actor)
                        text(14, row.source)
                        text(15, row.correlationId)
                        text(16, row.causationId)
                        text(17, row.payload)
                        row.prevHash.withUnsafeBytes { _ = sqlite3_bind_blob(statement, 18, $0.baseAddress, 32, transient) }
                        row.hash.withUnsafeBytes { _ = sqlite3_bind_blob(statement, 19, $0.baseAddress, 32, transient) }
                        if sqlite3_step(statement) != SQLITE_DONE { fail("insert: \(String(cString: sqlite3_errmsg(db)))") }
                        sqlite3_reset(statement)
                    }
                    exec("COMMIT")
                    index += perTransaction
                }
            }
        }

        /// Parsing and validation alone, on one core: the work that runs beside the writer in (b).
        func parseAndValidate() throws -> Double {
            let validator = EventValidator(registry: .bundled)
            return try seconds {
                for chunk in chunks {
                    for event in try EventInput.parse(chunk) {
                        _ = try validator.prepare(event, index: 0, customerId: event.customerId!)
                    }
                }
            }
        }

        let journalPath = settings.directory + "/journal.sqlite"

        // (i) The same events as a CSV export (envelope columns, the payload as JSON), imported through a mapping.
        let csvPath = settings.directory + "/export.csv"
        var types: Set<String> = []
        do {
            guard FileManager.default.createFile(atPath: csvPath, contents: nil), let handle = FileHandle(forWritingAtPath: csvPath) else {
                throw JournalError.storage("cannot write the CSV export \(csvPath)")
            }
            handle.write(Data("eventId,customerId,type,occurredAt,caseId,assetId,siteId,actor,source,payload\r\n".utf8))
            func field(_ text: String?) -> String {
                guard let text else { return "" }
                return text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
                    ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
            }
            for chunk in chunks {
                var text = ""
                for event in try EventInput.parse(chunk) {
                    types.insert(event.type)
                    text += [event.eventId, event.customerId, event.type, event.occurredAt, event.caseId, event.assetId, event.siteId,
                             event.actor, event.source, CanonicalJSON.string(event.payload)].map(field).joined(separator: ",") + "\r\n"
                }
                handle.write(Data(text.utf8))
            }
            try handle.close()
        }
        let optional = ["caseId", "assetId", "siteId", "actor", "source"].map { "\"\($0)\": {\"column\": \"\($0)\", \"optional\": true}" }
        let rules = types.sorted().map { type in
            "{\"when\": {\"column\": \"type\", \"equals\": \"\(type)\"}, \"type\": \"\(type)\"}"
        }
        let mapping = try ImportMapping(text: """
            {"name": "bench", "namespace": "5d8e1f20-3c4b-4a59-8e6f-7a8b9c0d1e2f", "source": {"format": "csv"},
             "customerId": {"column": "customerId"}, "recordingLag": "PT0S", "requireRegistered": false,
             "defaults": {"eventId": {"column": "eventId"}, "occurredAt": {"column": "occurredAt"}, \(optional.joined(separator: ", ")),
                          "payload": {"column": "payload", "convert": "json"}},
             "rules": [\(rules.joined(separator: ", "))]}
            """)
        func journalImport(into path: String) throws -> Double {
            removeDatabase(path)
            let store = try EventStore(writer: JournalDatabase.open(path: path))
            return try seconds {
                let report = try Importer(store: store, mapping: mapping).run(sources: [csvPath], options: .init())
                guard report.eventsStored == settings.events else { fail("the import stored \(report.eventsStored) events: \(report.rejected)") }
            }
        }

        // (c) and (p): single events of one customer, spread over one year (the generator spaces them days
        // apart, which for thousands of events of one customer would span decades): a new data key is
        // made once per subject and year, as in a live journal, not for nearly every event.
        var singleGenerator = TouchpointGenerator(seed: 7)
        let yearStart = try Timestamp(utcDate: "2025-01-01").microseconds
        let singles = singleGenerator.events(forCustomer: settings.customers + 1, count: settings.single).enumerated().map { index, event in
            var event = event
            let step = Int64(365 * 86_400) * 1_000_000 / Int64(max(1, settings.single))
            event.occurredAt = String(Timestamp(microseconds: yearStart + Int64(index) * step).rfc3339.prefix(19)) + "Z"
            return event
        }
        func compareStores() async throws -> JSONValue {
            try await StoresBenchmark.run(
                transactions: chunks.map { try batches(EventInput.parse($0)) }, single: singles,
                singleCustomer: TouchpointGenerator.customerId(settings.customers + 1), directory: settings.directory)
        }
        if settings.storesOnly {
            print(CanonicalJSON.string(try await compareStores()))
            try? FileManager.default.removeItem(atPath: settings.directory)
            return
        }

        progress("(v) parse and validate only, one core")
        let validateSeconds = try parseAndValidate()
        progress("    \(Int(Double(settings.events) / validateSeconds)) events/s")
        let rawPath = settings.directory + "/raw.sqlite"

        progress("(b) journal batched append, run 1")
        let batched1 = try journalAppend(into: journalPath)
        progress("    \(Int(Double(settings.events) / batched1)) events/s")

        progress("(d) full read of the log")
        let store = try EventStore(writer: JournalDatabase.open(path: journalPath))
        var rows: [RecordedEvent] = []
        rows.reserveCapacity(settings.events)
        let readSeconds = try seconds {
            try store.forEachEvent(after: 0) { event in
                rows.append(event)
                return true
            }
        }
        guard rows.count == settings.events else { fail("read \(rows.count) events, expected \(settings.events)") }
        progress("    \(Int(Double(rows.count) / readSeconds)) events/s")

        progress("(a) raw SQLite C API insert of the identical rows")
        let raw = try rawInsert(rows: rows, into: rawPath)
        progress("    \(Int(Double(settings.events) / raw)) events/s")

        // For context: the same rows into the bare table, without the unique indexes and the
        // triggers that make the log immutable. This is what the integrity guarantees cost.
        progress("(a0) raw insert into the bare table (no indexes, no triggers)")
        let bareTable = String(JournalSchema.v1[..<JournalSchema.v1.range(of: "CREATE UNIQUE INDEX")!.lowerBound])
        let rawBare = try rawInsert(rows: rows, into: rawPath, schema: bareTable)
        rows = []
        progress("    \(Int(Double(settings.events) / rawBare)) events/s")

        progress("(b) journal batched append, run 2")
        let batched2 = try journalAppend(into: journalPath)
        progress("    \(Int(Double(settings.events) / batched2)) events/s")

        // Sealing's cost: the same append, and a full read that discloses every value, by a store that
        // seals and one that does not, alternating to share the machine's noise.
        progress("(s) batched append and disclosing read, sealed and not: appends twice, reads four times each")
        let unsealedPath = settings.directory + "/unsealed.sqlite"
        /// A full read of the log into events, disclosing each (as exports and pages do) or not (as
        /// verification and the projections read it).
        func fullRead(_ path: String, disclosing: Bool) throws -> Double {
            let store = try EventStore(writer: JournalDatabase.open(path: path))
            let disclosure = store.disclosure(.plain)
            var count = 0, sealedActors = 0
            let seconds = try seconds {
                try store.forEachEvent(after: 0, disclosedBy: disclosing ? disclosure : nil) { event in
                    if let actor = event.actor, KeyStore.isSealed(actor) { sealedActors += 1 }
                    count += 1
                    return true
                }
            }
            guard count == settings.events else { fail("read \(count) events, expected \(settings.events)") }
            guard !disclosing || sealedActors == 0 else { fail("a disclosing read left \(sealedActors) actors sealed") }
            return seconds
        }
        var sealedAppend: [Double] = [], unsealedAppend: [Double] = [], sealedRead: [Double] = [], unsealedRead: [Double] = []
        var sealedRawRead: [Double] = [], unsealedRawRead: [Double] = []
        for _ in 0..<2 {
            unsealedAppend.append(try journalAppend(into: unsealedPath, sealing: false))
            sealedAppend.append(try journalAppend(into: journalPath))
            // The reads are short and the machine noisy: two of each per round, the fastest counts.
            for _ in 0..<2 {
                unsealedRead.append(try fullRead(unsealedPath, disclosing: true))
                sealedRead.append(try fullRead(journalPath, disclosing: true))
                unsealedRawRead.append(try fullRead(unsealedPath, disclosing: false))
                sealedRawRead.append(try fullRead(journalPath, disclosing: false))
            }
        }
        removeDatabase(unsealedPath)
        progress("    append sealed \(Int(Double(settings.events) / sealedAppend.min()!)) events/s, unsealed \(Int(Double(settings.events) / unsealedAppend.min()!)) events/s")

        // The Merkle tree's cost: the same append extending the stored tree and not, alternating.
        progress("(t) batched append with and without the Merkle tree, twice each")
        var treeAppend: [Double] = [], noTreeAppend: [Double] = []
        for _ in 0..<2 {
            noTreeAppend.append(try journalAppend(into: unsealedPath, tree: false))
            treeAppend.append(try journalAppend(into: unsealedPath))
        }
        removeDatabase(unsealedPath)
        progress("    with the tree \(Int(Double(settings.events) / treeAppend.min()!)) events/s, without \(Int(Double(settings.events) / noTreeAppend.min()!)) events/s")

        progress("(b1) the append of tpj append FILE: all of it in one transaction, runs 1 and 2")
        let cli1 = try cliAppend(into: journalPath)
        progress("    \(Int(Double(settings.events) / cli1)) events/s")
        let cli2 = try cliAppend(into: journalPath)
        progress("    \(Int(Double(settings.events) / cli2)) events/s")
        let cli = min(cli1, cli2)

        progress("(i) tpj import of the same events from CSV, runs 1 and 2")
        let importPath = settings.directory + "/imported.sqlite"
        let imported1 = try journalImport(into: importPath)
        progress("    \(Int(Double(settings.events) / imported1)) events/s")
        let imported2 = try journalImport(into: importPath)
        progress("    \(Int(Double(settings.events) / imported2)) events/s")
        removeDatabase(importPath)
        let imported = min(imported1, imported2)

        progress("verify the whole chain")
        let verifyStore = try EventStore(writer: JournalDatabase.open(path: journalPath))
        var report: VerificationReport?
        let verifySeconds = try seconds { report = try verifyStore.verify() }
        guard report?.isIntact == true, report?.checked == Int64(settings.events) else { fail("verification failed: \(String(describing: report))") }

        progress("(c) \(settings.single) single-event durable appends onto the \(settings.events)-event log")
        var latencies: [Double] = []
        latencies.reserveCapacity(singles.count)
        let singleSeconds = try seconds {
            for event in singles {
                latencies.append(try seconds { try verifyStore.append([event], to: TouchpointGenerator.customerId(settings.customers + 1)) })
            }
        }
        latencies.sort()
        func percentile(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] * 1000 }

        let stores = try await compareStores()

        let batched = min(batched1, batched2)
        func rate(_ count: Int, _ seconds: Double) -> Int { Int((Double(count) / seconds).rounded()) }
        let result: JSONValue = [
            "events": .number(JSONNumber(Int64(settings.events))),
            "customers": .number(JSONNumber(Int64(settings.customers))),
            "eventsPerTransaction": .number(JSONNumber(Int64(settings.batchCustomers * perCustomer))),
            "inputBytes": .number(JSONNumber(Int64(inputBytes))),
            "rawInsertEventsPerSecond": .number(JSONNumber(Int64(rate(settings.events, raw)))),
            "rawInsertBareTableEventsPerSecond": .number(JSONNumber(Int64(rate(settings.events, rawBare)))),
            "batchedAppendEventsPerSecond": .number(JSONNumber(Int64(rate(settings.events, batched)))),
            "batchedAppendRunsSeconds": .array([.number(JSONNumber((batched1 * 100).rounded() / 100)), .number(JSONNumber((batched2 * 100).rounded() / 100))]),
            "importEventsPerSecond": .number(JSONNumber(Int64(rate(settings.events, imported)))),
            "importRunsSeconds": .array([.number(JSONNumber((imported1 * 100).rounded() / 100)), .number(JSONNumber((imported2 * 100).rounded() / 100))]),
            "importOverAppendRatio": .number(JSONNumber((batched / imported * 100).rounded() / 100)),
            "oneTransactionAppendEventsPerSecond": .number(JSONNumber(Int64(rate(settings.events, cli)))),
            "importOverOneTransactionAppendRatio": .number(JSONNumber((cli / imported * 100).rounded() / 100)),
            "batchedOverRawRatio": .number(JSONNumber((raw / batched * 100).rounded() / 100)),
            "parseAndValidateEventsPerSecondOneCore": .number(JSONNumber(Int64(rate(settings.events, validateSeconds)))),
            "singleAppendEventsPerSecond": .number(JSONNumber(Int64(rate(settings.single, singleSeconds)))),
            "singleAppendP50Ms": .number(JSONNumber((percentile(0.5) * 100).rounded() / 100)),
            "singleAppendP99Ms": .number(JSONNumber((percentile(0.99) * 100).rounded() / 100)),
            "fullReadEventsPerSecond": .number(JSONNumber(Int64(rate(settings.events, readSeconds)))),
            "sealedAppendEventsPerSecond": .number(JSONNumber(Int64(rate(settings.events, sealedAppend.min()!)))),
            "unsealedAppendEventsPerSecond": .number(JSONNumber(Int64(rate(settings.events, unsealedAppend.min()!)))),
            "sealedOverUnsealedAppendRatio": .number(JSONNumber((unsealedAppend.min()! / sealedAppend.min()! * 100).rounded() / 100)),
            "treeAppendEventsPerSecond": .number(JSONNumber(Int64(rate(settings.events, treeAppend.min()!)))),
            "noTreeAppendEventsPerSecond": .number(JSONNumber(Int64(rate(settings.events, noTreeAppend.min()!)))),
            "treeOverNoTreeAppendRatio": .number(JSONNumber((noTreeAppend.min()! / treeAppend.min()! * 100).rounded() / 100)),
            "sealedDisclosingReadEventsPerSecond": .number(JSONNumber(Int64(rate(settings.events, sealedRead.min()!)))),
            "unsealedReadEventsPerSecond": .number(JSONNumber(Int64(rate(settings.events, unsealedRead.min()!)))),
            "sealedOverUnsealedReadRatio": .number(JSONNumber((unsealedRead.min()! / sealedRead.min()! * 100).rounded() / 100)),
            "sealedRawReadEventsPerSecond": .number(JSONNumber(Int64(rate(settings.events, sealedRawRead.min()!)))),
            "unsealedRawReadEventsPerSecond": .number(JSONNumber(Int64(rate(settings.events, unsealedRawRead.min()!)))),
            "sealedOverUnsealedRawReadRatio": .number(JSONNumber((unsealedRawRead.min()! / sealedRawRead.min()! * 100).rounded() / 100)),
            "verifyEventsPerSecond": .number(JSONNumber(Int64(rate(settings.events, verifySeconds)))),
            "databaseBytes": .number(JSONNumber(try verifyStore.stats().databaseBytes)),
            "stores": stores,
        ]
        print(CanonicalJSON.string(result))
        try? FileManager.default.removeItem(atPath: settings.directory)
    }
}
