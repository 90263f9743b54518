/// A parsed JSON value that keeps what the journal needs: member order for error paths,
/// and each number's canonical text so that stored bytes never depend on floating-point printing.
///
/// ```swift
/// let value = try JSONParser.parse(Array(#"{"b":1,"a":[true,null]}"#.utf8))
/// CanonicalJSON.string(value)   // {"a":[true,null],"b":1}
/// ```
public indirect enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object([JSONMember])

    /// The member named `key`, if this is an object that has one.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        for member in members where member.key == key { return member.value }
        return nil
    }

    /// The JSON Schema name of this value's type (`integer` for whole numbers).
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number(let number): number.isInteger ? "integer" : "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    public var stringValue: String? {
        if case .string(let string) = self { return string }
        return nil
    }

    /// The value as an `Int`, when it is a whole number that fits one (`1e300` does not).
    public var intValue: Int? {
        if case .number(let number) = self { return Int(exactly: number.value) }
        return nil
    }
}

/// Finds a repeated member name while an object's members are collected, comparing names byte for
/// byte (Swift's `==` equates canonically equivalent strings, JSON does not). Pairwise for small
/// objects, hashed for large ones, so hostile input with many members stays linear.
struct RepeatedNameFinder {
    private var hashed: Set<String>?

    /// True when `name` is already among `members`, which hold every name seen so far.
    mutating func isRepeat(_ name: String, among members: [JSONMember]) -> Bool {
        func sameBytes(_ other: String) -> Bool { other == name && other.utf8.elementsEqual(name.utf8) }
        if members.count < 16 { return members.contains { sameBytes($0.key) } }
        if hashed == nil { hashed = Set(members.map(\.key)) }
        // A hash hit may be a canonically equivalent but different name: confirm by bytes.
        if hashed!.contains(name), members.contains(where: { sameBytes($0.key) }) { return true }
        hashed!.insert(name)
        return false
    }
}

/// One member of a JSON object.
public struct JSONMember: Sendable, Hashable {
    public var key: String
    public var value: JSONValue

    public init(_ key: String, _ value: JSONValue) {
        self.key = key
        self.value = value
    }
}

/// A JSON number: its canonical text and its value as a `Double` for comparisons.
///
/// Integers keep their digits exactly (any length); other numbers are written in the shortest form
/// that reads back to the same `Double`, with whole values written without a fraction (`2.0` → `2`).
public struct JSONNumber: Sendable, Hashable {
    public let canonicalText: String
    public let value: Double
    /// True when the number has no fractional part (JSON Schema's `integer`).
    public let isInteger: Bool

    init(canonicalText: String, value: Double, isInteger: Bool) {
        self.canonicalText = canonicalText
        self.value = value
        self.isInteger = isInteger
    }

    public init(_ integer: Int64) {
        self.init(canonicalText: String(integer), value: Double(integer), isInteger: true)
    }

    /// Makes the canonical number for a finite `Double`.
    public init(_ double: Double) {
        precondition(double.isFinite, "JSON numbers are finite")
        if double == double.rounded(), abs(double) < 1e18 {
            self.init(Int64(double))
        } else {
            self.init(canonicalText: Self.shortestText(double), value: double, isInteger: double == double.rounded())
        }
    }

    /// Swift's shortest round-trip text with the exponent written without padding (`1e-07` → `1e-7`).
    static func shortestText(_ double: Double) -> String {
        var text = double.description
        if let e = text.firstIndex(of: "e") {
            var exponent = String(text[text.index(after: e)...])
            var sign = ""
            if exponent.hasPrefix("-") || exponent.hasPrefix("+") {
                sign = exponent.hasPrefix("-") ? "-" : "+"
                exponent.removeFirst()
            }
            while exponent.count > 1, exponent.hasPrefix("0") { exponent.removeFirst() }
            text = String(text[..<e]) + "e" + sign + exponent
        }
        return text
    }
}

extension JSONValue: ExpressibleByStringInterpolation, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByFloatLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(stringInterpolation: DefaultStringInterpolation) { self = .string(String(stringInterpolation: stringInterpolation)) }
    public init(integerLiteral value: Int64) { self = .number(JSONNumber(value)) }
    public init(floatLiteral value: Double) { self = .number(JSONNumber(value)) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(nilLiteral: ()) { self = .null }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(elements.map { JSONMember($0.0, $0.1) })
    }
}
