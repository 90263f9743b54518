import Foundation
import Journal
import JournalScoring
import JournalStore

/// The evidence file of a customer (``Evidence``) with its views — the timeline as known at the date, and
/// the configuration in force then (``ConfigurationLog``) — as `tpj evidence` writes it and
/// `GET /v1/customers/{id}/evidence` answers it: canonical JSON, signed, ending in a newline.
public enum EvidenceFile {
    public static func make(
        store: EventStore, customerId: String, knownAt: Timestamp?, disclosure: Disclosure, rules: MomentRules
    ) throws -> (evidence: Evidence, bytes: [UInt8]) {
        var evidence = try store.evidence(of: customerId, knownAt: knownAt, disclosure: disclosure)
        // The views show what the proven events show: what was recorded by the head's signing.
        let asOf = min(knownAt ?? evidence.createdAt, evidence.head.signedAt)
        // The configuration in force then: the timeline is scored with the rules recorded by then.
        let log = ConfigurationLog(store: store)
        var configuration: [String] = []
        var rules = rules
        for kind in ConfigurationLog.Kind.allCases {
            guard let entry = try log.latest(kind, at: asOf) else {
                configuration.append("\(kind.rawValue): none recorded by \(asOf.rfc3339)")
                continue
            }
            configuration.append("\(kind.rawValue): sha256 \(entry.sha256), recorded at position \(entry.position) (\(entry.recorded.rfc3339))")
            if kind == .momentRules, let recorded = try log.momentRules(at: asOf) { rules = recorded.rules }
        }
        let timeline = JourneyTimeline(registry: store.validator.registry, rules: rules)
        let entries = try timeline.entries(of: customerId, knownAt: asOf, filter: TimelineFilter(), store: store)
        let text = JourneyTimeline.text(entries.map { $0.disclosed(by: disclosure) })
        evidence.views = [
            ("timeline", text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)),
            ("configuration", configuration),
        ]
        var bytes = CanonicalJSON.bytes(try evidence.document(signedBy: store.keys))
        bytes.append(0x0A)
        return (evidence, bytes)
    }
}
