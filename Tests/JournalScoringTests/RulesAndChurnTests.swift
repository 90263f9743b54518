import Foundation
import Journal
import JournalSchemas
import Testing

@testable import JournalScoring

@Suite struct RulesAndChurnTests {
    let rulesJSON = BundledSchemas.file("moments-of-truth.json")!
    let schema = BundledSchemas.file("moments-of-truth.schema.json")!

    @Test(arguments: [
        (#""negativityWeight": 2.0"#, #""negativityWeight": 0.5"#, "/negativityWeight"),
        (#""version": 2"#, #""version": "one""#, "/version"),
        (#""moment": "machineDown" },"#, #""moment": "sometimes" },"#, "/touchpoints/hotline.call.received/moment"),
        (#""peakEndWeight": 0.7,"#, #""peakEndWeight": 0.7, "extra": 1,"#, "/episode"),
    ])
    func aBadRulesFileIsRefusedWithItsPath(_ original: String, _ replacement: String, _ path: String) {
        #expect(rulesJSON.contains(original))
        let broken = rulesJSON.replacingFirst(original, with: replacement)
        do {
            _ = try MomentRules(json: broken, schema: schema)
            Issue.record("accepted \(replacement)")
        } catch {
            #expect(error.message.hasPrefix(path), "\(error.message)")
        }
    }

    @Test func aRiskDoesNotDependOnTheOrderTheWeightsAreKeptIn() throws {
        // Contributions whose sum depends on the order they are added in, the last bits included.
        let contributions: [String: Double] = ["recencyRatio": 1e17, "revenueDecline": 1, "declinedQuotes6m": -1e17, "calls90d": 0.1, "detractor": 3]
        let names = ChurnFeatures.names.filter { contributions[$0] != nil }
        func model(_ order: [String], capacity: Int) -> ChurnModel {
            var features: [String: ChurnModel.FeatureWeight] = Dictionary(minimumCapacity: capacity)
            for name in order { features[name] = ChurnModel.FeatureWeight(weight: contributions[name]!, mean: 0) }
            return ChurnModel(version: 1, source: "test", horizonDays: 180, intercept: -4, features: features,
                              segmentOrderGapDays: [:], bands: ChurnModel.Bands(medium: 0.1, high: 0.3))
        }
        var features = ChurnFeatures(history: CustomerHistory(customerId: "C-1", facts: [], scores: []), asOf: Timestamp(microseconds: 0),
                                     segment: "A", segmentOrderGapDays: [:], rules: try MomentRules(json: rulesJSON, schema: schema))
        features.values = Dictionary(uniqueKeysWithValues: names.map { ($0, 1) })
        let first = model(names, capacity: 8), second = model(names.reversed(), capacity: 4_096)
        #expect(first == second)
        #expect(first.logit(features).bitPattern == second.logit(features).bitPattern)
        // Added in the features' order: 1e17 − 1e17 loses the 1 and keeps the rest.
        #expect(first.logit(features) == -4 + 1e17 + 1 - 1e17 + 0.1 + 3)
    }

    @Test func bandsMustBeOrdered() {
        let broken = rulesJSON.replacingFirst(#""strong": 70"#, with: #""strong": 20"#)
        #expect(throws: MomentRulesError.self) { try MomentRules(json: broken, schema: schema) }
    }

    @Test func aucCountsTiesHalfAndNeedsBothClasses() {
        #expect(ChurnFit.auc(scores: [1, 2, 3, 4], labels: [false, false, true, true]) == 1)
        #expect(ChurnFit.auc(scores: [4, 3, 2, 1], labels: [false, false, true, true]) == 0)
        #expect(ChurnFit.auc(scores: [1, 1], labels: [false, true]) == 0.5)
        #expect(ChurnFit.auc(scores: [1, 2], labels: [true, true]) == nil)
    }

    @Test func logisticRegressionRecoversTheDirectionOfAKnownModel() {
        // y depends on x0 (positively) and not on x1; drawn deterministically.
        var state: UInt64 = 42
        func uniform() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53)
        }
        let samples = (0..<4000).map { index -> ChurnSample in
            let x0 = uniform() * 4, x1 = uniform() * 4
            let p = 1 / (1 + exp(-(-3 + 1.2 * x0)))
            return ChurnSample(asOfDays: index, features: [x0, x1], lost: uniform() < p)
        }
        let (intercept, weights) = ChurnFit.logistic(samples, ridge: 0.01)
        #expect(abs(weights[0] - 1.2) < 0.2 && abs(weights[1]) < 0.15 && abs(intercept - -3) < 0.4, "\(intercept) \(weights)")
    }
}

extension String {
    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let range = range(of: target) else { return self }
        return replacingCharacters(in: range, with: replacement)
    }
}
