import Foundation
import Journal

#if os(Linux)
import Glibc
#else
import Darwin
#endif

/// One rebuild of a journal's projections at a time, across threads and processes: an exclusive
/// `flock` on `<journal>-rebuild.lock`, held for the rebuild and released when it ends or its process
/// dies. A second rebuild waits for the first. In-memory journals have one process and need no lock.
enum RebuildLock {
    static func holding<T>(journalPath path: String, _ body: () throws -> T) throws -> T {
        // Waiting, the lock is always taken.
        try holding(journalPath: path, waiting: true, body)!
    }

    /// Runs `body` holding the lock if no rebuild holds it now; nil (and `body` not run) otherwise.
    static func holdingIfFree<T>(journalPath path: String, _ body: () throws -> T) throws -> T? {
        try holding(journalPath: path, waiting: false, body)
    }

    private static func holding<T>(journalPath path: String, waiting: Bool, _ body: () throws -> T) throws -> T? {
        guard !path.isEmpty, path != ":memory:" else { return try body() }
        let lockPath = path + "-rebuild.lock"
        let descriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw JournalError.storage("cannot open the rebuild lock \(lockPath) (errno \(errno)); the journal's directory must be writable")
        }
        defer { close(descriptor) }
        while flock(descriptor, waiting ? LOCK_EX : LOCK_EX | LOCK_NB) != 0 {
            if !waiting && errno == EWOULDBLOCK { return nil }
            guard errno == EINTR else { throw JournalError.storage("cannot lock \(lockPath) (errno \(errno))") }
        }
        defer { flock(descriptor, LOCK_UN) }
        return try body()
    }
}
