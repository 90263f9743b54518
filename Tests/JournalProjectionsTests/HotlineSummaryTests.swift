import GRDB
import Journal
import JournalProjections
import JournalStore
import JournalTesting
import Testing

/// The hotline summary of a customer whose journey holds each thing an agent looks for.
@Suite struct HotlineSummaryTests {
    /// C-7's journey, each event recorded when it occurred; the case is closed on 2 March 2026.
    static func journal() throws -> (EventStore, [String: Int64]) {
        let (clock, setTime) = JournalClock.manual(try Timestamp(rfc3339: "2019-01-10T09:00:00Z"))
        let store = try EventStore(writer: JournalDatabase.inMemory(), clock: clock)
        var positions: [String: Int64] = [:]
        func add(_ label: String, _ type: String, _ occurredAt: String, caseId: String? = nil, assetId: String? = nil, _ payload: JSONValue) throws {
            setTime(try Timestamp(rfc3339: occurredAt))
            let event = ProposedEvent(eventId: TestEvents.id(positions.count + 1), type: type, occurredAt: occurredAt, caseId: caseId, assetId: assetId, payload: payload)
            positions[label] = try store.append([event], to: "C-7").positions[0]
        }
        try add("registered", "customer.registered", "2019-01-10T09:00:00Z", ["name": "Hoffmann Präzision GmbH", "country": "DE", "keyAccountManager": "S. Vogel"])
        try add("m1", "installation.completed", "2019-03-02T12:00:00Z", assetId: "M-1",
                ["scheduledDate": "2019-03-01", "completedDate": "2019-03-02", "acceptancePassedFirstTime": true])
        try add("m2", "installation.completed", "2023-06-01T12:00:00Z", assetId: "M-2",
                ["scheduledDate": "2023-06-01", "completedDate": "2023-06-01", "acceptancePassedFirstTime": true])
        try add("signed", "contract.signed", "2025-01-01T09:00:00Z", ["contractId": "SC-1", "level": "premium", "startDate": "2025-01-01",
                "endDate": "2025-12-31", "annualValue": 12_000, "currency": "EUR", "responseTimeHours": 8])
        try add("solved", "hotline.call.received", "2025-11-01T09:00:00Z", caseId: "CASE-2",
                ["queueWaitSeconds": 30, "abandoned": false, "solvedOnCall": true, "machineDown": false])
        try add("renewed", "contract.renewed", "2025-12-01T09:00:00Z", ["contractId": "SC-1", "newEndDate": "2026-12-31"])
        try add("call", "hotline.call.received", "2026-02-01T09:00:00Z", caseId: "CASE-1", assetId: "M-2",
                ["queueWaitSeconds": 30, "abandoned": false, "solvedOnCall": false, "machineDown": true])
        try add("late", "technician.visit.completed", "2026-02-03T08:00:00+01:00", caseId: "CASE-1", assetId: "M-2",
                ["visitNumber": 1, "promisedArrival": "2026-02-02T08:00:00+01:00", "actualArrival": "2026-02-03T08:00:00+01:00", "fixed": false])
        try add("complaint", "complaint.filed", "2026-02-10T09:00:00Z", ["complaintId": "K-1", "category": "response-time", "severity": "high"])
        try add("planned", "technician.visit.scheduled", "2026-02-20T09:00:00Z", caseId: "CASE-1", assetId: "M-2",
                ["visitNumber": 2, "promisedArrival": "2026-03-05T08:00:00+01:00"])
        try add("closed", "case.closed", "2026-03-02T09:00:00Z", caseId: "CASE-1", ["resolution": "resolved"])
        try ProjectionRunner(store: store, projections: [JourneyTimeline(registry: .bundled)]).catchUp()
        return (store, positions)
    }

    static func summary(_ store: EventStore, asOf: String) throws -> HotlineSummary {
        let entries = try store.writer.read { db in try JourneyTimeline.entries(of: "C-7", filter: TimelineFilter(), in: db) }
        return HotlineSummary(entries: entries.map { $0.disclosed(by: store.disclosure(.plain)) }, asOf: try Timestamp(rfc3339: asOf))
    }

    @Test func theSummaryNamesWhatAnAgentNeedsWithTheTouchpointsOnTheTimeline() throws {
        let (store, at) = try Self.journal()
        let summary = try Self.summary(store, asOf: "2026-03-01T00:00:00Z")
        #expect(summary.openCases.map(\.caseId) == ["CASE-1"])
        #expect(summary.openCases.first?.ageDays == 27 && summary.openCases.first?.lastStep.position == at["planned"])
        #expect(summary.openComplaints.map(\.position) == [at["complaint"]!] && summary.openComplaints.first?.detail == "K-1")
        #expect(summary.brokenPromises12m.map(\.position).contains(at["late"]!))
        #expect(summary.lastVisit?.position == at["late"] && summary.lastContact?.position == at["planned"])
        #expect(summary.nextPlannedVisit?.position == at["planned"] && summary.nextPlannedVisit?.detail == "2026-03-05T08:00:00+01:00")
        let contract = try #require(summary.contract)
        #expect(contract.contractId == "SC-1" && contract.level == "premium" && contract.responseTimeHours == 8)
        #expect(contract.endDate == "2026-12-31" && contract.status == "active")
        #expect(summary.keyAccountManager == "S. Vogel")
        #expect(summary.machines.map(\.assetId) == ["M-1", "M-2"])
        #expect(summary.machines.map { ($0.ageYears * 10).rounded() / 10 } == [7.0, 2.7])
        // The document names the same touchpoints.
        let document = summary.document(customerId: "C-7", risk: nil)
        guard case .array(let cases)? = document["openCases"] else { throw CancellationError() }
        #expect(cases.first?["lastStep"]?["position"]?.intValue == Int(at["planned"]!))
        #expect(document["contract"]?["status"] == "active" && document["churn"] == .null)
    }

    @Test func theSummaryAsOfADateKnowsOnlyWhatWasRecordedAndDueByThen() throws {
        let (store, at) = try Self.journal()
        // Before the renewal the contract ran to 2025-12-31; the case did not exist yet.
        let earlier = try Self.summary(store, asOf: "2025-11-15T00:00:00Z")
        #expect(earlier.contract?.endDate == "2025-12-31" && earlier.openCases.isEmpty && earlier.openComplaints.isEmpty)
        #expect(earlier.lastContact?.position == at["solved"] && earlier.nextPlannedVisit == nil)
        // After the case was closed and the planned visit's date has passed.
        let later = try Self.summary(store, asOf: "2026-03-06T00:00:00Z")
        #expect(later.openCases.isEmpty && later.nextPlannedVisit == nil && later.openComplaints.count == 1)
        // A year after the contract's end, it has ended.
        #expect(try Self.summary(store, asOf: "2027-02-01T00:00:00Z").contract?.status == "ended")
        // Masked for an analyst: the key account manager is a pseudonym.
        let entries = try store.writer.read { db in try JourneyTimeline.entries(of: "C-7", filter: TimelineFilter(), in: db) }
        let masked = HotlineSummary(entries: entries.map { $0.disclosed(by: store.disclosure(.pseudonym)) }, asOf: try Timestamp(rfc3339: "2026-03-01T00:00:00Z"))
        #expect(masked.keyAccountManager?.hasPrefix("p-") == true)
    }
}
