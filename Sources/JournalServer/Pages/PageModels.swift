import Foundation
import Journal
import JournalProjections
import JournalScoring

/// What the templates render: plain values, already formatted. Mustache escapes every one of them.
/// Every value a template reads is a stored property: the templates read values by reflection.
enum PageModels {
    struct Viewer { var name: String; var role: String }

    struct Layout {
        var title: String
        var viewer: Viewer?
        var head: String
        var projected: String
        var body: String
    }

    struct SignIn { var message: String?; var next: String }

    struct Problem { var heading: String; var message: String }

    struct Match { var customerId: String; var name: String; var href: String; var matched: String }

    /// A page of search results: which matches it shows of how many, and links to the pages around it.
    struct Customers {
        static let pageSize = 50

        var query: String
        var searched: Bool
        var matches: [Match]
        var hasMatches: Bool
        var total: String, first: String, last: String
        var previous: String?, next: String?

        init(query: String, searched: Bool, page: Int, found: CustomerDirectory.Page) {
            self.query = query
            self.searched = searched
            matches = found.matches.map {
                Match(customerId: $0.customerId, name: $0.name ?? "", href: PageModels.customerHref($0.customerId), matched: $0.matched ?? "")
            }
            hasMatches = !matches.isEmpty
            let offset = (page - 1) * Self.pageSize
            total = grouped(found.total)
            first = grouped(offset + 1)
            last = grouped(offset + matches.count)
            let q = PageModels.percentEncoded(query)
            previous = page > 1 ? "/customers?q=\(q)&page=\(page - 1)" : nil
            next = offset + matches.count < found.total ? "/customers?q=\(q)&page=\(page + 1)" : nil
        }
    }

    struct Option { var value: String; var label: String; var selected: Bool }

    struct Risk {
        var customerId: String, name: String, href: String, segment: String, probability: String, band: String, reason: String
    }

    struct AtRisk {
        var bands: [Option], segments: [Option], tops: [Option]
        var customers: String, asOf: String, high: String, medium: String, low: String
        var matching: String, shown: String, cut: Bool
        var risks: [Risk]
        var hasRisks: Bool
    }

    struct Reason { var contribution: String; var text: String }

    struct Moment {
        var position: Int64, occurred: String, type: String, caseId: String, score: String, scoreClass: String, impact: String, reasons: String
    }

    struct RangeLink { var label: String; var href: String; var current: Bool }

    struct Customer {
        var customerId: String, name: String, asOf: String, touchpointCount: String
        var segment: String, journeyDisplay: String, journeyBand: String, journeyNote: String, churnProbability: String, churnBand: String
        var promiseKeeping: String, openComplaints: String, openCases: String
        var hasOpenComplaints: Bool, hasOpenCases: Bool
        var churnReasons: [Reason]
        /// The range shown: its dates, how many of the customer's touchpoints it shows, and the links that zoom, move and expand.
        var rangeFrom: String, rangeTo: String, shownCount: String, filtered: Bool
        var zooms: [RangeLink]
        var earlier: String?, later: String?
        var expandAll: String, collapseAll: String?
        /// The journey's time axis and the touchpoints' rows in the range, newest first.
        var chart: String
        var moments: [Moment]
        var touchpoints: String
        /// The hotline summary's section.
        var summary: String
        var hasChurnReasons = false
        var hasMoments = false
        var hasTouchpoints = false
    }

    /// The customer page: the hotline summary and figures of the whole customer (`all`), the journey
    /// of the touchpoints `shown` in `window`; risk is nil when the customer has no facts yet or was lost.
    static func customer(
        _ customerId: String, name: String?, all: [TimelineEntry], shown: [TimelineEntry], window: JourneyWindow,
        moments: CustomerMoments, risk: CustomerRisk?, asOf: Timestamp, summary: HotlineSummary
    ) -> Customer {
        let flags = TimelineFlags(all)
        let rows = shown.reversed().map { entry in touchpointRow(entry, flags: flags.of(entry)) }
        let chart = TimelineChart(shown: shown, all: all, flags: flags, window: window)
        let openCases = Set(all.filter { flags.of($0).contains("OPEN CASE") }.compactMap(\.caseId)).count
        let shownPositions = Set(shown.map(\.position))
        let momentRows = moments.touchpoints.filter { $0.touchpoint.score.isMoment && shownPositions.contains($0.touchpoint.position) }
            .sorted { ($0.touchpoint.occurred, $0.touchpoint.position) > ($1.touchpoint.occurred, $1.touchpoint.position) }
            .map { row in
                let score = row.touchpoint.score
                return Moment(
                    position: row.touchpoint.position, occurred: minute(row.touchpoint.occurred.rfc3339), type: row.touchpoint.type,
                    caseId: row.touchpoint.caseId ?? "", score: signed(score.score), scoreClass: TimelineChart.scoreClass(score.score),
                    impact: String(format: "%+.2f", score.impact), reasons: (moments.reasons[row.touchpoint.position] ?? []).joined(separator: ", "))
            }
        let occurred = Dictionary(all.map { ($0.position, $0.occurred) }, uniquingKeysWith: { a, _ in a })
        let link = { (position: Int64) in
            window.link(to: position, occurred: occurred[position] ?? window.from, shown: shownPositions.contains(position))
        }
        let closedCases = Set(all.compactMap(\.caseId)).filter { !flags.isOpen(caseId: $0) }
        var customer = Customer(
            customerId: customerId, name: name ?? customerId, asOf: minute(asOf.rfc3339), touchpointCount: grouped(all.count),
            segment: risk?.segment ?? "–",
            journeyDisplay: moments.journey.map { "\($0.display)" } ?? "–", journeyBand: moments.lost == nil ? moments.journey?.band ?? "no scores yet" : "lost",
            journeyNote: moments.lost.map { lost in "lost on \(lost.at.utcDate)" + (moments.journey.map { "; at the loss: \($0.band)" } ?? "") }
                ?? moments.journey?.band ?? "no scores yet",
            churnProbability: risk.map { String(format: "%.0f %%", $0.risk.probability * 100) } ?? "–",
            churnBand: risk?.risk.band ?? "not assessed",
            promiseKeeping: moments.promiseKeepingRatio.map { String(format: "%.0f %%", $0 * 100) } ?? "–",
            openComplaints: "\(moments.openComplaints.count)", openCases: "\(openCases)",
            hasOpenComplaints: !moments.openComplaints.isEmpty, hasOpenCases: openCases > 0,
            churnReasons: (risk?.risk.reasons ?? []).map { Reason(contribution: String(format: "%+.2f", $0.contribution), text: $0.sentence) },
            rangeFrom: window.from.utcDate, rangeTo: JourneyWindow.dayStart(Timestamp(microseconds: window.to.microseconds - 1)).utcDate,
            shownCount: grouped(shown.count), filtered: !window.kinds.isEmpty || window.assetId != nil || window.caseId != nil,
            zooms: window.zoomLinks, earlier: window.earlier, later: window.later,
            expandAll: window.href(expanded: [], expandAll: true, fragment: "journey"),
            collapseAll: window.expandAll || !window.expanded.intersection(closedCases).isEmpty ? window.href(expanded: [], expandAll: false, fragment: "journey") : nil,
            chart: chart.html(label: "Journey of \(customerId) on a time axis").text, moments: momentRows, touchpoints: HTML("\(rows)").text,
            summary: hotline(summary, link: link).text)
        customer.hasChurnReasons = !customer.churnReasons.isEmpty
        customer.hasMoments = !momentRows.isEmpty
        customer.hasTouchpoints = !shown.isEmpty
        return customer
    }

    /// The hotline summary: what an agent needs in ten seconds, each touchpoint linked to its row (`href`).
    static func hotline(_ summary: HotlineSummary, link href: (Int64) -> String) -> HTML {
        func link(_ mark: HotlineSummary.Mark, _ text: String) -> HTML { "<a href=\"\(href(mark.position))\">\(text)</a>" }
        func day(_ instant: Timestamp) -> String { instant.utcDate }
        func item(_ id: String, _ label: String, _ value: HTML, alert: Bool = false, wide: Bool = false) -> HTML {
            "<div class=\"item\(alert ? " alert" : "")\(wide ? " wide" : "")\" id=\"\(id)\"><dt>\(label)</dt><dd>\(value)</dd></div>"
        }
        /// An age as a person says it: days, then months, then years.
        func age(_ days: Int) -> String {
            switch days {
            case ..<61: days == 1 ? "1 day" : "\(days) days"
            case ..<730: "\(days / 30) months"
            default: "\(days / 365) years"
            }
        }
        func joined(_ parts: [HTML], _ separator: HTML) -> HTML {
            parts.dropFirst().reduce(parts.first ?? "") { joined, part in "\(joined)\(separator)\(part)" }
        }
        func list(_ items: [HTML]) -> HTML { items.isEmpty ? "none" : joined(items, "<br>") }
        let cases = summary.openCases.map { item -> HTML in
            "\(link(item.lastStep, item.caseId)) · open \(age(item.ageDays)) · last \(item.lastStep.type) \(day(item.lastStep.occurred))"
        }
        let complaints = summary.openComplaints.map { link($0, "\($0.detail ?? "complaint") · filed \(day($0.occurred))") }
        let promises = summary.brokenPromises12m.map { link($0, "\($0.type) \(day($0.occurred))") }
        let contract: HTML = summary.contract.map { contract in
            let parts = [contract.contractId, contract.level, contract.responseTimeHours.map { "response \($0) h" },
                         contract.endDate.map { "\(contract.status == "active" ? "until" : contract.status) \($0)" }].compactMap { $0 }
            return "\(parts.joined(separator: " · "))"
        } ?? "none"
        let machines = summary.machines.map { machine -> HTML in "\(machine.assetId) · \(String(format: "%.1f", machine.ageYears)) years" }
        let items: [HTML] = [
            item("sum-cases", "Open cases", list(cases), alert: !cases.isEmpty, wide: cases.count > 1),
            item("sum-complaints", "Open complaints", list(complaints), alert: !complaints.isEmpty, wide: complaints.count > 3),
            item("sum-promises", "Broken promises, 12 months", promises.isEmpty ? "none" : "\(promises.count): \(joined(promises, ", "))",
                 alert: !promises.isEmpty),
            item("sum-last-visit", "Last visit", summary.lastVisit.map { link($0, "\(day($0.occurred)) · \($0.type)") } ?? "none"),
            item("sum-last-contact", "Last contact", summary.lastContact.map { link($0, "\(day($0.occurred)) · \($0.type)") } ?? "none"),
            item("sum-next-visit", "Next planned visit", summary.nextPlannedVisit.map { link($0, $0.detail.map(minute) ?? day($0.occurred)) } ?? "none"),
            item("sum-contract", "Contract and SLA", contract),
            item("sum-kam", "Key account manager", "\(summary.keyAccountManager ?? "none")"),
            item("sum-machines", "Machines", list(machines), wide: machines.count > 3),
        ]
        return "<section class=\"hotline\" id=\"hotline\"><h2>At a glance</h2><dl>\(items)</dl></section>"
    }

    /// One row of the touchpoint list; its payload and record details show when the row is the page's target.
    static func touchpointRow(_ entry: TimelineEntry, flags: [String]) -> HTML {
        let score: HTML = entry.score.map { "<span class=\"score \(TimelineChart.scoreClass($0))\">\(signed($0))</span>" } ?? ""
        let star: HTML = entry.isMoment ? " <span class=\"star\" title=\"moment of truth\">★</span>" : ""
        let badges = flags.map { flag -> HTML in "<span class=\"flag\">\(flag)</span> " }
        let reasonCodes = entry.reasons
        let reasons: HTML = reasonCodes.isEmpty ? "" : "<span class=\"reasons\">\(reasonCodes.joined(separator: ", "))</span>"
        let fields = payloadFields(entry.payload).map { field -> HTML in "<dt>\(field.key)</dt><dd>\(field.value)</dd>" }
        var meta: HTML = "Position \(entry.position) · event \(entry.eventId) · recorded \(entry.recorded.rfc3339)"
        if let actor = entry.actor { meta = "\(meta) · by \(actor)" }
        if let amendedBy = entry.amendedBy { meta = "\(meta) · \(entry.status) by \(amendedBy)" }
        return """
            <tr id="tp-\(entry.position)" class="\(flags.isEmpty ? "" : "flagged ")\(entry.status)">\
            <td>\(minute(entry.occurredAt))</td><td>\(entry.kind)</td><td>\(entry.type)\(star)</td><td>\(entry.caseId ?? "")</td>\
            <td>\(entry.assetId ?? "")</td><td>\(score)</td><td class="details">\(badges)\(reasons)<dl>\(fields)</dl><p class="meta">\(meta)</p></td></tr>

            """
    }

    /// The payload's members as key and value text (nested values as compact JSON).
    static func payloadFields(_ payload: String) -> [(key: String, value: String)] {
        guard case .object(let members)? = try? JSONParser.parse(payload) else { return [("payload", payload)] }
        return members.map { member in
            let value: String = if case .string(let text) = member.value { text } else { CanonicalJSON.string(member.value) }
            return (member.key, value)
        }
    }

    static func signed(_ score: Int) -> String { score > 0 ? "+\(score)" : "\(score)" }

    /// `2024-06-24T16:59:00+02:00` → `2024-06-24 16:59` (the producer's local time).
    static func minute(_ rfc3339: String) -> String { String(rfc3339.prefix(16)).replacingOccurrences(of: "T", with: " ") }

    static func grouped(_ value: Int) -> String { value.formatted(.number.grouping(.automatic).locale(Locale(identifier: "en_US"))) }

    /// A path segment for a customer id (ids may hold any character).
    static func customerHref(_ customerId: String) -> String { "/customers/" + percentEncoded(customerId) }

    /// `value` as a path segment or query value: every character but letters, digits and `-._~` percent-encoded.
    static func percentEncoded(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: unreserved) ?? value
    }

    private static let unreserved: CharacterSet = {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return allowed
    }()
}
