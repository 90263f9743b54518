import Crypto
import Foundation
import Journal
import JournalStore

/// How long each kind of personal value is kept, in whole years after the year it occurred in
/// (Schemas/retention-policy.schema.json), e.g. `{"years": {"text": 3, "employee": 10}}`: a value of
/// 2022 kept 3 years reads `[erased]` from 1 January 2026. Kinds left out are kept.
public struct RetentionPolicy: Sendable, Hashable {
    public private(set) var years: [PersonalDataKind: Int]
    /// The SHA-256 of the policy's text, recorded with each run.
    public let sha256: String

    public init(text: String, origin: String) throws(JournalError) {
        let policy = try PolicyDocument(text: text, origin: origin, member: "years", shape: "an object of kind → whole years")
        years = [:]
        for kind in policy.rules {
            guard let parsed = PersonalDataKind(rawValue: kind.key) else {
                throw policy.problem("/years/\(kind.key)", "unknown kind; the kinds are \(PersonalDataKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard case .number(let number) = kind.value, let count = Int(exactly: number.value), (1...200).contains(count) else {
                throw policy.problem("/years/\(kind.key)", "must be a whole number of years from 1 to 200")
            }
            years[parsed] = count
        }
        sha256 = Hex.encode(SHA256.hash(data: Data(text.utf8)))
    }

    public init(file path: String) throws(JournalError) {
        try self.init(text: PolicyDocument.text(ofFile: path, what: "retention policy"), origin: path)
    }
}

/// Applies a ``RetentionPolicy``: destroys the keys of each kind whose year has passed out of its
/// period, records a `retention.applied` event per kind in the stream journal:privacy, and rebuilds
/// the declared projections when keys were destroyed (their pseudonyms of those values become `[erased]`).
public struct Retention: Sendable {
    public let store: EventStore
    public let declared: [DeclaredProjection]

    public init(store: EventStore, declared: [DeclaredProjection]) {
        self.store = store
        self.declared = declared
    }

    /// What one run did per kind.
    public struct Outcome: Sendable, Equatable {
        public var kind: PersonalDataKind
        public var retentionYears: Int
        /// Keys of values that occurred before 1 January of this year were destroyed.
        public var destroyedBefore: Int
        public var keysDestroyed: Int
        public var position: Int64

        public var document: JSONValue {
            [
                "kind": .string(kind.rawValue), "retentionYears": .number(JSONNumber(Int64(retentionYears))),
                "destroyedBefore": .number(JSONNumber(Int64(destroyedBefore))), "keysDestroyed": .number(JSONNumber(Int64(keysDestroyed))),
                "position": .number(JSONNumber(position)),
            ]
        }
    }

    /// Applies `policy` as of `today` (the store's clock unless given, never later); returns one outcome
    /// per kind the policy names, and the declared projections it rebuilt.
    public func apply(_ policy: RetentionPolicy, today: Timestamp? = nil) throws -> (outcomes: [Outcome], rebuilt: [String]) {
        let now = store.clock.now()
        if let today, today > now {
            throw JournalError.invalidArgument(
                "retention cannot be applied as of \(today.rfc3339), a date still to come (now is \(now.rfc3339)): it would destroy keys before their time")
        }
        let year = (today ?? now).utcYear
        var outcomes: [Outcome] = []
        var events: [ProposedEvent] = []
        // Keys destroyed are recorded even when a later kind fails: the events of the kinds done are appended first.
        func recordDone() throws {
            guard !events.isEmpty else { return }
            let positions = try store.append(events, to: Eraser.privacyStream).positions
            for index in outcomes.indices { outcomes[index].position = positions[index] }
            events = []
        }
        for kind in PersonalDataKind.allCases {
            guard let years = policy.years[kind] else { continue }
            let destruction: KeyStore.Destruction
            do {
                destruction = try store.keys.expire(kind, before: year - years)
            } catch {
                try recordDone()
                throw error
            }
            outcomes.append(Outcome(kind: kind, retentionYears: years, destroyedBefore: year - years, keysDestroyed: destruction.keys, position: 0))
            events.append(ProposedEvent(
                eventId: EventID.version7(milliseconds: now.microseconds / 1000 + Int64(events.count),
                                          random: (.random(in: 0...UInt64.max), .random(in: 0...UInt64.max))).rawValue,
                type: "retention.applied", occurredAt: now.rfc3339, source: "tpj retention",
                payload: [
                    "kind": .string(kind.rawValue), "retentionYears": .number(JSONNumber(Int64(years))),
                    "destroyedBefore": .number(JSONNumber(Int64(year - years))),
                    "keysDestroyed": .number(JSONNumber(Int64(destruction.keys))), "policySha256": .string(policy.sha256),
                ]))
        }
        try recordDone()
        let rebuilt = outcomes.contains { $0.keysDestroyed > 0 } ? declared.map(\.name) : []
        if !rebuilt.isEmpty { try ProjectionRunner.builtIn(store: store, declared: declared).rebuild(rebuilt) }
        return (outcomes, rebuilt)
    }
}

extension Retention {
    /// Seconds from `now` to the next 01:00 UTC.
    public static func secondsUntilNextRun(from now: Date) -> TimeInterval {
        let day: TimeInterval = 86_400, hour: TimeInterval = 3_600
        let intoDay = now.timeIntervalSince1970.truncatingRemainder(dividingBy: day)
        let wait = (hour - intoDay + day).truncatingRemainder(dividingBy: day)
        return wait == 0 ? day : wait
    }

    /// Applies `policy` every night at 01:00 UTC until the task is cancelled; `report` is told how each run went.
    public func nightly(_ policy: RetentionPolicy, report: @Sendable (Result<[Outcome], any Error>) -> Void) async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: .seconds(Self.secondsUntilNextRun(from: Date())))
            } catch {
                return
            }
            report(Result { try apply(policy).outcomes })
        }
    }
}
