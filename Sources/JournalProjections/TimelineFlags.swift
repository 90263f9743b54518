import Journal

/// What stands out on a timeline: broken promises, open cases and open complaints.
public struct TimelineFlags: Sendable {
    private var openCases: Set<String> = []
    private var openComplaints: Set<String> = []

    /// Reads the flags from a customer's timeline (corrections applied, voided touchpoints ignored).
    ///
    /// A case is open while none of its visits fixed the machine, no call solved it and no `case.closed` ended it; a complaint is
    /// open until a `complaint.resolved` with the same complaint id.
    public init(_ entries: [TimelineEntry]) {
        var casesWithWork: Set<String> = [], closedCases: Set<String> = [], resolved: Set<String> = []
        for entry in entries where entry.status != "voided" {
            if let caseId = entry.caseId {
                if Self.isCaseWork(entry.type) { casesWithWork.insert(caseId) }
                if entry.closesCase { closedCases.insert(caseId) }
            }
            if entry.type == "complaint.resolved", let id = entry.complaintId { resolved.insert(id) }
            if entry.type == "complaint.filed", let id = entry.complaintId { openComplaints.insert(id) }
        }
        openCases = casesWithWork.subtracting(closedCases)
        openComplaints.subtract(resolved)
    }

    /// Touchpoints that open or work on a case: calls, visits, and a case opened in a ticket system.
    static func isCaseWork(_ type: String) -> Bool {
        type == "hotline.call.received" || type.hasPrefix("technician.visit.") || type == "case.opened"
    }

    /// Whether the case `caseId` is open.
    public func isOpen(caseId: String) -> Bool { openCases.contains(caseId) }

    /// The flags of one entry: `PROMISE BROKEN`, `OPEN CASE`, `OPEN COMPLAINT`.
    public func of(_ entry: TimelineEntry) -> [String] {
        var flags: [String] = []
        if entry.promiseBroken { flags.append("PROMISE BROKEN") }
        if let caseId = entry.caseId, openCases.contains(caseId), Self.isCaseWork(entry.type) {
            flags.append("OPEN CASE")
        }
        if entry.type == "complaint.filed", let id = entry.complaintId, openComplaints.contains(id) {
            flags.append("OPEN COMPLAINT")
        }
        return flags
    }
}
