import Foundation
import GRDB
import Journal
import SQLiteSettings

/// Opens the SQLite files that hold a journal, with the settings the journal's guarantees rest on.
///
/// - A file uses a `DatabasePool` in WAL mode with `synchronous=FULL`: a commit returns only after the
///   WAL has been fsync'ed, so an acknowledged append survives a process crash and a power loss
///   (a node's copy of a log shared in PostgreSQL: ``Durability/copy``).
/// - Transactions start `IMMEDIATE`, so appenders in several processes queue on the write lock
///   (up to ``Options/busyTimeout``) instead of failing on a stale read snapshot.
/// - The projections live in a file of their own beside the journal, `<journal>-projections`
///   (``projectionsPath(of:)``): folding them never takes the log's write lock, so an append never
///   waits for a fold. The journal's readers attach it as `projections`, so one read sees both;
///   its writer does not, so nothing that writes the log can write a projection.
/// - `:memory:` (``inMemory()``) is for tests; there the projections live in the journal's one database.
public enum JournalDatabase {
    public struct Options: Sendable {
        /// How long a writer waits for another process's write lock.
        public var busyTimeout: TimeInterval = 30
        /// SQLite page cache per connection, in KiB.
        public var cacheKiB: Int = 64 * 1024
        /// When a commit of the journal file returns.
        public var durability = Durability.full

        public init() {}
    }

    /// What setting SQLite's process-wide options returned as the program loaded (`SQLITE_OK`):
    /// SQLite counts no memory, a count that takes a lock shared by every connection at each
    /// allocation and free. Measured on a 1M-event rebuild, that lock took about 2 % of the processor time.
    public static var sqliteSettingsResult: Int32 { sqlite_settings_result() }

    /// When a commit of the journal file returns: SQLite's `synchronous` setting.
    public enum Durability: String, Sendable {
        /// Once the WAL is on disk (`FULL`): an acknowledged append survives a power loss.
        case full = "FULL"
        /// Before the WAL is on disk (`NORMAL`), still consistent after a crash: a power loss may take the
        /// last commits. For a copy of a log kept elsewhere, which takes them again from there.
        case copy = "NORMAL"
        /// Without waiting for the disk at all (`OFF`): benchmarks of the CPU path only.
        case off = "OFF"
    }

    /// The name under which the journal's readers see the projections' database.
    public static let projectionsSchema = "projections"

    /// The file that holds the projections of the journal at `journalPath`.
    public static func projectionsPath(of journalPath: String) -> String { journalPath + "-projections" }

    /// Opens (creating if needed) the journal file at `path` and its projections' file, and migrates both.
    public static func open(path: String, create: Bool = true, options: Options = Options()) throws(JournalError) -> any DatabaseWriter {
        if !create, !FileManager.default.fileExists(atPath: path) {
            throw .journalNotFound(path: path)
        }
        let projectionsPath = projectionsPath(of: path)
        do {
            let pool = try DatabasePool(path: path, configuration: configuration(options, attaching: projectionsPath))
            // Opening a pool turns its writer to synchronous=NORMAL (GRDB, as it sets up write-ahead
            // logging) after the connection's own settings: the journal's durability is set once more.
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = \(options.durability.rawValue)") }
            // Checked on the writer: the readers attach the projections' file, which may not exist yet.
            let tables = try pool.writeWithoutTransaction { db in
                try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
            }
            if !tables.isEmpty, !tables.contains("event") {
                throw JournalError.storage(
                    "\(path) is an SQLite database but not a journal (it has no event table); pass --db with a journal file")
            }
            try migrate(pool, with: JournalSchema.migrator)
            // A new projections file gives back the pages a rebuild frees (``reclaimFreePages(_:)``): the
            // setting must come before the file turns to write-ahead logging, which opening a pool does.
            if !FileManager.default.fileExists(atPath: projectionsPath) {
                let queue = try DatabaseQueue(path: projectionsPath)
                try queue.writeWithoutTransaction { db in
                    try db.execute(sql: "PRAGMA auto_vacuum = INCREMENTAL")
                    try db.execute(sql: "PRAGMA journal_mode = WAL")
                }
                try queue.close()
            }
            try migrate(openProjections(at: projectionsPath, journalPath: path, options: options), with: JournalSchema.projectionsMigrator)
            return pool
        } catch let error as JournalError {
            throw error
        } catch let error as DatabaseError {
            throw translate(error, path: path)
        } catch {
            throw .storage("cannot open the journal at \(path): \(error)")
        }
    }

    /// A fresh journal in memory, its projections in the same database.
    public static func inMemory(options: Options = Options()) throws(JournalError) -> any DatabaseWriter {
        do {
            let queue = try DatabaseQueue(configuration: configuration(options, attaching: nil))
            try JournalSchema.migrator.migrate(queue)
            try JournalSchema.projectionsMigrator.migrate(queue)
            return queue
        } catch {
            throw .storage("cannot create an in-memory journal: \(error)")
        }
    }

    /// The connection that writes the projections of the journal `writer` writes: a pool on the file its
    /// readers attach as ``projectionsSchema``, or `writer` itself when they attach none (in memory).
    public static func projectionWriter(for writer: any DatabaseWriter, function: DatabaseFunction? = nil) throws(JournalError) -> any DatabaseWriter {
        do {
            let attached = try writer.read { db in
                try Row.fetchAll(db, sql: "PRAGMA database_list").first { $0["name"] == projectionsSchema }?["file"] as String?
            }
            guard let attached, !attached.isEmpty else {
                if let function { writer.writeWithoutTransaction { db in db.add(function: function) } }
                return writer
            }
            return try openProjections(at: attached, journalPath: writer.path, options: Options(), function: function)
        } catch let error as JournalError {
            throw error
        } catch let error as DatabaseError {
            throw translate(error, path: writer.path)
        } catch {
            throw .storage("cannot open the projections of \(writer.path): \(error)")
        }
    }

    /// The projections' file: derived data, folded again from the log whenever it is lost, so its
    /// commits do not wait for the disk (`synchronous=NORMAL`: a power loss may take the last folds,
    /// and their checkpoints with them). Its connections see the journal read-only, attached as
    /// `journal` (a correction is folded with the event it corrects).
    static func openProjections(at path: String, journalPath: String, options: Options, function: DatabaseFunction? = nil) throws -> DatabasePool {
        var configuration = Configuration()
        configuration.busyMode = .timeout(options.busyTimeout)
        configuration.label = "projections"
        let cache = options.cacheKiB
        let journal = readOnlyURI(journalPath)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            try db.execute(sql: "PRAGMA cache_size = -\(cache)")
            // A fold's statement journals and small sorts stay in memory: in files, they were about a
            // fifth of the bytes each append's fold wrote. A rebuild sorts whole tables in files
            // (``ProjectionRunner``).
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
            // A rebuild's last commit (giving back the replaced generation's pages) passes every page it
            // moves through the WAL; once checkpointed, the WAL shrinks back to this size instead of
            // staying as large.
            try db.execute(sql: "PRAGMA journal_size_limit = \(64 << 20)")
            // The projections hold personal values only sealed or as pseudonyms, so freed pages need not be
            // overwritten: with it on (the default of some builds of SQLite), dropping a replaced generation
            // wrote every page it freed through the WAL.
            try db.execute(sql: "PRAGMA main.secure_delete = OFF")
            try db.execute(sql: "ATTACH DATABASE ? AS journal", arguments: [journal])
            if let function { db.add(function: function) }
        }
        return try DatabasePool(path: path, configuration: configuration)
    }

    /// Gives the free pages of the projections' file back to the file system — those of a generation a
    /// rebuild replaced — when the file was made with `auto_vacuum = INCREMENTAL` (every file made since
    /// it was introduced; an older one keeps its size until it is deleted and folded again).
    ///
    /// The file is switched to full auto-vacuum for one empty write: at that commit SQLite cuts the free
    /// pages at the file's end off at once and moves the pages in use from the end into the free ones
    /// before it, in one pass. `PRAGMA incremental_vacuum` would instead look each free page up in the
    /// free list — a search that grows with the list, so that the 3.9 million free pages of a rebuilt
    /// 10M-event journal took longer than the rebuild. Back to incremental afterwards, so that everyday
    /// folds do not move pages at every commit.
    public static func reclaimFreePages(_ projections: any DatabaseWriter) throws {
        try projections.writeWithoutTransaction { db in
            guard try Int.fetchOne(db, sql: "PRAGMA auto_vacuum") == 2,
                  try Int.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0 > 0
            else { return }
            try db.execute(sql: "PRAGMA auto_vacuum = FULL")
            do {
                try db.inTransaction(.immediate) {
                    try db.execute(sql: "CREATE TABLE reclaim_free_pages (x); DROP TABLE reclaim_free_pages")
                    return .commit
                }
            } catch {
                try? db.execute(sql: "PRAGMA auto_vacuum = INCREMENTAL")
                throw error
            }
            try db.execute(sql: "PRAGMA auto_vacuum = INCREMENTAL")
        }
    }

    /// `path` as an SQLite URI that opens the file read-only.
    public static func readOnlyURI(_ path: String) -> String {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        var escaped = ""
        for scalar in absolute.unicodeScalars {
            switch scalar {
            case "%", "?", "#": escaped += String(format: "%%%02X", scalar.value)
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return "file:\(escaped)?mode=ro"
    }

    private static func migrate(_ writer: any DatabaseWriter, with migrator: DatabaseMigrator) throws {
        do {
            try migrator.migrate(writer)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_ERROR {
            // Another process created the same new journal at the same moment; its migration won.
            try migrator.migrate(writer)
        }
    }

    /// Every connection's settings; the readers of a file journal also attach its projections.
    static func configuration(_ options: Options, attaching projectionsPath: String?) -> Configuration {
        var configuration = Configuration()
        configuration.busyMode = .timeout(options.busyTimeout)
        configuration.label = "journal"
        let synchronous = options.durability.rawValue
        let cache = options.cacheKiB
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(synchronous)")
            try db.execute(sql: "PRAGMA cache_size = -\(cache)")
            if let projectionsPath, db.configuration.readonly {
                try db.execute(sql: "ATTACH DATABASE ? AS \(projectionsSchema)", arguments: [projectionsPath])
            }
        }
        return configuration
    }

    static func translate(_ error: DatabaseError, path: String) -> JournalError {
        switch error.resultCode {
        case .SQLITE_NOTADB:
            return .storage("\(path) is not a journal: the file is not an SQLite database")
        case .SQLITE_CANTOPEN:
            return .storage("cannot open \(path): check that the directory exists and is writable")
        case .SQLITE_READONLY:
            return .storage("\(path) is read-only: appends need write access")
        case .SQLITE_FULL:
            return .storage("the disk holding \(path) is full; nothing was stored")
        case .SQLITE_BUSY:
            return .storage("\(path) is locked by another writer for longer than the busy timeout; retry")
        default:
            return .storage("database error on \(path): \(error.message ?? error.description)")
        }
    }
}
