import GRDB
import Synchronization

/// What reads of customers have already checked (``EventStore/checkHistory(of:)``): per customer, how many of
/// its events hashed to their stored hashes — trusted for as long as no connection but this process's
/// writer has committed to the journal since.
///
/// An edit of a stored event needs a commit by another connection: the immutability triggers refuse this
/// process's writer. The writer's `data_version` changes only with another connection's commit; the writer
/// looks at it after each of its own commits and whenever a reader asks (``writerLooks(on:)``), and a
/// change forgets everything checked. A reader's `data_version` changes with any commit, the writer's too:
/// a reader that sees it change doubts, and until a look of the writer that began after the doubt, no
/// read trusts what was checked — each checks its customer's whole history, and the doubting reader has the
/// writer look. Edits of the file that bypass SQLite are found by the background chain check and `tpj verify`.
///
/// The memory of one connection pool is shared by all the ``EventStore``s made on it.
final class CheckedHistories: TransactionObserver, Sendable {
    private struct State {
        /// Changes whenever the writer notices another connection's commit; what was checked before is stale.
        var epoch = 0
        /// The writer's `data_version` at its last look.
        var writerDataVersion: Int
        /// The writer's looks begun so far.
        var looksBegun = 0
        /// While a reader doubts: the looks begun when it began to doubt. A look begun later ends the doubt.
        var doubtAfter: Int?
        /// Each reader connection's `data_version` at its last look.
        var readers: [ObjectIdentifier: Int] = [:]
        /// Per customer: how many of its events (the first ones, in stream order) were checked, and in which epoch.
        var checked: [String: (epoch: Int, events: Int)] = [:]
    }

    /// Customers remembered at most; past it the memory starts over.
    static let capacity = 250_000

    private let state: Mutex<State>

    private static let memories = Mutex<[ObjectIdentifier: (writer: WeakWriter, memory: CheckedHistories)]>([:])

    /// The memory of the journal connections `writer`, made (and its observer added to the writer) on first use.
    static func of(_ writer: any DatabaseWriter) throws -> CheckedHistories {
        let key = ObjectIdentifier(writer)
        if let memory = memories.withLock({ $0[key].flatMap { $0.writer.value === writer ? $0.memory : nil } }) {
            return memory
        }
        let memory = try writer.writeWithoutTransaction { db in
            let made = CheckedHistories(writerDataVersion: try dataVersion(db))
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

    private init(writerDataVersion: Int) {
        state = Mutex(State(writerDataVersion: writerDataVersion))
    }

    /// What a read's look at its connection tells.
    struct Look {
        /// The epoch when the read looked: what it checks is remembered for it.
        var epoch: Int
        /// Whether the read may trust what was checked before.
        var trusts: Bool
        /// When the reader began a doubt: the writer's looks begun by then. A look begun later ends it.
        var doubtAfter: Int?
    }

    /// Looks at `db`'s `data_version` (inside a read transaction, before anything else is read in it). A
    /// connection seen for the first time cannot tell whether anything changed, so it doubts too.
    func look(readingOn db: Database) throws -> Look {
        let version = try Self.dataVersion(db)
        let connection = ObjectIdentifier(db)
        return state.withLock { state in
            if state.readers.updateValue(version, forKey: connection) != version {
                state.doubtAfter = state.looksBegun
                return Look(epoch: state.epoch, trusts: false, doubtAfter: state.looksBegun)
            }
            return Look(epoch: state.epoch, trusts: state.doubtAfter == nil, doubtAfter: nil)
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

    /// Whether the writer has begun a look since `looks` looks had begun.
    func writerLooked(since looks: Int) -> Bool {
        state.withLock { $0.looksBegun > looks }
    }

    /// How many of the customer's events were checked in `epoch`.
    func checkedEvents(of customerId: String, in epoch: Int) -> Int {
        state.withLock { state in
            guard let known = state.checked[customerId], known.epoch == epoch else { return 0 }
            return known.events
        }
    }

    /// Remembers that the customer's first `events` events were checked, by a read that began in `epoch`.
    func remember(_ customerId: String, checked events: Int, in epoch: Int) {
        state.withLock { state in
            guard epoch == state.epoch else { return }
            if state.checked.count >= Self.capacity { state.checked.removeAll(keepingCapacity: true) }
            let before = state.checked[customerId].map { $0.epoch == epoch ? $0.events : 0 } ?? 0
            state.checked[customerId] = (epoch, max(events, before))
        }
    }

    private static func dataVersion(_ db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "PRAGMA data_version") ?? 0
    }

    // MARK: The writer's commits

    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { false }
    func databaseDidChange(with event: DatabaseEvent) {}
    func databaseDidRollback(_ db: Database) {}
    func databaseDidCommit(_ db: Database) { writerLooks(on: db) }
}
