/// Whose personal data a value is, as a schema declares it with `"x-personal"` on a string property:
/// the data subject whose erasure must take the value with it.
public enum PersonalDataKind: String, Sendable, Hashable, CaseIterable {
    /// A contact person of the customer (name, e-mail, phone): the customer's data subject.
    case contact
    /// An employee named by the value itself (technician, agent, author): that employee is the subject.
    case employee
    /// Free text about the customer that may name people: the customer's data subject.
    case text
}

/// A personal field of a payload: where it is and whose data it holds.
public struct PersonalField: Sendable, Hashable {
    public enum Step: Sendable, Hashable {
        case member(String)
        /// Every element of an array.
        case elements
    }

    public let path: [Step]
    public let kind: PersonalDataKind

    public init(path: [Step], kind: PersonalDataKind) {
        self.path = path
        self.kind = kind
    }

    /// The path as a JSON Pointer with `*` for array elements, e.g. `/contacts/*/name`.
    public var pointer: String {
        path.map { step in
            switch step {
            case .member(let name): "/" + name
            case .elements: "/*"
            }
        }.joined()
    }

    /// Envelope fields that hold personal data.
    public static let envelope: [String: PersonalDataKind] = ["actor": .employee]
}

extension SchemaRegistry {
    /// The `x-` keywords a schema may use; any other is refused, as a misspelt one would silently do nothing.
    public static let knownExtensionKeywords: Set<String> = ["x-touchpoint", "x-references-event", "x-requires-envelope", "x-personal"]

    /// The personal fields a schema document declares, checking every `x-` keyword on the way.
    static func personalFields(in document: JSONValue) throws(SchemaRegistryError.Problem) -> [PersonalField] {
        var fields: [PersonalField] = []
        try collect(document, at: [], pointer: "", isRoot: true, into: &fields)
        return fields
    }

    /// Keywords whose value is one subschema, or an array or object of them, that are not a payload path:
    /// their `x-` keywords are checked, but a personal field may not be declared there.
    private static let otherSubschemaKeywords: Set<String> = ["$defs", "allOf", "anyOf", "oneOf", "not", "additionalProperties"]

    /// Walks `node`: `path` is where its values sit in a payload, or nil below a keyword that is no
    /// payload path (``otherSubschemaKeywords``).
    private static func collect(
        _ node: JSONValue, at path: [PersonalField.Step]?, pointer: String, isRoot: Bool, into fields: inout [PersonalField]
    ) throws(SchemaRegistryError.Problem) {
        guard case .object(let members) = node else { return }
        for member in members where member.key.hasPrefix("x-") {
            guard knownExtensionKeywords.contains(member.key) else {
                throw .init("\(pointer)/\(member.key): unknown keyword; the journal knows \(knownExtensionKeywords.sorted().joined(separator: ", "))")
            }
            if member.key == "x-personal" {
                guard !isRoot else { throw .init("/x-personal: belongs on a string property, not on the payload") }
                guard let path else {
                    throw .init("\(pointer)/x-personal: belongs on a property reached through properties and items, not under \(otherSubschemaKeywords.sorted().joined(separator: ", "))")
                }
                guard let name = member.value.stringValue, let kind = PersonalDataKind(rawValue: name) else {
                    throw .init("\(pointer)/x-personal: must be one of \(PersonalDataKind.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                guard node["type"]?.stringValue == "string" else {
                    throw .init("\(pointer)/x-personal: only a property of type string can be marked personal")
                }
                fields.append(PersonalField(path: path, kind: kind))
            } else if !isRoot {
                throw .init("\(pointer)/\(member.key): belongs at the top of the schema")
            }
        }
        for member in members {
            let here = "\(pointer)/\(member.key)"
            switch (member.key, member.value) {
            case ("properties", .object(let properties)):
                for property in properties {
                    try collect(property.value, at: path.map { $0 + [.member(property.key)] }, pointer: "\(here)/\(property.key)",
                                isRoot: false, into: &fields)
                }
            case ("items", let items):
                try collect(items, at: path.map { $0 + [.elements] }, pointer: here, isRoot: false, into: &fields)
            case ("$defs", .object(let definitions)):
                for definition in definitions {
                    try collect(definition.value, at: nil, pointer: "\(here)/\(definition.key)", isRoot: false, into: &fields)
                }
            case (let keyword, .array(let schemas)) where otherSubschemaKeywords.contains(keyword):
                for (index, schema) in schemas.enumerated() {
                    try collect(schema, at: nil, pointer: "\(here)/\(index)", isRoot: false, into: &fields)
                }
            case (let keyword, let schema) where otherSubschemaKeywords.contains(keyword):
                try collect(schema, at: nil, pointer: here, isRoot: false, into: &fields)
            default:
                break
            }
        }
    }
}

extension SchemaRegistryError {
    /// A problem found inside a schema document, before the file's path is known.
    struct Problem: Error {
        let message: String
        init(_ message: String) { self.message = message }
    }
}
