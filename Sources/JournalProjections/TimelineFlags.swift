import Journal

/// What stands out on a timeline: broken promises, open cases and open complaints.
public struct TimelineFlags: Sendable {
    private var openCases: Set<String> = []
    private var openComplaints: Set<String> = []

    /// Reads the flags from a customer's timeline (corrections applied, voided touchpoints ignored).
    ///
    /// A case is open while none of its visits fixed the machine and no call solved it; a complaint is
    /// open until a `complaint.resolved` with the same complaint id.
    public init(_ entries: [TimelineEntry]) {
        var casesWithWork: Set<String> = [], closedCases: Set<String> = [], resolved: Set<String> = []
        let readsPayload: Set<String> = ["technician.visit.completed", "hotline.call.received", "complaint.resolved", "complaint.filed"]
        for entry in entries where entry.status != "voided" {
            let payload = readsPayload.contains(entry.type) ? (try? JSONParser.parse(entry.payload)) ?? .null : .null
            if let caseId = entry.caseId {
                if entry.type == "hotline.call.received" || entry.type.hasPrefix("technician.visit.") { casesWithWork.insert(caseId) }
                if (entry.type == "technician.visit.completed" && payload["fixed"] == .bool(true))
                    || (entry.type == "hotline.call.received" && payload["solvedOnCall"] == .bool(true))
                {
                    closedCases.insert(caseId)
                }
            }
            if entry.type == "complaint.resolved", let id = payload["complaintId"]?.stringValue { resolved.insert(id) }
            if entry.type == "complaint.filed", let id = payload["complaintId"]?.stringValue { openComplaints.insert(id) }
        }
        openCases = casesWithWork.subtracting(closedCases)
        openComplaints.subtract(resolved)
    }

    /// The flags of one entry: `PROMISE BROKEN`, `OPEN CASE`, `OPEN COMPLAINT`.
    public func of(_ entry: TimelineEntry) -> [String] {
        var flags: [String] = []
        if entry.promiseBroken { flags.append("PROMISE BROKEN") }
        if let caseId = entry.caseId, openCases.contains(caseId), entry.type == "hotline.call.received" || entry.type.hasPrefix("technician.visit.") {
            flags.append("OPEN CASE")
        }
        if entry.type == "complaint.filed", let id = (try? JSONParser.parse(entry.payload))?["complaintId"]?.stringValue, openComplaints.contains(id) {
            flags.append("OPEN COMPLAINT")
        }
        return flags
    }
}
