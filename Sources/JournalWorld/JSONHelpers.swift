import Journal

/// Short constructors for payload values.
extension JSONValue {
    static func int(_ value: Int) -> JSONValue { .number(JSONNumber(Int64(value))) }

    /// An amount in euros from cents: `123456` → `1234.56`.
    static func euros(_ cents: Int) -> JSONValue { .number(JSONNumber(Double(cents) / 100)) }

    static func hours(_ value: Double) -> JSONValue { .number(JSONNumber(value)) }
}
