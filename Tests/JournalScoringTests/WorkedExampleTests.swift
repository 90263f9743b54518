import Journal
import JournalSchemas
import Testing

@testable import JournalScoring

/// The worked example of the scoring research (cx-metrics §2.6): a machine-down breakdown with a
/// hotline call, a late first visit that fails, and a second visit that fixes it.
@Suite struct WorkedExampleTests {
    let rules = try! MomentRules.bundledForTests()
    let call = try! Timestamp(rfc3339: "2026-03-02T08:00:00Z")

    var scorer: TouchpointScorer { TouchpointScorer(rules: rules) }

    func hotline() -> MomentScore {
        var context = CaseContext()
        context.followedUpAt = Timestamp(microseconds: call.microseconds + 1_800_000_000)
        return scorer.score(
            type: "hotline.call.received", occurred: call,
            payload: ["queueWaitSeconds": 40, "abandoned": false, "solvedOnCall": false, "machineDown": true,
                      "callbackPromisedBy": "2026-03-02T09:00:00Z"],
            context: context)!
    }

    func firstVisit(source: String = "field-app") -> MomentScore {
        var context = CaseContext()
        context.source = source
        context.machineDown = true
        context.earlierContacts = 1
        context.promiseMadeAt = try! Timestamp(rfc3339: "2026-03-02T08:30:00Z")
        // Promised 24 h after it was made, arrived 6 h late, not fixed, no report from the field app (one effort flag).
        return scorer.score(
            type: "technician.visit.completed", occurred: try! Timestamp(rfc3339: "2026-03-03T14:30:00Z"),
            payload: ["visitNumber": 1, "promisedArrival": "2026-03-03T08:30:00Z", "actualArrival": "2026-03-03T14:30:00Z",
                      "fixed": false, "revisitRequired": true],
            context: context)!
    }

    func secondVisit() -> MomentScore {
        var context = CaseContext()
        context.machineDown = true
        context.earlierContacts = 1
        context.earlierVisits = 1
        context.surveys = [SurveyAnswer(csi: 4, ces: 5)]
        return scorer.score(
            type: "technician.visit.completed", occurred: try! Timestamp(rfc3339: "2026-03-05T11:00:00Z"),
            payload: ["visitNumber": 2, "promisedArrival": "2026-03-05T09:00:00Z", "actualArrival": "2026-03-05T08:55:00Z",
                      "fixed": true, "revisitRequired": false, "report": "Encoder replaced."],
            context: context)!
    }

    @Test func hotlineCallKeptItsPromiseWithOutcomePending() {
        let score = hotline()
        #expect(score.promise == 1 && score.outcome == 0 && score.effort == 0 && score.voice == nil)
        #expect(abs(score.valence - 0.467) < 0.001)
        #expect(abs(score.impact - 1.05) < 0.001)
        #expect(score.reasons == ["PROMISE_KEPT reaction", "OUTCOME_PENDING"])
        #expect(score.isMoment)
    }

    @Test func lateFailedFirstVisitWeighsTwiceAsMuch() {
        let score = firstVisit()
        #expect(score.promise == -0.625 && score.outcome == -1 && score.effort == -0.25)
        #expect(abs(score.valence - -0.675) < 1e-9)
        #expect(abs(score.weighted - -1.35) < 1e-9)
        #expect(abs(score.impact - -6.075) < 1e-9)
        #expect(score.criticality == 3 && score.severity == 1.5)
        #expect(score.reasons == ["PROMISE_BROKEN arrival +6h", "REVISIT_REQUIRED", "MISSING_DOCUMENTATION"])
        #expect(score.promiseCheck == PromiseCheck(kind: "arrival", kept: false, lateSeconds: 6 * 3600))
        #expect(score.isMoment)
    }

    @Test(arguments: ["helpdesk", "import/legacy-fsm", "field-application", ""])
    func aVisitWithoutAReportIsFlaggedOnlyWhereItsSourcePromisesOne(_ source: String) {
        let score = firstVisit(source: source)
        #expect(score.effort == 0)
        #expect(score.reasons == ["PROMISE_BROKEN arrival +6h", "REVISIT_REQUIRED"])
        #expect(firstVisit(source: "field-app/tablet-7").reasons.last == "MISSING_DOCUMENTATION")
    }

    @Test func secondVisitOnTimeFixedWithSurvey() {
        let score = secondVisit()
        #expect(abs(score.voice! - 0.4167) < 0.0001)
        #expect(abs(score.valence - 0.667) < 0.001)
        #expect(abs(score.impact - 3.0) < 0.001)
        #expect(score.reasons.contains("REPEAT_CONTACT visit 2") && score.reasons.contains("FIXED"))
        #expect(!score.isMoment)
    }

    @Test func episodeIsRememberedAsNegativeDespiteTheGoodEnd() {
        let scores = [hotline(), firstVisit(), secondVisit()]
        let touchpoints = scores.enumerated().map { index, score in
            ScoredTouchpoint(position: Int64(index + 1), occurred: Timestamp(microseconds: call.microseconds + Int64(index) * 86_400_000_000),
                             caseId: "CASE-1", type: index == 0 ? "hotline.call.received" : "technician.visit.completed", score: score)
        }
        let episode = Episode(key: "CASE-1", touchpoints: touchpoints, rules: rules)!
        #expect(abs(episode.peak - -1.35) < 1e-9)
        #expect(abs(episode.end - 0.667) < 0.001)
        #expect(abs(episode.mean - -0.072) < 0.001)
        #expect(abs(episode.value - -0.26) < 0.005)
        #expect(episode.criticality == 3 && episode.severity == 1.5)
    }

    /// With two older episodes, +0.6 (200 days ago, a hotline episode: c·s = 1.5) and −0.8
    /// (500 days ago, a breakdown without machine down: c·s = 3), J ≈ −0.22, shown as 44/100.
    @Test func journeyIndexWeighsRecentCriticalEpisodesMore() {
        let now = Timestamp(microseconds: call.microseconds + 3 * 86_400_000_000)
        func single(_ a: Double, daysAgo: Int64, criticality: Double, position: Int64) -> ScoredTouchpoint {
            ScoredTouchpoint(
                position: position, occurred: Timestamp(microseconds: now.microseconds - daysAgo * 86_400_000_000), caseId: nil,
                type: "technician.visit.completed",
                score: MomentScore(valence: a >= 0 ? a : a / 2, weighted: a, criticality: criticality, severity: 1,
                                   isMoment: false, reasons: [], rulesVersion: 1))
        }
        let current = Episode(key: "CASE-1", touchpoints: [hotline(), firstVisit(), secondVisit()].enumerated().map { index, score in
            ScoredTouchpoint(position: Int64(10 + index), occurred: Timestamp(microseconds: now.microseconds - Int64(2 - index) * 3_600_000_000),
                             caseId: "CASE-1", type: "technician.visit.completed", score: score)
        }, rules: rules)!
        let older = Episode.episodes(of: [single(0.6, daysAgo: 200, criticality: 1.5, position: 1), single(-0.8, daysAgo: 500, criticality: 3, position: 2)], rules: rules)
        #expect(older.map(\.value) == [-0.8, 0.6])
        let journey = JourneyIndex(episodes: older + [current], asOf: now, rules: rules)!
        #expect(abs(journey.value - -0.221) < 0.002)
        #expect(journey.display == 44)
        #expect(journey.band == "at risk")
    }
}

extension MomentRules {
    static func bundledForTests() throws -> MomentRules {
        try MomentRules(json: BundledSchemas.file("moments-of-truth.json")!, schema: BundledSchemas.file("moments-of-truth.schema.json")!)
    }
}
