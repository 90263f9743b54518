import Foundation
import Journal

extension JourneyTimeline {
    /// The timeline as a text table, as `tpj timeline` prints it and evidence files keep it: one line
    /// per touchpoint with its score, flags and reasons (or a digest of its payload).
    public static func text(_ entries: [TimelineEntry]) -> String {
        let flags = TimelineFlags(entries)
        let rows = entries.map { entry -> [String] in
            let date = String(entry.occurredAt.prefix(16)).replacingOccurrences(of: "T", with: " ")
            let mark = entry.status == "recorded" ? "" : entry.status == "corrected" ? "✎ " : "✗ "
            let score = entry.score.map { ($0 > 0 ? "+" : "") + "\($0)" + (entry.isMoment ? " ★" : "") } ?? ""
            let details = entry.reasons.isEmpty
                ? TextTable.summary((try? JSONParser.parse(entry.payload)) ?? .null, width: 60)
                : entry.reasons.joined(separator: ", ")
            let flagText = flags.of(entry).map { "[\($0)] " }.joined()
            return [date, entry.kind, entry.type, entry.caseId ?? "-", score, mark + flagText + details]
        }
        return TextTable.render(["OCCURRED", "KIND", "TOUCHPOINT", "CASE", "MOT", "DETAILS (★ moment of truth, ✎ corrected, ✗ voided)"], rows)
    }
}
