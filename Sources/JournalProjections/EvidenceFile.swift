import Foundation
import Journal
import JournalScoring
import JournalStore

/// The evidence file of a customer (``Evidence``) with its views, as `tpj evidence` writes it and
/// `GET /v1/customers/{id}/evidence` answers it: canonical JSON, signed, ending in a newline.
public enum EvidenceFile {
    public static func make(
        store: EventStore, customerId: String, knownAt: Timestamp?, disclosure: Disclosure, rules: MomentRules
    ) throws -> (evidence: Evidence, bytes: [UInt8]) {
        var evidence = try store.evidence(of: customerId, knownAt: knownAt, disclosure: disclosure)
        let timeline = JourneyTimeline(registry: store.validator.registry, rules: rules)
        let entries = try timeline.entries(of: customerId, knownAt: knownAt ?? evidence.createdAt, filter: TimelineFilter(), store: store)
        let text = JourneyTimeline.text(entries.map { $0.disclosed(by: disclosure) })
        evidence.views = [("timeline", text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init))]
        var bytes = CanonicalJSON.bytes(try evidence.document(signedBy: store.keys))
        bytes.append(0x0A)
        return (evidence, bytes)
    }
}
