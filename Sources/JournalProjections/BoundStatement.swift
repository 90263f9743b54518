import GRDB
import GRDBSQLite

/// A prepared statement run with values bound straight to SQLite, one after the other: a rebuild
/// writes millions of rows, and building statement arguments for each cost more than the insert.
struct BoundStatement {
    private let statement: Statement
    private let db: Database
    private var index: CInt = 0
    private var failure: CInt = SQLITE_OK
    /// The text bound since the last run.
    private let text = TextBuffer()

    init(_ db: Database, sql: String) throws {
        self.db = db
        statement = try db.cachedStatement(sql: sql)
    }

    /// Binds the next parameter; nil binds NULL.
    mutating func bind(_ value: (some StatementBinding)?) {
        index += 1
        let code = value.map { $0.bind(to: statement.sqliteStatement, at: index) } ?? sqlite3_bind_null(statement.sqliteStatement, index)
        if code != SQLITE_OK, failure == SQLITE_OK { failure = code }
    }

    /// Binds the next parameter to text; nil binds NULL. The bytes are copied once, into a buffer
    /// that outlives the run, with their length: SQLite neither counts them nor copies them again.
    mutating func bind(_ value: String?) {
        guard var value else { return bind(Int?.none) }
        index += 1
        let (statement, index, text) = (statement.sqliteStatement, index, text)
        let code = value.withUTF8 { bytes in
            sqlite3_bind_text(statement, index, text.copy(bytes), CInt(bytes.count), nil)
        }
        if code != SQLITE_OK, failure == SQLITE_OK { failure = code }
    }

    /// Runs the statement with the values bound since the last run.
    mutating func run() throws {
        defer { index = 0 }
        let code = failure == SQLITE_OK ? sqlite3_step(statement.sqliteStatement) : failure
        let message = code == SQLITE_DONE ? nil : String(cString: sqlite3_errmsg(db.sqliteConnection))
        sqlite3_reset(statement.sqliteStatement)
        // The statement is cached: it must not keep pointers into a buffer that is about to be reused.
        sqlite3_clear_bindings(statement.sqliteStatement)
        text.reuse()
        failure = SQLITE_OK
        if let message {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: statement.sql)
        }
    }
}

/// Bytes kept in place until ``reuse()``: what is copied in never moves, so SQLite can read it where
/// it is when the statement runs.
private final class TextBuffer {
    /// Each block and the bytes used of it; only the last one takes more.
    private var blocks: [(memory: UnsafeMutableRawBufferPointer, used: Int)] = []

    deinit {
        for block in blocks { block.memory.deallocate() }
    }

    /// A copy of `bytes`, valid until ``reuse()``.
    func copy(_ bytes: UnsafeBufferPointer<UInt8>) -> UnsafeRawPointer {
        if blocks.last.map({ $0.memory.count - $0.used < bytes.count }) ?? true {
            // Each block twice the one before, from 1 KiB: a statement run once per call (a catch-up's)
            // takes little.
            blocks.append((.allocate(byteCount: max(bytes.count, 2 * (blocks.last?.memory.count ?? 512)), alignment: 1), 0))
        }
        let last = blocks.count - 1
        let start = blocks[last].memory.baseAddress! + blocks[last].used
        if let source = bytes.baseAddress { start.copyMemory(from: source, byteCount: bytes.count) }
        blocks[last].used += bytes.count
        return UnsafeRawPointer(start)
    }

    /// Makes the space free for the next copies; keeps one block, as large as all of them together.
    func reuse() {
        guard blocks.count > 1 else {
            if !blocks.isEmpty { blocks[0].used = 0 }
            return
        }
        let needed = blocks.reduce(0) { $0 + $1.memory.count }
        for block in blocks { block.memory.deallocate() }
        blocks = [(.allocate(byteCount: needed, alignment: 1), 0)]
    }
}
