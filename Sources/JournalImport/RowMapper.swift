import Foundation
import Journal

/// Applies a mapping to the rows of one source: which rules match, and the events they make.
struct RowMapper {
    let mapping: ImportMapping
    let context: ConversionContext
    /// CSV: column positions (0-based) of the names and positions the mapping uses. Searched in order:
    /// for the handful of columns a mapping names, that is cheaper than hashing a name per cell.
    private var positions: [(column: ImportMapping.Column, index: Int)] = []
    private var patterns: [String: Regex<AnyRegexOutput>] = [:]

    /// A mapped event before validation, with what the import adds to it.
    struct MappedEvent {
        var rule: ImportMapping.Rule
        var event: ProposedEvent
        var sourceRecordedAt: Timestamp
    }

    enum Outcome {
        case events([MappedEvent])
        case ignored(reason: String)
        case noRule
        case badValue(column: String, message: String)
    }

    /// For a CSV source: checks that every column the mapping names is in `header`.
    init(mapping: ImportMapping, header: [String]?, file: String) throws(SourceError) {
        self.mapping = mapping
        context = ConversionContext(namespace: mapping.namespace, decimalComma: mapping.decimalComma, timeZone: mapping.timeZone)
        if let header {
            var missing: [String] = []
            for (column, path) in mapping.columns.sorted(by: { $0.value < $1.value }) {
                switch column {
                case .name(let name):
                    if let index = header.firstIndex(of: name) { positions.append((column, index)) } else { missing.append("\"\(name)\" (at \(path))") }
                case .position(let position):
                    if position <= header.count { positions.append((column, position - 1)) } else { missing.append("#\(position) (at \(path))") }
                }
            }
            if !missing.isEmpty {
                throw SourceError(
                    file: file, line: 1,
                    message: "the mapping names column\(missing.count == 1 ? "" : "s") \(missing.joined(separator: ", ")) that the header does not have (it has \(header.map { "\"\($0)\"" }.joined(separator: ", ")))")
            }
        }
        func collect(_ condition: ImportMapping.Condition?) {
            switch condition {
            case .matches(_, let pattern)?: patterns[pattern] = try? Regex(pattern)
            case .all(let list)?, .any(let list)?: list.forEach(collect)
            case .not(let inner)?: collect(inner)
            default: break
            }
        }
        for rule in mapping.rules { collect(rule.when) }
        for rule in mapping.ignore { collect(rule.when) }
    }

    /// The cell of `column`: trimmed text for CSV (nil when the row is too short), the member for NDJSON.
    func cell(_ column: ImportMapping.Column, in record: SourceRecord) -> JSONValue? {
        if let object = record.object?.value {
            switch column {
            case .name(let name) where name.hasPrefix("/"):
                var value: JSONValue? = object
                for token in name.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
                    let key = token.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
                    if case .array(let items)? = value, let index = Int(key) { value = index < items.count ? items[index] : nil } else { value = value?[key] }
                }
                return value
            case .name(let name): return object[name]
            case .position: return nil
            }
        }
        guard let index = positions.first(where: { $0.column == column })?.index, index < record.fields.count else { return nil }
        let field = record.fields[index]
        // Most fields have no surrounding blanks; trimming only those spares an allocation per cell.
        if let first = field.utf8.first, let last = field.utf8.last, first != 0x20, first != 0x09, last != 0x20, last != 0x09 {
            return .string(field)
        }
        return .string(field.trimmingCharacters(in: .whitespaces))
    }

    private func text(_ column: ImportMapping.Column, in record: SourceRecord) -> String {
        switch cell(column, in: record) {
        case .string(let text)?: text
        case .number(let number)?: number.canonicalText
        case .bool(let flag)?: flag ? "true" : "false"
        default: ""
        }
    }

    func matches(_ condition: ImportMapping.Condition, _ record: SourceRecord) -> Bool {
        switch condition {
        case .oneOf(let column, let values):
            values.count == 1 ? values.first! == text(column, in: record) : values.contains(text(column, in: record))
        case .matches(let column, let pattern): (try? patterns[pattern]?.wholeMatch(in: text(column, in: record))) != nil
        case .empty(let column, let empty): text(column, in: record).isEmpty == empty
        case .all(let list): list.allSatisfy { matches($0, record) }
        case .any(let list): list.contains { matches($0, record) }
        case .not(let inner): !matches(inner, record)
        }
    }

    /// A value of the row, converted (with `fallback` when the mapping names no conversion); nil for an optional value that is empty.
    func value(_ spec: ImportMapping.Value, _ record: SourceRecord, fallback: Conversion? = nil) -> Result<JSONValue?, ValueProblemAt> {
        var raw: JSONValue?
        var columnName = spec.path
        switch spec.origin {
        case .column(let column):
            raw = cell(column, in: record)
            columnName = column.description
        case .constant(let value):
            raw = value
        case .template(let parts):
            var text = ""
            for part in parts {
                switch part {
                case .text(let literal): text += literal
                case .column(let column): text += self.text(column, in: record)
                }
            }
            raw = .string(text)
        }
        func problem(_ message: String) -> Result<JSONValue?, ValueProblemAt> { .failure(ValueProblemAt(column: columnName, message: message)) }
        let isEmpty = raw == nil || raw == .null || raw == .string("")
        if isEmpty {
            if let fallback = spec.defaultValue { return .success(fallback) }
            if spec.optional { return .success(nil) }
            if case .boolean = spec.conversion { raw = .string("") } else { return problem("empty, and the mapping gives no default (\(spec.path))") }
        }
        if let map = spec.map, case .string(let key)? = raw {
            if let mapped = map[key] {
                raw = mapped
                guard case .string = mapped else { return .success(mapped) }
            } else if let fallback = spec.defaultValue {
                return .success(fallback)
            } else {
                let known = map.keys.sorted().prefix(8).map { "\"\($0)\"" }.joined(separator: ", ")
                return problem("\"\(key)\" is not in the map of \(spec.path) (it has \(known)\(map.count > 8 ? ", …" : ""))")
            }
        }
        guard let conversion = spec.conversion ?? fallback else { return .success(raw) }
        switch conversion.apply(raw!, context: context) {
        case .success(let value): return .success(value)
        case .failure(let error): return problem(error.message)
        }
    }

    /// What the row becomes.
    func map(_ record: SourceRecord) -> Outcome {
        for rule in mapping.ignore where matches(rule.when, record) { return .ignored(reason: rule.reason) }
        var events: [MappedEvent] = []
        for rule in mapping.rules where rule.when.map({ matches($0, record) }) ?? true {
            switch event(rule, record) {
            case .success(let event): events.append(event)
            case .failure(let problem): return .badValue(column: problem.column, message: problem.message)
            }
        }
        return events.isEmpty ? .noRule : .events(events)
    }

    private func text(of spec: ImportMapping.Value?, _ record: SourceRecord, as conversion: Conversion = .string) -> Result<String?, ValueProblemAt> {
        guard let spec else { return .success(nil) }
        switch value(spec, record, fallback: conversion) {
        case .success(let value?):
            if case .string(let text) = value { return .success(text) }
            return .failure(ValueProblemAt(column: spec.path, message: "must give text, got \(value.typeName)"))
        case .success(nil): return .success(nil)
        case .failure(let problem): return .failure(problem)
        }
    }

    private func event(_ rule: ImportMapping.Rule, _ record: SourceRecord) -> Result<MappedEvent, ValueProblemAt> {
        func field(_ name: String, as conversion: Conversion = .string) throws(ValueProblemAt) -> String? {
            try text(of: rule.envelope[ImportMapping.envelopeFields.firstIndex(of: name)!], record, as: conversion).get()
        }
        do throws(ValueProblemAt) {
            guard let customerId = try text(of: mapping.customerId, record).get() else {
                throw ValueProblemAt(column: mapping.customerId.path, message: "the customer id is empty")
            }
            guard let occurredAt = try field("occurredAt", as: .timestamp(format: nil)) else {
                throw ValueProblemAt(column: rule.path + "/occurredAt", message: "occurredAt is empty")
            }
            let eventId: String
            if let given = try field("eventId") {
                eventId = given
            } else if let key = try field("sourceKey") {
                eventId = EventID.nameBased(namespace: mapping.namespace, name: key).rawValue
            } else {
                throw ValueProblemAt(column: rule.path + "/sourceKey", message: "the source key is empty")
            }
            let payload: JSONValue
            if let whole = rule.wholePayload {
                payload = try value(whole, record).get() ?? .object([])
            } else {
                var members: [JSONMember] = []
                for (name, field) in rule.payload {
                    if let value = try payloadValue(field, record) { members.append(JSONMember(name, value)) }
                }
                payload = .object(members)
            }
            // Read the times the validator will read: occurredAt as written, the source's recording time.
            guard let occurred = try? Timestamp(rfc3339: occurredAt) else {
                throw ValueProblemAt(column: rule.path + "/occurredAt", message: "\"\(occurredAt)\" is not a time with offset")
            }
            let known: Timestamp
            if let spec = mapping.sourceRecordedAt {
                guard let text = try text(of: spec, record, as: .timestamp(format: nil)).get(), let instant = try? Timestamp(rfc3339: text) else {
                    throw ValueProblemAt(column: spec.path, message: "the source's recording time is empty")
                }
                known = instant
            } else {
                known = Timestamp(microseconds: occurred.microseconds + (mapping.recordingLagMicroseconds ?? 0))
            }
            let event = ProposedEvent(
                eventId: eventId, type: rule.type, schemaVersion: rule.schemaVersion, occurredAt: occurredAt, customerId: customerId,
                caseId: try field("caseId"), assetId: try field("assetId"), siteId: try field("siteId"), actor: try field("actor"),
                source: try field("source"), correlationId: try field("correlationId"), causationId: try field("causationId"), payload: payload)
            return .success(MappedEvent(rule: rule, event: event, sourceRecordedAt: known))
        } catch {
            return .failure(error)
        }
    }
}

extension RowMapper {
    /// A payload field of the row: a value, or an object or array built of them (empty optional values left out).
    func payloadValue(_ field: ImportMapping.PayloadField, _ record: SourceRecord) throws(ValueProblemAt) -> JSONValue? {
        switch field {
        case .value(let spec):
            return try value(spec, record).get()
        case .object(let fields):
            var members: [JSONMember] = []
            for (name, inner) in fields {
                if let value = try payloadValue(inner, record) { members.append(JSONMember(name, value)) }
            }
            return .object(members)
        case .array(let items):
            var values: [JSONValue] = []
            for inner in items {
                if let value = try payloadValue(inner, record) { values.append(value) }
            }
            return .array(values)
        }
    }
}

/// A value problem with the column (or mapping path) it came from.
struct ValueProblemAt: Error {
    var column: String
    var message: String
}
