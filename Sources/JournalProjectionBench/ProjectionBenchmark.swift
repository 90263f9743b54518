import Foundation
import GRDB
import GRDBSQLite
import Journal
import JournalProjections
import JournalScoring
import JournalStore

// Projection benchmark on an existing journal (e.g. one written by `tpj demo --customers N`):
//   (s) a bare scan of the log's rows (the columns projections read), the baseline
//   (r) a full rebuild of every built-in projection, with the peak memory of the process, the size of
//       the projections' file (with its WAL) before it and at its largest, and the seconds of each step
//       (folding events, building indexes, dropping replaced tables, writing documents, giving back space)
//   (w) the write floor: SQLite copying the rebuilt tables into fresh tables of the same shape, the
//       indexes that only readers use created after the copy as a rebuild creates them — what writing
//       these rows costs before any folding, a bound no rebuild can beat
//   before the rebuild and before the write floor, how much of the machine's page cache is in 2 MiB folios
//       (both times change with it)
//   (q) timeline (now), moments and churn (as of random instants) query latency for random customers
//   (r) the at-risk list: the portfolio ranked once afresh, then the riskiest 50 read from the kept ranking
//   (d) with --declared DIR: a rebuild of each declared projection in DIR (events/s), the first row of a
//       query of its last table through the analysts' connection, the newest event folded again (rolled
//       back; a live fold's cost), and the export of the whole log as NDJSON
// Usage: tpj-bench-projections --db PATH [--queries N] [--seed S] [--no-rebuild] [--declared DIR]
// --no-rebuild measures only the scan and the queries, on the projections as an earlier run built them.
// Prints one JSON object on stdout; progress on stderr.

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("tpj-bench-projections: \(message)\n".utf8))
    exit(64)
}

func progress(_ message: String) {
    FileHandle.standardError.write(Data("[bench] \(message)\n".utf8))
}

func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

/// The sizes of the files at `paths` added up (a missing file counts 0).
func fileBytes(_ paths: [String]) -> Int {
    var total = 0
    for path in paths { total += (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0 }
    return total
}

/// The value in MiB of a line such as `VmHWM:  1234 kB` of a /proc file; nil where there is none.
func procMiB(_ file: String, _ field: String) -> Double? {
    guard let text = try? String(contentsOfFile: file, encoding: .utf8),
        let line = text.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }),
        let kib = Double(line.split(separator: " ").dropFirst().first ?? "")
    else { return nil }
    return kib / 1024
}

/// Peak resident memory of this process so far, in MiB (VmHWM).
func peakMemoryMiB() -> Double { procMiB("/proc/self/status", "VmHWM") ?? 0 }

/// The machine's page cache in 2 MiB folios, in MiB (`FileHugePages`; nil where Linux does not say).
/// On Linux 6.18 with ext4 a file read with readahead (by `cat`, say) may be cached in such folios, and
/// a 4 KiB page write into one cost the kernel 11 to 20 times one into a 4 KiB folio
/// (tools/bench-page-cache): a rebuild writing into such pages slows down, while the write floor ran
/// faster in that state, for reasons not yet known.
func hugeFolioPageCacheMiB() -> Double? { procMiB("/proc/meminfo", "FileHugePages") }

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return 0 }
    return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
}

@main
enum ProjectionBenchmark {
    static func main() throws {
        var path: String?
        var queries = 1000
        var seed: UInt64 = 7
        var rebuild = true
        var declaredDirectory: String?
        var iterator = CommandLine.arguments.dropFirst().makeIterator()
        while let flag = iterator.next() {
            if flag == "--no-rebuild" {
                rebuild = false
                continue
            }
            guard let value = iterator.next() else { fail("\(flag) needs a value") }
            switch flag {
            case "--db": path = value
            case "--declared": declaredDirectory = value
            case "--queries":
                guard let number = Int(value), number > 0 else { fail("--queries takes a positive number") }
                queries = number
            case "--seed":
                guard let number = UInt64(value) else { fail("--seed takes a number") }
                seed = number
            default: fail("unknown option \(flag)")
            }
        }
        guard let path else { fail("--db PATH is required") }
        let store = try EventStore(writer: JournalDatabase.open(path: path, create: false))
        let events = try store.head()
        guard events > 0 else { fail("the journal is empty") }

        // (s) Bare scan of the rows a projection reads.
        progress("scanning \(events) events")
        var start = now()
        var bytes = 0
        try store.writer.read { db in
            let statement = try db.makeStatement(sql: "SELECT position, eventId, customerId, type, occurredAt, recordedAtUs, caseId, payload FROM event ORDER BY position")
            let handle = statement.sqliteStatement
            while sqlite3_step(handle) == SQLITE_ROW {
                bytes &+= Int(sqlite3_column_bytes(handle, 7)) &+ Int(sqlite3_column_bytes(handle, 3)) &+ Int(sqlite3_column_int64(handle, 0) & 1)
            }
        }
        let scanSeconds = Double(now() - start) / 1e9

        // (r) Full rebuild of the built-in projections.
        let memoryBefore = peakMemoryMiB()
        let hugeFoliosBeforeRebuild = rebuild ? hugeFolioPageCacheMiB() : nil
        let runner = ProjectionRunner.builtIn(store: store)
        var rebuildSeconds = Double.nan
        // Seconds per step of each projection's rebuild, e.g. "timeline: building indexes".
        var stepSeconds: [(String, Double)] = []
        // The projections' file and its WAL before the rebuild, and their largest size at any step of it.
        let projectionsPath = JournalDatabase.projectionsPath(of: path)
        func projectionsFileBytes() -> Int { fileBytes([projectionsPath, projectionsPath + "-wal"]) }
        let projectionsFileBefore = projectionsFileBytes()
        var projectionsFilePeak = projectionsFileBefore
        if rebuild {
            progress("rebuilding the projections")
            start = now()
            var current: (step: String, since: UInt64)?
            func enter(_ step: String?) {
                let time = now()
                if let current { stepSeconds.append((current.step, Double(time - current.since) / 1e9)) }
                current = step.map { ($0, time) }
            }
            try runner.rebuild { report in
                projectionsFilePeak = max(projectionsFilePeak, projectionsFileBytes())
                let step = "\(report.projection): \(report.step.rawValue)"
                if step != current?.step {
                    progress(step)
                    enter(step)
                }
            }
            enter(nil)
            rebuildSeconds = Double(now() - start) / 1e9
        } else if try runner.status().contains(where: { $0.needsRebuild || $0.lag > 0 }) {
            fail("--no-rebuild needs projections that are built and caught up; run without it first")
        }
        let memoryAfter = peakMemoryMiB()
        // The journal and its projections' file together.
        let journalBytes = fileBytes([path, projectionsPath])

        // (w) The write floor.
        var floorSeconds = Double.nan
        var hugeFoliosBeforeFloor: Double?
        if rebuild {
            hugeFoliosBeforeFloor = hugeFolioPageCacheMiB()
            progress("copying the projections' tables (write floor)")
            floorSeconds = try writeFloor(runner, store)
        }

        // (q) Query latency for random customers: the timeline now, moments and churn as of random
        // instants over the log's recorded span (a segment's month is read from its stored boundaries).
        progress("querying \(queries) random customers at random dates")
        let (customers, first, last) = try store.writer.read { db in
            let span = try Row.fetchOne(db, sql: "SELECT min(recordedAtUs), max(recordedAtUs) FROM event")!
            return (try String.fetchAll(db, sql: "SELECT DISTINCT customerId FROM event"), span[0] as Int64, span[1] as Int64)
        }
        var random = seed
        func next(_ count: Int) -> Int {
            random &+= 0x9E37_79B9_7F4A_7C15
            var z = random
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int((z ^ (z >> 31)) % UInt64(count))
        }
        func randomInstant() -> Timestamp { Timestamp(microseconds: first + Int64(next(Int(max(1, (last - first) / 1_000_000)))) * 1_000_000) }
        let insights = Insights(rules: .bundled, model: .bundled)
        var timeline: [Double] = [], moments: [Double] = [], churn: [Double] = []
        try store.writer.read { db in
            for _ in 0..<queries {
                let customer = customers[next(customers.count)]
                var t = now()
                _ = try JourneyTimeline.entries(of: customer, in: db)
                timeline.append(Double(now() - t) / 1e6)
                let asOf = randomInstant()
                t = now()
                _ = try insights.moments(of: customer, asOf: asOf, in: db)
                moments.append(Double(now() - t) / 1e6)
                t = now()
                _ = try insights.churn(asOf: asOf, customerId: customer, in: db)
                churn.append(Double(now() - t) / 1e6)
            }
        }
        timeline.sort()
        moments.sort()
        churn.sort()

        // (r) The at-risk list: the portfolio ranked as of the start of the last recorded day, once
        // afresh (as the server does once a day), then the riskiest 50 read from the kept ranking.
        progress("ranking the portfolio's churn risk")
        let board = RiskBoard(), day = RiskBoard.dayStart(of: Timestamp(microseconds: last))
        start = now()
        let ranked = try store.writer.read { db in try board.ranking(asOf: day, insights: insights, weights: "bundled", in: db) }
        let rankingSeconds = Double(now() - start) / 1e9
        var atRisk: [Double] = []
        for _ in 0..<max(1, min(queries, 200)) {
            start = now()
            let top = try store.writer.read { db in Array(try board.ranking(asOf: day, insights: insights, weights: "bundled", in: db).prefix(50)) }
            atRisk.append(Double(now() - start) / 1e6)
            guard top.count == min(50, ranked.count) else { fail("the kept ranking lost customers") }
        }
        atRisk.sort()
        func latency(_ values: [Double]) -> String {
            String(format: #"{"samples":%d,"p50Ms":%.3f,"p99Ms":%.3f}"#, values.count, percentile(values, 0.5), percentile(values, 0.99))
        }
        var fields: [(String, String)] = [
            ("benchmark", #""projections""#), ("events", "\(events)"), ("customers", "\(customers.count)"),
            ("scanEventsPerSecond", format(Double(events) / scanSeconds)),
        ]
        if rebuild {
            fields += [
                ("rebuildEventsPerSecond", format(Double(events) / rebuildSeconds)),
                ("rebuildToScanRatio", format(scanSeconds / rebuildSeconds, digits: 3)),
                ("rebuildSeconds", format(rebuildSeconds, digits: 1)),
                ("rebuildStepSeconds", "{" + stepSeconds.map { #""\#($0.0)":\#(format($0.1, digits: 2))"# }.joined(separator: ",") + "}"),
                ("projectionsFileMiBBeforeRebuild", format(Double(projectionsFileBefore) / 1_048_576, digits: 1)),
                ("projectionsFileMiBPeakDuringRebuild", format(Double(projectionsFilePeak) / 1_048_576, digits: 1)),
            ]
            fields += [
                ("writeFloorEventsPerSecond", format(Double(events) / floorSeconds)),
                ("writeFloorSeconds", format(floorSeconds, digits: 1)),
                ("rebuildToWriteFloorRatio", format(floorSeconds / rebuildSeconds, digits: 3)),
            ]
            if let hugeFoliosBeforeRebuild, let hugeFoliosBeforeFloor {
                fields += [
                    ("pageCacheMiBIn2MiBFoliosBeforeRebuild", format(hugeFoliosBeforeRebuild)),
                    ("pageCacheMiBIn2MiBFoliosBeforeWriteFloor", format(hugeFoliosBeforeFloor)),
                ]
            }
        }
        fields += [
            ("peakMemoryMiBBeforeRebuild", format(memoryBefore)), ("peakMemoryMiBAfterRebuild", format(memoryAfter)),
            ("timeline", latency(timeline)), ("moments", latency(moments)), ("churnOneCustomer", latency(churn)),
            ("atRiskRankingSeconds", format(rankingSeconds, digits: 3)), ("atRiskTop50FromKeptRanking", latency(atRisk)),
            ("fileMiB", format(Double(journalBytes) / 1_048_576)),
        ]
        if let declaredDirectory {
            fields.append(("declared", try declaredFigures(store, path: path, directory: declaredDirectory, scanSeconds: scanSeconds)))
        }
        print("{" + fields.map { #""\#($0.0)":\#($0.1)"# }.joined(separator: ",") + "}")
        _ = bytes
    }

    /// (d) Rebuilds each declared projection of `directory` alone, times the first row of a query of its last
    /// table (as `tpj query` opens it), and times formatting the whole log as NDJSON (as `tpj export events`).
    static func declaredFigures(_ store: EventStore, path: String, directory: String, scanSeconds: Double) throws -> String {
        let events = Double(try store.head())
        let declared = try DeclaredProjections.load(store, directory: directory)
        let runner = ProjectionRunner.builtIn(store: store, declared: declared)
        try runner.catchUp()
        var items: [String] = []
        for projection in declared {
            progress("rebuilding \(projection.name)")
            let memoryBefore = peakMemoryMiB()
            var start = now()
            try runner.rebuild([projection.name])
            let seconds = Double(now() - start) / 1e9
            var firstRow: [Double] = []
            for _ in 0..<5 {
                start = now()
                let connection = try AnalystConnection(journalPath: path, declared: declared, registry: store.validator.registry)
                var seen = false
                try connection.query("SELECT * FROM \(projection.views.last!) LIMIT 1", columns: { _ in }, row: { _ in seen = true })
                firstRow.append(Double(now() - start) / 1e6)
                _ = seen
            }
            firstRow.sort()
            let live = try liveFolds(projection, store, events: Int64(events))
            items.append("\"\(projection.name)\":" + String(
                format: #"{"rebuildEventsPerSecond":%.0f,"rebuildSeconds":%.2f,"rebuildToScanRatio":%.3f,"firstRowMsP50":%.2f,"liveFoldMsP50":%.2f,"liveFoldMsP99":%.2f,"peakMemoryMiB":%.0f,"peakMemoryMiBBefore":%.0f}"#,
                events / seconds, seconds, scanSeconds / seconds, firstRow[firstRow.count / 2], percentile(live, 0.5), percentile(live, 0.99),
                peakMemoryMiB(), memoryBefore))
        }
        progress("formatting the log as NDJSON")
        var bytes = 0
        let start = now()
        var buffer: [UInt8] = []
        let disclosure = store.disclosure()
        try store.scanBytes(EventFilter()) { event in
            event.writeAppendableNDJSON(into: &buffer, disclosure: disclosure)
            if buffer.count > 1 << 16 {
                bytes &+= buffer.count
                buffer.removeAll(keepingCapacity: true)
            }
        }
        bytes &+= buffer.count
        let exportSeconds = Double(now() - start) / 1e9
        items.append(String(format: #""exportNDJSON":{"eventsPerSecond":%.0f,"MiB":%.1f}"#, events / exportSeconds, Double(bytes) / 1_048_576))
        return "{" + items.joined(separator: ",") + "}"
    }

    /// Folds the newest event again into the projection's active tables, as the live fold of an appended
    /// event does, and rolls it back: the milliseconds of each of 20 such folds, sorted. The event's rows
    /// come out as they were, so a projection that recomputes only what changed does less here than for
    /// a new event (a lower bound for those; the whole cost for one that recomputes every customer).
    static func liveFolds(_ projection: DeclaredProjection, _ store: EventStore, events: Int64) throws -> [Double] {
        var samples: [Double] = []
        for _ in 0..<20 {
            try store.projectionWriter.writeWithoutTransaction { db in
                try db.inTransaction {
                    let generation = try Int.fetchOne(db, sql: "SELECT generation FROM projection WHERE name = ?", arguments: [projection.name]) ?? 0
                    let start = now()
                    try projection.apply(
                        batch: ProjectionBatch(after: events - 1, through: events, events: []), db,
                        ProjectionTables(projection: projection.name, generation: generation))
                    samples.append(Double(now() - start) / 1e6)
                    return .rollback
                }
            }
        }
        return samples.sorted()
    }

    /// Copies each projection's active tables into fresh tables of the same shape and indexes (in one
    /// transaction, with the page cache a rebuild has, creating the indexes that only readers use
    /// after the copy as a rebuild does), then drops the copies. Returns the seconds the copy took to
    /// commit: dropping the copies and giving their pages back is no part of writing.
    static func writeFloor(_ runner: ProjectionRunner, _ store: EventStore) throws -> Double {
        let projections = runner.projections
        try store.projectionWriter.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA cache_size = -\(runner.rebuildCacheKiB)") }
        let start = now()
        try store.projectionWriter.write { db in
            for projection in projections {
                let generation: Int = try Int.fetchOne(
                    db, sql: "SELECT generation FROM projection WHERE name = ?", arguments: [projection.name]) ?? 0
                let source = ProjectionTables(projection: projection.name, generation: generation)
                let copy = ProjectionTables(projection: projection.name, generation: 0)
                try projection.createTables(db, copy)
                for table in projection.tables {
                    // OR REPLACE: a table's triggers may already have written rows of a later table.
                    try db.execute(sql: "INSERT OR REPLACE INTO \(copy[table]) SELECT * FROM \(source[table])")
                }
                try projection.completeTables(db, copy)
            }
        }
        let seconds = Double(now() - start) / 1e9
        // One table a transaction, as a rebuild drops a replaced generation (no statement journal).
        for projection in projections {
            for table in projection.tables {
                try store.projectionWriter.writeWithoutTransaction { db in
                    try db.execute(sql: "DROP TABLE \(ProjectionTables(projection: projection.name, generation: 0)[table])")
                }
            }
        }
        try JournalDatabase.reclaimFreePages(store.projectionWriter)
        return seconds
    }

    static func format(_ value: Double, digits: Int = 0) -> String {
        String(format: "%.\(digits)f", value)
    }
}
