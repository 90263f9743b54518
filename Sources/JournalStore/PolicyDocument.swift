import Foundation
import Journal

/// A policy file (masking, retention): a JSON object with one member of rules — and optionally
/// `$schema` — read with errors that name the file, the JSON path and the rule broken.
public struct PolicyDocument {
    /// The file's path (or another name for its text), for error messages.
    public let origin: String
    public let text: String
    /// The members of the rules object.
    public let rules: [JSONMember]

    /// Reads the policy in `text`, whose rules are the object `member`, described as `shape` in errors.
    public init(text: String, origin: String, member: String, shape: String) throws(JournalError) {
        self.origin = origin
        self.text = text
        let document: JSONValue
        do {
            document = try JSONParser.parse(text)
        } catch {
            throw .invalidArgument("\(origin): not JSON: \(error)")
        }
        func refuse(_ path: String, _ message: String) -> JournalError { .invalidArgument("\(origin): \(path): \(message)") }
        guard case .object(let members) = document else { throw refuse("/", "a policy is an object {\"\(member)\": \(shape)}") }
        for other in members where other.key != member && other.key != "$schema" {
            throw refuse("/\(other.key)", "unknown member; a policy has \(member)")
        }
        guard case .object(let rules)? = document[member] else { throw refuse("/\(member)", "required: \(shape)") }
        self.rules = rules
    }

    /// The text of the policy file at `path`, described as `what` in errors.
    public static func text(ofFile path: String, what: String) throws(JournalError) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .invalidArgument("cannot read the \(what) \(path): no such file, or not readable")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw .invalidArgument("\(path): the \(what) is not UTF-8 text")
        }
        return text
    }

    /// The error for the value at `path` of this policy.
    public func problem(_ path: String, _ message: String) -> JournalError {
        .invalidArgument("\(origin): \(path): \(message)")
    }
}
