import Foundation
import Journal
import JournalServer
import JournalStore
import JournalTesting
import Testing

/// Schemathesis (from PyPI) generates requests from `Schemas/openapi.yaml` — examples, boundary values,
/// fuzzed and stateful sequences — against a live server with an admin token: no answer may be a 5xx,
/// have an undocumented status or content type, or break its response schema.
@Suite(.serialized)
struct SchemathesisTests {
    @Test func generatedRequestsGetNoServerErrorAndNoAnswerThatBreaksTheDocument() async throws {
        let server = try await LiveServer.start()
        defer { Task { try await server.stop() } }
        let root = TestSupport.repositoryRoot
        let reports = root.appendingPathComponent(".build/schemathesis")
        let arguments = [
            "schemathesis", "run", root.appendingPathComponent("Schemas/openapi.yaml").path,
            "--url", "http://127.0.0.1:\(server.port)", "--header", "Authorization: Bearer \(try #require(server.tokens[.admin]))",
            "--checks", "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance",
            // The stream never ends by design; EventStreamTests reads it.
            "--exclude-path", "/v1/events/stream",
            "--max-examples", "25", "--seed", "1", "--no-color", "--report", "junit", "--report-dir", reports.path,
            // What is checked is the answers, not their speed (the benchmarks measure that): a debug build
            // beside the rest of the suite on two cores can take longer than the default 10 s to rank a portfolio.
            "--request-timeout", "60",
        ]
        // Run inside .build, where schemathesis also keeps its cache of past failures.
        try FileManager.default.createDirectory(at: reports, withIntermediateDirectories: true)
        let result = try await offloadTest { try TestSupport.run(URL(fileURLWithPath: "/usr/bin/env"), arguments, in: reports) }
        #expect(result.status == 0, "schemathesis found problems (install it with `pip install schemathesis`):\n\(result.stdout.suffix(6_000))\(result.stderr.suffix(2_000))")
        #expect(result.stdout.contains("Tested: 18"), "every operation but the stream was exercised:\n\(result.stdout.suffix(3_000))")
        #expect(!result.stdout.contains("failed"), "\(result.stdout.suffix(3_000))")
    }
}
