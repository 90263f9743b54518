import Foundation
import GRDB
import Journal
import JournalScoring

/// Labelled snapshots for fitting and evaluating the churn scorecard: for monthly as-of dates, the
/// features of every customer not yet lost and whether it was lost within the horizon after.
public struct ChurnTraining: Sendable {
    public var insights: Insights
    public var horizonDays: Int
    public var stepDays: Int

    public init(insights: Insights, horizonDays: Int, stepDays: Int = 30) {
        self.insights = insights
        self.horizonDays = horizonDays
        self.stepDays = stepDays
    }

    /// The snapshots, with the as-of days (days since 1970) of the first and last.
    public func samples(in db: Database, progress: ((Int, Int) -> Void)? = nil) throws -> [ChurnSample] {
        guard let bounds = try Row.fetchOne(db, sql: "SELECT min(occurredAtUs), max(occurredAtUs) FROM facts_fact"),
            let first = bounds[0] as Int64?, let last = bounds[1] as Int64?
        else { return [] }
        let day: Int64 = 86_400_000_000
        // Start once a year of history exists; stop when the horizon still fits in the data.
        let start = first / day + 365, end = last / day - Int64(horizonDays)
        guard start <= end else { return [] }
        let dates = stride(from: start, through: end, by: stepDays).map { Timestamp(microseconds: $0 * day) }
        // Segments per date need the whole portfolio first.
        var segments: [[String: String]] = []
        for (index, date) in dates.enumerated() {
            segments.append(Dictionary(try insights.segments(asOf: date, in: db).map { ($0.customerId, $0.segment) }, uniquingKeysWith: { a, _ in a }))
            progress?(index + 1, dates.count * 2)
        }
        var samples: [ChurnSample] = []
        var done = 0
        try Insights.forEachHistory(in: db, scores: true) { history in
            let losses = history.facts.filter { $0.kind == "lost" }.map(\.occurred)
            for (index, date) in dates.enumerated() {
                guard let segment = segments[index][history.customerId] else { continue }
                let features = ChurnFeatures(
                    history: history, asOf: date, segment: segment, segmentOrderGapDays: insights.model.segmentOrderGapDays,
                    rules: insights.rules)
                if features.isLost { continue }
                let horizonEnd = date.microseconds + Int64(horizonDays) * day
                let lost = losses.contains { $0 > date && $0.microseconds <= horizonEnd }
                samples.append(ChurnSample(
                    asOfDays: Int(date.microseconds / day), features: ChurnFeatures.names.map { features.values[$0] ?? 0 }, lost: lost))
            }
            done += 1
            if done % 1000 == 0 { progress?(dates.count, dates.count * 2) }
        }
        return samples
    }
}

/// The outcome of fitting the scorecard on older snapshots and testing it on later ones.
public struct ChurnEvaluation: Sendable {
    public var trainSamples: Int
    public var testSamples: Int
    public var trainPositives: Int
    public var testPositives: Int
    public var defaultAUC: Double?
    public var fittedAUC: Double?
    public var recencyAUC: Double?
    public var fitted: ChurnModel
    /// Predicted against observed on the test snapshots, by decile of predicted risk (lowest first).
    public var defaultCalibration: [CalibrationBin]
    public var fittedCalibration: [CalibrationBin]

    /// The share of test snapshots lost within the horizon.
    public var observedRate: Double { Double(testPositives) / Double(max(testSamples, 1)) }

    /// One decile of snapshots ordered by predicted risk: how many, the mean predicted risk, the share lost.
    public struct CalibrationBin: Sendable, Hashable {
        public var snapshots: Int
        public var meanPredicted: Double
        public var observed: Double
    }

    /// The bins of `probabilities` (with their outcomes) in ten groups of equal size by predicted risk,
    /// ties kept in the given order; the last bin is the riskiest.
    public static func calibration(_ probabilities: [Double], _ labels: [Bool], bins: Int = 10) -> [CalibrationBin] {
        let order = probabilities.indices.sorted { (probabilities[$0], $0) < (probabilities[$1], $1) }
        guard !order.isEmpty else { return [] }
        return (0..<bins).compactMap { bin in
            let range = (order.count * bin / bins)..<(order.count * (bin + 1) / bins)
            guard !range.isEmpty else { return nil }
            let members = range.map { order[$0] }
            return CalibrationBin(
                snapshots: members.count, meanPredicted: members.reduce(0) { $0 + probabilities[$1] } / Double(members.count),
                observed: Double(members.count { labels[$0] }) / Double(members.count))
        }
    }

    /// Bands that mean the same whatever the base rate: medium at twice the training snapshots' rate of
    /// loss within the horizon, high at five times.
    public static func bands(baseRate: Double) -> ChurnModel.Bands {
        let rate = min(max(baseRate, 0.001), 0.15)
        return ChurnModel.Bands(medium: (2 * rate * 10_000).rounded() / 10_000, high: (5 * rate * 10_000).rounded() / 10_000)
    }

    /// Splits by time (train snapshots end, with their horizon, before the first test snapshot), fits, and scores the test part.
    public static func run(samples: [ChurnSample], defaults: ChurnModel, horizonDays: Int, testShare: Double = 0.3) -> ChurnEvaluation? {
        guard let first = samples.map(\.asOfDays).min(), let last = samples.map(\.asOfDays).max(), last > first else { return nil }
        let split = last - Int(Double(last - first) * testShare)
        let train = samples.filter { $0.asOfDays + horizonDays <= split }
        let test = samples.filter { $0.asOfDays >= split }
        guard !train.isEmpty, !test.isEmpty else { return nil }
        let (intercept, weights) = ChurnFit.logistic(train)
        let names = ChurnFeatures.names
        var features: [String: ChurnModel.FeatureWeight] = [:]
        for (index, name) in names.enumerated() {
            let mean = train.reduce(0) { $0 + $1.features[index] } / Double(train.count)
            features[name] = ChurnModel.FeatureWeight(weight: (weights[index] * 1000).rounded() / 1000, mean: (mean * 1000).rounded() / 1000)
        }
        let fitted = ChurnModel(
            version: defaults.version, source: "logistic regression on \(train.count) snapshots (\(train.count { $0.lost }) lost within \(horizonDays) days)",
            horizonDays: horizonDays, intercept: (intercept * 1000).rounded() / 1000, features: features,
            segmentOrderGapDays: defaults.segmentOrderGapDays, bands: bands(baseRate: Double(train.count { $0.lost }) / Double(train.count)))
        func linear(_ model: ChurnModel, _ sample: ChurnSample) -> Double {
            names.enumerated().reduce(model.intercept) { $0 + (model.features[$1.element]?.weight ?? 0) * sample.features[$1.offset] }
        }
        let labels = test.map(\.lost)
        let recencyIndex = names.firstIndex(of: "recencyRatio")!
        func probabilities(_ model: ChurnModel) -> [Double] { test.map { 1 / (1 + exp(-linear(model, $0))) } }
        return ChurnEvaluation(
            trainSamples: train.count, testSamples: test.count, trainPositives: train.count { $0.lost }, testPositives: test.count { $0.lost },
            defaultAUC: ChurnFit.auc(scores: test.map { linear(defaults, $0) }, labels: labels),
            fittedAUC: ChurnFit.auc(scores: test.map { linear(fitted, $0) }, labels: labels),
            recencyAUC: ChurnFit.auc(scores: test.map { $0.features[recencyIndex] }, labels: labels),
            fitted: fitted, defaultCalibration: calibration(probabilities(defaults), labels), fittedCalibration: calibration(probabilities(fitted), labels))
    }
}
