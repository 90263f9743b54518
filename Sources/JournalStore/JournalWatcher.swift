import Foundation
import GRDB
import Journal

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Wakes when a journal changes, whichever process changed it.
///
/// - Appends through the connections of the store it watches (every ``EventStore`` made on them)
///   wake it the moment they commit (``CommitSignal``).
/// - Other processes' commits, and those of other connections to the same file, are file events: every append writes the journal's write-ahead log
///   (`<journal>-wal`), every projection step that of the projections' file
///   (`<journal>-projections-wal`), and a WAL checkpoint writes the file itself; the watcher listens
///   for all four with inotify on the journal's directory. Where there is no inotify (macOS), or for a
///   journal in memory, it wakes for its own connections' appends only, and callers that wait with a
///   timeout find other processes' commits when it ends.
///
/// Changes queue from the moment the watcher exists, so a change that happens between reading the log
/// and calling ``wait(timeout:)`` is never missed.
///
/// ```swift
/// let watcher = try JournalWatcher(watching: store)
/// while try store.head() < position { _ = watcher.wait(timeout: 10) }
/// ```
public final class JournalWatcher: @unchecked Sendable {
    /// The inotify descriptor (nil without inotify, or for a journal in memory).
    private let notifications: Int32?
    private let wakePipe: (read: Int32, write: Int32)
    private let watchedNames: Set<String>
    private let commits: CommitSignal
    private let listener: Int

    /// Watches the journal `store` writes to: appends through its connections, and the files of the
    /// journal and its projections for other processes' commits.
    public init(watching store: EventStore) throws(JournalError) {
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { throw .storage("cannot watch \(store.path): pipe failed (errno \(errno))") }
        for end in ends {
            _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
        }
        wakePipe = (ends[0], ends[1])
        do {
            (notifications, watchedNames) = try Self.watchFiles(of: store.path)
        } catch {
            close(ends[0])
            close(ends[1])
            throw error
        }
        commits = store.commits
        let wake = ends[1]
        listener = commits.add {
            var byte: UInt8 = 1
            _ = write(wake, &byte, 1)
        }
    }

    /// Starts inotify on the directory of the journal at `journalPath`; nil for a journal in memory or
    /// where there is no inotify.
    private static func watchFiles(of journalPath: String) throws(JournalError) -> (Int32?, Set<String>) {
        #if os(Linux)
        guard journalPath != ":memory:", !journalPath.isEmpty else { return (nil, []) }
        let url = URL(fileURLWithPath: journalPath)
        let directory = url.deletingLastPathComponent().path
        let name = url.lastPathComponent
        let projections = URL(fileURLWithPath: JournalDatabase.projectionsPath(of: journalPath)).lastPathComponent
        let descriptor = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard descriptor >= 0 else { throw .storage("cannot watch \(journalPath): inotify_init1 failed (errno \(errno))") }
        let mask = UInt32(IN_MODIFY) | UInt32(IN_CREATE) | UInt32(IN_MOVED_TO) | UInt32(IN_CLOSE_WRITE)
        guard inotify_add_watch(descriptor, directory, mask) >= 0 else {
            let code = errno
            close(descriptor)
            throw .storage("cannot watch the directory \(directory) of \(journalPath) (errno \(code))")
        }
        return (descriptor, [name, name + "-wal", projections, projections + "-wal"])
        #else
        return (nil, [])
        #endif
    }

    deinit {
        // First: once removed, no commit writes to the pipe any more.
        commits.remove(listener)
        if let notifications { close(notifications) }
        close(wakePipe.read)
        close(wakePipe.write)
    }

    /// Blocks until the journal changes, ``interrupt()`` is called, or `timeout` seconds pass (nil: no
    /// limit). Returns true when something changed or the wait was interrupted. All changes queued so
    /// far are consumed: many appends wake one wait.
    @discardableResult
    public func wait(timeout: Double? = nil) -> Bool {
        let deadline = timeout.map { Date().addingTimeInterval($0) }
        while true {
            let milliseconds = deadline.map { Int32(max(0, min(Double(Int32.max), $0.timeIntervalSinceNow * 1000).rounded(.up))) } ?? -1
            var descriptors = [pollfd(fd: wakePipe.read, events: Int16(POLLIN), revents: 0)]
            if let notifications { descriptors.append(pollfd(fd: notifications, events: Int16(POLLIN), revents: 0)) }
            let ready = poll(&descriptors, nfds_t(descriptors.count), milliseconds)
            if ready < 0, errno == EINTR { continue }
            guard ready > 0 else { return false }
            if descriptors[0].revents != 0 {
                drain(wakePipe.read)
                if notifications != nil { _ = drainNotifications() }
                return true
            }
            if drainNotifications() { return true }
            if let deadline, deadline.timeIntervalSinceNow <= 0 { return false }
        }
    }

    /// The descriptor ``interrupt()`` writes a byte to; writing to it from a signal handler wakes the wait
    /// the same way (`write` is async-signal-safe).
    public var interruptDescriptor: Int32 { wakePipe.write }

    /// Wakes a thread blocked in ``wait(timeout:)`` (e.g. to stop a follower); a later wait returns at once.
    public func interrupt() {
        var byte: UInt8 = 1
        _ = write(wakePipe.write, &byte, 1)
    }

    /// Reads every queued file event; true if one is about the journal's files.
    private func drainNotifications() -> Bool {
        #if os(Linux)
        guard let notifications else { return false }
        var relevant = false
        let capacity = 64 * 1024
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
        defer { buffer.deallocate() }
        while true {
            let count = read(notifications, buffer, capacity)
            guard count > 0 else { return relevant }
            var offset = 0
            let header = MemoryLayout<inotify_event>.size
            while offset + header <= count {
                let event = buffer.load(fromByteOffset: offset, as: inotify_event.self)
                // A full queue drops notifications: treat it as a change, so no append goes unnoticed.
                if event.mask & UInt32(IN_Q_OVERFLOW) != 0 { relevant = true }
                let nameLength = Int(event.len)
                if nameLength > 0 {
                    let name = String(cString: buffer.advanced(by: offset + header).assumingMemoryBound(to: CChar.self))
                    if watchedNames.contains(name) { relevant = true }
                }
                offset += header + nameLength
            }
        }
        #else
        return false
        #endif
    }

    private func drain(_ descriptor: Int32) {
        var bytes = [UInt8](repeating: 0, count: 64)
        while read(descriptor, &bytes, bytes.count) > 0 {}
    }
}
