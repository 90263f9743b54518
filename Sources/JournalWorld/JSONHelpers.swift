import Journal

/// Short constructors for payload values.
extension JSONValue {
    static func int(_ value: Int) -> JSONValue { .number(JSONNumber(Int64(value))) }

    /// An amount in euros from cents: `123456` → `1234.56`.
    static func euros(_ cents: Int) -> JSONValue { .number(JSONNumber(Double(cents) / 100)) }

    static func hours(_ value: Double) -> JSONValue { .number(JSONNumber(value)) }
}

/// Shared values: an indirect enum boxes every value, so the world reuses the common ones instead of
/// allocating them for each event.
extension JSONValue {
    static let yes: JSONValue = .bool(true)
    static let no: JSONValue = .bool(false)
    static let eur: JSONValue = .string("EUR")

    static func flag(_ value: Bool) -> JSONValue { value ? yes : no }
}
