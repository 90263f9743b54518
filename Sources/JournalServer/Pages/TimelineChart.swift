import Foundation
import Journal
import JournalProjections

/// A customer's journey on a time axis, as HTML the stylesheet lays out: a lane for the account and one
/// per machine. In each lane the touchpoints of no case sit on the first row, and every service case
/// is an episode bar from its first to its last touchpoint (an open case runs on to the range's end),
/// packed onto further rows so that bars never overlap. An open case, or one asked for, shows its
/// touchpoints on its bar; a closed case is a bar that links to itself expanded. Marks are coloured
/// by moment-of-truth score, broken promises and open complaints get a ring, and each links to the
/// touchpoint's row (`#tp-POSITION`).
///
/// Positions are classes of the stylesheet (`x-0` … `x-500`, `w-1` … `w-500`: steps of 0.2 % of the
/// range), since the pages' content security policy allows no inline style.
struct TimelineChart {
    static let steps = 500

    struct Mark {
        var position: Int64
        var step: Int
        /// CSS classes: the score band (`s-neg2` … `s-pos2`, `s-none`), `moment`, `voided`, `ring`.
        var classes: String
        var title: String
    }

    /// A service case as a bar: from `start`, `width` steps wide; its touchpoints' marks when expanded.
    struct Episode {
        var caseId: String
        var start: Int, width: Int
        var open: Bool, expanded: Bool, brokenPromise: Bool
        var title: String
        var href: String
        var marks: [Mark]
    }

    struct Lane {
        var label: String
        /// `account` or `asset`.
        var kind: String
        var marks: [Mark]
        /// Rows of episodes; bars on one row do not overlap.
        var rows: [[Episode]]
    }

    var lanes: [Lane]
    var ticks: [(step: Int, label: String)]

    /// The chart of the touchpoints `shown` (within `window`, filtered) of a journey whose whole
    /// timeline is `all`, with flags read from the whole timeline.
    init(shown: [TimelineEntry], all: [TimelineEntry], flags: TimelineFlags, window: JourneyWindow) {
        let start = window.from.microseconds, end = window.to.microseconds
        let scale = Double(Self.steps) / Double(max(1, end - start))
        func step(_ time: Timestamp) -> Int { min(Self.steps, max(0, Int((Double(time.microseconds - start) * scale).rounded()))) }

        func title(_ entry: TimelineEntry, _ entryFlags: [String]) -> String {
            var parts = [PageModels.minute(entry.occurredAt), entry.type]
            if let score = entry.score { parts.append("score \(PageModels.signed(score))") }
            if entry.isMoment { parts.append("moment of truth") }
            parts += entryFlags
            if entry.status != "recorded" { parts.append(entry.status) }
            return parts.joined(separator: " · ")
        }
        func mark(_ entry: TimelineEntry) -> Mark {
            let entryFlags = flags.of(entry)
            let ring = (entry.promiseBroken && entry.status != "voided") || entryFlags.contains("OPEN COMPLAINT")
            let classes = [Self.scoreClass(entry.score), entry.isMoment ? "moment" : nil, entry.status == "voided" ? "voided" : nil, ring ? "ring" : nil]
            return Mark(position: entry.position, step: step(entry.occurred), classes: classes.compactMap { $0 }.joined(separator: " "),
                        title: title(entry, entryFlags))
        }

        // A case belongs to the machine of its first touchpoint that names one; its span comes from the whole timeline.
        var caseAsset: [String: String] = [:], caseEntries: [String: [TimelineEntry]] = [:], caseOrder: [String] = []
        for entry in all.sorted(by: { ($0.occurred, $0.position) < ($1.occurred, $1.position) }) {
            guard let caseId = entry.caseId else { continue }
            if caseEntries[caseId] == nil { caseOrder.append(caseId) }
            caseEntries[caseId, default: []].append(entry)
            if caseAsset[caseId] == nil, let assetId = entry.assetId { caseAsset[caseId] = assetId }
        }
        let shownCases = Set(shown.compactMap(\.caseId))
        var shownOfCase: [String: [TimelineEntry]] = [:]
        var looseOfLane: [String: [TimelineEntry]] = [:]
        var laneOrder: [String] = []
        func lane(of assetId: String?) -> String {
            let key = assetId.map { "asset " + $0 } ?? "account"
            if !laneOrder.contains(key) { laneOrder.append(key) }
            return key
        }
        for entry in shown.sorted(by: { ($0.occurred, $0.position) < ($1.occurred, $1.position) }) {
            if let caseId = entry.caseId {
                shownOfCase[caseId, default: []].append(entry)
            } else {
                looseOfLane[lane(of: entry.assetId), default: []].append(entry)
            }
        }
        // Episodes: every case with a touchpoint shown, and every open case running into the range.
        var episodesOfLane: [String: [Episode]] = [:]
        for caseId in caseOrder {
            let members = caseEntries[caseId]!
            let open = flags.isOpen(caseId: caseId)
            let first = members.first!.occurred, last = open ? max(members.last!.occurred, window.to) : members.last!.occurred
            guard shownCases.contains(caseId) || (open && first < window.to && last >= window.from && window.caseId == nil && window.kinds.isEmpty) else { continue }
            let expanded = open || window.isExpanded(caseId)
            let x1 = step(max(first, window.from)), x2 = step(min(last, window.to))
            let broken = members.contains { $0.promiseBroken && $0.status != "voided" }
            var describe = ["Case \(caseId)", members.count == 1 ? "1 touchpoint" : "\(members.count) touchpoints",
                            "\(first.utcDate) … \(open ? "open" : members.last!.occurred.utcDate)"]
            if broken { describe.append("promise broken") }
            // An open case links to its latest step; a closed one to the page with it expanded, or collapsed again.
            let href: String
            if open {
                let latest = shownOfCase[caseId]?.last ?? members.last!
                href = window.link(to: latest.position, occurred: latest.occurred, shown: shownOfCase[caseId] != nil)
            } else if window.expandAll {
                href = window.href(expanded: [], expandAll: false, fragment: "case-\(caseId)")
            } else {
                var toggled = window.expanded
                if expanded { toggled.remove(caseId) } else { toggled.insert(caseId) }
                href = window.href(expanded: toggled, fragment: "case-\(caseId)")
            }
            describe.append(open ? "open" : expanded ? "click to collapse" : "click to expand")
            episodesOfLane[lane(of: caseAsset[caseId]), default: []].append(Episode(
                caseId: caseId, start: x1, width: max(1, x2 - x1), open: open, expanded: expanded, brokenPromise: broken,
                title: describe.joined(separator: " · "), href: href,
                marks: expanded ? (shownOfCase[caseId] ?? []).map(mark) : []))
        }
        // The account first, then the machines in the order they appear.
        lanes = (laneOrder.filter { $0 == "account" } + laneOrder.filter { $0 != "account" }).map { key in
            var rows: [[Episode]] = [], rowEnds: [Int] = []
            for episode in (episodesOfLane[key] ?? []).sorted(by: { ($0.start, $0.caseId) < ($1.start, $1.caseId) }) {
                // A bar needs a little room after it; its label needs some too when its case is shown expanded.
                if let row = rowEnds.firstIndex(where: { $0 < episode.start }) {
                    rows[row].append(episode)
                    rowEnds[row] = episode.start + max(episode.width, 8)
                } else {
                    rows.append([episode])
                    rowEnds.append(episode.start + max(episode.width, 8))
                }
            }
            let machine = key.hasPrefix("asset ") ? String(key.dropFirst(6)) : nil
            return Lane(label: machine ?? "Account", kind: machine == nil ? "account" : "asset",
                        marks: (looseOfLane[key] ?? []).map(mark), rows: rows)
        }
        ticks = Self.ticks(from: start, to: end).map { (step($0.time), $0.label) }
    }

    /// The chart as HTML: an axis, then the lanes.
    func html(label: String) -> HTML {
        func marks(_ marks: [Mark]) -> HTML {
            "\(marks.map { mark -> HTML in "<a class=\"mark x-\(mark.step) \(mark.classes)\" href=\"#tp-\(mark.position)\" data-position=\"\(mark.position)\" title=\"\(mark.title)\"></a>" })"
        }
        // Every other tick is minor: a phone's narrow axis leaves it out.
        let ticks = ticks.enumerated().map { index, tick -> HTML in
            "<span class=\"tick x-\(tick.step)\(index % 2 == 1 ? " minor" : "")\">\(tick.label)</span>"
        }
        let lanes = lanes.map { lane -> HTML in
            let rows = lane.rows.map { row -> HTML in
                let episodes = row.map { episode -> HTML in
                    let classes = ["episode", "x-\(episode.start)", "w-\(episode.width)", episode.open ? "open" : "closed",
                                   episode.expanded ? "expanded" : nil, episode.brokenPromise ? "broken" : nil].compactMap { $0 }.joined(separator: " ")
                    return """
                        <a class="\(classes)" id="case-\(episode.caseId)" data-case="\(episode.caseId)" href="\(episode.href)" title="\(episode.title)">\
                        <span>\(episode.caseId)</span></a>\(marks(episode.marks))
                        """
                }
                return "<div class=\"row cases\">\(episodes)</div>"
            }
            // The row of touchpoints of no case, unless the lane has none and holds cases.
            let loose: HTML = lane.marks.isEmpty && !rows.isEmpty ? "" : "<div class=\"row\">\(marks(lane.marks))</div>"
            return """
                <div class="lane lane-\(lane.kind)"><div class="lane-label" title="\(lane.kind == "asset" ? "Machine " : "")\(lane.label)">\(lane.label)</div>\
                <div class="rows">\(loose)\(rows)</div></div>

                """
        }
        return """
            <div id="timeline-chart" class="chart" role="group" aria-label="\(label)">
            <div class="lane axis"><div class="lane-label"></div><div class="rows"><div class="row">\(ticks)</div></div></div>
            \(lanes)</div>
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

    /// The stylesheet's position classes: `x-N` places at N steps from the range's start, `w-N` is N steps wide.
    static let positionStyles: String = (0...steps).map { step in
        let percent = String(format: "%.1f", Double(step) * 100 / Double(steps))
        return ".x-\(step){left:\(percent)%}" + (step > 0 ? ".w-\(step){width:\(percent)%}" : "")
    }.joined(separator: "\n")

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
}
