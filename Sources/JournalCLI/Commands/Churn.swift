import ArgumentParser
import Foundation
import Journal
import JournalProjections
import JournalScoring
import JournalStore

/// Where churn weights come from: `--weights`, `$TPJ_CHURN_WEIGHTS`, the weights recorded in the log by the
/// date asked about (``ConfigurationLog``), the file `churn fit` wrote next to the journal, or the defaults.
struct WeightsOptions: ParsableArguments {
    @Option(name: .long, help: "Churn weights file (default: $TPJ_CHURN_WEIGHTS, else the weights recorded in the journal by the date asked about, else <journal>.churn-weights.json if `tpj churn fit` wrote one, else the bundled defaults).")
    var weights: String?

    /// Whether a weights file is named (`--weights` or `$TPJ_CHURN_WEIGHTS`).
    var namesAFile: Bool { weights != nil || !(ProcessInfo.processInfo.environment["TPJ_CHURN_WEIGHTS"] ?? "").isEmpty }

    /// The weights in force at `instant`: a file given, else the weights the journal recorded by then, else ``model(journal:)``.
    func model(journal: String, store: EventStore, at instant: Timestamp) throws -> (ChurnModel, String) {
        if !namesAFile, let recorded = try ConfigurationLog(store: store).churnModel(at: instant) {
            return (recorded.model, "recorded at position \(recorded.entry.position), \(recorded.entry.recorded.rfc3339)")
        }
        return try model(journal: journal)
    }

    /// The content of the weights file in use (nil: the bundled defaults).
    func fileContent(journal: String) throws -> JSONValue? {
        guard let path = path(journal: journal) else { return nil }
        do {
            return try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        } catch {
            throw CLIError(code: 65, message: "cannot read the churn weights \(path): \(error)")
        }
    }

    func path(journal: String) -> String? {
        if let weights { return weights }
        if let env = ProcessInfo.processInfo.environment["TPJ_CHURN_WEIGHTS"], !env.isEmpty { return env }
        let beside = journal + ".churn-weights.json"
        return FileManager.default.fileExists(atPath: beside) ? beside : nil
    }

    func model(journal: String) throws -> (ChurnModel, String) {
        let path = path(journal: journal)
        do {
            return (try ChurnModel.load(path: path), path ?? "bundled defaults")
        } catch {
            throw CLIError(code: 65, message: error.description)
        }
    }
}

extension JournalCommand {
    struct Churn: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Churn risk per customer as of a date, with reason codes; `fit` re-estimates the weights.",
            subcommands: [Score.self, Fit.self], defaultSubcommand: Score.self)
    }
}

extension JournalCommand.Churn {
    struct Score: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "score",
            abstract: "Customers by churn risk (0–100, band low/medium/high) with at most four reasons each.",
            discussion: """
                The risk is an additive log-odds scorecard over features computed at query time from the projected \
                facts as known at --as-of: the same date always gives the same answer.
                """)

        @Option(name: .long, help: "Show the N riskiest customers.")
        var top = 20

        @Option(name: .long, help: "Only this customer.", transform: CustomerArgument.parse)
        var customer: String?

        @OptionGroup var weightsOptions: WeightsOptions
        @OptionGroup var scoring: ScoringOptions
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions

        func validate() throws {
            guard top > 0 else { throw ValidationError("--top must be at least 1") }
        }

        func run() throws {
            try runReportingErrors(json: output.json) {
                let asOf = scoring.instant
                let store = try database.openStore(create: false)
                let (model, source) = try weightsOptions.model(journal: database.path, store: store, at: asOf)
                let risks = try withInsights(database, scoring, model: model, store: store, customer: customer) { insights, snapshot in
                    try snapshot.churn(asOf: asOf, customerId: customer, insights)
                }
                if let customer, risks.isEmpty {
                    throw CLIError(code: 66, message: "customer \(customer) has no facts as of \(asOf.rfc3339), or was lost by then")
                }
                if output.json {
                    Output.json(Documents.churn(risks, top: top, asOf: asOf, weights: source))
                    return
                }
                let bands = ["high", "medium", "low"].map { band in "\(Output.count(risks.count { $0.risk.band == band })) \(band)" }.joined(separator: ", ")
                Output.line("Churn risk as of \(asOf.rfc3339) (\(model.horizonDays)-day horizon, weights: \(source)): \(Output.count(risks.count, "customer")) — \(bands)")
                Output.line(CustomerRisk.table(risks.prefix(top)))
            }
        }
    }

    struct Fit: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-estimate the churn weights by logistic regression on monthly snapshots (out-of-time split).",
            discussion: """
                Labels: a customer counts as churned when `customer.lost` occurs within the horizon after a snapshot. \
                The older 70% of snapshot dates train the model (only snapshots whose horizon ends before the test \
                period), the newest 30% test it. Prints AUC of the default weights, the fitted weights and a \
                recency-only baseline, and writes the fitted weights to a file that `tpj churn` then uses.
                """)

        @Option(name: .long, help: "Prediction horizon, e.g. 180d.")
        var horizon: String = "180d"

        @Option(name: .long, help: "Where to write the weights (default: <journal>.churn-weights.json, used by `tpj churn`).")
        var out: String?

        @OptionGroup var scoring: ScoringOptions
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions

        var horizonDays: Int? {
            guard horizon.hasSuffix("d"), let days = Int(horizon.dropLast()), days > 0, days <= 3650 else { return nil }
            return days
        }

        func validate() throws {
            guard horizonDays != nil else { throw ValidationError("--horizon must be a number of days such as 180d (1–3650)") }
        }

        func run() throws {
            try runReportingErrors(json: output.json) {
                let days = horizonDays!
                let defaults = ChurnModel.bundled
                let progress = ProgressLine(label: "snapshots", enabled: !output.json)
                let samples = try withInsights(database, scoring, model: defaults) { insights, snapshot in
                    try snapshot.churnSamples(ChurnTraining(insights: insights, horizonDays: days)) { done, total in progress.update(Double(done) / Double(max(total, 1))) }
                }
                progress.finish()
                guard let evaluation = ChurnEvaluation.run(samples: samples, defaults: defaults, horizonDays: days),
                    evaluation.trainPositives > 0, evaluation.testPositives > 0
                else {
                    throw CLIError(code: 65, message: "not enough history to fit: need lost customers in both the older and the newer part of a log spanning at least a year plus 2 × \(days) days (\(samples.count) snapshots)")
                }
                let path = out ?? database.path + ".churn-weights.json"
                // In force from now on, for `tpj churn` and the server: recorded first, so that a view as of a later
                // date uses them, then written out.
                try ConfigurationLog(store: try database.openStore(create: false)).record(
                    .churnWeights, content: try JSONParser.parse(evaluation.fitted.json), source: path)
                do {
                    try evaluation.fitted.json.write(toFile: path, atomically: true, encoding: .utf8)
                } catch {
                    throw CLIError(code: 74, message: "cannot write \(path): \(error.localizedDescription) (the weights are recorded in the journal and in force)")
                }
                func auc(_ value: Double?) -> JSONValue { value.map(Documents.number) ?? .null }
                func mean(_ bins: [ChurnEvaluation.CalibrationBin]) -> Double {
                    bins.reduce(0) { $0 + $1.meanPredicted * Double($1.snapshots) } / Double(max(1, bins.reduce(0) { $0 + $1.snapshots }))
                }
                func bins(_ bins: [ChurnEvaluation.CalibrationBin]) -> JSONValue {
                    .array(bins.map { ["snapshots": .number(JSONNumber(Int64($0.snapshots))), "meanPredicted": Documents.number($0.meanPredicted),
                                       "observed": Documents.number($0.observed)] })
                }
                if output.json {
                    Output.json([
                        "horizonDays": .number(JSONNumber(Int64(days))), "trainSnapshots": .number(JSONNumber(Int64(evaluation.trainSamples))),
                        "trainLost": .number(JSONNumber(Int64(evaluation.trainPositives))), "testSnapshots": .number(JSONNumber(Int64(evaluation.testSamples))),
                        "testLost": .number(JSONNumber(Int64(evaluation.testPositives))), "aucDefault": auc(evaluation.defaultAUC),
                        "aucFitted": auc(evaluation.fittedAUC), "aucRecencyOnly": auc(evaluation.recencyAUC), "weightsFile": .string(path),
                        "observedRate": Documents.number(evaluation.observedRate),
                        "meanPredictedDefault": Documents.number(mean(evaluation.defaultCalibration)),
                        "meanPredictedFitted": Documents.number(mean(evaluation.fittedCalibration)),
                        "calibration": ["default": bins(evaluation.defaultCalibration), "fitted": bins(evaluation.fittedCalibration)],
                        "bands": ["medium": Documents.number(evaluation.fitted.bands.medium), "high": Documents.number(evaluation.fitted.bands.high)],
                    ])
                    return
                }
                func text(_ value: Double?) -> String { value.map { String(format: "%.3f", $0) } ?? "-" }
                Output.line("Fitted on \(Output.count(evaluation.trainSamples, "snapshot")) (\(evaluation.trainPositives) lost within \(days) days); tested on \(Output.count(evaluation.testSamples)) later ones (\(evaluation.testPositives) lost).")
                Output.line(Output.table(["MODEL", "AUC (held-out, later snapshots)"], [
                    ["default weights", text(evaluation.defaultAUC)], ["fitted weights", text(evaluation.fittedAUC)],
                    ["recency only", text(evaluation.recencyAUC)],
                ]))
                func percent(_ value: Double) -> String { String(format: "%.1f%%", value * 100) }
                Output.line("Calibration on the held-out snapshots, by decile of predicted risk (observed: lost within \(days) days):")
                let rows = zip(evaluation.defaultCalibration, evaluation.fittedCalibration).enumerated().map { index, pair in
                    ["\(index + 1)", percent(pair.0.meanPredicted), percent(pair.0.observed), percent(pair.1.meanPredicted), percent(pair.1.observed)]
                }
                Output.line(Output.table(["DECILE", "DEFAULT PREDICTED", "OBSERVED", "FITTED PREDICTED", "OBSERVED"], rows + [
                    ["all", percent(mean(evaluation.defaultCalibration)), percent(evaluation.observedRate),
                     percent(mean(evaluation.fittedCalibration)), percent(evaluation.observedRate)],
                ]))
                Output.line("Fitted bands: medium from \(percent(evaluation.fitted.bands.medium)), high from \(percent(evaluation.fitted.bands.high)) (2× and 5× the training snapshots' rate of loss).")
                Output.line("Wrote the fitted weights to \(path); `tpj churn` uses them from now on.")
            }
        }
    }
}
