import Foundation
import Journal
import JournalTesting
import Testing

/// Every benchmark in `tools/` run at a tiny size with the test build's binaries (`$TPJ_BIN`), so that
/// none of them rots unnoticed: each must finish and print its figures as JSON. The figures themselves
/// are not judged here — a debug build on a busy machine says nothing about speed.
@Suite(.serialized) struct BenchmarkSmokeTests {
    static let binaries = TestSupport.tpj.deletingLastPathComponent().path

    /// Runs `tools/<tool>` and returns the JSON documents it printed (one per line, or one in all).
    func run(_ tool: String, _ arguments: String..., in directory: URL = TestSupport.temporaryDirectory("bench-smoke")) throws -> [JSONValue] {
        let script = TestSupport.repositoryRoot.appendingPathComponent("tools/\(tool)").path
        let result = try TestSupport.run(URL(fileURLWithPath: script), arguments, in: directory, environment: ["TPJ_BIN": Self.binaries])
        #expect(result.status == 0, "\(tool): \(result.stderr.suffix(2_000))")
        if let whole = try? JSONParser.parse(Array(result.stdout.utf8)) { return [whole] }
        return try result.stdout.split(separator: "\n").filter { $0.hasPrefix("{") }.map { try JSONParser.parse(Array($0.utf8)) }
    }

    /// The number at `path` (keys separated by dots) of a document.
    func number(_ document: JSONValue?, _ path: String) -> Double? {
        var value = document
        for key in path.split(separator: ".") { value = value?[String(key)] }
        return value?.number
    }

    func expectFigures(_ document: JSONValue?, _ paths: [String], _ tool: String) {
        for path in paths {
            #expect((number(document, path) ?? 0) > 0, "\(tool) printed no positive \(path): \(document.map { String(CanonicalJSON.string($0).prefix(1_000)) } ?? "nothing")")
        }
    }

    /// A small demo world for the benchmarks that are given a journal.
    func smallJournal() throws -> String {
        let directory = TestSupport.temporaryDirectory("bench-smoke-world")
        let journal = directory.appendingPathComponent("journal.sqlite").path
        let demo = try TestSupport.runTPJ(["demo", "--customers", "20", "--years", "1", "--db", journal], in: directory)
        #expect(demo.status == 0, "\(demo.stderr)")
        return journal
    }

    @Test func appendBenchmark() throws {
        let directory = TestSupport.temporaryDirectory("bench-smoke-append")
        let documents = try run("bench-append", "--events", "2000", "--customers", "50", "--single", "20", "--dir", directory.appendingPathComponent("work").path)
        expectFigures(documents.last, ["rawInsertEventsPerSecond", "batchedAppendEventsPerSecond", "batchedOverRawRatio", "fullReadEventsPerSecond",
                                       "sealedOverUnsealedAppendRatio", "sealedOverUnsealedReadRatio", "importEventsPerSecond"], "bench-append")
        #expect(number(documents.last, "events") == 2000)
        if PostgresServer.isAvailable {
            expectFigures(documents.last, ["stores.sqliteRecordEventsPerSecond", "stores.postgresRecordEventsPerSecond",
                                           "stores.postgresOverSqliteRatio", "stores.postgresSingleRecordP99Ms",
                                           "stores.postgresConcurrentEventsPerSecond", "stores.sqliteConcurrentP99Ms",
                                           "stores.postgresGroupCommitConcurrentEventsPerSecond"], "bench-append")
        } else {
            #expect(documents.last?["stores"]?["skipped"]?.stringValue == PostgresServer.unavailable)
        }
    }

    @Test func importMemoryBenchmark() throws {
        let directory = TestSupport.temporaryDirectory("bench-smoke-import")
        let documents = try run("bench-import-memory", "--rows", "2000", "--dir", directory.path)
        guard case .array(let runs)? = documents.last?["runs"] else {
            Issue.record("bench-import-memory printed no runs")
            return
        }
        #expect(runs.map { number($0, "eventsStored") } == [2000, 20000])
        expectFigures(documents.last, ["peakRatioLargeOverSmall"], "bench-import-memory")
    }

    @Test func pageBenchmark() throws {
        let documents = try run("bench-page", "--requests", "3", "--customers", "20", "--years", "1")
        expectFigures(documents.last, ["touchpoints", "touchpointsShown", "pageBytes", "pageServerMs.p50", "wholeJourneyPageBytes",
                                       "wholeJourneyPageServerMs.p50", "timelineApiTotalMs.p50", "pageVsTimelineApi"], "bench-page")
    }

    @Test func servedBenchmark() throws {
        let documents = try run("bench-served", "--db", try smallJournal(), "--requests", "5")
        expectFigures(documents.last, ["customerPageServer.p99Ms", "customerPageKiBMax", "customerChurnAsOfTotal.p99Ms", "atRiskPageServer.p99Ms",
                                       "churnTop50Total.p99Ms"], "bench-served")
        #expect(number(documents.last, "customerPageServer.samples") == 5)
    }

    @Test func pageScreenshots() throws {
        let directory = TestSupport.temporaryDirectory("bench-smoke-screenshots")
        let documents = try run("page-screenshots", "--customers", "12", "--years", "2", "--out", directory.path)
        expectFigures(documents.last, ["touchpoints", "pageBytes", "pageServerMs.median"], "page-screenshots")
        // Each file is a PNG of the width it is named for (the IHDR chunk holds width and height, big-endian).
        for (name, width) in [("customer-1400.png", 1400), ("customer-390.png", 390)] {
            let png = try [UInt8](Data(contentsOf: directory.appendingPathComponent(name)))
            #expect(png.count > 24 && png[1...3] == [0x50, 0x4E, 0x47], "\(name) is a PNG")
            #expect(png.count > 24 && png[16..<20].reduce(0) { $0 << 8 | Int($1) } == width, "\(name) is \(width) px wide")
        }
    }

    @Test func projectionsBenchmark() throws {
        let documents = try run("bench-projections", "--queries", "5", "5000")
        let projections = documents.first { $0["benchmark"] == "projections" }
        expectFigures(projections, ["scanEventsPerSecond", "rebuildEventsPerSecond", "writeFloorEventsPerSecond", "rebuildToWriteFloorRatio",
                                    "churnOneCustomer.p99Ms", "moments.p99Ms", "rebuildStepSeconds.timeline, facts, corrections: folding events",
                                    "rebuildStepSeconds.timeline: building indexes", "projectionsFileMiBPeakDuringRebuild",
                                    "declared.promisegap.rebuildEventsPerSecond",
                                    "declared.exportNDJSON.eventsPerSecond"], "bench-projections")
        #expect(documents.filter { $0["benchmark"] == "export" }.count == 2)
        // How much of the page cache is in 2 MiB folios (often none), where the machine says.
        let saysHugeFolios = (try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8))?.contains("FileHugePages:") == true
        #expect((number(projections, "pageCacheMiBIn2MiBFoliosBeforeRebuild") != nil) == saysHugeFolios)
        #expect((number(projections, "pageCacheMiBIn2MiBFoliosBeforeWriteFloor") != nil) == saysHugeFolios)
    }

    #if os(Linux)
    @Test func pageCacheBenchmark() throws {
        // On the build's file system, which holds files on a disk (a temporary directory may be tmpfs,
        // whose pages cannot be dropped from the page cache).
        let directory = TestSupport.repositoryRoot.appendingPathComponent(".build/bench-smoke-page-cache")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let documents = try run("bench-page-cache", "--mib", "8", "--writes", "2000", "--dir", directory.path)
        let states = ["readahead", "pages", "uncached"]
        expectFigures(documents.last, states.flatMap { ["\($0).randomPageWritesPerSecond", "\($0).sequentialFrameWritesPerSecond"] }
                      + ["readahead", "uncached"].flatMap { ["\($0).randomPageWritesOverPagesRatio", "\($0).sequentialFrameWritesOverPagesRatio"] },
                      "bench-page-cache")
        #expect(number(documents.last, "fileMiB") == 8 && number(documents.last, "randomWrites") == 2000)
        #expect(documents.last?["fileSystem"]?.stringValue?.isEmpty == false)
    }
    #endif

    @Test func firstRowBenchmark() throws {
        let directory = TestSupport.temporaryDirectory("bench-smoke-first-row")
        let documents = try run("bench-first-row", "--runs", "3", "--keep", directory.path, "5000")
        expectFigures(documents.last, ["events", "firstRowMs", "selectOneMs", "firstRowToSelectOneRatio"], "bench-first-row")
    }

    @Test func churnEvaluation() throws {
        let documents = try run("eval-churn", "--customers", "200", "--years", "3", "101")
        expectFigures(documents.first { $0["benchmark"] == "eval-churn" }, ["events", "testSnapshots", "aucDefault", "aucFitted", "aucRecencyOnly"], "eval-churn")
        #expect(documents.contains { $0["benchmark"] == "eval-churn-summary" })
    }

    @Test func loadTest() throws {
        // A few reading connections: a debug build on a busy machine answers each of 56 only after
        // seconds, when none may finish inside the measured window.
        let documents = try run("loadtest", "--duration", "3", "--warmup", "1", "--connections", "12", "--appenders", "4", "--abuse", "0", "5000")
        expectFigures(documents.last, ["world.events", "baseline.perSecond", "timeline.requests", "append.requests", "appendsAnswered201"], "loadtest")
        // Every append was accepted (none refused, as when the served copy lacked the world's keys).
        #expect(number(documents.last, "append.errors.status") == 0 && documents.last?["targets"]?["everyAppendStored"] == true)
    }

    @Test(.enabled(if: PostgresServer.isAvailable, Comment(rawValue: PostgresServer.unavailable)))
    func nodesLoadTest() throws {
        let documents = try run("loadtest-nodes", "--duration", "2", "--warmup", "0", "5000")
        expectFigures(
            documents.last, ["world.events", "oneNode.timeline.requests", "twoNodes.timeline.requests", "twoNodes.append.requests", "twoNodesOverOneTimelineReads"],
            "loadtest-nodes")
        #expect(documents.last?["targets"]?["bothCopiesAtTheHead"] == true && documents.last?["targets"]?["everyAppendStored"] == true)
    }

    @Test func erasureBenchmark() throws {
        let documents = try run("bench-erase", try smallJournal())
        expectFigures(documents.last, ["eraseSeconds", "historySeconds", "keysDestroyed", "events"], "bench-erase")
    }

    @Test func evidenceBenchmark() throws {
        let documents = try run("bench-evidence", try smallJournal(), "50")
        expectFigures(documents.last, ["evidenceSeconds", "verifySeconds", "historySeconds", "evidenceBytes"], "bench-evidence")
        #expect(number(documents.last, "customerEvents") == 50)
    }
}
