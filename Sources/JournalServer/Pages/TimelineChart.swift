import Foundation
import Journal
import JournalProjections

/// The layout of a customer's journey as a time axis: one lane for the account (touchpoints of no
/// machine and no case), and per machine a lane for its own touchpoints followed by a lane per
/// service case. Marks are coloured by moment-of-truth score; broken promises and open complaints
/// get a ring; each mark links to the touchpoint's row (`#tp-POSITION`).
struct TimelineChart {
    struct Tick { var x: String; var label: String }

    struct Mark {
        var position: Int64
        var x: String
        var y: Int
        /// CSS classes: the score band (`s-neg2` … `s-pos2`, `s-none`), `moment`, `voided`.
        var classes: String
        var radius: Int
        var title: String
        var brokenPromise: Bool
        var openComplaint: Bool
    }

    struct Lane {
        var label: String
        /// `account`, `asset` or `case`.
        var kind: String
        var y: Int
        var labelY: Int
        var openCase: Bool
        /// The case's span from its first to its last touchpoint (cases only).
        var span: Span?
        var marks: [Mark]
    }

    struct Span { var x1: String; var x2: String }

    static let width = 1000, labelWidth = 250, plotRight = 985, laneHeight = 26, axisHeight = 28

    var lanes: [Lane]
    var ticks: [Tick]
    var height: Int

    /// The chart of `entries`, each with its flags (``TimelineFlags/of(_:)``).
    init(entries: [TimelineEntry], flags: [[String]]) {
        guard let first = entries.map(\.occurred).min(), let last = entries.map(\.occurred).max() else {
            lanes = []
            ticks = []
            height = Self.axisHeight
            return
        }
        let day: Int64 = 86_400_000_000
        let start = first.microseconds - day, end = max(last.microseconds, first.microseconds) + day
        let scale = Double(Self.plotRight - Self.labelWidth) / Double(end - start)
        func x(_ time: Timestamp) -> Double { Double(Self.labelWidth) + Double(time.microseconds - start) * scale }

        // Each case belongs to the machine of its first touchpoint that names one.
        var caseAsset: [String: String] = [:]
        for entry in entries {
            if let caseId = entry.caseId, caseAsset[caseId] == nil, let assetId = entry.assetId { caseAsset[caseId] = assetId }
        }
        let flagsOf = Dictionary(zip(entries.map(\.position), flags), uniquingKeysWith: { a, _ in a })
        var laneEntries: [String: [TimelineEntry]] = [:]
        var assets: [String] = [], casesOfAsset: [String: [String]] = [:], looseCases: [String] = []
        for entry in entries.sorted(by: { ($0.occurred, $0.position) < ($1.occurred, $1.position) }) {
            let key: String
            if let caseId = entry.caseId {
                key = "case " + caseId
                if laneEntries[key] == nil {
                    if let assetId = caseAsset[caseId] {
                        if casesOfAsset[assetId] == nil && !assets.contains(assetId) { assets.append(assetId) }
                        casesOfAsset[assetId, default: []].append(caseId)
                    } else {
                        looseCases.append(caseId)
                    }
                }
            } else if let assetId = entry.assetId {
                key = "asset " + assetId
                if !assets.contains(assetId) { assets.append(assetId) }
            } else {
                key = "account"
            }
            laneEntries[key, default: []].append(entry)
        }
        var keys = ["account"] + looseCases.map { "case " + $0 }
        for assetId in assets { keys += ["asset " + assetId] + (casesOfAsset[assetId] ?? []).map { "case " + $0 } }

        func title(_ entry: TimelineEntry, _ entryFlags: [String]) -> String {
            var parts = [PageModels.minute(entry.occurredAt), entry.type]
            if let score = entry.score { parts.append("score \(PageModels.signed(score))") }
            if entry.isMoment { parts.append("moment of truth") }
            parts += entryFlags
            if entry.status != "recorded" { parts.append(entry.status) }
            return parts.joined(separator: " · ")
        }

        var lanes: [Lane] = []
        var y = Self.axisHeight + Self.laneHeight / 2
        for key in keys {
            let members = laneEntries[key] ?? []
            let kind = String(key.prefix(while: { $0 != " " }))
            let name = String(key.dropFirst(kind.count + 1))
            if kind == "account" && members.isEmpty { continue }
            let marks = members.map { entry in
                let entryFlags = flagsOf[entry.position] ?? []
                return Mark(
                    position: entry.position, x: Self.format(x(entry.occurred)), y: y,
                    classes: [Self.scoreClass(entry.score), entry.isMoment ? "moment" : nil, entry.status == "voided" ? "voided" : nil]
                        .compactMap { $0 }.joined(separator: " "),
                    radius: entry.isMoment ? 7 : (entry.score == nil ? 4 : 5), title: title(entry, entryFlags),
                    brokenPromise: entry.promiseBroken && entry.status != "voided", openComplaint: entryFlags.contains("OPEN COMPLAINT"))
            }
            let openCase = kind == "case" && members.contains { flagsOf[$0.position]?.contains("OPEN CASE") == true }
            let span = kind == "case" ? members.first.map { Span(x1: Self.format(x($0.occurred)), x2: Self.format(x(members.last!.occurred))) } : nil
            let label = switch kind {
            case "account": "Account"
            case "asset": "Machine \(name)"
            default: "Case \(name)"
            }
            lanes.append(Lane(label: label, kind: kind, y: y, labelY: y + 4, openCase: openCase, span: span, marks: marks))
            y += Self.laneHeight
        }
        self.lanes = lanes
        self.height = y - Self.laneHeight / 2 + 6
        self.ticks = Self.ticks(from: start, to: end).map { Tick(x: Self.format(x($0.time)), label: $0.label) }
    }

    /// The chart as an SVG element scaled to the page's width.
    func svg(label: String) -> HTML {
        let ticks = ticks.map { tick -> HTML in
            """
            <line class="tick" x1="\(tick.x)" x2="\(tick.x)" y1="10" y2="\(height)"></line>\
            <text class="tick-label" x="\(tick.x)" y="\(Self.axisHeight - 8)">\(tick.label)</text>
            """
        }
        let lanes = lanes.map { lane -> HTML in
            let span: HTML = lane.span.map { "<line class=\"case-span\" x1=\"\($0.x1)\" x2=\"\($0.x2)\" y1=\"\(lane.y)\" y2=\"\(lane.y)\"></line>" } ?? ""
            let marks = lane.marks.map { mark -> HTML in
                let ring: HTML = mark.brokenPromise || mark.openComplaint ? "<circle class=\"ring\" cx=\"\(mark.x)\" cy=\"\(mark.y)\" r=\"10\"></circle>" : ""
                return """
                    <a class="mark" href="#tp-\(mark.position)" data-position="\(mark.position)"><title>\(mark.title)</title>\(ring)\
                    <circle class="\(mark.classes)" cx="\(mark.x)" cy="\(mark.y)" r="\(mark.radius)"></circle></a>
                    """
            }
            return """
                <g class="lane lane-\(lane.kind)\(lane.openCase ? " lane-open" : "")">
                <line class="lane-line" x1="\(Self.labelWidth)" x2="\(Self.plotRight)" y1="\(lane.y)" y2="\(lane.y)"></line>
                <text class="lane-label" x="8" y="\(lane.labelY)">\(lane.label)\(lane.openCase ? " · open" : "")</text>
                \(span)\(marks)
                </g>
                """
        }
        return """
            <svg id="timeline-chart" class="chart" viewBox="0 0 \(Self.width) \(height)" role="img" aria-label="\(label)">
            \(ticks)
            \(lanes)
            </svg>
            """
    }

    /// The score band of a mark: strongly or mildly negative, neutral, mildly or strongly positive.
    static func scoreClass(_ score: Int?) -> String {
        guard let score else { return "s-none" }
        switch score {
        case ..<(-40): return "s-neg2"
        case ..<(-5): return "s-neg1"
        case ...5: return "s-zero"
        case ..<40: return "s-pos1"
        default: return "s-pos2"
        }
    }

    /// Axis ticks at the start of every month, quarter, year or few years: about a dozen at most.
    static func ticks(from start: Int64, to end: Int64) -> [(time: Timestamp, label: String)] {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let startDate = Date(timeIntervalSince1970: Double(start) / 1e6), endDate = Date(timeIntervalSince1970: Double(end) / 1e6)
        let months = calendar.dateComponents([.month], from: startDate, to: endDate).month ?? 0
        let step = months > 36 ? 12 * max(1, (months + 143) / 144) : (months > 12 ? 3 : 1)
        var components = calendar.dateComponents([.year, .month], from: startDate)
        components.month = ((components.month! - 1) / step) * step + 1
        var ticks: [(Timestamp, String)] = []
        var date = calendar.date(from: components)!
        while date <= endDate {
            if date >= startDate {
                let shown = calendar.dateComponents([.year, .month], from: date)
                let label = step >= 12 ? "\(shown.year!)" : String(format: "%04d-%02d", shown.year!, shown.month!)
                ticks.append((Timestamp(microseconds: Int64(date.timeIntervalSince1970 * 1e6)), label))
            }
            date = calendar.date(byAdding: .month, value: step, to: date)!
        }
        return ticks
    }

    static func format(_ value: Double) -> String { String(format: "%.1f", value) }
}
