import Crypto
import Foundation
import Journal
import JournalSchemas
import JournalScoring
import JournalStore

/// The configurations that views are computed with — churn weights, moments-of-truth rules — recorded
/// in the log (`config.recorded` in the stream `journal:config`) when they come into force, so that a
/// view as of a date can be computed with what was in force then, and evidence can name it.
public struct ConfigurationLog: Sendable {
    public static let stream = "journal:config"
    public static let eventType = "config.recorded"

    public enum Kind: String, Sendable, CaseIterable {
        case churnWeights
        case momentRules
    }

    /// One recorded configuration.
    public struct Entry: Sendable {
        public var kind: Kind
        public var sha256: String
        public var content: JSONValue
        public var source: String?
        public var position: Int64
        public var recorded: Timestamp
    }

    public let store: EventStore

    public init(store: EventStore) {
        self.store = store
    }

    /// Records `content` of `kind` unless it is in force already: what was recorded last of that kind,
    /// or — when nothing of the kind was recorded — the bundled defaults (`bundled`).
    @discardableResult
    public func recordIfChanged(_ kind: Kind, content: JSONValue, source: String?, bundled: JSONValue) throws -> Int64? {
        guard let batch = try change(kind, content: content, source: source, bundled: bundled) else { return nil }
        return try store.append([batch])[0].positions.first
    }

    /// Records `content` of `kind` unless it is what was recorded last of that kind.
    ///
    /// - Returns: the position recorded at, or nil when it was in force already.
    @discardableResult
    public func record(_ kind: Kind, content: JSONValue, source: String?) throws -> Int64? {
        guard let batch = try change(kind, content: content, source: source, bundled: nil) else { return nil }
        return try store.append([batch])[0].positions.first
    }

    /// The batch that records `content` of `kind`, or nil when it is in force already: what was
    /// recorded last of that kind, or — when nothing was and `bundled` is given — the bundled defaults.
    /// For a log this store copies, where the batch is appended instead.
    public func change(_ kind: Kind, content: JSONValue, source: String?, bundled: JSONValue?) throws -> AppendBatch? {
        let sha256 = Self.sha256(content)
        let latest = try latest(kind)
        if latest?.sha256 == sha256 { return nil }
        if latest == nil, let bundled, Self.sha256(bundled) == sha256 { return nil }
        var payload: [JSONMember] = [
            JSONMember("kind", .string(kind.rawValue)), JSONMember("sha256", .string(sha256)), JSONMember("content", content),
        ]
        if let source { payload.append(JSONMember("source", .string(source))) }
        let event = ProposedEvent(
            eventId: UUID().uuidString.lowercased(), type: Self.eventType, occurredAt: store.clock.now().rfc3339, payload: .object(payload))
        return AppendBatch(customerId: Self.stream, events: [event])
    }

    /// The configuration of `kind` in force at `instant` (recorded by then), or now; nil when none was recorded.
    public func latest(_ kind: Kind, at instant: Timestamp? = nil) throws -> Entry? {
        try store.history(of: Self.stream, knownAt: instant).reversed().lazy.compactMap { event -> Entry? in
            let payload = event.payloadJSON
            guard event.type == Self.eventType, payload["kind"]?.stringValue == kind.rawValue,
                  let sha256 = payload["sha256"]?.stringValue, let content = payload["content"] else { return nil }
            return Entry(kind: kind, sha256: sha256, content: content, source: payload["source"]?.stringValue,
                         position: event.position, recorded: event.recorded)
        }.first
    }

    /// The churn weights recorded by `instant`, or nil when none were.
    public func churnModel(at instant: Timestamp) throws -> (model: ChurnModel, entry: Entry)? {
        guard let entry = try latest(.churnWeights, at: instant) else { return nil }
        do {
            return (try ChurnModel(json: CanonicalJSON.string(entry.content)), entry)
        } catch {
            throw JournalError.storage("the churn weights recorded at position \(entry.position) cannot be read: \(error.description)")
        }
    }

    /// The moments-of-truth rules recorded by `instant`, or nil when none were.
    public func momentRules(at instant: Timestamp) throws -> (rules: MomentRules, entry: Entry)? {
        guard let entry = try latest(.momentRules, at: instant) else { return nil }
        do {
            return (try MomentRules(json: CanonicalJSON.string(entry.content), schema: MomentRules.bundledSchema), entry)
        } catch {
            throw JournalError.storage("the moment rules recorded at position \(entry.position) cannot be read: \(error.description)")
        }
    }

    /// The bundled defaults of `kind`, as JSON.
    public static func bundled(_ kind: Kind) -> JSONValue {
        let file = kind == .churnWeights ? "churn-weights.json" : "moments-of-truth.json"
        // The bundled files are checked by the tests; a failure here means the build itself is broken.
        return try! JSONParser.parse(BundledSchemas.file(file)!)
    }

    /// SHA-256 of the canonical JSON of `content`, hexadecimal.
    public static func sha256(_ content: JSONValue) -> String {
        Hex.encode(Array(SHA256.hash(data: CanonicalJSON.bytes(content))))
    }
}
