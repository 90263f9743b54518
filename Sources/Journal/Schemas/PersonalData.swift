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

/// The data subject a personal value belongs to: its values are sealed with the subject's key, and
/// erasing the subject destroys that key.
public enum DataSubject: Sendable, Hashable, CustomStringConvertible {
    /// A customer's contact persons and the free text recorded about the customer.
    case customer(String)
    /// An employee, by the name or id the journal records.
    case employee(String)

    /// The subject of `kind` for a value `value` recorded for `customerId`.
    public init(kind: PersonalDataKind, value: String, customerId: String) {
        switch kind {
        case .contact, .text: self = .customer(customerId)
        case .employee: self = .employee(value)
        }
    }

    /// `customer:<id>` or `employee:<name>`, as `tpj erase --subject` takes it.
    public var description: String {
        switch self {
        case .customer(let id): "customer:\(id)"
        case .employee(let name): "employee:\(name)"
        }
    }

    /// Parses `customer:<id>` or `employee:<name>`.
    public init?(_ text: String) {
        if text.hasPrefix("customer:"), text.count > 9 { self = .customer(String(text.dropFirst(9))) }
        else if text.hasPrefix("employee:"), text.count > 9 { self = .employee(String(text.dropFirst(9))) }
        else { return nil }
    }
}

/// What one data key covers: one subject's values of one kind that occurred in one calendar year
/// (UTC). Erasing a subject destroys all its keys; a retention period destroys the keys of a kind
/// whose year has passed out of it.
public struct DataKeyScope: Sendable, Hashable {
    public var subject: DataSubject
    public var kind: PersonalDataKind
    public var year: Int

    public init(subject: DataSubject, kind: PersonalDataKind, year: Int) {
        self.subject = subject
        self.kind = kind
        self.year = year
    }

    /// The scope of a value of `kind` recorded for `customerId` about something that occurred at `occurred`.
    public init(kind: PersonalDataKind, value: String, customerId: String, occurred: Timestamp) {
        self.init(subject: DataSubject(kind: kind, value: value, customerId: customerId), kind: kind, year: occurred.utcYear)
    }
}

extension Timestamp {
    /// The calendar year (UTC) of this instant.
    public var utcYear: Int {
        let (days, _) = microseconds.quotientAndRemainder(dividingBy: 86_400_000_000)
        let floored = microseconds < 0 && microseconds % 86_400_000_000 != 0 ? days - 1 : days
        return Self.civilFromDays(Int(floored)).0
    }
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

    /// `value` with `transform` applied to each string found at this field's path.
    public func map(_ value: JSONValue, _ transform: (String) throws -> String) rethrows -> JSONValue {
        try Self.map(value, path[...], transform)
    }

    private static func map(_ value: JSONValue, _ rest: ArraySlice<Step>, _ transform: (String) throws -> String) rethrows -> JSONValue {
        guard let step = rest.first else {
            if case .string(let text) = value { return .string(try transform(text)) }
            return value
        }
        switch (step, value) {
        case (.member(let name), .object(let members)):
            var changed = members
            for index in changed.indices where changed[index].key == name {
                changed[index].value = try map(changed[index].value, rest.dropFirst(), transform)
            }
            return .object(changed)
        case (.elements, .array(let elements)):
            return .array(try elements.map { try map($0, rest.dropFirst(), transform) })
        default:
            return value
        }
    }
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
