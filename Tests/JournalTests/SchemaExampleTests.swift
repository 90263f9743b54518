import Foundation
import Journal
import JournalSchemas
import JournalTesting
import Testing

/// The schema examples under Schemas/examples: the Swift validator must accept every valid one and reject
/// every invalid one for the rule it names — and Python's jsonschema must agree on each file.
@Suite struct SchemaExampleTests {
    struct Example: CustomTestStringConvertible, Sendable {
        var file: String
        var type: String
        var version: Int
        var payload: JSONValue
        var violates: String?
        var testDescription: String { file }
    }

    static let examplesRoot = TestSupport.repositoryRoot.appendingPathComponent("Schemas/examples")

    static func load(_ kind: String) -> [Example] {
        let directory = examplesRoot.appendingPathComponent(kind)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".json") }.sorted().map { name in
            let document = try! JSONParser.parse(Array(FileManager.default.contents(atPath: directory.appendingPathComponent(name).path)!))
            guard case .number(let version)? = document["schemaVersion"] else { fatalError("\(name): no schemaVersion") }
            return Example(
                file: "\(kind)/\(name)", type: document["type"]!.stringValue!, version: Int(version.value),
                payload: document["payload"]!, violates: document["violates"]?.stringValue)
        }
    }

    static let registry = try! SchemaRegistry(files: BundledSchemas.eventSchemaFiles)

    @Test func everyEventTypeHasAValidExample() {
        let covered = Set(Self.load("valid").map(\.type))
        #expect(Set(Self.registry.types).subtracting(covered).isEmpty)
        #expect(Self.registry.types.count == 33)
    }

    @Test(arguments: load("valid"))
    func swiftValidatorAcceptsValidExample(_ example: Example) throws {
        let entry = try #require(Self.registry.entry(type: example.type, version: example.version))
        #expect(entry.schema.validate(example.payload) == [])
    }

    @Test(arguments: load("invalid"))
    func swiftValidatorRejectsInvalidExampleForItsRule(_ example: Example) throws {
        let entry = try #require(Self.registry.entry(type: example.type, version: example.version))
        let violations = entry.schema.validate(example.payload)
        #expect(violations.map(\.rule).contains(try #require(example.violates)), "\(violations)")
    }

    @Test func pythonJSONSchemaAgreesWithTheSwiftValidator() throws {
        // Given the independent checker in tools/, when it validates every example,
        let result = try TestSupport.run(
            URL(fileURLWithPath: "/usr/bin/env"), ["python3", "tools/check-schemas.py"], in: TestSupport.repositoryRoot)
        #expect(result.status == 0, "\(result.stderr)")
        let verdicts = try JSONParser.parse(result.stdout)
        // then its verdict on each file equals the Swift validator's.
        let examples = Self.load("valid") + Self.load("invalid")
        #expect(examples.count >= 50)
        for example in examples {
            let python = try #require(verdicts[example.file]?["valid"], "no verdict for \(example.file)")
            let swift = Self.registry.entry(type: example.type, version: example.version)!.schema.accepts(example.payload)
            #expect(python == .bool(swift), "\(example.file): python \(python), swift \(swift)")
        }
    }
}
