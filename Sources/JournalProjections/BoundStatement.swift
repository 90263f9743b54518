import GRDB
import GRDBSQLite

/// A prepared statement run with values bound straight to SQLite, one after the other: a rebuild
/// writes millions of rows, and building statement arguments for each cost more than the insert.
struct BoundStatement {
    private let statement: Statement
    private let db: Database
    private var index: CInt = 0
    private var failure: CInt = SQLITE_OK

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

    /// Runs the statement with the values bound since the last run.
    mutating func run() throws {
        defer { index = 0 }
        let code = failure == SQLITE_OK ? sqlite3_step(statement.sqliteStatement) : failure
        let message = code == SQLITE_DONE ? nil : String(cString: sqlite3_errmsg(db.sqliteConnection))
        sqlite3_reset(statement.sqliteStatement)
        failure = SQLITE_OK
        if let message {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: statement.sql)
        }
    }
}
