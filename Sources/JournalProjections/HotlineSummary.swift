import Foundation
import Journal
import JournalScoring

/// What an agent needs about a customer in ten seconds, read from its timeline as of a date: open
/// cases with their age and last step, open complaints, promises broken in the last twelve months,
/// the last visit and contact, the next planned visit, the service contract and its SLA, the key
/// account manager and the machines with their age. Each touchpoint it names carries its position,
/// so that pages link to it on the timeline. Segment and churn risk come from ``Insights``.
public struct HotlineSummary: Sendable, Hashable {
    /// A touchpoint the summary points at.
    public struct Mark: Sendable, Hashable {
        public var position: Int64
        public var type: String
        public var occurred: Timestamp
        /// The case or complaint it belongs to, or the date it promises (a planned visit).
        public var detail: String?
    }

    public struct OpenCase: Sendable, Hashable {
        public var caseId: String
        public var opened: Timestamp
        public var ageDays: Int
        /// The case's latest touchpoint.
        public var lastStep: Mark
    }

    public struct Contract: Sendable, Hashable {
        public var contractId: String
        public var level: String?
        /// The agreed response time, in hours.
        public var responseTimeHours: Int?
        public var endDate: String?
        /// `active`, `ended` or `cancelled` as of the summary's date.
        public var status: String
    }

    public struct Machine: Sendable, Hashable {
        public var assetId: String
        /// When it was installed or delivered, else its first touchpoint.
        public var since: Timestamp
        public var ageYears: Double
    }

    public var asOf: Timestamp
    public var openCases: [OpenCase] = []
    public var openComplaints: [Mark] = []
    public var brokenPromises12m: [Mark] = []
    public var lastVisit: Mark?
    public var lastContact: Mark?
    public var nextPlannedVisit: Mark?
    public var contract: Contract?
    public var keyAccountManager: String?
    public var machines: [Machine] = []

    /// Kinds of touchpoint that are a contact with the customer (not an invoice, an internal note or a correction).
    static let contactKinds: Set<String> = [
        "hotline", "visit", "complaint", "case", "survey", "maintenance", "installation", "delivery", "part", "quote", "training", "contract",
    ]
    static let visitTypes: Set<String> = ["technician.visit.completed", "maintenance.performed", "installation.completed"]

    /// The summary of `entries` — a customer's timeline, corrections applied, personal values as the
    /// reader may see them — as of `asOf`: touchpoints that occurred or were recorded later are left out.
    public init(entries: [TimelineEntry], asOf: Timestamp) {
        self.asOf = asOf
        let day: Int64 = 86_400_000_000
        let known = entries.filter { $0.status != "voided" && $0.recorded <= asOf }
            .sorted { ($0.occurred, $0.position) < ($1.occurred, $1.position) }
        let past = known.filter { $0.occurred <= asOf }
        func mark(_ entry: TimelineEntry, _ detail: String? = nil) -> Mark {
            Mark(position: entry.position, type: entry.type, occurred: entry.occurred, detail: detail)
        }

        let flags = TimelineFlags(past)
        var cases: [String: (opened: Timestamp, last: TimelineEntry)] = [:]
        for entry in past {
            guard let caseId = entry.caseId, flags.isOpen(caseId: caseId) else { continue }
            cases[caseId] = (cases[caseId]?.opened ?? entry.occurred, entry)
        }
        openCases = cases.map { caseId, value in
            OpenCase(caseId: caseId, opened: value.opened, ageDays: Int((asOf.microseconds - value.opened.microseconds) / day),
                     lastStep: mark(value.last, caseId))
        }.sorted { ($0.opened, $0.caseId) < ($1.opened, $1.caseId) }
        openComplaints = past.filter { flags.of($0).contains("OPEN COMPLAINT") }.map { mark($0, $0.complaintId) }
        brokenPromises12m = past.filter { $0.promiseBroken && asOf.microseconds - $0.occurred.microseconds <= 365 * day }
            .map { mark($0, $0.caseId) }
        lastVisit = past.last { Self.visitTypes.contains($0.type) }.map { mark($0) }
        lastContact = past.last { Self.contactKinds.contains($0.kind) }.map { mark($0) }

        // The earliest visit promised for after the date, of those scheduled by then.
        var planned: [(arrival: Timestamp, entry: TimelineEntry, promised: String)] = []
        var contracts: [String: Contract] = [:], signedOrder: [String] = []
        var machineSince: [String: Timestamp] = [:], machineFirst: [String: Timestamp] = [:]
        for entry in known {
            if let assetId = entry.assetId, entry.occurred <= asOf {
                if machineFirst[assetId] == nil { machineFirst[assetId] = entry.occurred }
                if machineSince[assetId] == nil, entry.type == "installation.completed" || entry.type == "delivery.completed" {
                    machineSince[assetId] = entry.occurred
                }
            }
            switch entry.type {
            case "technician.visit.scheduled":
                if let promised = entry.payloadJSON["promisedArrival"]?.stringValue, let arrival = try? Timestamp(rfc3339: promised), arrival > asOf {
                    planned.append((arrival, entry, promised))
                }
            case "customer.registered":
                if let manager = entry.payloadJSON["keyAccountManager"]?.stringValue { keyAccountManager = manager }
            case "contract.signed" where entry.occurred <= asOf:
                let payload = entry.payloadJSON
                guard let contractId = payload["contractId"]?.stringValue else { break }
                contracts[contractId] = Contract(
                    contractId: contractId, level: payload["level"]?.stringValue,
                    responseTimeHours: payload["responseTimeHours"]?.intValue, endDate: payload["endDate"]?.stringValue, status: "active")
                signedOrder.removeAll { $0 == contractId }
                signedOrder.append(contractId)
            case "contract.renewed" where entry.occurred <= asOf:
                let payload = entry.payloadJSON
                if let contractId = payload["contractId"]?.stringValue, let end = payload["newEndDate"]?.stringValue { contracts[contractId]?.endDate = end }
            case "contract.cancelled" where entry.occurred <= asOf:
                let payload = entry.payloadJSON
                if let contractId = payload["contractId"]?.stringValue, let effective = payload["effectiveDate"]?.stringValue,
                   let date = try? Timestamp(utcDate: String(effective.prefix(10))), date <= asOf {
                    contracts[contractId]?.status = "cancelled"
                    contracts[contractId]?.endDate = effective
                }
            default:
                break
            }
        }
        nextPlannedVisit = planned.min { ($0.arrival, $0.entry.position) < ($1.arrival, $1.entry.position) }.map { mark($0.entry, $0.promised) }
        // The contract signed last is the one in force (or the last that was).
        if var latest = signedOrder.last.flatMap({ contracts[$0] }) {
            if latest.status == "active", let end = latest.endDate, let date = try? Timestamp(utcDate: String(end.prefix(10))),
               date.microseconds + day <= asOf.microseconds {
                latest.status = "ended"
            }
            contract = latest
        }
        machines = machineFirst.map { assetId, first in
            let since = machineSince[assetId] ?? first
            return Machine(assetId: assetId, since: since, ageYears: Double(asOf.microseconds - since.microseconds) / Double(365.25 * Double(day)))
        }.sorted { ($0.since, $0.assetId) < ($1.since, $1.assetId) }
    }
}

extension HotlineSummary {
    /// The JSON answer of `/v1/customers/C/summary`, with the customer's churn `risk` as of the same date.
    public func document(customerId: String, risk: CustomerRisk?) -> JSONValue {
        func mark(_ mark: Mark?) -> JSONValue {
            guard let mark else { return .null }
            var members = [
                JSONMember("position", .number(JSONNumber(mark.position))), JSONMember("type", .string(mark.type)),
                JSONMember("occurred", .string(mark.occurred.rfc3339)),
            ]
            if let detail = mark.detail { members.append(JSONMember("detail", .string(detail))) }
            return .object(members)
        }
        let contract: JSONValue = contract.map { contract in
            [
                "contractId": .string(contract.contractId), "level": contract.level.map(JSONValue.string) ?? .null,
                "responseTimeHours": contract.responseTimeHours.map { .number(JSONNumber(Int64($0))) } ?? .null,
                "endDate": contract.endDate.map(JSONValue.string) ?? .null, "status": .string(contract.status),
            ]
        } ?? .null
        let churn: JSONValue = risk.map { risk in
            [
                "probability": Documents.number(risk.risk.probability), "band": .string(risk.risk.band),
                "reasons": .array(risk.risk.reasons.prefix(3).map { .string($0.sentence) }),
            ]
        } ?? .null
        return [
            "customerId": .string(customerId), "asOf": .string(asOf.rfc3339),
            "openCases": .array(openCases.map { item in
                [
                    "caseId": .string(item.caseId), "opened": .string(item.opened.rfc3339),
                    "ageDays": .number(JSONNumber(Int64(item.ageDays))), "lastStep": mark(item.lastStep),
                ]
            }),
            "openComplaints": .array(openComplaints.map(mark)), "brokenPromises12m": .array(brokenPromises12m.map(mark)),
            "lastVisit": mark(lastVisit), "lastContact": mark(lastContact), "nextPlannedVisit": mark(nextPlannedVisit),
            "contract": contract, "keyAccountManager": keyAccountManager.map(JSONValue.string) ?? .null,
            "machines": .array(machines.map { machine in
                ["assetId": .string(machine.assetId), "since": .string(machine.since.rfc3339), "ageYears": Documents.number((machine.ageYears * 10).rounded() / 10)]
            }),
            "segment": risk.map { .string($0.segment) } ?? .null, "churn": churn,
        ]
    }

    /// The summary as a few lines of text, for the head of `tpj timeline`.
    public func text(risk: CustomerRisk?) -> String {
        func day(_ instant: Timestamp) -> String { instant.utcDate }
        var lines: [String] = []
        let cases = openCases.map { "\($0.caseId) (\($0.ageDays) days, last \($0.lastStep.type) \(day($0.lastStep.occurred)))" }
        lines.append("Open cases: " + (cases.isEmpty ? "none" : cases.joined(separator: "; ")))
        let complaints = openComplaints.map { "\($0.detail ?? "complaint") filed \(day($0.occurred))" }
        lines.append("Open complaints: " + (complaints.isEmpty ? "none" : complaints.joined(separator: "; ")))
        lines.append("Broken promises (12 months): \(brokenPromises12m.count)")
        lines.append("Last visit: " + (lastVisit.map { "\(day($0.occurred)) (\($0.type))" } ?? "none")
            + " · last contact: " + (lastContact.map { "\(day($0.occurred)) (\($0.type))" } ?? "none")
            + " · next planned visit: " + (nextPlannedVisit.map { $0.detail ?? day($0.occurred) } ?? "none"))
        lines.append("Contract: " + (contract.map { contract in
            [contract.contractId, contract.level, contract.responseTimeHours.map { "response \($0) h" },
             contract.endDate.map { "\(contract.status == "active" ? "until" : contract.status) \($0)" }].compactMap { $0 }.joined(separator: ", ")
        } ?? "none") + " · key account manager: " + (keyAccountManager ?? "none"))
        let machineList = machines.map { "\($0.assetId) (\(String(format: "%.1f", $0.ageYears)) years)" }
        lines.append("Machines: " + (machineList.isEmpty ? "none" : machineList.joined(separator: ", ")))
        lines.append("Segment: " + (risk?.segment ?? "–") + " · churn risk: "
            + (risk.map { String(format: "%.0f %% (%@)", $0.risk.probability * 100, $0.risk.band) + ($0.risk.reasons.first.map { ": \($0.sentence)" } ?? "") } ?? "not assessed"))
        return lines.joined(separator: "\n")
    }
}

extension TimelineEntry {
    /// The payload as JSON (null when it does not parse).
    var payloadJSON: JSONValue { (try? JSONParser.parse(payload)) ?? .null }
}
