import Crypto
import Foundation
import Journal
import JournalSchemas

/// A mapping document (`Schemas/import-mapping.schema.json`): how rows of an export become events.
public struct ImportMapping: Sendable {
    public enum Format: String, Sendable { case csv, ndjson }

    /// Where a value comes from and how it is converted; `path` is its JSON Pointer in the mapping.
    /// (A class: every row reads many values, and a reference is cheaper to pass than a copy.)
    final class Value: Sendable {
        enum Origin: Sendable {
            case column(Column)
            case constant(JSONValue)
            case template([TemplatePart])
        }
        enum TemplatePart: Sendable {
            case text(String)
            case column(Column)
        }
        let origin: Origin
        let map: [String: JSONValue]?
        let defaultValue: JSONValue?
        let optional: Bool
        let conversion: Conversion?
        let path: String

        init(origin: Origin, map: [String: JSONValue]?, defaultValue: JSONValue?, optional: Bool, conversion: Conversion?, path: String) {
            self.origin = origin
            self.map = map
            self.defaultValue = defaultValue
            self.optional = optional
            self.conversion = conversion
            self.path = path
        }
    }

    /// A payload field: a value, or an object or array of payload fields (e.g. `lines: [{partNumber, quantity}]`).
    indirect enum PayloadField: Sendable {
        case value(Value)
        case object([(String, PayloadField)])
        case array([PayloadField])
    }

    /// A column named in a mapping: a header name, a 1-based position, or (NDJSON) a JSON Pointer.
    enum Column: Sendable, Hashable, CustomStringConvertible {
        case name(String)
        case position(Int)

        var description: String {
            switch self {
            case .name(let name): name
            case .position(let position): "#\(position)"
            }
        }
    }

    indirect enum Condition: Sendable {
        case oneOf(Column, Set<String>)
        case matches(Column, String)
        case empty(Column, Bool)
        case all([Condition])
        case any([Condition])
        case not(Condition)
    }

    /// A rule (a class: rows are matched against every rule, and a reference is cheaper to pass than a copy).
    final class Rule: Sendable {
        let name: String
        let when: Condition?
        let type: String
        let schemaVersion: Int?
        let firstOnly: Bool
        let fields: [String: Value]
        /// `fields` in the order of ``ImportMapping/envelopeFields``.
        let envelope: [Value?]
        /// Payload fields in mapping order; or `wholePayload`.
        let payload: [(String, PayloadField)]
        let wholePayload: Value?
        let path: String

        init(
            name: String, when: Condition?, type: String, schemaVersion: Int?, firstOnly: Bool, fields: [String: Value],
            payload: [(String, PayloadField)], wholePayload: Value?, path: String
        ) {
            self.name = name
            self.when = when
            self.type = type
            self.schemaVersion = schemaVersion
            self.firstOnly = firstOnly
            self.fields = fields
            envelope = ImportMapping.envelopeFields.map { fields[$0] }
            self.payload = payload
            self.wholePayload = wholePayload
            self.path = path
        }
    }

    struct Ignore: Sendable {
        var when: Condition
        var reason: String
    }

    public let name: String
    public let namespace: EventID
    public let format: Format
    public let delimiter: UInt8
    public let encoding: SourceEncoding
    public let decimalComma: Bool
    public let timeZone: TimeZone
    public let requireRegistered: Bool
    /// The document as read, and its SHA-256, kept with every import that used it.
    public let text: String
    public let sha256: String
    let customerId: Value
    let sourceRecordedAt: Value?
    let recordingLagMicroseconds: Int64?
    let rules: [Rule]
    let ignore: [Ignore]

    /// Every column the mapping reads.
    /// Every column the mapping reads, with the first place in the mapping that names it.
    var columns: [Column: String] {
        var columns: [Column: String] = [:]
        func add(_ value: Value?) {
            guard let value else { return }
            switch value.origin {
            case .column(let column): if columns[column] == nil { columns[column] = value.path }
            case .template(let parts): for case .column(let column) in parts where columns[column] == nil { columns[column] = value.path + "/template" }
            case .constant: break
            }
        }
        func add(_ condition: Condition?, _ path: String) {
            switch condition {
            case .oneOf(let column, _)?, .matches(let column, _)?, .empty(let column, _)?: if columns[column] == nil { columns[column] = path }
            case .all(let list)?, .any(let list)?: list.forEach { add($0, path) }
            case .not(let inner)?: add(inner, path)
            case nil: break
            }
        }
        func addField(_ field: PayloadField) {
            switch field {
            case .value(let value): add(value)
            case .object(let members): members.forEach { addField($0.1) }
            case .array(let items): items.forEach(addField)
            }
        }
        add(customerId)
        add(sourceRecordedAt)
        for rule in rules {
            add(rule.when, rule.path + "/when")
            ImportMapping.envelopeFields.forEach { add(rule.fields[$0]) }
            rule.payload.forEach { addField($0.1) }
            add(rule.wholePayload)
        }
        for (index, rule) in ignore.enumerated() { add(rule.when, "/ignore/\(index)/when") }
        return columns
    }

    /// Reads and checks a mapping document.
    ///
    /// - Throws: ``MappingError`` naming the JSON Pointer in the mapping and the rule it breaks.
    public init(text: String) throws(MappingError) {
        let document: JSONValue
        do {
            document = try JSONParser.parse(text)
        } catch {
            throw MappingError(path: "", message: "not valid JSON: \(error)")
        }
        let violations = Self.schema.validate(document)
        if let first = violations.first {
            throw MappingError(path: first.path, message: "\(first.message) [\(first.rule)]", more: violations.dropFirst().map { "\($0.path.isEmpty ? "/" : $0.path): \($0.message) [\($0.rule)]" })
        }
        self.text = text
        sha256 = Hex.encode(SHA256.hash(data: Array(text.utf8)))
        name = document["name"]!.stringValue!
        namespace = EventID(document["namespace"]!.stringValue!)!
        let source = document["source"]!
        format = Format(rawValue: source["format"]!.stringValue!)!
        let separator = source["delimiter"]?.stringValue ?? ","
        guard separator.utf8.count == 1, let byte = separator.utf8.first, byte != UInt8(ascii: "\""), byte != 10, byte != 13 else {
            throw MappingError(path: "/source/delimiter", message: "the delimiter must be one ASCII character other than a quote or a line end")
        }
        delimiter = byte
        encoding = SourceEncoding(rawValue: source["encoding"]?.stringValue ?? "utf-8")!
        decimalComma = source["decimalComma"] == .bool(true)
        let zoneName = source["timeZone"]?.stringValue ?? "UTC"
        guard let zone = TimeZone(identifier: zoneName) else {
            throw MappingError(path: "/source/timeZone", message: "unknown time zone \"\(zoneName)\"; use an IANA name such as Europe/Berlin")
        }
        timeZone = zone
        requireRegistered = document["requireRegistered"] != .bool(false)
        customerId = try Self.value(document["customerId"]!, at: "/customerId")
        sourceRecordedAt = try document["sourceRecordedAt"].map { v throws(MappingError) in try Self.value(v, at: "/sourceRecordedAt") }
        switch (sourceRecordedAt, document["recordingLag"]?.stringValue) {
        case (nil, nil):
            throw MappingError(
                path: "/sourceRecordedAt",
                message: "say when the source recorded each row: sourceRecordedAt (a column), or recordingLag (occurredAt plus a duration, e.g. \"PT0S\")")
        case (.some, .some):
            throw MappingError(path: "/recordingLag", message: "give sourceRecordedAt or recordingLag, not both")
        case (nil, let lag?):
            guard let seconds = Conversions.durationSeconds(lag, unit: 1), seconds >= 0 else {
                throw MappingError(path: "/recordingLag", message: "\"\(lag)\" is not a duration such as PT0S, PT2H or P1D")
            }
            recordingLagMicroseconds = Int64(seconds * 1_000_000)
        case (.some, nil):
            recordingLagMicroseconds = nil
        }
        let defaults = try Self.fields(document["defaults"] ?? .object([]), at: "/defaults")
        var rules: [Rule] = []
        if case .array(let items) = document["rules"]! {
            for (index, item) in items.enumerated() {
                let path = "/rules/\(index)"
                var fields = defaults.fields
                for (key, value) in try Self.fields(item, at: path).fields { fields[key] = value }
                let own = try Self.fields(item, at: path)
                let payload = item["payload"] != nil ? own : defaults
                rules.append(Rule(
                    name: item["name"]?.stringValue ?? "rule \(index)", when: try item["when"].map { c throws(MappingError) in try Self.condition(c, at: path + "/when") },
                    type: item["type"]!.stringValue!, schemaVersion: item["schemaVersion"]?.intValue, firstOnly: item["firstOnly"] == .bool(true),
                    fields: fields, payload: payload.payload, wholePayload: payload.wholePayload, path: path))
                guard fields["occurredAt"] != nil else {
                    throw MappingError(path: path + "/occurredAt", message: "rule \"\(rules.last!.name)\" needs occurredAt (in the rule or in defaults)")
                }
                guard fields["sourceKey"] != nil || fields["eventId"] != nil else {
                    throw MappingError(path: path + "/sourceKey", message: "rule \"\(rules.last!.name)\" needs a sourceKey (or an eventId column), in the rule or in defaults")
                }
            }
        }
        self.rules = rules
        var ignore: [Ignore] = []
        if case .array(let items)? = document["ignore"] {
            for (index, item) in items.enumerated() {
                ignore.append(Ignore(when: try Self.condition(item["when"]!, at: "/ignore/\(index)/when"), reason: item["reason"]!.stringValue!))
            }
        }
        self.ignore = ignore
    }

    private static let schemaDocument = try! JSONParser.parse(BundledSchemas.file("import-mapping.schema.json")!)

    private static let schema: JSONSchema = {
        // Checked by the tests; a failure here means the build itself is broken.
        try! JSONSchema(compiling: schemaDocument)
    }()

    /// The schema of one value, for payload fields.
    private static let valueSchema: JSONSchema = {
        try! JSONSchema(compiling: ["$defs": schemaDocument["$defs"]!, "$ref": "#/$defs/value"])
    }()

    static let envelopeFields = ["sourceKey", "eventId", "occurredAt", "caseId", "assetId", "siteId", "actor", "source", "correlationId", "causationId"]

    private static func fields(_ object: JSONValue, at path: String) throws(MappingError) -> (fields: [String: Value], payload: [(String, PayloadField)], wholePayload: Value?) {
        var fields: [String: Value] = [:]
        for name in envelopeFields {
            if let spec = object[name] { fields[name] = try value(spec, at: "\(path)/\(name)") }
        }
        var payload: [(String, PayloadField)] = []
        var whole: Value?
        if let spec = object["payload"] {
            if isValue(spec) {
                whole = try value(spec, at: "\(path)/payload")
            } else if case .object(let members) = spec {
                for member in members { payload.append((member.key, try payloadField(member.value, at: "\(path)/payload/\(member.key)"))) }
            }
        }
        return (fields, payload, whole)
    }

    private static func isValue(_ spec: JSONValue) -> Bool {
        spec["column"] != nil || spec["const"] != nil || spec["template"] != nil
    }

    private static func payloadField(_ spec: JSONValue, at path: String) throws(MappingError) -> PayloadField {
        switch spec {
        case .object(let members) where !isValue(spec):
            var fields: [(String, PayloadField)] = []
            for member in members { fields.append((member.key, try payloadField(member.value, at: "\(path)/\(member.key)"))) }
            return .object(fields)
        case .array(let items):
            var fields: [PayloadField] = []
            for (index, item) in items.enumerated() { fields.append(try payloadField(item, at: "\(path)/\(index)")) }
            return .array(fields)
        default:
            // Checked here rather than by the document's schema, so that an error names this field, not an alternative.
            let violations = valueSchema.validate(spec)
            if let first = violations.first {
                throw MappingError(path: path + first.path, message: "\(first.message) [\(first.rule)]")
            }
            return .value(try value(spec, at: path))
        }
    }

    private static func column(_ value: JSONValue) -> Column {
        if let position = value.intValue { return .position(position) }
        return .name(value.stringValue!)
    }

    private static func value(_ spec: JSONValue, at path: String) throws(MappingError) -> Value {
        let origin: Value.Origin
        if let column = spec["column"] {
            origin = .column(Self.column(column))
        } else if let constant = spec["const"] {
            origin = .constant(constant)
        } else {
            origin = .template(try template(spec["template"]!.stringValue!, at: path + "/template"))
        }
        var map: [String: JSONValue]?
        if case .object(let members)? = spec["map"] {
            map = Dictionary(members.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        }
        var conversion: Conversion?
        if let name = spec["convert"]?.stringValue {
            conversion = try Conversion(
                name: name, format: spec["format"]?.stringValue, unit: spec["unit"]?.stringValue,
                trueWords: spec["true"].map(words), falseWords: spec["false"].map(words), at: path)
        }
        return Value(origin: origin, map: map, defaultValue: spec["default"], optional: spec["optional"] == .bool(true), conversion: conversion, path: path)
    }

    private static func words(_ value: JSONValue) -> Set<String> {
        guard case .array(let items) = value else { return [] }
        return Set(items.compactMap { $0.stringValue?.lowercased() })
    }

    private static func template(_ text: String, at path: String) throws(MappingError) -> [Value.TemplatePart] {
        var parts: [Value.TemplatePart] = []
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{") {
            if open > rest.startIndex { parts.append(.text(String(rest[..<open]))) }
            guard let close = rest[open...].firstIndex(of: "}") else {
                throw MappingError(path: path, message: "a { has no closing }: \"\(text)\"")
            }
            let name = String(rest[rest.index(after: open)..<close])
            guard !name.isEmpty else { throw MappingError(path: path, message: "{} names no column: \"\(text)\"") }
            parts.append(.column(Int(name).map { .position($0) } ?? .name(name)))
            rest = rest[rest.index(after: close)...]
        }
        if !rest.isEmpty { parts.append(.text(String(rest))) }
        return parts
    }

    private static func condition(_ spec: JSONValue, at path: String) throws(MappingError) -> Condition {
        if case .array(let items)? = spec["all"] {
            var list: [Condition] = []
            for (index, item) in items.enumerated() { list.append(try condition(item, at: "\(path)/all/\(index)")) }
            return .all(list)
        }
        if case .array(let items)? = spec["any"] {
            var list: [Condition] = []
            for (index, item) in items.enumerated() { list.append(try condition(item, at: "\(path)/any/\(index)")) }
            return .any(list)
        }
        if let inner = spec["not"] { return .not(try condition(inner, at: path + "/not")) }
        guard let columnSpec = spec["column"] else {
            throw MappingError(path: path, message: "a condition needs column (with equals, in, matches or empty), or all, any, not")
        }
        let column = column(columnSpec)
        if let equals = spec["equals"]?.stringValue { return .oneOf(column, [equals]) }
        if case .array(let items)? = spec["in"] { return .oneOf(column, Set(items.compactMap(\.stringValue))) }
        if let pattern = spec["matches"]?.stringValue {
            guard (try? Regex(pattern)) != nil else { throw MappingError(path: path + "/matches", message: "not a regular expression: \(pattern)") }
            return .matches(column, pattern)
        }
        if case .bool(let empty)? = spec["empty"] { return .empty(column, empty) }
        throw MappingError(path: path, message: "a condition on column \(column) needs equals, in, matches or empty")
    }
}

/// A mapping that cannot be used: where in the document, and why.
public struct MappingError: Error, CustomStringConvertible, Sendable {
    /// JSON Pointer into the mapping document.
    public var path: String
    public var message: String
    public var more: [String] = []

    public var description: String {
        "\(path.isEmpty ? "/" : path): \(message)" + more.prefix(5).map { "\n  also \($0)" }.joined()
    }
}
