import Foundation
import Journal
import JournalPostgres
import JournalStore
import Logging
import Synchronization

/// One server's part in a log that several servers share in PostgreSQL (`tpj serve --db postgres://…`).
///
/// Every node appends to the shared log, and keeps a copy of it in a journal file of its own
/// (``store``) that it reads, folds its projections from and serves, so that no read waits for the
/// network. The copy follows the shared log live (`LISTEN tpj_log`), verbatim: the same positions,
/// recording times, bytes and hashes, each event checked against the chain before it is stored.
///
/// The keys that seal personal values are the shared ones (``PostgresKeys``), held in memory
/// (`KeyStore(copying:)`): the keys of a new subject are made in the database, where the first
/// node's win, and a destroyed key is forgotten as soon as its destruction is announced
/// (`LISTEN tpj_keys`). Before the copy stores a page of events sealed with a key it lacks, it takes
/// in the keys made since, which committed before those events did.
///
/// ```swift
/// let node = try await SharedLogNode.open(shared: journal, copyAt: "node.sqlite", name: "node-a")
/// async let copying: Void = node.run()
/// let result = try await node.append(batch)   // returns once the copy holds it
/// ```
public final class SharedLogNode: Sendable {
    /// The log every node appends to.
    public let shared: PostgresJournal
    /// The keys every node shares.
    public let sharedKeys: PostgresKeys
    /// This node's copy of the shared log, with the shared keys: what it reads and folds.
    public let store: EventStore
    /// This node's name, as the heads it signs name it.
    public let name: String
    /// The tokens and sessions every node shares, with what this node learnt of them kept until a
    /// token is revoked anywhere.
    public let tokens: CachedTokens
    /// How long ``append(_:)`` waits for the copy to hold what it recorded.
    public let copyTimeout: Double
    let commits: PostgresGroupCommit
    /// The position the copy holds.
    let copied = PositionProgress()
    /// The last change of the keys taken in.
    let keyCursor: Mutex<Int64>
    let logger: Logger

    private init(shared: PostgresJournal, store: EventStore, name: String, keyCursor: Int64, copyTimeout: Double, logger: Logger) {
        self.shared = shared
        self.name = name
        self.sharedKeys = PostgresKeys(journal: shared)
        self.store = store
        self.commits = PostgresGroupCommit(journal: shared)
        self.tokens = CachedTokens(PostgresAccessTokens(journal: shared))
        self.keyCursor = Mutex(keyCursor)
        self.copyTimeout = copyTimeout
        self.logger = logger
    }

    /// Opens the node: loads the shared keys (making the journal's secrets when the database has
    /// none), and opens the copy at `path`, making it when missing.
    ///
    /// - Throws: ``JournalError/invalidArgument(_:)`` when the copy holds events the shared log does not
    ///   (it belongs to another log, or the log was restored to an earlier point): a copy is never
    ///   changed, so the node refuses to start, and says to remove it.
    public static func open(
        shared: PostgresJournal, copyAt path: String, name: String, registry: SchemaRegistry = .bundled, clock: JournalClock = .live,
        copyTimeout: Double = 10, logger: Logger = Logger(label: "tpj.node")
    ) async throws(JournalError) -> SharedLogNode {
        let sharedKeys = PostgresKeys(journal: shared)
        _ = try await sharedKeys.secrets()
        let (material, through) = try await sharedKeys.changes(after: 0)
        let keys = try KeyStore(copying: material, clock: clock)
        // The copy's commits do not wait for the disk: what a power loss takes is copied again.
        var options = JournalDatabase.Options()
        options.durability = .copy
        let store = try EventStore(writer: JournalDatabase.open(path: path, create: true, options: options), keys: keys, registry: registry, clock: clock)
        let node = SharedLogNode(shared: shared, store: store, name: name, keyCursor: through, copyTimeout: copyTimeout, logger: logger)
        try await node.checkCopy()
        return node
    }

    /// Refuses a copy that is not a beginning of the shared log.
    private func checkCopy() async throws(JournalError) {
        let held = try store.head()
        copied.publish(held)
        guard held > 0 else { return }
        let ours = try await store.event(at: held)
        let theirs = try await shared.event(at: held)
        guard let ours, let theirs, ours.hash == theirs.hash else {
            throw .invalidArgument(
                "the copy \(store.path) holds \(held) events that are not the shared log's "
                    + (theirs == nil ? "(the shared log ends before \(held))" : "(event \(held) differs)")
                    + ": it belongs to another log, or the log was restored to an earlier point; remove it (and its -projections file) and start again, which copies the log anew")
        }
    }

    // MARK: Running

    /// Copies what the shared log holds beyond the copy, keys first, telling `progress` the position
    /// reached and the head after each page: what a node does before it serves.
    public func catchUp(pageSize: Int = 5_000, progress: (Int64, Int64) -> Void = { _, _ in }) async throws(JournalError) {
        let head = try await shared.head()
        // The keys of events up to that head committed before them.
        try await takeInKeyChanges()
        var position = try store.head()
        while position < head {
            let page = try await shared.readEvents(after: position, limit: min(pageSize, Int(head - position)))
            guard let last = page.last else { break }
            try store.recordVerbatim(page)
            position = last.position
            progress(position, head)
        }
        copied.publish(position)
    }

    /// Keeps the copy up to date and records appends, until the task is cancelled: follows the
    /// shared log, the destructions of keys and the revocations of tokens, and runs the group
    /// committer of appends. `erasuresCopied` is given, as a task of its own, the `erasure.performed`
    /// events of each page the copy takes in (whichever node erased): what each node does after an
    /// erasure, such as rebuilding what it derived from the erased values.
    public func run(erasuresCopied: @escaping @Sendable ([RecordedEvent]) async -> Void = { _ in }) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.followLog(erasuresCopied: erasuresCopied) }
            group.addTask { try await self.followKeys() }
            group.addTask { try await self.followRevocations() }
            group.addTask { await self.commits.run() }
            defer {
                commits.close()
                copied.close()
                group.cancelAll()
            }
            try await group.next()
        }
    }

    /// Copies each page of new events as the shared log announces it, keys first.
    private func followLog(erasuresCopied: @escaping @Sendable ([RecordedEvent]) async -> Void) async throws {
        try await retrying("following the shared log") {
            try await shared.follow(after: store.head()) { page in
                if !self.store.keys.holdsKeys(of: page) { try await self.takeInKeyChanges() }
                try self.store.recordVerbatim(page)
                if let last = page.last { self.copied.publish(last.position) }
                let erasures = page.filter { $0.type == "erasure.performed" }
                if !erasures.isEmpty { Task { await erasuresCopied(erasures) } }
                return !Task.isCancelled
            }
        }
    }

    /// Forgets destroyed keys as soon as their destruction is announced.
    private func followKeys() async throws {
        try await retrying("following the shared keys") {
            let cursor = keyCursor.withLock { $0 }
            try await sharedKeys.follow(after: cursor) { material, through in
                try self.takeIn(material, through: through)
                return !Task.isCancelled
            }
        }
    }

    /// Forgets what it knew of tokens whenever one is revoked, on any node or by `tpj token revoke`.
    private func followRevocations() async throws {
        let tokens = tokens
        try await retrying("following the revocations of tokens") {
            try await PostgresAccessTokens(journal: shared).followRevocations { tokens.forget() }
        }
    }

    /// Runs `follow` again after it fails — the database restarted, or failed over to its standby —
    /// a second later, from where the copy stands, until the task is cancelled. A copy that does not
    /// extend (another log behind the address) is not retried: the node stops.
    private func retrying(_ doing: String, _ follow: () async throws -> Void) async throws {
        while !Task.isCancelled {
            do {
                try await follow()
                return
            } catch JournalError.invalidArgument(let message) {
                throw JournalError.invalidArgument(message)
            } catch {
                logger.error("\(doing) failed; starting again in a second", metadata: ["error": "\(error)"])
                do { try await Task.sleep(for: .seconds(1)) } catch { return }
            }
        }
    }

    /// Takes in what changed in the shared keys since the last change taken in.
    func takeInKeyChanges() async throws(JournalError) {
        let (material, through) = try await sharedKeys.changes(after: keyCursor.withLock { $0 })
        try takeIn(material, through: through)
    }

    /// Takes in changes up to `through`, unless later ones were taken in meanwhile: each set of
    /// changes is the keys' state at its number, so an older one must not follow a newer one.
    private func takeIn(_ material: KeyMaterial, through: Int64) throws(JournalError) {
        try keyCursor.withLock { (cursor: inout Int64) throws(JournalError) in
            guard through > cursor else { return }
            try store.keys.adopt(material)
            cursor = through
        }
    }

    // MARK: Writing

    /// Validates `batch`, sealing its personal values with shared keys (made in the database first for
    /// new subjects), records it in the shared log with whatever other appends are waiting, and
    /// returns once this node's copy holds it: what it appended, this node reads at once.
    ///
    /// - Throws: ``JournalError`` — as ``PostgresJournal/record(_:)``; `storage` when the copy has not
    ///   reached the append within ``copyTimeout`` (the append is recorded).
    public func append(_ batch: AppendBatch) async throws(JournalError) -> AppendResult {
        let scopes = store.validator.keyScopes(of: [(batch.customerId, batch.events)])
        let proposal = store.keys.proposeKeys(for: scopes)
        if !proposal.isEmpty {
            try store.keys.adopt(await sharedKeys.store(proposal))
        }
        let prepared = try store.prepare([batch])
        let result = try await commits.record(prepared)[0]
        if let last = result.positions.max(), !(await copied.wait(for: last, timeout: copyTimeout)) {
            throw .storage("the events were recorded at \(result.positions.map(String.init).joined(separator: ", ")) "
                + "but this node's copy has not reached them within \(Int(copyTimeout)) s")
        }
        return result
    }

    /// Destroys every key of `subject` in the shared keys, and forgets them here at once; every
    /// other node forgets them when the destruction is announced.
    public func eraseKeys(of subject: DataSubject) async throws(JournalError) -> KeyStore.Destruction {
        let years = try store.keys.keyYears(of: subject)
        let destruction = try await sharedKeys.erase(subjectHash: store.keys.subjectHash(of: subject))
        try store.keys.adopt(destruction)
        return KeyStore.Destruction(keys: destruction.destroyed.count, years: destruction.destroyed.isEmpty ? [] : years)
    }

    /// The shared log's head.
    public func head() async throws(JournalError) -> Int64 {
        try await shared.head()
    }

    // MARK: Signed tree heads

    /// Signs tree heads for every node while this node holds the lease to, and takes in the heads
    /// signed by whichever node holds it, until the task is cancelled. Looks every third of the
    /// lease (renewing it when held); signs once `interval` has passed since the last head and the
    /// log has grown since. A node that dies stops renewing; another takes the lease over once it has
    /// expired, and signs from then on.
    public func signHeads(every interval: Duration, lease: PostgresLease) async {
        let look = min(interval, .seconds(lease.seconds / 3))
        while !Task.isCancelled {
            do {
                try await signHeadIfDue(every: interval, lease: lease)
            } catch {
                logger.error("signing or taking in tree heads failed; trying again", metadata: ["error": "\(error)"])
            }
            do { try await Task.sleep(for: look) } catch { return }
        }
    }

    /// Takes in the heads signed elsewhere; when holding `lease`, signs one over the copy if the log
    /// grew and `interval` has passed since the last (nil: whenever it grew). Returns the head signed.
    @discardableResult
    public func signHeadIfDue(every interval: Duration?, lease: PostgresLease) async throws(JournalError) -> SignedTreeHead? {
        let heads = PostgresTreeHeads(journal: shared)
        try await takeInHeads()
        guard try await lease.acquire() else { return nil }
        let last = try store.latestTreeHead()
        guard try store.head() > last?.treeSize ?? 0 else { return nil }
        if let interval, let last, store.clock.now().microseconds - last.signedAt.microseconds < interval.microseconds { return nil }
        let head = try store.signUnrecordedTreeHead()
        try await heads.record(head, signedBy: lease.holder)
        try store.recordTreeHeads([head])
        logger.info("signed a tree head", metadata: ["treeSize": "\(head.treeSize)", "node": "\(lease.holder)"])
        return head
    }

    /// A head over the whole copy, kept in the shared heads: the latest when it covers the copy, else
    /// one this node signs now (evidence covers every event the node answers). Signed in between by
    /// the lease's holder, the head is taken in, and looked at again.
    public func currentHead() async throws(JournalError) -> SignedTreeHead {
        let heads = PostgresTreeHeads(journal: shared)
        var attempt = 0
        while true {
            try await takeInHeads()
            if let latest = try store.latestTreeHead(), latest.treeSize == (try store.head()) { return latest }
            let head = try store.signUnrecordedTreeHead()
            do {
                try await heads.record(head, signedBy: name)
            } catch {
                attempt += 1
                if attempt < 3 { continue }
                throw error
            }
            try store.recordTreeHeads([head])
            return head
        }
    }

    /// Takes the heads signed since the copy's last one into the copy, as far as it holds the log.
    public func takeInHeads() async throws(JournalError) {
        let signed = try await PostgresTreeHeads(journal: shared).heads(signedAfter: store.latestTreeHead()?.signedAt)
        try store.recordTreeHeads(signed.map(\.head))
    }
}

extension Duration {
    /// The whole microseconds of the duration.
    var microseconds: Int64 {
        components.seconds * 1_000_000 + components.attoseconds / 1_000_000_000_000
    }
}
