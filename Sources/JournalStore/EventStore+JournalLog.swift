import Journal

/// The SQLite journal under the log's contract, which a PostgreSQL journal also keeps.
extension EventStore: JournalLog {
    public func record(_ batches: [PreparedBatch]) async throws(JournalError) -> [AppendResult] {
        try write(batches)
    }

    public func readEvents(after position: Int64, limit: Int) async throws(JournalError) -> [RecordedEvent] {
        try events(after: position, limit: limit)
    }

    public func readHistory(of customerId: String) async throws(JournalError) -> [RecordedEvent] {
        try history(of: customerId)
    }

    public func verifyChain() async throws(JournalError) -> VerificationReport {
        try verify()
    }
}
