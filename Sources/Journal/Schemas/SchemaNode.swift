/// One compiled subschema: the assertions that apply at one place of an instance.
final class SchemaNode: Sendable {
    enum Assertion: Sendable {
        case alwaysFalse
        case type(Set<String>)
        case enumeration([JSONValue])
        case stringEnumeration(Set<String>, display: String)
        case constant(JSONValue)
        case properties([String: SchemaNode])
        case required([String])
        case additionalProperties(allowed: Set<String>, schema: SchemaNode?)
        case minProperties(Int)
        case maxProperties(Int)
        case items(SchemaNode)
        case minItems(Int)
        case maxItems(Int)
        case uniqueItems
        case minLength(Int)
        case maxLength(Int)
        case simplePattern(String, SimplePattern)
        case format(String)
        case minimum(Double, exclusive: Bool)
        case maximum(Double, exclusive: Bool)
        case reference(String)
        case allOf([SchemaNode])
        case anyOf([SchemaNode])
        case oneOf([SchemaNode])
        case not(SchemaNode)
    }

    let assertions: [Assertion]

    private init(_ assertions: [Assertion]) {
        self.assertions = assertions
    }

    // MARK: Compiling

    static func compile(_ document: JSONValue, at location: String) throws(SchemaCompilationError) -> SchemaNode {
        func fail(_ keyword: String, _ message: String) -> SchemaCompilationError {
            SchemaCompilationError(location: "\(location)/\(keyword)", message: message)
        }
        func count(_ value: JSONValue, _ keyword: String) throws(SchemaCompilationError) -> Int {
            guard case .number(let n) = value, n.isInteger, n.value >= 0, n.value <= 1e15 else {
                throw fail(keyword, "must be a non-negative integer of at most 10^15")
            }
            return Int(n.value)
        }
        func number(_ value: JSONValue, _ keyword: String) throws(SchemaCompilationError) -> Double {
            guard case .number(let n) = value else { throw fail(keyword, "must be a number") }
            return n.value
        }
        func list(_ value: JSONValue, _ keyword: String) throws(SchemaCompilationError) -> [SchemaNode] {
            guard case .array(let elements) = value, !elements.isEmpty else {
                throw fail(keyword, "must be a non-empty array of schemas")
            }
            var nodes: [SchemaNode] = []
            for (index, element) in elements.enumerated() {
                nodes.append(try compile(element, at: "\(location)/\(keyword)/\(index)"))
            }
            return nodes
        }

        if case .bool(let flag) = document { return SchemaNode(flag ? [] : [.alwaysFalse]) }
        guard case .object(let members) = document else {
            throw SchemaCompilationError(location: location, message: "a schema must be an object or a boolean")
        }
        var assertions: [Assertion] = []
        var declaredProperties: Set<String> = []
        var additional: JSONValue?
        for member in members {
            let key = member.key, value = member.value
            if JSONSchema.annotationKeywords.contains(key) || key.hasPrefix("x-") || key == "$defs" { continue }
            switch key {
            case "type":
                let names: [String]
                switch value {
                case .string(let name): names = [name]
                case .array(let elements): names = elements.compactMap(\.stringValue)
                default: throw fail(key, "must be a string or an array of strings")
                }
                let known: Set<String> = ["null", "boolean", "integer", "number", "string", "array", "object"]
                guard !names.isEmpty, names.allSatisfy(known.contains) else { throw fail(key, "unknown type name") }
                assertions.append(.type(Set(names)))
            case "enum":
                guard case .array(let elements) = value, !elements.isEmpty else {
                    throw fail(key, "must be a non-empty array")
                }
                let strings = elements.compactMap(\.stringValue)
                if strings.count == elements.count {
                    let display = elements.map(CanonicalJSON.string).joined(separator: ", ")
                    assertions.append(.stringEnumeration(Set(strings), display: display))
                } else {
                    assertions.append(.enumeration(elements))
                }
            case "const":
                assertions.append(.constant(value))
            case "properties":
                guard case .object(let entries) = value else { throw fail(key, "must be an object") }
                var nodes: [String: SchemaNode] = [:]
                for entry in entries {
                    nodes[entry.key] = try compile(entry.value, at: "\(location)/properties/\(entry.key)")
                    declaredProperties.insert(entry.key)
                }
                assertions.append(.properties(nodes))
            case "required":
                guard case .array(let elements) = value else { throw fail(key, "must be an array of strings") }
                let names = elements.compactMap(\.stringValue)
                guard names.count == elements.count else { throw fail(key, "must be an array of strings") }
                assertions.append(.required(names))
            case "additionalProperties":
                additional = value
            case "minProperties": assertions.append(.minProperties(try count(value, key)))
            case "maxProperties": assertions.append(.maxProperties(try count(value, key)))
            case "items": assertions.append(.items(try compile(value, at: "\(location)/items")))
            case "minItems": assertions.append(.minItems(try count(value, key)))
            case "maxItems": assertions.append(.maxItems(try count(value, key)))
            case "uniqueItems":
                guard case .bool(let flag) = value else { throw fail(key, "must be a boolean") }
                if flag { assertions.append(.uniqueItems) }
            case "minLength": assertions.append(.minLength(try count(value, key)))
            case "maxLength": assertions.append(.maxLength(try count(value, key)))
            case "pattern":
                guard case .string(let source) = value, let pattern = SimplePattern(source) else {
                    throw fail(
                        key,
                        "supported patterns use ^ $ . \\d, literals, character classes and the quantifiers ? * + {n,m}; "
                            + "for alternatives use enum or anyOf")
                }
                assertions.append(.simplePattern(source, pattern))
            case "format":
                guard case .string(let name) = value, JSONSchema.supportedFormats.contains(name) else {
                    throw fail(key, "supported formats are \(JSONSchema.supportedFormats.sorted().joined(separator: ", "))")
                }
                assertions.append(.format(name))
            case "minimum": assertions.append(.minimum(try number(value, key), exclusive: false))
            case "maximum": assertions.append(.maximum(try number(value, key), exclusive: false))
            case "exclusiveMinimum": assertions.append(.minimum(try number(value, key), exclusive: true))
            case "exclusiveMaximum": assertions.append(.maximum(try number(value, key), exclusive: true))
            case "$ref":
                guard case .string(let reference) = value, reference.hasPrefix("#/$defs/") else {
                    throw fail(key, "only local references of the form #/$defs/<name> are supported")
                }
                assertions.append(.reference(String(reference.dropFirst("#/$defs/".count))))
            case "allOf": assertions.append(.allOf(try list(value, key)))
            case "anyOf": assertions.append(.anyOf(try list(value, key)))
            case "oneOf": assertions.append(.oneOf(try list(value, key)))
            case "not": assertions.append(.not(try compile(value, at: "\(location)/not")))
            default:
                throw fail(key, "keyword '\(key)' is not supported by the journal's validator")
            }
        }
        if let additional {
            switch additional {
            case .bool(true): break
            case .bool(false): assertions.append(.additionalProperties(allowed: declaredProperties, schema: nil))
            default:
                let node = try compile(additional, at: "\(location)/additionalProperties")
                assertions.append(.additionalProperties(allowed: declaredProperties, schema: node))
            }
        }
        return SchemaNode(assertions)
    }

    /// References reachable without moving to another place in the instance (through allOf, anyOf,
    /// oneOf, not): a cycle of these would recurse forever.
    func sameInstanceReferences() -> [String] {
        assertions.flatMap { assertion -> [String] in
            switch assertion {
            case .reference(let name): [name]
            case .not(let node): node.sameInstanceReferences()
            case .allOf(let nodes), .anyOf(let nodes), .oneOf(let nodes): nodes.flatMap { $0.sameInstanceReferences() }
            default: []
            }
        }
    }

    func references() -> [String] {
        assertions.flatMap { assertion -> [String] in
            switch assertion {
            case .reference(let name): [name]
            case .properties(let nodes): nodes.values.flatMap { $0.references() }
            case .additionalProperties(_, let node?): node.references()
            case .items(let node), .not(let node): node.references()
            case .allOf(let nodes), .anyOf(let nodes), .oneOf(let nodes): nodes.flatMap { $0.references() }
            default: []
            }
        }
    }

    // MARK: Validating

    func validate(
        _ instance: JSONValue,
        path: inout JSONPath,
        definitions: [String: SchemaNode],
        into violations: inout [SchemaViolation],
        limit: Int
    ) {
        func report(_ rule: String, _ message: String) {
            if violations.count < limit {
                violations.append(SchemaViolation(path: path.pointer, rule: rule, message: message))
            }
        }
        for assertion in assertions {
            if violations.count >= limit { return }
            switch assertion {
            case .alwaysFalse:
                report("false", "no value is allowed here")
            case .type(let names):
                let actual = instance.typeName
                if !(names.contains(actual) || (actual == "integer" && names.contains("number"))) {
                    report("type", "must be \(names.sorted().joined(separator: " or ")), got \(actual)")
                    return  // further assertions would only repeat the type mismatch
                }
            case .enumeration(let allowed):
                if !allowed.contains(where: { Self.jsonEqual($0, instance) }) {
                    report("enum", "must be one of \(allowed.map(CanonicalJSON.string).joined(separator: ", "))")
                }
            case .stringEnumeration(let allowed, let display):
                if case .string(let string) = instance {
                    // Set membership equates canonically equivalent strings; JSON Schema compares code points.
                    let found = allowed.firstIndex(of: string).map { allowed[$0].utf8.elementsEqual(string.utf8) } ?? false
                    if !found { report("enum", "must be one of \(display)") }
                } else {
                    report("enum", "must be one of \(display)")
                }
            case .simplePattern(let source, let pattern):
                if case .string(let string) = instance, !pattern.matches(string) {
                    report("pattern", "must match the pattern \(source)")
                }
            case .constant(let expected):
                if !Self.jsonEqual(expected, instance) { report("const", "must be \(CanonicalJSON.string(expected))") }
            case .properties(let nodes):
                guard case .object(let members) = instance else { continue }
                for member in members {
                    guard let node = nodes[member.key] else { continue }
                    path.push(member.key)
                    node.validate(member.value, path: &path, definitions: definitions, into: &violations, limit: limit)
                    path.pop()
                }
            case .required(let names):
                guard case .object(let members) = instance else { continue }
                for name in names where !members.contains(where: { $0.key == name }) {
                    report("required", "required field '\(name)' is missing")
                }
            case .additionalProperties(let allowed, let schema):
                guard case .object(let members) = instance else { continue }
                for member in members where !allowed.contains(member.key) {
                    path.push(member.key)
                    if let schema {
                        schema.validate(member.value, path: &path, definitions: definitions, into: &violations, limit: limit)
                    } else {
                        report("additionalProperties", "field '\(member.key)' is not defined by the schema")
                    }
                    path.pop()
                }
            case .minProperties(let minimum):
                if case .object(let members) = instance, members.count < minimum {
                    report("minProperties", "must have at least \(minimum) fields")
                }
            case .maxProperties(let maximum):
                if case .object(let members) = instance, members.count > maximum {
                    report("maxProperties", "must have at most \(maximum) fields")
                }
            case .items(let node):
                guard case .array(let elements) = instance else { continue }
                for (index, element) in elements.enumerated() {
                    path.push(index)
                    node.validate(element, path: &path, definitions: definitions, into: &violations, limit: limit)
                    path.pop()
                }
            case .minItems(let minimum):
                if case .array(let elements) = instance, elements.count < minimum {
                    report("minItems", "must have at least \(minimum) items")
                }
            case .maxItems(let maximum):
                if case .array(let elements) = instance, elements.count > maximum {
                    report("maxItems", "must have at most \(maximum) items")
                }
            case .uniqueItems:
                if case .array(let elements) = instance {
                    let canonical = elements.map(CanonicalJSON.bytes)
                    if Set(canonical).count != canonical.count { report("uniqueItems", "items must be unique") }
                }
            case .minLength(let minimum):
                if case .string(let string) = instance, string.unicodeScalars.count < minimum {
                    report("minLength", "must be at least \(minimum) characters long")
                }
            case .maxLength(let maximum):
                if case .string(let string) = instance, string.unicodeScalars.count > maximum {
                    report("maxLength", "must be at most \(maximum) characters long")
                }
            case .format(let name):
                if case .string(let string) = instance, let problem = Self.formatProblem(name, string) {
                    report("format", "must be a \(name): \(problem)")
                }
            case .minimum(let bound, let exclusive):
                if case .number(let n) = instance, exclusive ? n.value <= bound : n.value < bound {
                    report(exclusive ? "exclusiveMinimum" : "minimum",
                           "must be \(exclusive ? ">" : "≥") \(JSONNumber(bound).canonicalText), got \(n.canonicalText)")
                }
            case .maximum(let bound, let exclusive):
                if case .number(let n) = instance, exclusive ? n.value >= bound : n.value > bound {
                    report(exclusive ? "exclusiveMaximum" : "maximum",
                           "must be \(exclusive ? "<" : "≤") \(JSONNumber(bound).canonicalText), got \(n.canonicalText)")
                }
            case .reference(let name):
                definitions[name]?.validate(instance, path: &path, definitions: definitions, into: &violations, limit: limit)
            case .allOf(let nodes):
                for node in nodes {
                    node.validate(instance, path: &path, definitions: definitions, into: &violations, limit: limit)
                }
            case .anyOf(let nodes):
                let matches = nodes.contains { $0.accepts(instance, definitions: definitions) }
                if !matches { report("anyOf", "must match at least one of \(nodes.count) alternatives") }
            case .oneOf(let nodes):
                let matches = nodes.filter { $0.accepts(instance, definitions: definitions) }.count
                if matches != 1 { report("oneOf", "must match exactly one of \(nodes.count) alternatives, matched \(matches)") }
            case .not(let node):
                if node.accepts(instance, definitions: definitions) { report("not", "must not match the excluded schema") }
            }
        }
    }

    private func accepts(_ instance: JSONValue, definitions: [String: SchemaNode]) -> Bool {
        var violations: [SchemaViolation] = []
        var path = JSONPath()
        validate(instance, path: &path, definitions: definitions, into: &violations, limit: 1)
        return violations.isEmpty
    }

    /// JSON equality: numbers compare by value (`1` equals `1.0`), objects ignore member order.
    static func jsonEqual(_ lhs: JSONValue, _ rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.number(let a), .number(let b)): a.value == b.value
        default: CanonicalJSON.bytes(lhs) == CanonicalJSON.bytes(rhs)
        }
    }

    static func formatProblem(_ format: String, _ string: String) -> String? {
        switch format {
        case "date-time":
            do {
                _ = try Timestamp(rfc3339: string)
                return nil
            } catch {
                return error.reason
            }
        case "date":
            do {
                _ = try Timestamp(rfc3339: string + "T00:00:00Z")
                return string.utf8.count == 10 ? nil : "expected YYYY-MM-DD"
            } catch {
                return "expected YYYY-MM-DD"
            }
        case "uuid":
            return EventID(string) == nil ? "expected 8-4-4-4-12 hexadecimal digits" : nil
        default:
            return nil
        }
    }
}
