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

    private static func collect(
        _ node: JSONValue, at path: [PersonalField.Step], pointer: String, isRoot: Bool, into fields: inout [PersonalField]
    ) throws(SchemaRegistryError.Problem) {
        guard case .object(let members) = node else { return }
        for member in members where member.key.hasPrefix("x-") {
            guard knownExtensionKeywords.contains(member.key) else {
                throw .init("\(pointer)/\(member.key): unknown keyword; the journal knows \(knownExtensionKeywords.sorted().joined(separator: ", "))")
            }
            if member.key == "x-personal" {
                guard !isRoot else { throw .init("/x-personal: belongs on a string property, not on the payload") }
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
        if case .object(let properties)? = node["properties"] {
            for property in properties {
                try collect(property.value, at: path + [.member(property.key)], pointer: "\(pointer)/properties/\(property.key)",
                            isRoot: false, into: &fields)
            }
        }
        if let items = node["items"] {
            try collect(items, at: path + [.elements], pointer: "\(pointer)/items", isRoot: false, into: &fields)
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
