import Journal
import JournalStore

/// A log that several servers share, of which the server's store is a copy (`tpj serve --db
/// postgres://…`): appends and the destruction of keys go to it. The copy follows it on its own,
/// started before the server and stopped after it, so that appends in flight at shutdown complete.
public protocol SharedLog: Sendable {
    /// Records `batch` in the shared log; returns once the server's copy holds it.
    func append(_ batch: AppendBatch) async throws(JournalError) -> AppendResult

    /// Destroys the keys of `subject` where every server's keys come from.
    func eraseKeys(of subject: DataSubject) async throws(JournalError) -> KeyStore.Destruction

    /// The shared log's head: the newest position a reader may wait for.
    func head() async throws(JournalError) -> Int64

    /// A signed head over the whole copy, kept with the shared log's heads (and in the copy).
    func currentHead() async throws(JournalError) -> SignedTreeHead
}

