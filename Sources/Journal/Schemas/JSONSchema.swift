import Foundation

/// A compiled JSON Schema (draft 2020-12), limited to the keywords the journal's schemas use.
///
/// Compiling refuses any keyword it does not implement, so that a schema can never carry a
/// constraint that is silently not checked. Annotations (`title`, `description`, `examples`,
/// `$comment`, `default`, and any `x-` keyword) are accepted and ignored.
///
/// ```swift
/// let schema = try JSONSchema(compiling: JSONParser.parse(#"{"type":"integer","minimum":0}"#))
/// schema.validate(-1)   // [SchemaViolation(path: "", rule: "minimum", ...)]
/// ```
public struct JSONSchema: Sendable {
    /// The keywords this validator implements.
    public static let supportedKeywords: Set<String> = [
        "type", "enum", "const", "properties", "required", "additionalProperties", "minProperties",
        "maxProperties", "items", "minItems", "maxItems", "uniqueItems", "minLength", "maxLength", "pattern",
        "format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "$ref", "$defs", "allOf",
        "anyOf", "oneOf", "not",
    ]
    static let annotationKeywords: Set<String> = [
        "$schema", "$id", "$comment", "title", "description", "examples", "default", "deprecated", "readOnly",
        "writeOnly",
    ]
    /// The `format` values that are asserted.
    public static let supportedFormats: Set<String> = ["date-time", "date", "uuid"]

    let root: SchemaNode
    let definitions: [String: SchemaNode]

    /// Compiles a schema document.
    ///
    /// - Throws: ``SchemaCompilationError`` naming the keyword and its location in the schema.
    public init(compiling document: JSONValue) throws(SchemaCompilationError) {
        var definitions: [String: SchemaNode] = [:]
        if case .object(let members) = document, let defs = document["$defs"] {
            _ = members
            guard case .object(let entries) = defs else {
                throw SchemaCompilationError(location: "/$defs", message: "$defs must be an object")
            }
            for entry in entries {
                definitions[entry.key] = try SchemaNode.compile(entry.value, at: "/$defs/\(entry.key)")
            }
        }
        self.root = try SchemaNode.compile(document, at: "")
        self.definitions = definitions
        for reference in root.references() + definitions.values.flatMap({ $0.references() })
        where definitions[reference] == nil {
            throw SchemaCompilationError(location: "$ref", message: "#/$defs/\(reference) is not defined")
        }
        // A definition that refers back to itself without consuming part of the instance never ends.
        for start in definitions.keys.sorted() {
            var stack = definitions[start]!.sameInstanceReferences()
            var seen: Set<String> = []
            while let next = stack.popLast() {
                if next == start {
                    throw SchemaCompilationError(location: "/$defs/\(start)", message: "$ref cycle: #/$defs/\(start) refers back to itself")
                }
                if seen.insert(next).inserted { stack += definitions[next]?.sameInstanceReferences() ?? [] }
            }
        }
    }

    /// Validates `instance`; returns every violation found (empty when valid).
    public func validate(_ instance: JSONValue, maximumViolations: Int = 20) -> [SchemaViolation] {
        var violations: [SchemaViolation] = []
        var path = JSONPath()
        root.validate(instance, path: &path, definitions: definitions, into: &violations, limit: maximumViolations)
        return violations
    }

    /// True when `instance` satisfies the schema.
    public func accepts(_ instance: JSONValue) -> Bool {
        validate(instance, maximumViolations: 1).isEmpty
    }
}

/// A place in a JSON document, written as a JSON Pointer (`/parts/0/quantity`).
struct JSONPath {
    private var components: [String] = []

    mutating func push(_ component: String) { components.append(component) }
    mutating func push(_ index: Int) { components.append(String(index)) }
    mutating func pop() { components.removeLast() }

    var pointer: String {
        components.map {
            "/" + $0.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
        }.joined()
    }
}

/// One way in which an instance breaks its schema.
public struct SchemaViolation: Sendable, Hashable, CustomStringConvertible {
    /// JSON Pointer to the offending value inside the validated document ("" is the document itself).
    public let path: String
    /// The schema keyword that failed, e.g. `required`, `minimum`, `format`.
    public let rule: String
    public let message: String

    public var description: String { "\(path.isEmpty ? "/" : path): \(message) [\(rule)]" }
}

/// A schema document that uses a keyword or shape this validator does not implement.
public struct SchemaCompilationError: Error, Sendable, Hashable, CustomStringConvertible {
    public let location: String
    public let message: String

    public var description: String { "schema error at \(location.isEmpty ? "/" : location): \(message)" }
}
