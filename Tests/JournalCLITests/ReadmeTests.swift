import Foundation
import JournalTesting
import Testing

/// The README's transcripts are executed: every `$ ` command of every console block, from the quick tour
/// on, runs in one fresh directory (with `tools` linked to the repository's) and must print exactly the lines that follow it. Only durations and rates, which
/// differ from run to run, are compared as placeholders: "in 1.0 s (11,769 events/s)" as "in … s (… events/s)".
@Suite struct ReadmeTests {
    struct Step: Sendable {
        var command: String
        var expected: String
    }

    static func tour() throws -> [Step] {
        let readme = try String(contentsOf: TestSupport.repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        var cursor = try #require(readme.range(of: "## Quick tour")).upperBound
        var steps: [Step] = []
        while let start = readme.range(of: "```console\n", range: cursor..<readme.endIndex) {
            let end = try #require(readme.range(of: "\n```", range: start.upperBound..<readme.endIndex))
            for line in readme[start.upperBound..<end.lowerBound].split(separator: "\n", omittingEmptySubsequences: false) {
                if line.hasPrefix("$ ") {
                    steps.append(Step(command: String(line.dropFirst(2)), expected: ""))
                } else {
                    steps[steps.count - 1].expected += line + "\n"
                }
            }
            cursor = end.upperBound
        }
        return steps
    }

    /// The text with what differs from run to run as placeholders — durations and rates, the anchor's hash
    /// and the Merkle root (each journal seals personal values with keys of its own), signing keys and the
    /// times heads are signed — and CSV's CRLF line ends as a
    /// Markdown file shows them.
    static func withoutVaryingParts(_ text: String) -> String {
        text.replacing(/\d+(\.\d+)? s \([\d,]+ events\/s\)/, with: "… s (… events/s)")
            .replacing(/Anchor: (\d+):[0-9a-f]{64}/) { "Anchor: \($0.1):…" }
            .replacing(/root [0-9a-f]{64}/, with: "root …")
            .replacing(/key [0-9a-f]{32}/, with: "key …")
            .replacing(/(signed|signed on|recorded by) \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z/) { "\($0.1) …" }
            .replacingOccurrences(of: "\r\n", with: "\n")
    }

    @Test func timingsAndAnchorHashesAreThePartsLeftOut() {
        #expect(Self.withoutVaryingParts("in 1.0 s (11,769 events/s)\n") == "in … s (… events/s)\n")
        #expect(Self.withoutVaryingParts("in 12 s (900 events/s)") == Self.withoutVaryingParts("in 3.5 s (1,200,000 events/s)"))
        #expect(Self.withoutVaryingParts("12,176 events of 200 customers") == "12,176 events of 200 customers")
        #expect(Self.withoutVaryingParts("Anchor: 12:" + String(repeating: "ab", count: 32)) == "Anchor: 12:…")
        #expect(Self.withoutVaryingParts("root \(String(repeating: "0f", count: 32)), signed 2026-12-04T00:13:36.699446Z by key \(String(repeating: "e", count: 32))")
            == "root …, signed … by key …")
        #expect(Self.withoutVaryingParts("signed 2026-12-04") == "signed 2026-12-04")
    }

    @Test func quickTourPrintsWhatTheReadmeShows() throws {
        let steps = try Self.tour()
        #expect(steps.count >= 7)
        let directory = TestSupport.temporaryDirectory("tpj-readme")
        // Commands name the repository's files (mappings, projections) as a user in a clone would.
        try FileManager.default.createSymbolicLink(
            at: directory.appendingPathComponent("tools"), withDestinationURL: TestSupport.repositoryRoot.appendingPathComponent("tools"))
        let path = TestSupport.tpj.deletingLastPathComponent().path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        for step in steps {
            let result = try TestSupport.run(
                URL(fileURLWithPath: "/bin/sh"), ["-c", step.command], in: directory, environment: ["PATH": path])
            #expect(Self.withoutVaryingParts(result.stdout + result.stderr) == Self.withoutVaryingParts(step.expected), "$ \(step.command)")
            let failed = step.expected.hasPrefix("error:")
            #expect((result.status != 0) == failed, "$ \(step.command) exited with \(result.status)")
        }
    }
}
