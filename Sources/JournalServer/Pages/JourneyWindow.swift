import Foundation
import Journal
import JournalProjections

/// What the customer page shows of a journey: the time range (by default its last 24 months up to now),
/// the API's timeline filters, the cases drawn expanded and the date the journal is read as of. It
/// writes the links that zoom, move and expand, each keeping the rest of the view.
struct JourneyWindow {
    static let day: Int64 = 86_400_000_000
    /// The zoom levels offered, in months (0: the whole journey).
    static let zooms: [(months: Int, label: String)] = [(3, "3 months"), (12, "12 months"), (24, "24 months"), (60, "5 years"), (0, "all")]
    static let defaultMonths = 24

    var customerId: String
    /// The range shown: touchpoints that occurred at or after `from` and before `to`.
    var from: Timestamp
    var to: Timestamp
    /// Where the journey ends by default: the UTC day after its last touchpoint or after `asOf`, whichever is later.
    var latest: Timestamp
    /// The UTC day of the first touchpoint.
    var earliest: Timestamp
    /// The UTC day after the last touchpoint.
    var activityEnd: Timestamp
    var kinds: [String]
    var assetId: String?
    var caseId: String?
    var knownAt: String?
    /// Case ids drawn with their touchpoints although closed; `expandAll` draws every case so.
    var expanded: Set<String>
    var expandAll: Bool

    /// The window of a journey with touchpoints `entries` (any order) read as of `asOf`: `from` and
    /// `to` as asked; else from 24 months before the last touchpoint (or before `to`) up to the day
    /// after `asOf` or after the last touchpoint, whichever is later.
    init(customerId: String, entries: [TimelineEntry], asOf: Timestamp, from: Timestamp?, to: Timestamp?,
         kinds: [String], assetId: String?, caseId: String?, knownAt: String?, expand: [String]) {
        self.customerId = customerId
        let last = entries.map(\.occurred).max() ?? asOf
        activityEnd = Self.dayStart(after: last)
        latest = Self.dayStart(after: max(last, asOf))
        earliest = Self.dayStart(entries.map(\.occurred).min() ?? asOf)
        self.to = to ?? latest
        // By default the journey's last 24 months, and any silence since up to `asOf`.
        self.from = from ?? Self.months(-Self.defaultMonths, from: min(self.to, activityEnd))
        self.kinds = kinds
        self.assetId = assetId
        self.caseId = caseId
        self.knownAt = knownAt
        expandAll = expand.contains("all")
        expanded = Set(expand.filter { $0 != "all" })
    }

    var filter: TimelineFilter {
        TimelineFilter(from: from, to: to, kinds: Set(kinds), assetId: assetId, caseId: caseId)
    }

    func isExpanded(_ caseId: String) -> Bool { expandAll || expanded.contains(caseId) }

    /// The page with another range, other expanded cases, or both; `fragment` names an element to scroll to.
    func href(from: Timestamp? = nil, to: Timestamp? = nil, expanded: Set<String>? = nil, expandAll: Bool? = nil, fragment: String? = nil) -> String {
        var items: [(String, String)] = [("from", Self.text(from ?? self.from)), ("to", Self.text(to ?? self.to))]
        items += kinds.map { ("kind", $0) }
        if let assetId { items.append(("asset", assetId)) }
        if let caseId { items.append(("case", caseId)) }
        if let knownAt { items.append(("knownAt", knownAt)) }
        if expandAll ?? self.expandAll {
            items.append(("expand", "all"))
        } else {
            items += (expanded ?? self.expanded).sorted().map { ("expand", $0) }
        }
        let query = items.map { "\($0.0)=\(PageModels.percentEncoded($0.1))" }.joined(separator: "&")
        return PageModels.customerHref(customerId) + "?" + query + (fragment.map { "#" + PageModels.percentEncoded($0) } ?? "")
    }

    /// A link to touchpoint `position` that occurred at `occurred`: on this page when `shown`, else on
    /// the whole customer's journey from that day on (no filters), as known at the same date.
    func link(to position: Int64, occurred: Timestamp, shown: Bool) -> String {
        if shown { return "#tp-\(position)" }
        var whole = self
        whole.kinds = []
        whole.assetId = nil
        whole.caseId = nil
        return whole.href(from: Self.dayStart(occurred), to: max(latest, to), expanded: [], expandAll: false, fragment: "tp-\(position)")
    }

    /// The zoom links, each keeping the range's end and showing so many months up to it, or up to the
    /// last touchpoint when the range runs on past it; the one matching the range is marked.
    var zoomLinks: [PageModels.RangeLink] {
        let anchor = min(to, activityEnd)
        return Self.zooms.map { zoom in
            let start = zoom.months == 0 ? min(earliest, to) : Self.months(-zoom.months, from: anchor)
            return PageModels.RangeLink(label: zoom.label, href: href(from: start), current: start == from)
        }
    }

    /// The range before this one, of the same length; nil when it would start before the journey.
    var earlier: String? {
        guard from > earliest else { return nil }
        return href(from: Timestamp(microseconds: from.microseconds - (to.microseconds - from.microseconds)), to: from)
    }

    /// The range after this one, of the same length; nil when this one reaches the journey's end.
    var later: String? {
        guard to < latest else { return nil }
        let end = min(latest.microseconds, to.microseconds + (to.microseconds - from.microseconds))
        return href(from: Timestamp(microseconds: end - (to.microseconds - from.microseconds)), to: Timestamp(microseconds: end))
    }

    /// 00:00 UTC of the day of `instant`.
    static func dayStart(_ instant: Timestamp) -> Timestamp {
        Timestamp(microseconds: instant.microseconds - ((instant.microseconds % day) + day) % day)
    }

    /// 00:00 UTC of the day after the day of `instant`.
    static func dayStart(after instant: Timestamp) -> Timestamp { Timestamp(microseconds: dayStart(instant).microseconds + day) }

    /// `instant` moved by `months` calendar months (UTC); a day past the month's end becomes its last day.
    static func months(_ months: Int, from instant: Timestamp) -> Timestamp {
        let date = Date(timeIntervalSince1970: Double(instant.microseconds) / 1e6)
        let moved = utc.date(byAdding: .month, value: months, to: date) ?? date
        return Timestamp(microseconds: Int64((moved.timeIntervalSince1970 * 1e6).rounded()))
    }

    /// A date `YYYY-MM-DD` for a day's start, else RFC 3339.
    static func text(_ instant: Timestamp) -> String {
        instant.microseconds % day == 0 ? instant.utcDate : instant.rfc3339
    }

    private static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()
}
