import Foundation
import Journal

/// The thresholds and weights of moment-of-truth scoring, read from `Schemas/moments-of-truth.json`.
///
/// Every value has a default in that file; analysts tune them there, raise `version`, and the scores
/// are rebuilt. The version is stored with every score.
///
/// ```swift
/// let rules = try MomentRules(json: contentsOfRulesFile)
/// rules.negativityWeight   // 2.0
/// ```
public struct MomentRules: Sendable, Hashable, Codable {
    public var version: Int
    public var components: Components
    /// λ: how much more a negative touchpoint weighs than a positive one.
    public var negativityWeight: Double
    /// s: severity multiplier when the machine is down.
    public var machineDownSeverity: Double
    public var thresholds: Thresholds
    /// Scored touchpoint types; other types are not scored.
    public var touchpoints: [String: TouchpointRule]
    public var episode: EpisodeRules
    public var journey: JourneyRules
    public var companions: CompanionRules
    /// Where a missing report counts against a visit; absent (rules written before it): everywhere.
    public var documentation: DocumentationRules?

    /// The systems that record a report with every visit.
    public struct DocumentationRules: Sendable, Hashable, Codable {
        /// Sources (an event's `source`, or its part before a `/`) whose visits carry a report: one without
        /// is flagged `MISSING_DOCUMENTATION`. Visits from other systems (imports that never had report
        /// text) are not.
        public var reportExpectedFrom: [String]
    }

    /// Whether a visit recorded by `source` should carry a report.
    public func expectsReport(from source: String?) -> Bool {
        guard let sources = documentation?.reportExpectedFrom else { return true }
        guard let source else { return false }
        return sources.contains { source == $0 || source.hasPrefix($0 + "/") }
    }

    public struct Components: Sendable, Hashable, Codable {
        public var weights: Weights
        /// The value of a broken promise, before lateness: −0.5.
        public var brokenPromiseBase: Double
        /// Added per unit of late ratio (capped at 1): −0.5, so a broken promise is worth −0.5 … −1.
        public var brokenPromiseLateSlope: Double
        /// Effort falls by this much per effort flag, to at most −1.
        public var effortPenaltyPerFlag: Double
    }

    public struct Weights: Sendable, Hashable, Codable {
        public var promise: Double
        public var outcome: Double
        public var effort: Double
        public var voice: Double
    }

    public struct Thresholds: Sendable, Hashable, Codable {
        public var queueWaitTargetSeconds: Double
        public var arrivalToleranceMinutes: Double
        /// Window of an arrival promise whose making was not recorded.
        public var defaultArrivalWindowHours: Double
        public var deliveryWindowDays: Double
        public var partWindowDays: Double
        public var expressPartWindowDays: Double
        public var maintenanceWindowDays: Double
        public var installationWindowDays: Double
        public var quoteTurnaroundHours: Double
        public var complaintQuickDays: Double
    }

    public struct TouchpointRule: Sendable, Hashable, Codable {
        /// c: how much this kind of touchpoint matters.
        public var criticality: Double
        /// c when the machine is down (parts for a stopped machine matter more).
        public var machineDownCriticality: Double?
        public var moment: MomentCondition
    }

    /// When a touchpoint counts as a moment of truth.
    public enum MomentCondition: String, Sendable, Hashable, Codable {
        case always, machineDown, firstInCase, never
    }

    public struct EpisodeRules: Sendable, Hashable, Codable {
        /// ω: weight of the peak–end average against the plain mean.
        public var peakEndWeight: Double
        /// A positive episode shrinks by this factor for each contact after the first.
        public var repeatContactDecay: Double
        /// The end of a complaint episode that contained a failure counts at most this much.
        public var recoveredComplaintEndCap: Double
    }

    public struct JourneyRules: Sendable, Hashable, Codable {
        public var halfLifeDays: Double
        public var bands: Bands
    }

    /// Lower bounds of the journey bands on the 0–100 display scale.
    public struct Bands: Sendable, Hashable, Codable {
        public var strong: Double
        public var stable: Double
        public var atRisk: Double
    }

    public struct CompanionRules: Sendable, Hashable, Codable {
        /// Proactive contacts (maintenance, inspections, training) per year that each segment should get.
        public var cadenceTargetsPerYear: [String: Double]
    }

    /// Reads rules from JSON, checking them against `schema` (the rules file's JSON Schema) first.
    ///
    /// - Throws: ``MomentRulesError`` naming the JSON path and rule of the first problem.
    public init(json: String, schema: String) throws(MomentRulesError) {
        let document: JSONValue
        do {
            document = try JSONParser.parse(Array(json.utf8))
        } catch {
            throw MomentRulesError(message: "the rules file is not valid JSON: \(error)")
        }
        do {
            let compiled = try JSONSchema(compiling: JSONParser.parse(Array(schema.utf8)))
            if let violation = compiled.validate(document, maximumViolations: 1).first {
                throw MomentRulesError(message: "\(violation.path.isEmpty ? "/" : violation.path): \(violation.message) (\(violation.rule))")
            }
        } catch let error as MomentRulesError {
            throw error
        } catch {
            throw MomentRulesError(message: "the rules schema cannot be compiled: \(error)")
        }
        do {
            self = try JSONDecoder().decode(MomentRules.self, from: Data(json.utf8))
        } catch {
            throw MomentRulesError(message: "the rules file cannot be read: \(error)")
        }
        let bands = journey.bands
        guard bands.strong >= bands.stable, bands.stable >= bands.atRisk else {
            throw MomentRulesError(message: "/journey/bands: strong ≥ stable ≥ atRisk is required (got \(bands.strong), \(bands.stable), \(bands.atRisk))")
        }
    }

    /// The rule for a touchpoint type, if that type is scored.
    public func rule(for type: String) -> TouchpointRule? { touchpoints[type] }
}

/// A rules file that cannot be used, with the place and reason.
public struct MomentRulesError: Error, Sendable, Hashable, CustomStringConvertible {
    public let message: String
    public var description: String { "moments-of-truth rules: \(message)" }

    public init(message: String) {
        self.message = message
    }
}
