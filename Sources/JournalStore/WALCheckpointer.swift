import Dispatch
import Foundation
import GRDB
import GRDBSQLite
import Journal
import Synchronization

/// Copies a journal's write-ahead log into the journal file on a thread and a connection of its own,
/// so that no commit of this process's writer waits for a checkpoint.
///
/// SQLite's default has the connection that commits past 1,000 WAL pages copy them (and fsync the
/// journal file) before its commit returns: tens of milliseconds added to whichever append happens to
/// cross the line. ``attach()`` replaces that on the writer connection with a hook that only wakes
/// ``run()``, which copies in the background (`PASSIVE`: readers and writers carry on). Other processes
/// writing the same journal keep SQLite's default.
///
/// SQLite starts the log over only when it was copied whole and no reader still uses it, which a
/// background copy racing with commits and continuous reads seldom sees. So once the log is longer
/// than ``restartPages``, the rest (what was committed during the last copy) is copied between two
/// commits of the writer, and the log is started over as soon as the readers still in it are done.
///
/// ```swift
/// let checkpointer = try WALCheckpointer(store: store)
/// checkpointer.attach()
/// Thread { checkpointer.run() }.start()      // until close(); then detach()
/// ```
public final class WALCheckpointer: Sendable {
    public let store: EventStore
    /// WAL pages not yet copied that wake the checkpointer.
    public let pages: Int
    /// The log's length, in pages, from which it is started over: the restart holds appends up for
    /// one copy of what was committed during the last one and a short wait for readers, so it is
    /// done rarely — the log grows to about this size (4 KiB pages) meanwhile.
    public let restartPages: Int

    private let connection: Connection
    private let wake = DispatchSemaphore(value: 0)
    private let closed = Atomic<Bool>(false)
    private let requested = Atomic<Bool>(false)
    /// WAL frames copied by the last checkpoint (the log's size then, when it was copied whole).
    private let copied = Atomic<Int>(0)

    /// Opens a connection of its own to the journal `store` writes to.
    public init(store: EventStore, pages: Int = 1_000, restartPages: Int = 65_536) throws(JournalError) {
        self.store = store
        self.pages = pages
        self.restartPages = restartPages
        connection = try Connection(path: store.writer.path, readerWaitMs: 10)
    }

    /// Turns the writer connection's automatic checkpoints into wake-ups of ``run()``.
    /// The checkpointer must outlive the attachment: ``detach()`` before releasing it.
    public func attach() {
        let context = Unmanaged.passUnretained(self).toOpaque()
        store.writer.writeWithoutTransaction { db in
            _ = sqlite3_wal_hook(db.sqliteConnection, { context, _, _, frames in
                Unmanaged<WALCheckpointer>.fromOpaque(context!).takeUnretainedValue().logHas(Int(frames))
                return SQLITE_OK
            }, context)
        }
    }

    /// Gives the writer connection SQLite's automatic checkpoints back.
    public func detach() {
        store.writer.writeWithoutTransaction { db in _ = sqlite3_wal_autocheckpoint(db.sqliteConnection, 1_000) }
    }

    /// Called by the writer after each commit with the number of frames in the log.
    private func logHas(_ frames: Int) {
        let copied = copied.load(ordering: .relaxed)
        // A log shorter than what was copied has been started over.
        guard frames < copied || frames - copied >= pages else { return }
        if !requested.exchange(true, ordering: .acquiringAndReleasing) { wake.signal() }
    }

    /// Copies the log whenever the writer asks, until ``close()``. Blocks the calling thread.
    public func run() {
        while true {
            wake.wait()
            if closed.load(ordering: .acquiring) { return }
            requested.store(false, ordering: .releasing)
            checkpoint()
        }
    }

    /// Copies what the log holds from this checkpointer's connection. Once the log is longer than
    /// ``restartPages``, also copies the rest between two commits and starts the log over.
    public func checkpoint() {
        guard let bulk = try? connection.checkpoint(.passive) else { return }
        copied.store(bulk.copied, ordering: .relaxed)
        guard bulk.frames >= restartPages else { return }
        // In the writer's queue, so that no append of this process commits meanwhile; what was
        // committed during the copy above is copied now, then the restart waits (briefly) for readers.
        do {
            try store.writer.writeWithoutTransaction { _ in
                _ = try connection.checkpoint(.passive)
                _ = try connection.checkpoint(.restart)
            }
            copied.store(0, ordering: .relaxed)
        } catch {
            // A reader stayed in the log: the next wake-up tries again.
        }
    }

    /// Stops ``run()`` (a checkpoint under way completes first).
    public func close() {
        closed.store(true, ordering: .releasing)
        wake.signal()
    }

    /// A plain SQLite connection that only checkpoints.
    private final class Connection: @unchecked Sendable {
        private let handle: OpaquePointer

        /// `readerWaitMs`: how long a restart waits for readers still using the log (writers wait meanwhile).
        init(path: String, readerWaitMs: Int32) throws(JournalError) {
            var handle: OpaquePointer?
            let code = sqlite3_open_v2(path, &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nil)
            guard code == SQLITE_OK, let handle else {
                let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "code \(code)"
                sqlite3_close(handle)
                throw .storage("cannot open \(path) for checkpoints: \(message)")
            }
            // As durable as the journal's own checkpoints: the journal file is fsync'ed before the log is reused.
            sqlite3_exec(handle, "PRAGMA synchronous = FULL", nil, nil, nil)
            sqlite3_busy_timeout(handle, readerWaitMs)
            self.handle = handle
        }

        deinit { sqlite3_close(handle) }

        enum Mode {
            /// Copies what no reader still needs; waits for nobody.
            case passive
            /// Copies everything, waits (briefly) for readers to leave the log and starts it over;
            /// writers wait meanwhile. The file is kept: writing into it again costs no file growth.
            case restart
        }

        /// A checkpoint: the frames in the log and how many of them are in the journal file now.
        func checkpoint(_ mode: Mode) throws -> (frames: Int, copied: Int) {
            var frames: Int32 = 0
            var copied: Int32 = 0
            let code = sqlite3_wal_checkpoint_v2(
                handle, nil, mode == .passive ? SQLITE_CHECKPOINT_PASSIVE : SQLITE_CHECKPOINT_RESTART, &frames, &copied)
            guard code == SQLITE_OK else { throw JournalError.storage("checkpoint failed: \(String(cString: sqlite3_errmsg(handle)))") }
            return (Int(frames), Int(copied))
        }
    }
}
