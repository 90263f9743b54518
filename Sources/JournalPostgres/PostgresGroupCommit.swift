import Journal
import Synchronization

/// Commits concurrent appends to a PostgreSQL journal together: every append holds the log's head
/// until it commits, so appends one by one take turns, a wait for the disk each. Calls that arrive
/// while an append runs wait here, and the next one records all of them
/// (``PostgresJournal/recordEach(_:)``): one commit for the group, each call still all or nothing.
///
/// ```swift
/// let commits = PostgresGroupCommit(journal: journal)
/// async let writer: Void = commits.run()                 // until close()
/// let results = try await commits.record(prepared)
/// ```
public final class PostgresGroupCommit: Sendable {
    public let journal: PostgresJournal
    /// The most calls recorded in one transaction.
    public let maximumGroup: Int

    private struct Waiting {
        let batches: [PreparedBatch]
        let continuation: CheckedContinuation<Result<[AppendResult], JournalError>, Never>
    }
    private struct State {
        var waiting: [Waiting] = []
        var closed = false
    }
    private let state = Mutex(State())
    private let (wakeUps, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))

    public init(journal: PostgresJournal, maximumGroup: Int = 256) {
        self.journal = journal
        self.maximumGroup = maximumGroup
    }

    /// Records `batches` as one call with whatever other calls are waiting.
    ///
    /// - Throws: ``JournalError`` — as ``PostgresJournal/record(_:)``; `storage` once ``close()`` was called.
    public func record(_ batches: [PreparedBatch]) async throws(JournalError) -> [AppendResult] {
        let outcome = await withCheckedContinuation { continuation in
            let accepted = state.withLock { state in
                guard !state.closed else { return false }
                state.waiting.append(Waiting(batches: batches, continuation: continuation))
                return true
            }
            if accepted {
                wake.yield()
            } else {
                continuation.resume(returning: .failure(.storage("the journal's writer has stopped; the batches were not recorded")))
            }
        }
        return try outcome.get()
    }

    /// Records the waiting calls, group by group, until ``close()``; then the ones still waiting.
    public func run() async {
        for await _ in wakeUps {
            // Read before draining: every call accepted before close() is then among those drained.
            let closed = state.withLock { $0.closed }
            await drain()
            if closed { return }
        }
        await drain()
    }

    private func drain() async {
        while true {
            let group = state.withLock { state in
                let group = Array(state.waiting.prefix(maximumGroup))
                state.waiting.removeFirst(group.count)
                return group
            }
            if group.isEmpty { return }
            let outcomes = await journal.recordEach(group.map(\.batches))
            for (waiting, outcome) in zip(group, outcomes) { waiting.continuation.resume(returning: outcome) }
        }
    }

    /// Stops ``run()`` once the calls already waiting are recorded; later calls fail.
    public func close() {
        state.withLock { $0.closed = true }
        wake.yield()
        wake.finish()
    }
}
