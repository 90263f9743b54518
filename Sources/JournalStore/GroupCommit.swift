import Dispatch
import Foundation
import GRDB
import Journal
import Synchronization

/// Commits concurrent appends together: batches from many callers wait in a queue, and one writer
/// thread records all that are waiting in one transaction — one commit, one fsync for the group.
///
/// Each batch stays atomic and independent: it is recorded in a savepoint of its own, so a batch that
/// fails (a stale expected version, a reused event id, an unknown reference) is rolled back alone and
/// its caller gets its error, while the others commit. Validation runs on the caller's thread before
/// the batch joins the queue.
///
/// ```swift
/// let commits = GroupCommit(store: store)
/// Thread { commits.run() }.start()          // the writer thread, until close()
/// let result = try await commits.append(AppendBatch(customerId: "C-1001", events: events))
/// ```
public final class GroupCommit: Sendable {
    public let store: EventStore
    /// The most batches recorded in one transaction.
    public let maximumGroup: Int

    private struct Waiting {
        let batch: PreparedBatch
        let continuation: CheckedContinuation<AppendResult, any Error>
    }
    private struct State {
        var waiting: [Waiting] = []
        var closed = false
    }
    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)

    public init(store: EventStore, maximumGroup: Int = 256) {
        self.store = store
        self.maximumGroup = maximumGroup
    }

    /// Validates `batch` and records it with whatever other batches are waiting.
    ///
    /// - Throws: ``JournalError`` — as ``EventStore/append(_:)``; `storage` when the writer has stopped.
    public func append(_ batch: AppendBatch) async throws(JournalError) -> AppendResult {
        let prepared = try store.prepare([batch])[0]
        do {
            return try await withCheckedThrowingContinuation { continuation in
                let accepted = state.withLock { state -> Bool in
                    guard !state.closed else { return false }
                    state.waiting.append(Waiting(batch: prepared, continuation: continuation))
                    return true
                }
                if accepted {
                    wake.signal()
                } else {
                    continuation.resume(throwing: JournalError.storage("the journal's writer has stopped; the batch was not recorded"))
                }
            }
        } catch let error as JournalError {
            throw error
        } catch {
            throw .storage("append failed: \(error)")
        }
    }

    /// The writer loop: records the waiting batches group by group until ``close()``. Blocks the calling thread.
    public func run() {
        while true {
            wake.wait()
            let (group, closed) = state.withLock { state in
                let group = Array(state.waiting.prefix(maximumGroup))
                state.waiting.removeFirst(group.count)
                return (group, state.closed)
            }
            if group.isEmpty {
                if closed { return }
                continue
            }
            let outcomes: [Result<AppendResult, JournalError>]
            do {
                outcomes = try store.writeEach(group.map(\.batch))
            } catch {
                outcomes = group.map { _ in .failure(error) }
            }
            for (waiting, outcome) in zip(group, outcomes) {
                waiting.continuation.resume(with: outcome.mapError { $0 as any Error })
            }
        }
    }

    /// Stops the writer once the batches already waiting are recorded; later appends fail.
    public func close() {
        state.withLock { $0.closed = true }
        wake.signal()
    }
}
