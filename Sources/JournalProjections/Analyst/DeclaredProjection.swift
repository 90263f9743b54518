import Crypto
import Foundation
import GRDB
import Journal

/// A projection an analyst declares in one SQL file, folded like the built-in ones.
///
/// ```sql
/// -- name: callsperquarter
/// -- description: Hotline calls per customer and quarter.
/// CREATE TABLE callsperquarter_count (customerId TEXT NOT NULL, quarter TEXT NOT NULL, calls INTEGER NOT NULL,
///                                     PRIMARY KEY (customerId, quarter));
/// INSERT INTO callsperquarter_count (customerId, quarter, calls)
/// SELECT customerId, substr(occurredDate, 1, 4) || '-Q' || ((substr(occurredDate, 6, 2) + 2) / 3), count(*)
/// FROM batch WHERE type = 'hotline.call.received' GROUP BY 1, 2
/// ON CONFLICT DO UPDATE SET calls = calls + excluded.calls;
/// ```
///
/// - `CREATE TABLE` and `CREATE INDEX` statements make its tables, each named `<name>_<word>` and read
///   by everyone under that name; every other statement is a fold statement (`INSERT`, `UPDATE`,
///   `DELETE`, `REPLACE` or `WITH … `), run in order for each batch of new events, in the transaction
///   that moves the projection's checkpoint.
/// - A fold reads the view `batch` (the batch's events as recorded), the analyst views (everything up
///   to the end of the batch, corrections applied; ``AnalystSurface``) and its own tables, and writes
///   only its own tables (checked by ``SandboxPolicy`` when the file is loaded).
/// - Its version is the SHA-256 of its text: a changed file is rebuilt into new tables while the old
///   ones keep answering.
public struct DeclaredProjection: Projection {
    public let name: String
    public let summary: String
    /// The file's text, as given.
    public let text: String
    /// The SHA-256 of ``text``, in hex.
    public let sha256: String
    public let version: Int
    /// The logical table names (the part after `<name>_`).
    public let tables: [String]
    private let schemaStatements: [SQLText.Statement]
    /// The fold statements, each as written and as ``SQLText/Statement/scanningBatchCustomers()`` reads it.
    private let foldStatements: [(seeking: SQLText.Statement, scanning: SQLText.Statement)]
    /// Index names declared (the part after `<name>_`), renamed per generation like the tables.
    private let indexes: [String]
    /// Event type → touchpoint kind, for the analyst views.
    private let kinds: [String: String]

    public var decodesEvents: Bool { false }
    public var dependencies: [String] { [Corrections().name] }

    /// Longest name allowed.
    public static let maximumNameLength = 40

    /// Reads a declared projection; `fallbackName` (e.g. the file's base name) is used when the text
    /// has no `-- name:` line. Checks its form; ``check()`` compiles it.
    public init(text: String, fallbackName: String? = nil, registry: SchemaRegistry) throws(SandboxError) {
        let parsed: SQLText
        do {
            parsed = try SQLText(text)
            try parsed.checkWithNames(against: Set(AnalystSurface.viewNames + ["batch", AnalystSurface.batchCustomers, SandboxPolicy.correctionsView]))
        } catch {
            throw SandboxError(message: error.what, line: error.line)
        }
        var header: [String: String] = [:]
        for token in parsed.tokens {
            if token.kind == .space { continue }
            guard token.kind == .comment, token.text.hasPrefix("--") else { break }
            let line = token.text.dropFirst(2).trimmingCharacters(in: .whitespaces)
            if let colon = line.firstIndex(of: ":") {
                let key = line[..<colon].lowercased()
                if key == "name" || key == "description" {
                    header[key, default: ""] += (header[key] == nil ? "" : " ") + line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                }
            }
        }
        guard let name = header["name"] ?? fallbackName else {
            throw SandboxError(message: "the projection has no name: start the file with a line `-- name: <name>`", line: 1)
        }
        guard Self.isValidName(name) else {
            throw SandboxError(
                message: "the name '\(name)' must be lower-case letters and digits, starting with a letter, at most \(Self.maximumNameLength) characters",
                line: 1)
        }
        self.name = name
        self.summary = header["description"] ?? ""
        self.text = text
        let digest = SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
        self.sha256 = digest
        // The version only has to differ when the text does; 31 bits of the hash, never 0.
        self.version = max(1, Int(UInt32(digest.prefix(8), radix: 16)! >> 1))

        var tables: [String] = [], indexes: [String] = [], schema: [SQLText.Statement] = [], fold: [SQLText.Statement] = []
        for statement in parsed.statements {
            let words = statement.words
            let first = words.first!.text.uppercased()
            func objectName(after keywords: Set<String>) throws(SandboxError) -> String {
                var index = 1
                while index < words.count, words[index].kind == .word, keywords.contains(words[index].text.uppercased()) { index += 1 }
                guard index < words.count, words[index].kind == .word || words[index].kind == .quotedName else {
                    throw SandboxError(message: "a name is expected after \(first)", line: statement.line)
                }
                if index + 1 < words.count, words[index + 1].text == "." {
                    throw SandboxError(message: "\(words[index].name).… : a projection's tables and indexes are named without a schema", line: words[index].line)
                }
                return words[index].name
            }
            switch first {
            case "CREATE":
                let second = words.count > 1 ? words[1].text.uppercased() : ""
                let isIndex = second == "INDEX" || (second == "UNIQUE" && words.count > 2 && words[2].text.uppercased() == "INDEX")
                guard second == "TABLE" || isIndex else {
                    throw SandboxError(message: "only CREATE TABLE and CREATE INDEX are allowed (the runner makes the views)", line: statement.line)
                }
                let object = try objectName(after: ["TABLE", "INDEX", "UNIQUE", "IF", "NOT", "EXISTS"])
                let prefix = name + "_"
                guard object.lowercased().hasPrefix(prefix), object.count > prefix.count else {
                    throw SandboxError(
                        message: "\(isIndex ? "index" : "table") '\(object)' must be named \(name)_<word>: everything a projection makes is named after it",
                        line: statement.line)
                }
                let word = String(object.lowercased().dropFirst(prefix.count))
                guard word.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
                    throw SandboxError(message: "'\(object)': use letters, digits and _ after \(prefix)", line: statement.line)
                }
                if tables.contains(word) || indexes.contains(word) {
                    throw SandboxError(message: "'\(object)' is declared twice", line: statement.line)
                }
                if isIndex { indexes.append(word) } else { tables.append(word) }
                schema.append(statement)
            case "INSERT", "REPLACE", "UPDATE", "DELETE", "WITH":
                fold.append(statement)
            default:
                throw SandboxError(
                    message: "\(first) is not allowed: a declared projection has CREATE TABLE / CREATE INDEX statements and fold statements (INSERT, UPDATE, DELETE, REPLACE, WITH)",
                    line: statement.line)
            }
        }
        guard !tables.isEmpty else { throw SandboxError(message: "the projection declares no table (CREATE TABLE \(name)_<word> …)", line: 1) }
        guard !fold.isEmpty else { throw SandboxError(message: "the projection has no fold statement (INSERT … SELECT … FROM batch …)", line: 1) }
        self.tables = tables
        self.indexes = indexes
        self.kinds = AnalystSurface.Sources(journal: "", corrections: "", registry: registry).kinds
        self.schemaStatements = schema
        self.foldStatements = fold.map { ($0, $0.scanningBatchCustomers()) }
    }

    public static func isValidName(_ name: String) -> Bool {
        guard let first = name.first, first.isASCII, first.isLetter, first.isLowercase, name.count <= maximumNameLength else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isNumber || ($0.isLetter && $0.isLowercase)) }
    }

    /// The views through which everyone reads its tables, e.g. `hitrate_quarter`.
    public var views: [String] { tables.map { ProjectionTables.view(name, $0) } }

    /// A statement's text with the projection's names replaced by those of a generation's tables.
    func physical(_ statement: SQLText.Statement, _ names: ProjectionTables) -> String {
        let prefix = name + "_"
        let words = Set(tables + indexes)
        return statement.text { token in
            guard token.kind == .word || token.kind == .quotedName else { return nil }
            let lowered = token.name.lowercased()
            guard lowered.hasPrefix(prefix), words.contains(String(lowered.dropFirst(prefix.count))) else { return nil }
            return names[String(lowered.dropFirst(prefix.count))]
        }
    }

    // MARK: Projection

    public func createTables(_ db: Database, _ names: ProjectionTables) throws {
        for statement in schemaStatements { try db.execute(sql: physical(statement, names)) }
    }

    public func apply(_ events: [RecordedEvent], _ db: Database, _ names: ProjectionTables) throws {
        guard let first = events.first, let last = events.last else { return }
        try apply(batch: ProjectionBatch(after: first.position - 1, through: last.position, events: []), db, names)
    }

    public func apply(batch: ProjectionBatch, _ db: Database, _ names: ProjectionTables) throws {
        try AnalystSurface.prepare(db, kinds: kinds)
        try db.execute(sql: AnalystSurface.setScopeSQL, arguments: [batch.after, batch.through, Int64.max])
        try db.execute(sql: AnalystSurface.fillBatchCustomersSQL)
        let texts = try foldTexts(
            reach: Int64.fetchOne(db, sql: AnalystSurface.batchReachSQL) ?? 0, through: batch.through,
            customers: { try String.fetchAll(db, sql: AnalystSurface.batchCustomerListSQL) })
        for statement in texts {
            do {
                try db.execute(sql: physical(statement, names))
            } catch let error as DatabaseError {
                throw JournalError.storage("projection \(name), statement at line \(statement.line): \(error.message ?? error.description)")
            }
        }
    }

    /// The fold statements as a batch runs them: read by scanning the log when the batch's customers
    /// own most of it (``scans(reach:through:)``), else with a small batch's customers written as a list
    /// (``literalList(_:)``; `customers` is only asked then), else as written.
    private func foldTexts<Failure: Error>(
        reach: Int64, through: Int64, customers: () throws(Failure) -> [String]
    ) throws(Failure) -> [SQLText.Statement] {
        if Self.scans(reach: reach, through: through) { return foldStatements.map(\.scanning) }
        guard let list = Self.literalList(try customers()) else { return foldStatements.map(\.seeking) }
        return foldStatements.map { $0.seeking.inliningBatchCustomers(list) }
    }

    /// Whether a fold reads the batch's customers by scanning the log rather than seeking each one:
    /// a seek costs about twice a scanned row, so scanning wins once the batch's customers own more
    /// than half of the `through` events (a rebuild's batch, or a scratch fold as of a date).
    static func scans(reach: Int64, through: Int64) -> Bool { reach * 2 > through }

    /// Most customers a batch's list of literals holds (``SQLText/Statement/inliningBatchCustomers(_:)``);
    /// a batch with more reads `batch_customers` as a table.
    static let maximumInlinedCustomers = 1_000

    /// The customers as SQL string literals, comma-separated; `nil` when there are too many to inline.
    static func literalList(_ customers: [String]) -> String? {
        guard !customers.isEmpty, customers.count <= maximumInlinedCustomers else { return nil }
        return customers.map { "'" + $0.replacingOccurrences(of: "'", with: "''") + "'" }.joined(separator: ", ")
    }

    // MARK: Checking in the sandbox

    /// Compiles every statement in a scratch database shaped like the projections' one, with the
    /// sandbox's rules, and runs the fold once on empty tables: bad SQL is refused with SQLite's
    /// message and its line in the file.
    public func check() throws(SandboxError) {
        let connection = try SandboxConnection(path: ":memory:", writable: true)
        try AnalystConnection.installEmptyJournal(on: connection, kinds: kinds)
        try load(into: connection, generation: 1)
        try checkCustomerColumns(connection, generation: 1)
        try fold(on: connection, generation: 1, after: 0, through: 0, knownAtUs: Int64.max)
        // The texts a large and a small batch run are compiled too.
        let names = ProjectionTables(projection: name, generation: 1)
        var rules = policy(generation: 1, creating: false)
        rules.tables = try connection.tableNames()
        connection.policy = rules
        defer { connection.policy = nil }
        for (seeking, scanning) in foldStatements {
            for statement in [scanning, seeking.inliningBatchCustomers("'C-1'")] {
                _ = try connection.prepare(physical(statement, names), line: statement.textLine, statementLine: statement.line)
            }
        }
    }

    /// Refuses a `customerId` column of the projection's tables that is not declared TEXT: customer ids
    /// are text, and a fold compares them with the batch's as text.
    private func checkCustomerColumns(_ connection: SandboxConnection, generation: Int) throws(SandboxError) {
        let names = ProjectionTables(projection: name, generation: generation)
        for table in tables {
            let columns = try connection.prepare("SELECT name, type FROM pragma_table_info('\(names[table])')")
            while try columns.step() {
                guard case .text(let column) = columns.value(0), column.lowercased() == "customerid" else { continue }
                let type: String
                if case .text(let declared) = columns.value(1) { type = declared } else { type = "" }
                if type.uppercased() != "TEXT" {
                    let declared = type.isEmpty ? "no type" : type
                    throw SandboxError(
                        message: "\(name)_\(table).\(column) is declared \(declared): declare customerId columns TEXT (customer ids are text)",
                        line: schemaLine(of: table))
                }
            }
        }
    }

    /// The line of the CREATE TABLE statement of `table`.
    private func schemaLine(of table: String) -> Int? {
        schemaStatements.first { statement in
            statement.words.contains { ($0.kind == .word || $0.kind == .quotedName) && $0.name.lowercased() == "\(name)_\(table)" }
        }?.line
    }

    /// The sandbox's rules for this projection's statements of `generation`.
    func policy(generation: Int, creating: Bool) -> SandboxPolicy {
        let names = ProjectionTables(projection: name, generation: generation)
        let own = Set(tables.map { names[$0].lowercased() })
        return SandboxPolicy(
            readableViews: Set(AnalystSurface.viewNames + ["batch"]),
            readableTables: own.union([AnalystSurface.batchCustomers]), writableTables: own,
            creatableNames: creating ? own.union(indexes.map { names[$0].lowercased() }) : [],
            readableDescription: "the view batch, batch_customers, the analyst views (\(AnalystSurface.viewNames.joined(separator: ", "))) and this projection's own tables")
    }

    /// Creates the tables of `generation` in the sandbox's `main`, under its rules.
    func load(into connection: SandboxConnection, generation: Int) throws(SandboxError) {
        let names = ProjectionTables(projection: name, generation: generation)
        var rules = policy(generation: generation, creating: true)
        rules.tables = try connection.tableNames()
        connection.policy = rules
        defer { connection.policy = nil }
        for statement in schemaStatements {
            try connection.prepare(physical(statement, names), line: statement.textLine, statementLine: statement.line).run()
        }
    }

    /// Folds the events after `after` through `through`, known by `knownAtUs`, in the sandbox.
    func fold(on connection: SandboxConnection, generation: Int, after: Int64, through: Int64, knownAtUs: Int64) throws(SandboxError) {
        let names = ProjectionTables(projection: name, generation: generation)
        let scope = try connection.prepare(AnalystSurface.setScopeSQL)
        scope.bind([after, through, knownAtUs])
        try scope.run()
        try connection.execute(AnalystSurface.fillBatchCustomersSQL)
        let reach = try connection.prepare(AnalystSurface.batchReachSQL)
        var events: Int64 = 0
        if try reach.step(), case .integer(let count) = reach.value(0) { events = count }
        let texts = try foldTexts(reach: events, through: through, customers: { () throws(SandboxError) -> [String] in
            var customers: [String] = []
            let list = try connection.prepare(AnalystSurface.batchCustomerListSQL)
            while try list.step() { if case .text(let customer) = list.value(0) { customers.append(customer) } }
            return customers
        })
        var rules = policy(generation: generation, creating: false)
        rules.tables = try connection.tableNames()
        connection.policy = rules
        defer { connection.policy = nil }
        for statement in texts {
            try connection.prepare(physical(statement, names), line: statement.textLine, statementLine: statement.line).run()
        }
    }
}
