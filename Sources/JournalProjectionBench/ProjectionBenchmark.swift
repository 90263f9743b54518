import Foundation
import GRDB
import GRDBSQLite
import Journal
import JournalProjections
import JournalScoring
import JournalStore

// Projection benchmark on an existing journal (e.g. one written by `tpj demo --customers N`):
//   (s) a bare scan of the log's rows (the columns projections read), the baseline
//   (r) a full rebuild of every built-in projection, with the peak memory of the process
//   (q) timeline, moments and churn query latency for random customers
// Usage: tpj-bench-projections --db PATH [--queries N] [--seed S]
// Prints one JSON object on stdout; progress on stderr.

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("tpj-bench-projections: \(message)\n".utf8))
    exit(64)
}

func progress(_ message: String) {
    FileHandle.standardError.write(Data("[bench] \(message)\n".utf8))
}

func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

/// Peak resident memory of this process so far, in MiB (VmHWM).
func peakMemoryMiB() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
        let kib = Double(line.split(separator: " ").dropFirst().first ?? "")
    else { return 0 }
    return kib / 1024
}

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
        var iterator = CommandLine.arguments.dropFirst().makeIterator()
        while let flag = iterator.next() {
            guard let value = iterator.next() else { fail("\(flag) needs a value") }
            switch flag {
            case "--db": path = value
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
        let store = EventStore(writer: try JournalDatabase.open(path: path, create: false))
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
        progress("rebuilding the projections")
        let memoryBefore = peakMemoryMiB()
        let runner = ProjectionRunner(store: store, projections: [JourneyTimeline(registry: .bundled), CustomerFacts()])
        start = now()
        try runner.rebuild()
        let rebuildSeconds = Double(now() - start) / 1e9
        let memoryAfter = peakMemoryMiB()

        // (q) Query latency for random customers, as of the last recorded instant.
        progress("querying \(queries) random customers")
        let (customers, asOf) = try store.writer.read { db in
            (try String.fetchAll(db, sql: "SELECT DISTINCT customerId FROM event"),
             Timestamp(microseconds: try Int64.fetchOne(db, sql: "SELECT max(recordedAtUs) FROM event") ?? 0))
        }
        var random = seed
        func next() -> Int {
            random &+= 0x9E37_79B9_7F4A_7C15
            var z = random
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int((z ^ (z >> 31)) % UInt64(customers.count))
        }
        let insights = Insights(rules: .bundled, model: .bundled)
        var timeline: [Double] = [], moments: [Double] = [], churn: [Double] = []
        try store.writer.read { db in
            for index in 0..<queries {
                let customer = customers[next()]
                var t = now()
                _ = try JourneyTimeline.entries(of: customer, in: db)
                timeline.append(Double(now() - t) / 1e6)
                t = now()
                _ = try insights.moments(of: customer, asOf: asOf, in: db)
                moments.append(Double(now() - t) / 1e6)
                // Churn for one customer needs the portfolio's segments: fewer samples.
                if index < max(10, queries / 50) {
                    t = now()
                    _ = try insights.churn(asOf: asOf, customerId: customer, in: db)
                    churn.append(Double(now() - t) / 1e6)
                }
            }
        }
        timeline.sort()
        moments.sort()
        churn.sort()
        func latency(_ values: [Double]) -> String {
            String(format: #"{"samples":%d,"p50Ms":%.3f,"p99Ms":%.3f}"#, values.count, percentile(values, 0.5), percentile(values, 0.99))
        }
        let fileBytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        print(String(
            format: #"{"benchmark":"projections","events":%lld,"customers":%d,"scanEventsPerSecond":%.0f,"rebuildEventsPerSecond":%.0f,"rebuildToScanRatio":%.3f,"rebuildSeconds":%.1f,"peakMemoryMiBBeforeRebuild":%.0f,"peakMemoryMiBAfterRebuild":%.0f,"timeline":%@,"moments":%@,"churnOneCustomer":%@,"fileMiB":%.0f}"#,
            events, customers.count, Double(events) / scanSeconds, Double(events) / rebuildSeconds, scanSeconds / rebuildSeconds, rebuildSeconds,
            memoryBefore, memoryAfter, latency(timeline), latency(moments), latency(churn), Double(fileBytes) / 1_048_576))
        _ = bytes
    }
}
