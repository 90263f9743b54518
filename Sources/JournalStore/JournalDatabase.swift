import Foundation
import GRDB
import Journal

/// Opens the SQLite file that holds a journal, with the settings the journal's guarantees rest on.
///
/// - A file uses a `DatabasePool` in WAL mode with `synchronous=FULL`: a commit returns only after the
///   WAL has been fsync'ed, so an acknowledged append survives a process crash and a power loss.
/// - Transactions start `IMMEDIATE`, so appenders in several processes queue on the write lock
///   (up to ``Options/busyTimeout``) instead of failing on a stale read snapshot.
/// - `:memory:` (``inMemory()``) is for tests.
public enum JournalDatabase {
    public struct Options: Sendable {
        /// How long a writer waits for another process's write lock.
        public var busyTimeout: TimeInterval = 30
        /// SQLite page cache per connection, in KiB.
        public var cacheKiB: Int = 64 * 1024
        /// `synchronous=FULL` (durable) or `OFF` (benchmarks of the CPU path only).
        public var durable = true

        public init() {}
    }

    /// Opens (creating if needed) the journal file at `path` and migrates it.
    public static func open(path: String, create: Bool = true, options: Options = Options()) throws(JournalError) -> any DatabaseWriter {
        if !create, !FileManager.default.fileExists(atPath: path) {
            throw .journalNotFound(path: path)
        }
        do {
            let pool = try DatabasePool(path: path, configuration: configuration(options))
            let tables = try pool.read { db in
                try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
            }
            if !tables.isEmpty, !tables.contains("event") {
                throw JournalError.storage(
                    "\(path) is an SQLite database but not a journal (it has no event table); pass --db with a journal file")
            }
            do {
                try JournalSchema.migrator.migrate(pool)
            } catch let error as DatabaseError where error.resultCode == .SQLITE_ERROR {
                // Another process created the same new journal at the same moment; its migration won.
                try JournalSchema.migrator.migrate(pool)
            }
            return pool
        } catch let error as JournalError {
            throw error
        } catch let error as DatabaseError {
            throw translate(error, path: path)
        } catch {
            throw .storage("cannot open the journal at \(path): \(error)")
        }
    }

    /// A fresh journal in memory.
    public static func inMemory(options: Options = Options()) throws(JournalError) -> any DatabaseWriter {
        do {
            let queue = try DatabaseQueue(configuration: configuration(options))
            try JournalSchema.migrator.migrate(queue)
            return queue
        } catch {
            throw .storage("cannot create an in-memory journal: \(error)")
        }
    }

    static func configuration(_ options: Options) -> Configuration {
        var configuration = Configuration()
        configuration.busyMode = .timeout(options.busyTimeout)
        configuration.label = "journal"
        let synchronous = options.durable ? "FULL" : "OFF"
        let cache = options.cacheKiB
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(synchronous)")
            try db.execute(sql: "PRAGMA cache_size = -\(cache)")
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
