import Foundation
import GRDBSQLite
import Journal

/// An SQLite connection of its own for analysts' SQL, with an authorizer that decides, as each
/// statement is compiled, what it may read and write (``SandboxPolicy``).
///
/// GRDB's connections keep their authorizer to themselves, so analysts' SQL is compiled here: a
/// query runs here; a declared projection is checked here before its statements run in a fold.
final class SandboxConnection {
    private var handle: OpaquePointer?
    /// What statements compiled from now on may do; `nil` allows everything (setting up).
    var policy: SandboxPolicy? {
        didSet { installAuthorizer() }
    }
    /// Why the authorizer last refused, to explain SQLite's "not authorized".
    private(set) var refusal: String?

    /// Opens `path` (`:memory:` for a scratch database), read-only unless `writable`.
    init(path: String, writable: Bool = false) throws(SandboxError) {
        let flags = (writable ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY) | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX
        guard sqlite3_open_v2(path, &handle, flags, nil) == SQLITE_OK else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(handle)
            handle = nil
            throw SandboxError(message: "cannot open \(path): \(message)", line: nil)
        }
        sqlite3_busy_timeout(handle, 30_000)
        sqlite3_extended_result_codes(handle, 1)
    }

    deinit {
        sqlite3_close_v2(handle)
    }

    /// Adds a deterministic SQL function of one text argument (NULL stays NULL).
    func addFunction(_ name: String, _ body: @escaping @Sendable (String) -> String) {
        final class Box { let body: @Sendable (String) -> String; init(_ body: @escaping @Sendable (String) -> String) { self.body = body } }
        let context = Unmanaged.passRetained(Box(body)).toOpaque()
        sqlite3_create_function_v2(
            handle, name, 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, context,
            { call, _, arguments in
                let box = Unmanaged<Box>.fromOpaque(sqlite3_user_data(call)!).takeUnretainedValue()
                guard let argument = arguments?[0], sqlite3_value_type(argument) != SQLITE_NULL,
                      let text = sqlite3_value_text(argument) else {
                    sqlite3_result_null(call)
                    return
                }
                let result = box.body(String(cString: text))
                sqlite3_result_text(call, result, -1, unsafeBitCast(-1, to: sqlite3_destructor_type.self))
            },
            nil, nil,
            { context in context.map { Unmanaged<AnyObject>.fromOpaque($0).release() } })
    }

    /// The names of the tables of every schema attached (lower-cased); asked while setting up, with no policy.
    func tableNames() throws(SandboxError) -> Set<String> {
        var schemas: [String] = []
        let list = try prepare("PRAGMA database_list")
        while try list.step() { if case .text(let name) = list.value(1) { schemas.append(name) } }
        var names: Set<String> = []
        for schema in schemas {
            let master = schema == "temp" ? "temp.sqlite_master" : "\"\(schema)\".sqlite_master"
            let statement = try prepare("SELECT name FROM \(master) WHERE type = 'table'")
            while try statement.step() { if case .text(let name) = statement.value(0) { names.insert(name.lowercased()) } }
        }
        return names
    }

    /// Runs SQL text (several statements), returning nothing.
    func execute(_ sql: String) throws(SandboxError) {
        var message: UnsafeMutablePointer<CChar>?
        refusal = nil
        let code = sqlite3_exec(handle, sql, nil, nil, &message)
        defer { sqlite3_free(message) }
        guard code == SQLITE_OK else {
            throw error(message.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(code)), offset: nil)
        }
    }

    /// Compiles one statement. `line` is the line of its file its text starts on and `statementLine`
    /// the line its first word is on: an error is placed where SQLite points, else on `statementLine`.
    func prepare(_ sql: String, line: Int? = nil, statementLine: Int? = nil) throws(SandboxError) -> SandboxStatement {
        var statement: OpaquePointer?
        refusal = nil
        guard sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
            let offset = sqlite3_error_offset(handle)
            var failure = error(String(cString: sqlite3_errmsg(handle)), offset: offset >= 0 ? (sql, Int(offset), line ?? 1) : nil)
            if failure.line == nil { failure.line = statementLine }
            throw failure
        }
        return SandboxStatement(statement: statement, connection: self)
    }

    /// The error of the last call, with the line SQLite points at when it says.
    fileprivate func error(_ message: String, offset: (sql: String, offset: Int, line: Int)?) -> SandboxError {
        var text = message
        if let refusal { text = refusal }
        guard let offset else { return SandboxError(message: text, line: nil) }
        let before = offset.sql.utf8.prefix(offset.offset)
        let line = offset.line + before.reduce(0) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 }
        return SandboxError(message: text, line: line)
    }

    fileprivate func lastError() -> SandboxError {
        error(String(cString: sqlite3_errmsg(handle)), offset: nil)
    }

    private func installAuthorizer() {
        guard policy != nil else {
            sqlite3_set_authorizer(handle, nil, nil)
            return
        }
        let context = Unmanaged.passUnretained(self).toOpaque()
        sqlite3_set_authorizer(handle, { context, action, first, second, database, view in
            let connection = Unmanaged<SandboxConnection>.fromOpaque(context!).takeUnretainedValue()
            guard let policy = connection.policy else { return SQLITE_OK }
            let request = SandboxPolicy.Request(
                action: action, first: first.map { String(cString: $0) }, second: second.map { String(cString: $0) },
                database: database.map { String(cString: $0) }, view: view.map { String(cString: $0) })
            if let refusal = policy.refusal(of: request) {
                connection.refusal = refusal
                return SQLITE_DENY
            }
            return SQLITE_OK
        }, context)
    }
}

/// A compiled statement; rows are read with ``step()`` and the column accessors.
final class SandboxStatement {
    private let statement: OpaquePointer
    private let connection: SandboxConnection

    fileprivate init(statement: OpaquePointer, connection: SandboxConnection) {
        self.statement = statement
        self.connection = connection
    }

    deinit { sqlite3_finalize(statement) }

    var isReadOnly: Bool { sqlite3_stmt_readonly(statement) != 0 }

    var columnNames: [String] {
        (0..<sqlite3_column_count(statement)).map { String(cString: sqlite3_column_name(statement, $0)) }
    }

    func bind(_ values: [Int64]) {
        for (index, value) in values.enumerated() { sqlite3_bind_int64(statement, Int32(index + 1), value) }
    }

    /// Steps once: true when a row is ready.
    func step() throws(SandboxError) -> Bool {
        switch sqlite3_step(statement) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw connection.lastError()
        }
    }

    /// Runs the statement to its end.
    func run() throws(SandboxError) {
        while try step() {}
    }

    /// The current row's value in `column`.
    func value(_ column: Int32) -> SQLValue {
        switch sqlite3_column_type(statement, column) {
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(statement, column))
        case SQLITE_FLOAT: return .real(sqlite3_column_double(statement, column))
        case SQLITE_TEXT: return .text(String(cString: sqlite3_column_text(statement, column)))
        case SQLITE_BLOB:
            let count = Int(sqlite3_column_bytes(statement, column))
            guard count > 0, let bytes = sqlite3_column_blob(statement, column) else { return .blob(Data()) }
            return .blob(Data(bytes: bytes, count: count))
        default: return .null
        }
    }

    var row: [SQLValue] { (0..<sqlite3_column_count(statement)).map(value) }
}

/// One value of a result row.
public enum SQLValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob(Data)
}

extension SQLValue {
    /// The value as JSON: NULL as null, numbers as numbers, text as strings, a blob as hex text.
    public var json: JSONValue {
        switch self {
        case .null: .null
        case .integer(let integer): .number(JSONNumber(integer))
        case .real(let real): .number(JSONNumber(real))
        case .text(let text): .string(text)
        case .blob(let data): .string(Hex.encode(data))
        }
    }

    /// The value as CSV or table text: NULL as empty, a number in its shortest form, a blob as hex.
    public var text: String {
        switch self {
        case .null: ""
        case .integer(let integer): String(integer)
        case .real(let real): JSONNumber(real).canonicalText
        case .text(let text): text
        case .blob(let data): Hex.encode(data)
        }
    }
}

/// SQL that SQLite, or the sandbox, refused: the message and, when known, the line in its file.
public struct SandboxError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var line: Int?

    public var description: String { line.map { "line \($0): \(message)" } ?? message }
}

/// What SQL compiled in a ``SandboxConnection`` may do.
struct SandboxPolicy {
    struct Request {
        var action: Int32
        var first: String?
        var second: String?
        var database: String?
        /// The innermost view through which the access happens, or nil for the statement's own text.
        var view: String?
    }

    /// Views anything may be read through (lower-cased).
    var readableViews: Set<String>
    /// Tables that may be read directly (lower-cased, unqualified).
    var readableTables: Set<String> = []
    /// Prefixes of tables that may be read directly: the tables behind readable views, which SQLite
    /// reports without the view when it reads a view's rowid column.
    var readablePrefixes: [String] = ["p_corrections_g"]
    /// Tables that may be written (lower-cased, unqualified, in `main`).
    var writableTables: Set<String> = []
    /// Tables and indexes that may be created (lower-cased, in `main`).
    var creatableNames: Set<String> = []
    /// What the refusals call the readable things, e.g. "the analyst views and declared projections".
    var readableDescription: String
    /// Every table of the connection (lower-cased): SQLite names a table read for `count(*)` without its
    /// schema, as it names the rows of a WITH clause.
    var tables: Set<String> = []

    /// The analyst views read the corrections through this view.
    static let correctionsView = ProjectionTables.view(Corrections().name, "revision")

    /// Table-valued functions anything may read: JSON arrays and objects of payloads as rows.
    static let tableFunctions: Set<String> = ["json_each", "json_tree"]

    /// Functions refused because their answers differ between runs.
    static let unstableFunctions: Set<String> = ["random", "randomblob", "changes", "total_changes", "last_insert_rowid", "load_extension"]

    /// Nil when `request` is allowed, else why not.
    func refusal(of request: Request) -> String? {
        let name = request.first?.lowercased() ?? ""
        switch request.action {
        case SQLITE_SELECT, SQLITE_RECURSIVE:
            return nil
        case SQLITE_FUNCTION:
            let function = request.second?.lowercased() ?? ""
            return Self.unstableFunctions.contains(function) ? "the function \(function)() is not allowed here: its result differs between runs" : nil
        case SQLITE_READ:
            // No schema and not a table: the rows of a WITH clause or a subquery, read from what was allowed already.
            if request.database == nil, !tables.contains(name) { return nil }
            // A readable view, wherever it is read from (a WITH clause, another view).
            if readableViews.contains(name) { return nil }
            // What a readable view reads. (A WITH clause may not take a readable view's name: SQLText.checkNames.)
            if let view = request.view?.lowercased(), readableViews.contains(view) || view == Self.correctionsView { return nil }
            // A readable table, read directly or through a WITH clause (the only views are the journal's own).
            if readableTables.contains(name) { return nil }
            if readablePrefixes.contains(where: { name.hasPrefix($0) }) { return nil }
            if name == "sqlite_master" || name == "sqlite_temp_master" || Self.tableFunctions.contains(name) { return nil }
            return "reading the table \(name)\(request.view.map { " (through \($0))" } ?? "") is not allowed: read \(readableDescription)"
        case SQLITE_UPDATE where name == "sqlite_master":
            // SQLite asks this when it first reads a table-valued function such as json_each; SQL itself
            // cannot write the schema table (writable_schema is a PRAGMA, and PRAGMA is refused).
            return nil
        case SQLITE_INSERT, SQLITE_UPDATE, SQLITE_DELETE:
            if request.database == "main", writableTables.contains(name) { return nil }
            // Creating a table or index writes its definition into the schema.
            if request.database == "main", name == "sqlite_master", !creatableNames.isEmpty { return nil }
            return writableTables.isEmpty
                ? "this SQL may only read: writing \(name) is not allowed"
                : "writing \(name) is not allowed: a declared projection writes only its own tables"
        case SQLITE_CREATE_TABLE, SQLITE_CREATE_INDEX:
            let created = request.first?.lowercased() ?? ""
            if request.database == "main", creatableNames.contains(created) { return nil }
            // The index SQLite makes for a table's primary key or unique constraint.
            if request.action == SQLITE_CREATE_INDEX, request.database == "main", created.hasPrefix("sqlite_autoindex_"),
                let table = request.second?.lowercased(), creatableNames.contains(table) { return nil }
            return "creating \(created) is not allowed here"
        case SQLITE_REINDEX:
            // Creating an index fills it.
            return creatableNames.contains(name) ? nil : "REINDEX is not allowed here"
        case SQLITE_PRAGMA: return "PRAGMA is not allowed here"
        case SQLITE_ATTACH, SQLITE_DETACH: return "ATTACH and DETACH are not allowed here"
        case SQLITE_TRANSACTION, SQLITE_SAVEPOINT: return "transactions are the runner's: BEGIN, COMMIT and SAVEPOINT are not allowed here"
        default: return "this kind of statement is not allowed here (SQLite action \(request.action))"
        }
    }
}
