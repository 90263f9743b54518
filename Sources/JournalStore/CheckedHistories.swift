import GRDB
import Journal
import Synchronization

/// What reads of customers have already checked (``EventStore/checkHistory(of:)``): per customer, how many of
/// its events hashed to their stored hashes — trusted for as long as no connection but this process's
/// writer has committed to the journal since, and the journal's schema is the one its migrations made.
///
/// An edit of a stored event needs either another connection's commit — the immutability triggers refuse
/// this process's writer — or a trigger of someone else's that makes the writer's own commits edit. So:
/// - The writer's `data_version` changes only with another connection's commit. The writer looks at it
///   after each of its own commits and whenever a read asks (``requestWriterLook(_:)``); a change starts a
///   new epoch, which forgets everything checked.
/// - A reader's `data_version` changes with any commit, the writer's too: a reader that sees it change
///   doubts, and until a look of the writer that began after the doubt, no read trusts what was checked —
///   each checks its customer's whole history.
/// - The memory is never trusted when the journal's triggers are not exactly those its migrations
///   create, or once a read finds the schema changed since the memory was made.
/// - A read that began before a new epoch neither trusts nor is remembered.
///
/// Edits of the file that bypass SQLite are found by the background chain check and `tpj verify`.
///
/// The memory of one connection pool is shared by all the ``EventStore``s made on it.
final class CheckedHistories: TransactionObserver, Sendable {
    private struct State {
        /// Changes whenever the writer notices another connection's commit; what was checked before is stale.
        var epoch = 0
        /// The writer's `data_version` at its last look.
        var writerDataVersion: Int
        /// The schema's version when the memory was made; nil once the memory may no longer be trusted.
        var schemaVersion: Int?
        /// The writer's looks begun so far.
        var looksBegun = 0
        /// While a reader doubts: the looks begun when it began to doubt. A look begun later ends the doubt.
        var doubtAfter: Int?
        /// Each reader connection's `data_version` at its last look, by the connection's name (a pool's
        /// readers are numbered as they are opened, so a reopened reader has a new name).
        var readers: [String: Int] = [:]
        /// Per customer: how many of its events (the first ones, in stream order) were checked, and in which epoch.
        var checked: [String: (epoch: Int, events: Int)] = [:]
    }

    /// Customers remembered at most; past it the memory starts over.
    static let capacity = 250_000

    private let state: Mutex<State>
    /// Whether a look of the writer has been asked for and has not begun yet.
    private let lookPending = Atomic<Bool>(false)

    private static let memories = Mutex<[ObjectIdentifier: (writer: WeakWriter, memory: CheckedHistories)]>([:])

    /// The triggers a journal's migrations create, name and SQL.
    private static let expectedTriggers: Result<[String], JournalError> = Result { () throws(JournalError) -> [String] in
        do {
            let queue = try DatabaseQueue()
            try JournalSchema.migrator.migrate(queue)
            return try queue.read(triggers)
        } catch {
            throw JournalError.storage("cannot make the journal's schema in memory: \(error)")
        }
    }

    /// The memory of the journal connections `writer`, made (and its observer added to the writer) on first use.
    static func of(_ writer: any DatabaseWriter) throws -> CheckedHistories {
        let key = ObjectIdentifier(writer)
        if let memory = memories.withLock({ $0[key].flatMap { $0.writer.value === writer ? $0.memory : nil } }) {
            return memory
        }
        let expected = try expectedTriggers.get()
        let memory = try writer.writeWithoutTransaction { db in
            let schemaIntact = try triggers(db) == expected
            let made = CheckedHistories(
                writerDataVersion: try dataVersion(db), schemaVersion: schemaIntact ? try schemaVersion(db) : nil)
            // Held weakly by the connection; the registry below holds it for as long as the pool lives.
            db.add(transactionObserver: made, extent: .observerLifetime)
            return made
        }
        return memories.withLock { memories in
            if let entry = memories[key], entry.writer.value === writer { return entry.memory }
            memories = memories.filter { $0.value.writer.value != nil }
            memories[key] = (WeakWriter(value: writer), memory)
            return memory
        }
    }

    private init(writerDataVersion: Int, schemaVersion: Int?) {
        state = Mutex(State(writerDataVersion: writerDataVersion, schemaVersion: schemaVersion))
    }

    /// The current epoch: a read takes it before its snapshot begins.
    var epoch: Int { state.withLock { $0.epoch } }

    /// What a read's look at its connection tells.
    struct Look {
        /// Whether the read may trust what was checked before.
        var trusts: Bool
        /// Whether the read should ask for a look of the writer: a doubt is waiting for one.
        var asksWriter: Bool
    }

    /// Looks at `db` (inside the read's transaction) for a read that took `epoch` before its snapshot began.
    /// A connection seen for the first time cannot tell whether anything changed, so it doubts too.
    func look(readingOn db: Database, since epoch: Int) throws -> Look {
        let version = try Self.dataVersion(db)
        let schema = try Self.schemaVersion(db)
        return state.withLock { state in
            if schema != state.schemaVersion { state.schemaVersion = nil }
            if state.readers.updateValue(version, forKey: db.description) != version { state.doubtAfter = state.looksBegun }
            let trusts = state.schemaVersion != nil && state.doubtAfter == nil && state.epoch == epoch
            return Look(trusts: trusts, asksWriter: state.doubtAfter != nil)
        }
    }

    /// Has the writer look (``writerLooks(on:)``) soon, without waiting for it: a read never waits for the
    /// writer, and no read trusts until the look has ended the doubt.
    func requestWriterLook(_ writer: any DatabaseWriter) {
        guard lookPending.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
        writer.asyncWriteWithoutTransaction { db in
            self.lookPending.store(false, ordering: .releasing)
            self.writerLooks(on: db)
        }
    }

    /// The writer's look at its own `data_version` (on the writer's connection, outside a transaction):
    /// another connection's commit since its last look starts a new epoch; a doubt begun before this look ends.
    func writerLooks(on db: Database) {
        let ticket = state.withLock { state in
            state.looksBegun += 1
            return state.looksBegun
        }
        let version = try? Self.dataVersion(db)
        state.withLock { state in
            if version != state.writerDataVersion {
                state.epoch += 1
                state.writerDataVersion = version ?? -1
            }
            if let doubtAfter = state.doubtAfter, ticket > doubtAfter { state.doubtAfter = nil }
        }
    }

    /// How many of the customer's events were checked in `epoch`.
    func checkedEvents(of customerId: String, in epoch: Int) -> Int {
        state.withLock { state in
            guard let known = state.checked[customerId], known.epoch == epoch else { return 0 }
            return known.events
        }
    }

    /// Remembers that the customer's first `events` events were checked, by a read that took `epoch`
    /// before its snapshot began; nothing when a new epoch has begun since.
    func remember(_ customerId: String, checked events: Int, in epoch: Int) {
        state.withLock { state in
            guard epoch == state.epoch, events > 0 else { return }
            if state.checked.count >= Self.capacity { state.checked.removeAll(keepingCapacity: true) }
            let before = state.checked[customerId].map { $0.epoch == epoch ? $0.events : 0 } ?? 0
            state.checked[customerId] = (epoch, max(events, before))
        }
    }

    private static func dataVersion(_ db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "PRAGMA data_version") ?? 0
    }

    private static func schemaVersion(_ db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "PRAGMA schema_version") ?? 0
    }

    /// Each trigger of `db`'s main schema: its name, table and SQL.
    private static func triggers(_ db: Database) throws -> [String] {
        try Row.fetchAll(db, sql: "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name").map {
            "\($0[0] as String? ?? "")\t\($0[1] as String? ?? "")\t\($0[2] as String? ?? "")"
        }
    }

    // MARK: The writer's commits

    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { false }
    func databaseDidChange(with event: DatabaseEvent) {}
    func databaseDidRollback(_ db: Database) {}
    func databaseDidCommit(_ db: Database) { writerLooks(on: db) }
}
