import Foundation
import Journal
import JournalScoring
import JournalStore

/// The evidence file of a customer (``Evidence``) with its views as known at the date — timeline,
/// moments, churn risk and segment (``CustomerAsKnownAt``), scored with the rules and weights in force
/// then, and that configuration itself (``ConfigurationLog``) — as `tpj evidence` writes it and
/// `GET /v1/customers/{id}/evidence` answers it: canonical JSON, signed, ending in a newline.
public enum EvidenceFile {
    /// The views are scored with the rules and weights the log recorded in force at the date (the bundled
    /// defaults before any record), unless `rules` or `model` is given.
    public static func make(
        store: EventStore, customerId: String, knownAt: Timestamp?, disclosure: Disclosure, rules: MomentRules? = nil, model: ChurnModel? = nil
    ) throws -> (evidence: Evidence, bytes: [UInt8]) {
        var evidence = try store.evidence(of: customerId, knownAt: knownAt, disclosure: disclosure)
        // The views show what the proven events show: what was recorded by the head's signing.
        let asOf = min(knownAt ?? evidence.createdAt, evidence.head.signedAt)
        // The configuration in force then.
        let log = ConfigurationLog(store: store)
        var configuration: [String] = []
        for kind in ConfigurationLog.Kind.allCases {
            if (kind == .momentRules && rules != nil) || (kind == .churnWeights && model != nil) {
                configuration.append("\(kind.rawValue): given to the command that made this file, not the ones in force then")
                continue
            }
            guard let entry = try log.latest(kind, at: asOf) else {
                configuration.append("\(kind.rawValue): none recorded by \(asOf.rfc3339): the bundled defaults")
                continue
            }
            configuration.append("\(kind.rawValue): sha256 \(entry.sha256), recorded at position \(entry.position) (\(entry.recorded.rfc3339))")
        }
        let views = try CustomerAsKnownAt(
            store: store, customerId: customerId, knownAt: asOf,
            rules: try rules ?? log.momentRules(at: asOf)?.rules ?? .bundled, model: try model ?? log.churnModel(at: asOf)?.model ?? .bundled)
        func lines(_ text: String) -> [String] { text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }
        let segment = views.segment.map { found in
            ["Segment \(found.segment) as of \(asOf.rfc3339): trailing-12-month service revenue \(String(format: "%.2f", found.revenue)) "
                + "at the month's start \(found.monthStart.rfc3339)"]
        } ?? ["No segment as of \(asOf.rfc3339): nothing of the customer was known by then"]
        let churn = views.risk.map { risk in
            ["Churn risk as of \(asOf.rfc3339): probability \(String(format: "%.4f", risk.risk.probability))"]
                + lines(CustomerRisk.table([risk]))
        } ?? ["No churn risk as of \(asOf.rfc3339): the customer was lost by then, or nothing of it was known"]
        evidence.views = [
            ("timeline", lines(JourneyTimeline.text(views.timeline.map { $0.disclosed(by: disclosure) }))),
            ("moments", lines(views.moments.text(asOf: asOf))),
            ("churn", churn),
            ("segment", segment),
            ("configuration", configuration),
        ]
        var bytes = CanonicalJSON.bytes(try evidence.document(signedBy: store.keys))
        bytes.append(0x0A)
        return (evidence, bytes)
    }
}
