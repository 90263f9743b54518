import Foundation
import Journal
import JournalScoring

extension CustomerMoments {
    /// The moments as text, as `tpj moments` prints them and evidence files keep them: the journey
    /// index and companion indices, every scored touchpoint with its reasons, the ten newest episodes.
    public func text(asOf: Timestamp) -> String {
        let sorted = touchpoints.sorted { ($0.touchpoint.occurred, $0.touchpoint.position) < ($1.touchpoint.occurred, $1.touchpoint.position) }
        var index = journey.map { "\($0.display)/100 (\($0.band); J = \(String(format: "%.3f", $0.value)) over \($0.episodes) episodes)" } ?? "-"
        if let lost {
            index = "lost on \(lost.at.utcDate)\(lost.reason.map { " (\($0))" } ?? ""); at the loss: " + index
        }
        var lines = [
            "Moments of truth of \(customerId) as of \(asOf.rfc3339)",
            "  Journey index      \(index)",
            "  Promises kept      \(promiseKeepingRatio.map { "\(Int(($0 * 100).rounded()))% (recency-weighted)" } ?? "-")",
            "  Open complaints    \(openComplaints.count)",
            "  Proactive contacts \(proactiveContacts12m) in the last 12 months",
            "",
        ]
        let rows = sorted.map { row -> [String] in
            let score = row.touchpoint.score
            return [String(row.touchpoint.occurred.rfc3339.prefix(10)), row.touchpoint.type, row.touchpoint.caseId ?? "-",
                    (score.score > 0 ? "+" : "") + "\(score.score)", String(format: "%+.2f", score.impact), score.isMoment ? "★" : "",
                    (reasons[row.touchpoint.position] ?? []).joined(separator: ", ")]
        }
        lines.append(TextTable.render(["DATE", "TOUCHPOINT", "CASE", "SCORE", "IMPACT", "MOT", "REASONS"], rows))
        lines.append("")
        lines.append(TextTable.render(["EPISODE", "TOUCHPOINTS", "PEAK", "END", "VALUE", "ENDED"], episodes.reversed().prefix(10).map { episode in
            [episode.key, "\(episode.touchpoints)", String(format: "%+.2f", episode.peak), String(format: "%+.2f", episode.end),
             String(format: "%+.2f", episode.value), String(episode.last.rfc3339.prefix(10))]
        }))
        return lines.joined(separator: "\n")
    }
}

extension CustomerRisk {
    /// Risks as a text table, as `tpj churn` prints them and evidence files keep them: customer,
    /// segment, score, band and each reason with its log-odds contribution.
    public static func table(_ risks: some Sequence<CustomerRisk>) -> String {
        var rows: [[String]] = []
        for item in risks {
            let reasons = item.risk.reasons.isEmpty ? ["-"] : item.risk.reasons.map { String(format: "%+.2f  ", $0.contribution) + $0.sentence }
            rows.append([item.customerId, item.segment, "\(item.risk.score)", item.risk.band, reasons[0]])
            for reason in reasons.dropFirst() { rows.append(["", "", "", "", reason]) }
        }
        return TextTable.render(["CUSTOMER", "SEG", "RISK", "BAND", "REASONS (log-odds contribution)"], rows)
    }
}
