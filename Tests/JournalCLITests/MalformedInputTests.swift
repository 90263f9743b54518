import Foundation
import Journal
import JournalTesting
import Testing

/// Every file of the malformed-input corpus is refused with a clear error, exit code 65, and nothing stored.
@Suite struct MalformedInputTests {
    static let corpus = TestSupport.repositoryRoot.appendingPathComponent("Tests/JournalCLITests/Fixtures/malformed")

    static let cases: [(file: String, message: String)] = {
        let data = FileManager.default.contents(atPath: corpus.appendingPathComponent("expectations.json").path)!
        guard case .object(let members) = try! JSONParser.parse(Array(data)) else { return [] }
        return members.map { ($0.key, $0.value.stringValue!) }
    }()

    @Test func theCorpusCoversEveryKindOfBadInput() {
        #expect(Self.cases.count >= 19)
    }

    @Test(arguments: cases.map(\.file))
    func isRejectedWholeWithAClearError(file: String) throws {
        // Given a journal with one event
        let workspace = CLIWorkspace()
        let seed = try workspace.tpj("append", "--customer", "C-1", "-", input: callsNDJSON(first: 900, count: 1))
        #expect(seed.status == 0)
        // When the malformed file is appended
        let message = try #require(Self.cases.first { $0.file == file }?.message)
        let result = try workspace.tpj("append", "--customer", "C-1", Self.corpus.appendingPathComponent(file).path)
        // Then it fails with exit code 65 and a message naming what is wrong,
        #expect(result.status == 65, "\(file): \(result.stderr)")
        #expect(result.stderr.contains(message), "\(file): \(result.stderr)")
        #expect(result.stdout.isEmpty)
        // and the journal still holds exactly the one event, intact.
        let stats = try JSONParser.parse(try workspace.tpj("stats", "--json").stdout)
        #expect(stats["events"] == 1)
        #expect(try workspace.tpj("verify").status == 0)
    }
}
