import Foundation

/// The additive log-odds scorecard of churn risk: logit p = intercept + Σ weight · feature.
///
/// Read from `Schemas/churn-weights.json` (documented expert defaults) or from the file that
/// `tpj churn fit` writes. Reasons are the largest positive contributions weight · (value − mean),
/// at most four (cx-metrics §2.5).
public struct ChurnModel: Sendable, Hashable, Codable {
    public var version: Int
    /// Where the weights come from: `expert defaults` or a fit's description.
    public var source: String
    public var horizonDays: Int
    public var intercept: Double
    public var features: [String: FeatureWeight]
    /// Usual days between parts orders per segment.
    public var segmentOrderGapDays: [String: Double]
    public var bands: Bands

    public struct FeatureWeight: Sendable, Hashable, Codable {
        public var weight: Double
        /// The portfolio mean: contributions are measured from it.
        public var mean: Double

        public init(weight: Double, mean: Double) {
            self.weight = weight
            self.mean = mean
        }
    }

    /// Probability cut-offs between low, medium and high risk.
    public struct Bands: Sendable, Hashable, Codable {
        public var medium: Double
        public var high: Double

        public init(medium: Double, high: Double) {
            self.medium = medium
            self.high = high
        }
    }

    /// Reads a weights file.
    ///
    /// - Throws: ``ChurnModelError`` naming the problem (unreadable JSON, unknown feature, bad bands or horizon).
    public init(json: String) throws(ChurnModelError) {
        do {
            self = try JSONDecoder().decode(ChurnModel.self, from: Data(json.utf8))
        } catch {
            throw ChurnModelError(message: "cannot read the churn weights: \(error)")
        }
        let unknown = Set(features.keys).subtracting(ChurnFeatures.names)
        guard unknown.isEmpty else { throw ChurnModelError(message: "unknown churn features \(unknown.sorted().joined(separator: ", "))") }
        guard bands.medium > 0, bands.medium < bands.high, bands.high < 1 else {
            throw ChurnModelError(message: "bands must satisfy 0 < medium < high < 1")
        }
        guard horizonDays > 0 else { throw ChurnModelError(message: "horizonDays must be positive") }
    }

    public init(version: Int, source: String, horizonDays: Int, intercept: Double, features: [String: FeatureWeight],
                segmentOrderGapDays: [String: Double], bands: Bands) {
        self.version = version
        self.source = source
        self.horizonDays = horizonDays
        self.intercept = intercept
        self.features = features
        self.segmentOrderGapDays = segmentOrderGapDays
        self.bands = bands
    }

    /// The weights as JSON with sorted keys, as `churn fit` writes them.
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try! encoder.encode(self), as: UTF8.self) + "\n"
    }

    /// The log-odds of churn within the horizon.
    public func logit(_ features: ChurnFeatures) -> Double {
        // Summed in the features' fixed order: in a dictionary's order, which changes from process to
        // process, the last bits of equal risks would differ and their ties come out in another order.
        ChurnFeatures.names.reduce(intercept) { sum, name in
            guard let weight = self.features[name] else { return sum }
            return sum + weight.weight * (features.values[name] ?? 0)
        }
    }

    /// Probability, score, band and reasons.
    public func score(_ features: ChurnFeatures) -> ChurnRisk {
        let probability = 1 / (1 + exp(-logit(features)))
        let contributions = ChurnFeatures.names.compactMap { name -> ChurnReason? in
            guard let weight = self.features[name] else { return nil }
            let contribution = weight.weight * ((features.values[name] ?? 0) - weight.mean)
            return contribution > 0.005 ? ChurnReason(feature: name, contribution: contribution, sentence: features.sentences[name] ?? name) : nil
        }
        let reasons = contributions.sorted { ($0.contribution, $1.feature) > ($1.contribution, $0.feature) }.prefix(4)
        return ChurnRisk(
            probability: probability, score: Int((probability * 100).rounded()),
            band: probability > bands.high ? "high" : probability >= bands.medium ? "medium" : "low", reasons: Array(reasons))
    }
}

/// A churn risk with its reasons.
public struct ChurnRisk: Sendable, Hashable {
    public var probability: Double
    /// 0–100.
    public var score: Int
    /// `low`, `medium` or `high`.
    public var band: String
    /// At most four, largest contribution first.
    public var reasons: [ChurnReason]
}

/// One reason for a churn risk: the feature, its contribution in log-odds, and a specific sentence.
public struct ChurnReason: Sendable, Hashable {
    public var feature: String
    public var contribution: Double
    public var sentence: String
}

public struct ChurnModelError: Error, Sendable, Hashable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
    public init(message: String) { self.message = message }
}
