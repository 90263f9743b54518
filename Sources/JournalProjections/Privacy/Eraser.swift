import Foundation
import GRDB
import Journal
import JournalStore

/// Erases a data subject from a journal that cannot delete: destroys the subject's keys (so every
/// sealed value of it reads `[erased]` wherever it is copied — timelines, caches, exports), rebuilds
/// the declared projections whose tables held its pseudonyms, and records `erasure.performed`.
/// No hashed byte changes: `verify`, anchors and proofs taken before stay valid.
public struct Eraser: Sendable {
    /// The stream of journal-wide privacy events: employees' erasures and retention runs.
    public static let privacyStream = "journal:privacy"

    /// The longest reason `erasure.performed` records.
    public static let longestReason = 500

    public let store: EventStore
    public let declared: [DeclaredProjection]

    public init(store: EventStore, declared: [DeclaredProjection]) {
        self.store = store
        self.declared = declared
    }

    /// What an erasure did.
    public struct Report: Sendable {
        public var subject: DataSubject
        /// The stream the erasure was recorded in.
        public var stream: String
        /// The position of the `erasure.performed` event.
        public var position: Int64
        public var keysDestroyed: Int
        public var years: [Int]
        /// Declared projections rebuilt because their tables held the subject's pseudonyms.
        public var rebuilt: [String]

        public var document: JSONValue {
            .object([
                JSONMember("subject", .string(subject.kindName)),
                JSONMember("stream", .string(stream)),
                JSONMember("position", .number(JSONNumber(position))),
                JSONMember("keysDestroyed", .number(JSONNumber(Int64(keysDestroyed)))),
                JSONMember("years", .array(years.map { .number(JSONNumber(Int64($0))) })),
                JSONMember("rebuilt", .array(rebuilt.map(JSONValue.string))),
            ])
        }
    }

    /// Erases `subject`, recording `reason` (which must not name the person) and `actor` (who asked).
    ///
    /// - Throws: ``JournalError/invalidArgument(_:)`` for a customer without events or an employee with no
    ///   sealed value (a misspelt name erases nothing); ``JournalError/invalidEvent(_:)`` for a bad reason,
    ///   before anything is destroyed.
    public func erase(_ subject: DataSubject, reason: String, actor: String?, progress: ((String) -> Void)? = nil) throws -> Report {
        let plan = try plan(subject, reason: reason, actor: actor)
        let destruction = try store.keys.erase(subject)
        // Recorded at once: keys destroyed are never left without their event, even if a rebuild fails.
        let result = try store.append([plan.record(destruction)], to: plan.stream)
        try finish(plan, progress: progress)
        return plan.report(destruction, position: result.positions.last ?? 0)
    }

    /// An erasure checked and ready: what it records, where, and which declared projections it rebuilds.
    /// Its steps, in order: destroy the keys, append ``record(_:)`` to ``stream``, ``Eraser/finish(_:progress:)``.
    public struct Plan: Sendable {
        public let subject: DataSubject
        /// The stream the erasure is recorded in.
        public let stream: String
        /// Declared projections whose tables hold the subject's pseudonyms.
        public let holding: [String]
        let payload: [JSONMember]
        let reason: String
        let actor: String?
        let clock: JournalClock

        /// The `erasure.performed` event of the keys' `destruction`.
        public func record(_ destruction: KeyStore.Destruction) -> ProposedEvent {
            let now = clock.now()
            return ProposedEvent(
                eventId: EventID.version7(milliseconds: now.microseconds / 1000, random: (.random(in: 0...UInt64.max), .random(in: 0...UInt64.max))).rawValue,
                type: "erasure.performed", occurredAt: now.rfc3339, actor: actor, source: "tpj erase",
                payload: .object(payload + [
                    JSONMember("keysDestroyed", .number(JSONNumber(Int64(destruction.keys)))),
                    JSONMember("years", .array(destruction.years.map { .number(JSONNumber(Int64($0))) })),
                    JSONMember("reason", .string(reason)),
                    JSONMember("derivedRebuilt", .array(holding.map(JSONValue.string))),
                ]))
        }

        /// What the erasure did, its event recorded at `position`.
        public func report(_ destruction: KeyStore.Destruction, position: Int64) -> Report {
            Report(subject: subject, stream: stream, position: position, keysDestroyed: destruction.keys, years: destruction.years, rebuilt: holding)
        }
    }

    /// Checks an erasure of `subject` and plans it; destroys nothing.
    ///
    /// - Throws: as ``erase(_:reason:actor:progress:)``.
    public func plan(_ subject: DataSubject, reason: String, actor: String?) throws -> Plan {
        let reasonLength = reason.count
        guard reasonLength <= Self.longestReason else {
            throw JournalError.invalidArgument("the reason has \(reasonLength) characters; at most \(Self.longestReason) (it is recorded in the log); nothing was erased")
        }
        let keys = store.keys
        let stream: String
        let pseudonyms: Set<String>
        switch subject {
        case .customer(let customerId):
            let history = try store.history(of: customerId)
            guard !history.isEmpty else { throw JournalError.invalidArgument("no customer \(customerId) in this journal; nothing was erased") }
            stream = customerId
            pseudonyms = keys.pseudonyms(of: subject, in: history.map(\.payload))
        case .employee(let name):
            guard let pseudonym = keys.pseudonym(of: name, subject: subject) else {
                throw JournalError.invalidArgument(
                    "no personal value of \(subject) is sealed in this journal (never recorded under this exact name, or erased before); nothing was erased")
            }
            stream = Self.privacyStream
            pseudonyms = [pseudonym]
        }
        var payload: [JSONMember] = [JSONMember("subjectKind", .string(subject.kindName))]
        if case .employee = subject { payload.append(JSONMember("subjectRef", .string(keys.reference(of: subject)))) }
        let plan = Plan(
            subject: subject, stream: stream, holding: try projectionsHolding(pseudonyms), payload: payload, reason: reason, actor: actor, clock: store.clock)
        // The record is checked (not sealed: no key is made for it yet) before any key is destroyed:
        // a bad reason destroys nothing.
        _ = try EventValidator(registry: store.validator.registry).prepare([plan.record(KeyStore.Destruction(keys: 0, years: []))], customerId: stream)
        return plan
    }

    /// Rebuilds the declared projections that held the subject's pseudonyms, once its keys are destroyed.
    public func finish(_ plan: Plan, progress: ((String) -> Void)? = nil) throws {
        guard !plan.holding.isEmpty else { return }
        progress?("rebuilding \(plan.holding.joined(separator: ", ")), which held pseudonyms of \(plan.subject.kindName)")
        try ProjectionRunner.builtIn(store: store, declared: declared).rebuild(plan.holding)
    }

    /// The declared projections the erasures among `events` rebuilt (`derivedRebuilt`), each once:
    /// what a node rebuilds too when its copy of a shared log takes the erasures in.
    public static func projectionsRebuilt(by events: [RecordedEvent]) -> [String] {
        var names: [String] = []
        for event in events where event.type == "erasure.performed" {
            guard case .array(let rebuilt)? = event.payloadJSON["derivedRebuilt"] else { continue }
            for name in rebuilt.compactMap(\.stringValue) where !names.contains(name) { names.append(name) }
        }
        return names
    }

    /// The declared projections with one of `pseudonyms` in a text column of their tables.
    func projectionsHolding(_ pseudonyms: Set<String>) throws -> [String] {
        guard !pseudonyms.isEmpty, !declared.isEmpty else { return [] }
        let values = pseudonyms.sorted()
        let list = Array(repeating: "?", count: values.count).joined(separator: ", ")
        return try store.projectionWriter.read { db in
            var holding: [String] = []
            for projection in declared {
                for view in projection.views where try db.viewExists(view) {
                    let columns = try Row.fetchAll(db, sql: "SELECT name FROM pragma_table_info(?)", arguments: [view]).map { $0["name"] as String }
                    guard !columns.isEmpty else { continue }
                    let condition = columns.map { "\"\($0.replacingOccurrences(of: "\"", with: "\"\""))\" IN (\(list))" }.joined(separator: " OR ")
                    let arguments = StatementArguments(Array(repeating: values, count: columns.count).flatMap { $0 })
                    if try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM \(view) WHERE \(condition))", arguments: arguments) == true {
                        holding.append(projection.name)
                        break
                    }
                }
            }
            return holding
        }
    }
}

extension DataSubject {
    /// `customer` or `employee`.
    public var kindName: String {
        switch self {
        case .customer: "customer"
        case .employee: "employee"
        }
    }
}
