import ArgumentParser
import Foundation
import Journal
import JournalImport
import JournalStore

extension JournalCommand {
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import history from CSV or NDJSON exports through a mapping.",
            discussion: """
                The mapping (a JSON document, see Schemas/import-mapping.schema.json and the README) says which rows \
                become which events. Every row is imported, found already imported, ignored by a rule of the mapping, \
                or rejected with a reason. The whole import is one transaction: if more rows are rejected than \
                --max-rejected allows (default 0), or a file cannot be read as the mapping says, nothing is stored \
                (exit 65). Event ids derive from the mapping's namespace and each row's source key, so importing a \
                file again stores nothing new, and a later, overlapping export adds only its new rows. Each event \
                keeps the time the source recorded it (sourceRecordedAt), which as-of views use, and names its file \
                and line (importRef). `tpj imports` lists the imports.
                """)

        @Option(name: .long, help: "The mapping file (JSON).")
        var mapping: String

        @Argument(help: "CSV or NDJSON files, imported in this order.")
        var sources: [String]

        @Flag(name: .long, help: "Check everything and report, but store nothing.")
        var dryRun = false

        @Option(name: .long, help: "Write the rejected rows to this CSV file, with file, line and reason columns.")
        var rejects: String?

        @Option(name: .long, help: "Rejected rows allowed before the import is refused as a whole: a count (5) or a share (0.5%).")
        var maxRejected = "0"

        @Flag(inversion: .prefixedNo, help: "Refuse events of customers without customer.registered (default: as the mapping says, else yes).")
        var requireRegistered: Bool?

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions

        func validate() throws {
            if sources.isEmpty { throw ValidationError("give at least one source file to import") }
            if limit == nil { throw ValidationError("--max-rejected must be a count (5) or a share (0.5%), got \"\(maxRejected)\"") }
        }

        private var limit: Importer.RejectLimit? {
            if maxRejected.hasSuffix("%"), let percent = Double(maxRejected.dropLast()), percent >= 0, percent <= 100 {
                return .share(percent / 100)
            }
            return Int(maxRejected).flatMap { $0 >= 0 ? .count($0) : nil }
        }

        func run() throws {
            try runReportingErrors(json: output.json) {
                guard let text = try? String(contentsOfFile: mapping, encoding: .utf8) else {
                    throw CLIError(code: 66, message: "cannot read the mapping \(mapping): no such file, no permission, or not UTF-8")
                }
                let parsed: ImportMapping
                do {
                    parsed = try ImportMapping(text: text)
                } catch {
                    throw CLIError(code: 65, message: "mapping \(mapping): \(error)\nNothing was stored.")
                }
                for source in sources where !FileManager.default.isReadableFile(atPath: source) {
                    throw CLIError(code: 66, message: "cannot read \(source): no such file, or no permission. Nothing was stored.")
                }
                // A dry run against a journal not made yet checks against an empty one, and creates no file.
                let store = dryRun && !FileManager.default.fileExists(atPath: database.path)
                    ? try EventStore(writer: JournalDatabase.inMemory(), registry: database.registry())
                    : try database.openStore(create: true)
                var options = Importer.Options()
                options.dryRun = dryRun
                options.maximumRejected = limit!
                options.requireRegistered = requireRegistered
                let writer = try rejects.map { try RejectsWriter(path: $0) }
                let bar = ProgressLine(label: dryRun ? "Checking" : "Importing", enabled: !output.json)
                defer { bar.finish() }
                let report: ImportReport
                do {
                    report = try Importer(store: store, mapping: parsed).run(sources: sources, options: options, rejects: writer) { done, total in
                        bar.update(total > 0 ? Double(done) / Double(total) : 0, "\(Output.count(done / 1_048_576)) of \(Output.count(total / 1_048_576)) MB")
                    }
                } catch let refused as ImportRefused {
                    bar.finish()
                    print(refused.report, refused: true)
                    throw CLIError(
                        code: 65,
                        message: "import refused: \(Output.count(refused.report.rowsRejected, "row")) rejected, more than --max-rejected \(maxRejected) allows. Nothing was stored.")
                } catch let error as SourceError {
                    throw CLIError(code: 65, message: "\(error)\nNothing was stored.")
                }
                bar.finish()
                print(report, refused: false)
            }
        }

        private func print(_ report: ImportReport, refused: Bool) {
            if output.json {
                Output.json(report.json)
                return
            }
            let files = report.sources.map(\.file).joined(separator: ", ")
            let verb = refused ? "Refused" : report.dryRun ? "Checked (dry run, nothing stored)" : "Imported"
            Output.line("\(verb): \(files.isEmpty ? sources.joined(separator: ", ") : files) with mapping \(report.mappingName)")
            Output.line("  rows read            \(Output.count(report.rowsRead))")
            Output.line("  imported             \(Output.count(report.rowsImported))  (\(Output.count(report.eventsStored, "event")) \(report.dryRun || refused ? "to store" : "stored"))")
            Output.line("  already recorded     \(Output.count(report.rowsAlreadyRecorded))  (imported before, or a repeat of an earlier row)")
            for (reason, rows) in report.ignored.sorted(by: { $0.value > $1.value }) {
                Output.line("  ignored              \(Output.count(rows))  \(reason)")
            }
            for (reason, detail) in report.rejected.sorted(by: { $0.value.rows > $1.value.rows }) {
                Output.line("  rejected             \(Output.count(detail.rows))  \(reason)")
                for example in detail.examples {
                    Output.line("      \(example.file):\(example.line): \(example.message)")
                }
            }
            if !refused, !report.dryRun, let first = report.firstPosition, let last = report.lastPosition {
                Output.line("Stored at positions \(first)–\(last) as import \(report.importNumber); each event names it, its file and line (importRef).")
            }
        }
    }

    struct Imports: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the imports recorded in the journal: mapping, files and their SHA-256, counts.")

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            try runReportingErrors(json: output.json) {
                let imports = try database.openStore(create: false).imports()
                if output.json {
                    Output.json(.array(imports.map { item in
                        [
                            "import": .number(JSONNumber(Int64(item.importNumber))), "recordedAt": .string(item.recordedAt.rfc3339),
                            "mapping": .string(item.mappingName), "mappingSha256": .string(item.mappingSha256),
                            "sources": .array(item.sources.map(\.json)), "rowsRead": .number(JSONNumber(Int64(item.rowsRead))),
                            "eventsStored": .number(JSONNumber(Int64(item.eventsStored))),
                            "alreadyRecorded": .number(JSONNumber(Int64(item.alreadyRecorded))),
                            "rowsRejected": .number(JSONNumber(Int64(item.rowsRejected))),
                        ]
                    }))
                    return
                }
                if imports.isEmpty {
                    Output.line("No imports recorded.")
                    return
                }
                for item in imports {
                    Output.line("Import \(item.importNumber)  \(item.recordedAt.rfc3339)  mapping \(item.mappingName) (sha256 \(item.mappingSha256.prefix(12))…)")
                    for source in item.sources {
                        Output.line("  \(source.file)  \(Output.count(source.rows, "row"))  sha256 \(source.sha256)")
                    }
                    var line = "  \(Output.count(item.eventsStored, "event")) stored"
                    if let first = item.firstPosition, let last = item.lastPosition { line += " at positions \(first)–\(last)" }
                    line += ", \(Output.count(item.alreadyRecorded)) already recorded, \(Output.count(item.rowsRejected)) rows rejected"
                    Output.line(line)
                }
            }
        }
    }
}
