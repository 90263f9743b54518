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
        guard !path.isEmpty, path != ":memory:" else { return try body() }
        let lockPath = path + "-rebuild.lock"
        let descriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw JournalError.storage("cannot open the rebuild lock \(lockPath) (errno \(errno)); the journal's directory must be writable")
        }
        defer { close(descriptor) }
        while flock(descriptor, LOCK_EX) != 0 {
            guard errno == EINTR else { throw JournalError.storage("cannot lock \(lockPath) (errno \(errno))") }
        }
        defer { flock(descriptor, LOCK_UN) }
        return try body()
    }
}
