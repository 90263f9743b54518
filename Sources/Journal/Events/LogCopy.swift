/// Copies a log into another store verbatim — the same positions, recording times, payload bytes and
/// hashes — a page at a time, each page one transaction of the target.
///
/// Resumable: a target that already holds the first N events of the source (an earlier copy that was
/// interrupted, or one the source has grown past) is continued after N. A target whose events differ
/// from the source's is refused.
///
/// ```swift
/// let copied = try await LogCopy(from: sqlite, to: postgres).run { done, head in print(done, head) }
/// ```
public struct LogCopy: Sendable {
    public let source: any JournalLog
    public let target: any JournalLog
    /// Events per page (one transaction of the target).
    public var pageSize = 5_000

    public init(from source: any JournalLog, to target: any JournalLog) {
        self.source = source
        self.target = target
    }

    /// What a copy did.
    public struct Outcome: Sendable, Hashable {
        /// The target's head before the copy: the events it held already.
        public var resumedAfter: Int64
        /// Events copied by this run.
        public var copied: Int64
        /// The head both logs now share, and its hash.
        public var head: Int64
        public var headHash: [UInt8]?

        public init(resumedAfter: Int64, copied: Int64, head: Int64, headHash: [UInt8]?) {
            self.resumedAfter = resumedAfter
            self.copied = copied
            self.head = head
            self.headHash = headHash
        }
    }

    /// Copies what the target lacks; `progress` is told the position reached and the source's head
    /// after each page.
    ///
    /// - Throws: ``JournalError/invalidArgument(_:)`` when the target holds events the source does not
    ///   (more of them, or other ones).
    public func run(progress: (Int64, Int64) -> Void = { _, _ in }) async throws(JournalError) -> Outcome {
        let sourceHead = try await source.head()
        let targetHead = try await target.head()
        var lastHash: [UInt8]?
        if targetHead > 0 {
            guard targetHead <= sourceHead else {
                throw .invalidArgument("the target holds \(targetHead) events, the source only \(sourceHead): it is not a copy of this log")
            }
            let theirs = try await target.event(at: targetHead)
            let ours = try await source.event(at: targetHead)
            guard let theirs, let ours, theirs.hash == ours.hash else {
                throw .invalidArgument(
                    "the target's event \(targetHead) differs from the source's (hash \(Hex.encode((theirs?.hash ?? []).prefix(8)))…, "
                        + "source \(Hex.encode((ours?.hash ?? []).prefix(8)))…): it is not a copy of this log")
            }
            lastHash = ours.hash
        }
        var position = targetHead
        while position < sourceHead {
            let page = try await source.readEvents(after: position, limit: max(1, min(pageSize, Int(sourceHead - position))))
            guard let last = page.last else { break }
            try await target.recordVerbatim(page)
            position = last.position
            lastHash = last.hash
            progress(position, sourceHead)
        }
        return Outcome(resumedAfter: targetHead, copied: position - targetHead, head: position, headHash: lastHash)
    }
}
