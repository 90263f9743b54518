/// The log's contract: what every store of it promises, whichever database holds it.
///
/// - Positions are 1, 2, 3 … without a gap, in commit order: a reader that has seen position P has
///   seen every position before it.
/// - Stream versions are 1, 2, 3 … without a gap within each customer's stream.
/// - One call's batches are recorded together or not at all, each against its expected version.
/// - A re-send of a stored event (same id, same content) is recorded once and answered with its
///   stored position; an id reused with other content is refused.
/// - An event refers only to earlier events of its own customer.
/// - Every event is chained in the canonical form of ``EventChain``: the same events recorded at the
///   same instants get the same hashes in every store.
/// - Recorded events are never changed or removed, and the database itself refuses it.
public protocol JournalLog: Sendable {
    /// Records validated batches in one transaction: all of them, or — at the first that fails — none.
    ///
    /// - Throws: ``JournalError`` — `concurrencyConflict`, `eventIdReused`, `unknownReference`,
    ///   `clockAhead`, `storage`.
    func record(_ batches: [PreparedBatch]) async throws(JournalError) -> [AppendResult]

    /// Stores events recorded by another store of this log exactly as they are — positions, recording
    /// times, payload bytes and hashes — after checking that each extends this log at its end and
    /// hashes to its stored hash (``ChainWalk``): all of them, or none.
    ///
    /// - Throws: ``JournalError/invalidArgument(_:)`` naming the first event that does not extend this log.
    func recordVerbatim(_ events: [RecordedEvent]) async throws(JournalError)

    /// The position of the last event (0 for an empty log).
    func head() async throws(JournalError) -> Int64

    /// At most `limit` events after `position`, in global order.
    func readEvents(after position: Int64, limit: Int) async throws(JournalError) -> [RecordedEvent]

    /// The customer's events in stream order.
    func readHistory(of customerId: String) async throws(JournalError) -> [RecordedEvent]

    /// Walks the whole chain (``ChainWalk``) in one snapshot, up to the first event that breaks it.
    func verifyChain() async throws(JournalError) -> VerificationReport

    /// Readies the store to serve after many events were stored at once, as by a copy: work its
    /// database would otherwise do in the background while the first servers run on it.
    func settleAfterBulkLoad() async throws(JournalError)
}

extension JournalLog {
    /// A file needs nothing.
    public func settleAfterBulkLoad() async throws(JournalError) {}

    /// The event at `position`, if the log holds it.
    public func event(at position: Int64) async throws(JournalError) -> RecordedEvent? {
        guard position >= 1 else { return nil }
        return try await readEvents(after: position - 1, limit: 1).first { $0.position == position }
    }
}
