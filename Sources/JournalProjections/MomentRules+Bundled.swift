import Foundation
import JournalSchemas
import JournalScoring

extension MomentRules {
    /// The rules file compiled into this build (`Schemas/moments-of-truth.json`).
    public static var bundled: MomentRules {
        // The bundled rules are checked by the tests; a failure here means the build itself is broken.
        try! MomentRules(json: BundledSchemas.file("moments-of-truth.json")!, schema: bundledSchema)
    }

    /// The JSON Schema of rules files.
    public static var bundledSchema: String { BundledSchemas.file("moments-of-truth.schema.json")! }

    /// The rules in `path`, or the bundled ones when `path` is nil or empty.
    ///
    /// - Throws: ``MomentRulesError`` naming the file and the JSON path of the problem.
    public static func load(path: String?) throws(MomentRulesError) -> MomentRules {
        guard let path, !path.isEmpty else { return bundled }
        guard let contents = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw MomentRulesError(message: "cannot read \(path) as UTF-8 text")
        }
        do {
            return try MomentRules(json: contents, schema: bundledSchema)
        } catch {
            throw MomentRulesError(message: "\(path): \(error.message)")
        }
    }
}

extension ChurnModel {
    /// The documented default weights (`Schemas/churn-weights.json`).
    public static var bundled: ChurnModel {
        // Checked by the tests; a failure here means the build itself is broken.
        try! ChurnModel(json: BundledSchemas.file("churn-weights.json")!)
    }

    /// The weights in `path` (as `tpj churn fit` writes them), or the defaults when `path` is nil or empty.
    public static func load(path: String?) throws(ChurnModelError) -> ChurnModel {
        guard let path, !path.isEmpty else { return bundled }
        guard let contents = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ChurnModelError(message: "cannot read the churn weights file \(path)")
        }
        do {
            return try ChurnModel(json: contents)
        } catch {
            throw ChurnModelError(message: "\(path): \(error.message)")
        }
    }
}
