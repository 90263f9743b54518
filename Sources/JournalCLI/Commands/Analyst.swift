import ArgumentParser
import Foundation
import Journal
import JournalProjections
import JournalStore

/// `--projections DIR`: declared projections given as files, beside those added to the journal.
struct DeclaredOptions: ParsableArguments {
    @Option(name: .long, help: "A directory of declared projections (<name>.sql), beside those added with `tpj projection add` (default: $TPJ_PROJECTIONS).")
    var projections: String?

    var directory: String? {
        if let projections { return projections }
        if let env = ProcessInfo.processInfo.environment["TPJ_PROJECTIONS"], !env.isEmpty { return env }
        return nil
    }

    /// The journal's declared projections and those of the directory, checked.
    func load(_ store: EventStore) throws -> [DeclaredProjection] {
        do {
            return try DeclaredProjections.load(store, directory: directory)
        } catch let error as DeclaredProjectionError {
            throw CLIError(code: 65, message: error.description)
        }
    }
}

/// Output formats of rows for people and programs.
enum RowFormat: String, ExpressibleByArgument, CaseIterable {
    case table, csv, json, ndjson
}

/// Writes rows to standard output in one of the ``RowFormat``s, buffered. A table's column widths are
/// those of its first ``tableWindow`` rows: they are held until then, and later rows are written as
/// they come (a wider cell is written whole), so memory stays flat for any number of rows.
final class RowWriter {
    /// Rows a table holds to size its columns.
    static let tableWindow = 1_000

    private let format: RowFormat
    private var columns: [String] = []
    private var buffer: [UInt8] = []
    private var table: [[String]] = []
    private var widths: [Int]?
    private(set) var rows = 0

    init(format: RowFormat) {
        self.format = format
        buffer.reserveCapacity(1 << 19)
    }

    func begin(_ columns: [String]) {
        self.columns = columns
        if format == .csv { write(CSV.record(columns)) }
        if format == .json { write("[") }
    }

    func row(_ values: [SQLValue]) {
        let first = rows == 0
        rows += 1
        switch format {
        case .table:
            if let widths {
                write(Output.tableLine(values.map(\.text), widths) + "\n")
            } else {
                table.append(values.map(\.text))
                if table.count == Self.tableWindow { writeTableWindow() }
            }
        case .csv:
            write(CSV.record(values.map(\.text)))
        case .json, .ndjson:
            let object = JSONValue.object(zip(columns, values).map { JSONMember($0, $1.json) })
            if format == .json { write(first ? "\n" : ",\n") }
            write(CanonicalJSON.string(object))
            if format == .ndjson { write("\n") }
        }
    }

    func finish() {
        switch format {
        case .table:
            if widths == nil { writeTableWindow() }
            write("(\(Output.count(rows, "row")))\n")
        case .json: write(rows > 0 ? "\n]\n" : "]\n")
        case .csv, .ndjson: break
        }
        flush()
    }

    /// Sizes the columns by the rows held so far and writes the header and those rows.
    private func writeTableWindow() {
        let widths = Output.tableWidths(columns, table)
        self.widths = widths
        write(Output.tableLine(columns, widths) + "\n")
        for row in table { write(Output.tableLine(row, widths) + "\n") }
        table = []
    }

    func write(_ text: String) {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= 1 << 18 { flush() }
    }

    /// Lets `body` append bytes to the buffer.
    func write(_ body: (inout [UInt8]) -> Void) {
        body(&buffer)
        if buffer.count >= 1 << 18 { flush() }
    }

    /// Writes the buffer to standard output (straight from its bytes: a large export copies nothing twice).
    func flush() {
        guard !buffer.isEmpty else { return }
        buffer.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Foundation.write(STDOUT_FILENO, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return  // The reader went away (e.g. `| head`): nothing more to do.
                }
                offset += written
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }
}

extension JournalCommand {
    struct Query: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run read-only SQL over the analyst views and the declared projections.",
            discussion: """
                The views (analyst_touchpoints, analyst_customers, analyst_cases, analyst_invoices, analyst_orders, \
                analyst_quotes, analyst_surveys, analyst_contracts, analyst_visits) show the log with corrections and \
                voids applied; each declared projection's tables are read as <name>_<table>. Nothing else is readable, \
                and nothing can be written. The projections are brought up to date first.

                --known-at T answers as of T: the views show only what was known by T, and the declared projections \
                are folded again, in memory, from the events known by T.
                """)

        @Argument(help: "The SQL (one SELECT or WITH statement); or -f FILE.")
        var sql: String?

        @Option(name: .shortAndLong, help: "Read the SQL from this file (- for standard input).")
        var file: String?

        @Option(name: .long, help: "Output: table (default), csv, json or ndjson.")
        var format: RowFormat = .table

        @Option(name: .long, help: "Answer as of this time (RFC 3339, or a date meaning 00:00 UTC).")
        var knownAt: TimeArgument?

        @Flag(name: .long, help: "Print the analyst views and their columns (Markdown) instead of running SQL.")
        var views = false

        @OptionGroup var declared: DeclaredOptions
        @OptionGroup var rules: RulesOptions
        @OptionGroup var reader: ReaderOptions
        @OptionGroup var database: DatabaseOptions

        func validate() throws {
            if !views, (sql == nil) == (file == nil) { throw ValidationError("give the SQL as an argument or with -f FILE (one of them).") }
        }

        func run() throws {
            if views {
                Output.line(AnalystSurface.markdown, terminator: "")
                return
            }
            try runReportingErrors(json: format == .json || format == .ndjson) {
                let text = try sql ?? readInput(file!)
                let store = try database.openStore(create: false)
                let projections = try declared.load(store)
                try catchUp(builtInRunner(store, rules: try rules.momentRules(), declared: projections), store: store)
                let bar = ProgressLine(label: "Folding as known at \(knownAt?.instant.rfc3339 ?? "")")
                let connection = try analystErrors {
                    try AnalystConnection(
                        journalPath: database.path, declared: projections, registry: store.validator.registry, knownAt: knownAt?.instant,
                        masking: try reader.masking(defaultRole: "analyst")
                    ) { name in bar.update(0, name) }
                }
                bar.finish()
                let writer = RowWriter(format: format)
                try analystErrors {
                    try connection.query(text, columns: writer.begin, row: writer.row)
                }
                writer.finish()
            }
        }
    }
}

/// Turns SQL refused by SQLite or the sandbox into exit 65 with its message.
func analystErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as SandboxError {
        throw CLIError(code: 65, message: error.description)
    }
}

/// The text of a file, or of standard input for `-`.
func readInput(_ path: String) throws -> String {
    let data: Data
    if path == "-" {
        data = FileHandle.standardInput.readDataToEndOfFile()
    } else {
        guard let contents = FileManager.default.contents(atPath: path) else {
            throw CLIError(code: 66, message: "cannot read \(path): no such file, or no permission")
        }
        data = contents
    }
    guard let text = String(data: data, encoding: .utf8) else { throw CLIError(code: 65, message: "\(path) is not UTF-8 text") }
    return text
}

extension JournalCommand {
    struct Projection: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Declared projections: an analyst's SQL file folded from the log like the built-in projections.",
            discussion: """
                A declared projection is one .sql file: `-- name:` and `-- description:` lines, CREATE TABLE (and \
                CREATE INDEX) statements for its tables, each named <name>_<word>, and fold statements (INSERT, \
                UPDATE, DELETE, REPLACE, WITH) that fold each batch of new events — the view `batch` — into them, \
                reading the analyst views and its own tables. See the README's "Declared projections".
                """,
            subcommands: [Add.self, List.self, Show.self, Rebuild.self, Drop.self])

        struct Add: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Check a projection's SQL, keep it with the journal, and fold the log into it.",
                discussion: """
                    The SQL is compiled in a sandbox first: a statement that does not compile, reads something other \
                    than the batch, the analyst views and its own tables, or writes anything else is refused with \
                    SQLite's message and its line, and nothing is kept. Adding a changed file with the same name \
                    replaces the projection: it is rebuilt into new tables while the old ones keep answering.
                    """)

            @Argument(help: "The projection's .sql file.")
            var file: String

            @OptionGroup var declared: DeclaredOptions
            @OptionGroup var rules: RulesOptions
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var output: OutputOptions

            func run() throws {
                try runReportingErrors(json: output.json) {
                    let text = try readInput(file)
                    let store = try database.openStore(create: false)
                    let fallback = file == "-" ? nil : URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
                    let projection: DeclaredProjection
                    do {
                        projection = try DeclaredProjections.checked(
                            text: text, fallbackName: fallback, origin: file, registry: store.validator.registry)
                    } catch let error as DeclaredProjectionError {
                        throw CLIError(code: 65, message: error.description + ". Nothing was kept.")
                    }
                    let others = try declared.load(store).filter { $0.name != projection.name }
                    let replaced = try DeclaredProjections.add(projection, to: store)
                    let runner = builtInRunner(store, rules: try rules.momentRules(), declared: others + [projection])
                    try catchUp(runner, store: store)
                    let status = try runner.status().first { $0.name == projection.name }!
                    if output.json {
                        Output.json(.object([
                            JSONMember("name", .string(projection.name)), JSONMember("sha256", .string(projection.sha256)),
                            JSONMember("replaced", .bool(replaced != nil && replaced != projection.sha256)),
                            JSONMember("tables", .array(projection.views.map { .string($0) })),
                            JSONMember("checkpoint", .number(JSONNumber(status.checkpoint))),
                        ]))
                    } else {
                        let verb = replaced == nil ? "Added" : replaced == projection.sha256 ? "Kept (unchanged)" : "Replaced"
                        Output.line("\(verb) \(projection.name) (\(projection.sha256.prefix(12))): folded up to position \(status.checkpoint).")
                        Output.line("Read it with: tpj query \"SELECT * FROM \(projection.views.last!) LIMIT 10\"")
                    }
                }
            }
        }

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "The declared projections, with where they stand.")

            @OptionGroup var declared: DeclaredOptions
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var output: OutputOptions

            func run() throws {
                try runReportingErrors(json: output.json) {
                    let store = try database.openStore(create: false)
                    let projections = try declared.load(store)
                    let status = try ProjectionRunner(store: store, projections: projections).status()
                    if output.json {
                        Output.json(.array(zip(projections, status).map { projection, status in
                            .object([
                                JSONMember("name", .string(projection.name)), JSONMember("description", .string(projection.summary)),
                                JSONMember("sha256", .string(projection.sha256)),
                                JSONMember("tables", .array(projection.views.map { .string($0) })),
                            ] + statusMembers(status))
                        }))
                    } else if projections.isEmpty {
                        Output.line("No declared projections. Add one with: tpj projection add FILE.sql")
                    } else {
                        Output.line(Output.table(["NAME", "VERSION", "CHECKPOINT", "LAG", "TABLES", "DESCRIPTION"], zip(projections, status).map { projection, status in
                            [projection.name, String(projection.sha256.prefix(12)), String(status.checkpoint),
                             status.storedVersion == nil ? "not built" : status.needsRebuild ? "rebuild due" : Output.count(status.lag),
                             projection.views.joined(separator: " "), projection.summary]
                        }))
                    }
                }
            }
        }

        struct Show: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "A declared projection's SQL, tables and row counts.")

            @Argument(help: "The projection's name.")
            var name: String

            @OptionGroup var declared: DeclaredOptions
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var output: OutputOptions

            func run() throws {
                try runReportingErrors(json: output.json) {
                    let store = try database.openStore(create: false)
                    let projection = try named(name, in: try declared.load(store))
                    let status = try ProjectionRunner(store: store, projections: [projection]).status()[0]
                    let counts = try DeclaredProjections.rowCounts(of: projection, in: store)
                    if output.json {
                        Output.json(.object([
                            JSONMember("name", .string(projection.name)), JSONMember("description", .string(projection.summary)),
                            JSONMember("sha256", .string(projection.sha256)), JSONMember("sql", .string(projection.text)),
                            JSONMember("tables", .object(zip(projection.views, counts).map { JSONMember($0, $1.map { .number(JSONNumber($0)) } ?? .null) })),
                        ] + statusMembers(status)))
                    } else {
                        Output.line("\(projection.name) — \(projection.summary)")
                        Output.line("version \(projection.sha256.prefix(12)), checkpoint \(status.checkpoint) of \(status.head)")
                        for (view, count) in zip(projection.views, counts) {
                            Output.line("  \(view): \(count.map { Output.count($0, "row") } ?? "not built yet")")
                        }
                        Output.line("")
                        Output.line(projection.text)
                    }
                }
            }
        }

        struct Rebuild: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Rebuild a declared projection from the start of the log into new tables, then switch to them.")

            @Argument(help: "The projection's name.")
            var name: String

            @OptionGroup var declared: DeclaredOptions
            @OptionGroup var rules: RulesOptions
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var output: OutputOptions

            func run() throws {
                try runReportingErrors(json: output.json) {
                    let store = try database.openStore(create: false)
                    let projections = try declared.load(store)
                    _ = try named(name, in: projections)
                    let runner = builtInRunner(store, rules: try rules.momentRules(), declared: projections)
                    try catchUp(ProjectionRunner(store: store, projections: Array(runner.projections.filter { !($0 is DeclaredProjection) })), store: store)
                    let bar = ProgressLine(label: "Rebuilding", enabled: !output.json)
                    let folded = try runner.rebuild([name]) { progress in bar.update(progress) }
                    bar.finish()
                    if output.json {
                        Output.json(["name": .string(name), "folded": .number(JSONNumber(folded[name] ?? 0))])
                    } else {
                        Output.line("Rebuilt \(name) from \(Output.count(folded[name] ?? 0, "event")).")
                    }
                }
            }
        }

        struct Drop: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Remove a declared projection from the journal, with its tables.")

            @Argument(help: "The projection's name.")
            var name: String

            @OptionGroup var database: DatabaseOptions
            @OptionGroup var output: OutputOptions

            func run() throws {
                try runReportingErrors(json: output.json) {
                    let store = try database.openStore(create: false)
                    guard try DeclaredProjections.drop(name, from: store) else {
                        throw CLIError(code: 64, message: "the journal has no declared projection named \(name) (see tpj projection list)")
                    }
                    if output.json { Output.json(["dropped": .string(name)]) } else { Output.line("Dropped \(name) and its tables.") }
                }
            }
        }
    }
}

/// The declared projection `name`, or a usage error listing those there are.
func named(_ name: String, in projections: [DeclaredProjection]) throws -> DeclaredProjection {
    guard let projection = projections.first(where: { $0.name == name }) else {
        let names = projections.map(\.name)
        throw CLIError(code: 64, message: "no declared projection named \(name)" + (names.isEmpty ? "; there are none" : "; there are \(names.joined(separator: ", "))"))
    }
    return projection
}

/// A projection's status as JSON members, without its name.
func statusMembers(_ status: ProjectionStatus) -> [JSONMember] {
    guard case .object(let members) = status.document else { return [] }
    return members.filter { $0.key != "name" }
}
