import Foundation
import Journal

/// How a source value becomes a JSON value of an event (`convert` in a mapping).
enum Conversion: Sendable {
    case string, integer, number, json, eventId
    case boolean(trueWords: Set<String>, falseWords: Set<String>)
    case timestamp(format: TimePattern?)
    case date(format: TimePattern?)
    case duration(unitSeconds: Double)

    static let defaultTrue: Set<String> = ["true", "yes", "y", "1", "ja", "j", "si", "sì", "oui", "wahr", "x"]
    static let defaultFalse: Set<String> = ["false", "no", "n", "0", "nein", "non", "falsch", ""]

    init(name: String, format: String?, unit: String?, trueWords: Set<String>?, falseWords: Set<String>?, at path: String) throws(MappingError) {
        func pattern() throws(MappingError) -> TimePattern? {
            guard let format else { return nil }
            guard let pattern = TimePattern(format) else {
                throw MappingError(path: path + "/format", message: "\"\(format)\" is not a time pattern of yyyy MM dd HH mm ss S… and literal characters")
            }
            return pattern
        }
        switch name {
        case "string": self = .string
        case "integer": self = .integer
        case "number": self = .number
        case "json": self = .json
        case "eventId": self = .eventId
        case "boolean": self = .boolean(trueWords: trueWords ?? Self.defaultTrue, falseWords: falseWords ?? Self.defaultFalse)
        case "timestamp", "date":
            let pattern = try pattern()
            if let pattern {
                for (token, name) in [(TimePattern.Token.year, "year (yyyy)"), (.month, "month (MM; mm means minutes)"), (.day, "day (dd)")]
                where !pattern.tokens.contains(where: { $0.sameKind(as: token) }) {
                    throw MappingError(path: path + "/format", message: "\"\(pattern.text)\" has no \(name)")
                }
            }
            self = name == "date" ? .date(format: pattern) : .timestamp(format: pattern)
        case "duration":
            let units = ["seconds": 1.0, "minutes": 60.0, "hours": 3600.0, "days": 86400.0]
            self = .duration(unitSeconds: units[unit ?? "seconds"] ?? 1)
        default: throw MappingError(path: path + "/convert", message: "unknown conversion \(name)")
        }
    }

    /// The converted value, or why the source value cannot be converted.
    func apply(_ value: JSONValue, context: ConversionContext) -> Result<JSONValue, ValueProblem> {
        let text: String
        switch value {
        case .string(let string): text = string
        case .number(let number): text = number.canonicalText
        case .bool(let flag): text = flag ? "true" : "false"
        default:
            if case .json = self { return .success(value) }
            return .failure(ValueProblem("a \(value.typeName) cannot be converted"))
        }
        switch self {
        case .string:
            return .success(.string(text))
        case .json:
            if case .string = value {
                do { return .success(try JSONParser.parse(text)) } catch { return .failure(ValueProblem("not JSON: \(error)")) }
            }
            return .success(value)
        case .eventId:
            return .success(.string(EventID.nameBased(namespace: context.namespace, name: text).rawValue))
        case .integer, .number:
            guard let number = Conversions.number(text, decimalComma: context.decimalComma) else {
                return .failure(ValueProblem("\"\(text)\" is not a number"))
            }
            if case .integer = self {
                guard number == number.rounded(), abs(number) < 1e15 else { return .failure(ValueProblem("\"\(text)\" is not a whole number")) }
                return .success(.number(JSONNumber(Int64(number))))
            }
            return .success(.number(JSONNumber(number)))
        case .boolean(let yes, let no):
            let word = text.lowercased()
            if yes.contains(word) { return .success(.bool(true)) }
            if no.contains(word) { return .success(.bool(false)) }
            return .failure(ValueProblem("\"\(text)\" is not a yes/no word (true: \(yes.sorted().joined(separator: ", ")); false: \(no.sorted().filter { !$0.isEmpty }.joined(separator: ", ")))"))
        case .timestamp(let format):
            guard let instant = Conversions.instant(text, pattern: format, zone: context.timeZone) else {
                return .failure(ValueProblem("\"\(text)\" is not a time\(format.map { " of the form \($0.text)" } ?? " (RFC 3339, or YYYY-MM-DD HH:MM[:SS])")"))
            }
            return .success(.string(instant))
        case .date(let format):
            guard let fields = (format ?? TimePattern("yyyy-MM-dd")!).parse(text), fields.hasDate else {
                return .failure(ValueProblem("\"\(text)\" is not a date\(format.map { " of the form \($0.text)" } ?? " YYYY-MM-DD")"))
            }
            return .success(.string(String(format: "%04d-%02d-%02d", fields.year, fields.month, fields.day)))
        case .duration(let unit):
            guard let seconds = Conversions.durationSeconds(text, unit: unit), seconds >= 0 else {
                return .failure(ValueProblem("\"\(text)\" is not a duration (PT1H30M, 1:30:00, 90 min, or a number of \(Int(unit)) s)"))
            }
            return .success(.number(JSONNumber(Int64(seconds.rounded()))))
        }
    }
}

/// What a conversion needs from the mapping.
struct ConversionContext: Sendable {
    var namespace: EventID
    var decimalComma: Bool
    var timeZone: TimeZone
}

/// Why a value of a row cannot be used.
struct ValueProblem: Error, Sendable {
    var message: String
    init(_ message: String) { self.message = message }
}

/// A time pattern of `yyyy MM dd HH mm ss` (also single `M d H` for unpadded numbers), `S…` for a
/// fraction of a second, and literal characters. A `Z` or `±hh:mm` after the match is an offset.
struct TimePattern: Sendable {
    enum Token: Sendable {
        case year, month, day, hour, minute, second, fraction
        case literal(UInt8)

        func sameKind(as other: Token) -> Bool {
            switch (self, other) {
            case (.year, .year), (.month, .month), (.day, .day), (.hour, .hour), (.minute, .minute), (.second, .second),
                (.fraction, .fraction), (.literal, .literal): true
            default: false
            }
        }
    }
    struct Fields {
        var year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, microsecond = 0
        var hasDate = false
        var offsetSeconds: Int?
    }

    let text: String
    let tokens: [Token]

    init?(_ text: String) {
        self.text = text
        var tokens: [Token] = []
        var rest = Substring(text)
        while let first = rest.first {
            let run = rest.prefix { $0 == first }
            switch (first, run.count) {
            case ("y", 4): tokens.append(.year)
            case ("M", 1...2): tokens.append(.month)
            case ("d", 1...2): tokens.append(.day)
            case ("H", 1...2): tokens.append(.hour)
            case ("m", 1...2): tokens.append(.minute)
            case ("s", 1...2): tokens.append(.second)
            case ("S", _): tokens.append(.fraction)
            case ("y", _), ("M", _), ("d", _), ("H", _), ("m", _), ("s", _): return nil
            default:
                for character in run {
                    guard let ascii = character.asciiValue else { return nil }
                    tokens.append(.literal(ascii))
                }
            }
            rest = rest.dropFirst(run.count)
        }
        guard !tokens.isEmpty else { return nil }
        self.tokens = tokens
    }

    func parse(_ input: String) -> Fields? {
        var fields = Fields()
        // Over the bytes: times are ASCII, and this runs for every row of an import.
        var utf8 = input.utf8.makeIterator()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        while let byte = utf8.next() { bytes.append(byte) }
        var at = 0
        func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
        func digits(_ maximum: Int) -> Int? {
            var value = 0, count = 0
            while count < maximum, at < bytes.count, isDigit(bytes[at]) {
                value = value * 10 + Int(bytes[at] - 0x30)
                at += 1
                count += 1
            }
            return count == 0 ? nil : value
        }
        for token in tokens {
            switch token {
            case .year: guard let v = digits(4) else { return nil }; fields.year = v; fields.hasDate = true
            case .month: guard let v = digits(2), (1...12).contains(v) else { return nil }; fields.month = v
            case .day: guard let v = digits(2), (1...31).contains(v) else { return nil }; fields.day = v
            case .hour: guard let v = digits(2), v < 24 else { return nil }; fields.hour = v
            case .minute: guard let v = digits(2), v < 60 else { return nil }; fields.minute = v
            case .second: guard let v = digits(2), v < 61 else { return nil }; fields.second = min(v, 59)
            case .fraction:
                var micro = 0, count = 0
                while at < bytes.count, isDigit(bytes[at]) {
                    if count < 6 { micro = micro * 10 + Int(bytes[at] - 0x30) }
                    count += 1
                    at += 1
                }
                guard count > 0 else { return nil }
                for _ in min(count, 6)..<6 { micro *= 10 }
                fields.microsecond = micro
            case .literal(let byte):
                guard at < bytes.count, bytes[at] == byte else { return nil }
                at += 1
            }
        }
        let rest = bytes.count - at
        if rest == 1, bytes[at] | 0x20 == UInt8(ascii: "z") {
            fields.offsetSeconds = 0
        } else if rest == 6, bytes[at] == UInt8(ascii: "+") || bytes[at] == UInt8(ascii: "-"), bytes[at + 3] == UInt8(ascii: ":"),
            isDigit(bytes[at + 1]), isDigit(bytes[at + 2]), isDigit(bytes[at + 4]), isDigit(bytes[at + 5])
        {
            let hours = Int(bytes[at + 1] - 0x30) * 10 + Int(bytes[at + 2] - 0x30)
            let minutes = Int(bytes[at + 4] - 0x30) * 10 + Int(bytes[at + 5] - 0x30)
            fields.offsetSeconds = (bytes[at] == UInt8(ascii: "-") ? -1 : 1) * (hours * 3600 + minutes * 60)
        } else if rest != 0 {
            return nil
        }
        if fields.hasDate, fields.day > Conversions.daysIn(month: fields.month, year: fields.year) { return nil }
        return fields
    }
}

enum Conversions {
    static let defaultTimePatterns = [
        "yyyy-MM-ddTHH:mm:ss.S", "yyyy-MM-ddTHH:mm:ss", "yyyy-MM-ddTHH:mm", "yyyy-MM-dd HH:mm:ss.S", "yyyy-MM-dd HH:mm:ss",
        "yyyy-MM-dd HH:mm", "yyyy-MM-dd",
    ].map { TimePattern($0)! }

    /// RFC 3339 text with offset for a source time; a time without offset is read in `zone`.
    static func instant(_ text: String, pattern: TimePattern?, zone: TimeZone) -> String? {
        // RFC 3339 with an offset is kept as written, like an appended event's occurredAt.
        if pattern == nil, (try? Timestamp(rfc3339: text)) != nil { return text }
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let patterns = pattern.map { [$0] } ?? defaultTimePatterns
        guard let fields = patterns.lazy.compactMap({ $0.parse(trimmed) }).first, fields.hasDate else { return nil }
        let wall = Int64(Timestamp.daysFromCivil(year: fields.year, month: fields.month, day: fields.day)) * 86_400
            + Int64(fields.hour * 3600 + fields.minute * 60 + fields.second)
        let offset: Int
        if let given = fields.offsetSeconds {
            offset = given
        } else {
            let first = zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(wall)))
            let second = zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(wall - Int64(first))))
            offset = second
        }
        return format(wallSeconds: wall, microsecond: fields.microsecond, offset: offset)
    }

    /// `YYYY-MM-DDTHH:MM:SS[.ffffff]±HH:MM` (or `Z` for UTC) for a wall-clock time and its offset.
    static func format(wallSeconds: Int64, microsecond: Int, offset: Int) -> String {
        let days = Int(wallSeconds.floorDivided(by: 86_400))
        let secondsOfDay = Int(wallSeconds - Int64(days) * 86_400)
        let (y, m, d) = Timestamp.civilFromDays(days)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        func number(_ value: Int, width: Int) {
            var digits = [UInt8](repeating: 0x30, count: width)
            var rest = value
            for index in stride(from: width - 1, through: 0, by: -1) {
                digits[index] = 0x30 + UInt8(rest % 10)
                rest /= 10
            }
            bytes.append(contentsOf: digits)
        }
        number(y, width: 4); bytes.append(UInt8(ascii: "-")); number(m, width: 2); bytes.append(UInt8(ascii: "-")); number(d, width: 2)
        bytes.append(UInt8(ascii: "T")); number(secondsOfDay / 3600, width: 2); bytes.append(UInt8(ascii: ":"))
        number(secondsOfDay / 60 % 60, width: 2); bytes.append(UInt8(ascii: ":")); number(secondsOfDay % 60, width: 2)
        if microsecond > 0 {
            var fraction = microsecond, width = 6
            while fraction % 10 == 0 { fraction /= 10; width -= 1 }
            bytes.append(UInt8(ascii: "."))
            number(fraction, width: width)
        }
        if offset == 0 {
            bytes.append(UInt8(ascii: "Z"))
        } else {
            bytes.append(UInt8(ascii: offset < 0 ? "-" : "+"))
            number(abs(offset) / 3600, width: 2); bytes.append(UInt8(ascii: ":")); number(abs(offset) / 60 % 60, width: 2)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func number(_ text: String, decimalComma: Bool) -> Double? {
        var cleaned = text.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "\u{00A0}", with: "").replacingOccurrences(of: " ", with: "")
        if decimalComma {
            cleaned = cleaned.replacingOccurrences(of: ".", with: "").replacingOccurrences(of: ",", with: ".")
        }
        guard !cleaned.isEmpty, cleaned.allSatisfy({ $0.isASCII && ($0.isNumber || "+-.eE".contains($0)) }),
            let number = Double(cleaned), number.isFinite
        else { return nil }
        return number
    }

    /// Seconds of a duration: ISO 8601 (`PT1H30M`, `P2D`), `h:mm[:ss]`, a number with a unit (`90 s`,
    /// `5 min`, `2h`, `1.5 days`), or a bare number of `unit` seconds.
    static func durationSeconds(_ text: String, unit: Double) -> Double? {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard !t.isEmpty else { return nil }
        if t.hasPrefix("p") {
            var total = 0.0, number = "", inTime = false
            for c in t.dropFirst() {
                if c.isNumber || c == "." || c == "," { number.append(c == "," ? "." : c); continue }
                if c == "t" { inTime = true; continue }
                guard let value = Double(number) else { return nil }
                number = ""
                switch (c, inTime) {
                case ("w", false): total += value * 604_800
                case ("d", false): total += value * 86_400
                case ("h", true): total += value * 3_600
                case ("m", true): total += value * 60
                case ("s", true): total += value
                default: return nil
                }
            }
            return number.isEmpty ? total : nil
        }
        if t.contains(":") {
            let parts = t.split(separator: ":", omittingEmptySubsequences: false).map { Double($0) }
            guard parts.count == 2 || parts.count == 3, parts.allSatisfy({ $0 != nil && $0! >= 0 }) else { return nil }
            return parts.count == 2 ? parts[0]! * 3600 + parts[1]! * 60 : parts[0]! * 3600 + parts[1]! * 60 + parts[2]!
        }
        let numberPart = t.prefix { $0.isNumber || $0 == "." || $0 == "," }
        guard let value = Double(numberPart.replacingOccurrences(of: ",", with: ".")) else { return nil }
        let suffix = t.dropFirst(numberPart.count).trimmingCharacters(in: .whitespaces)
        switch suffix {
        case "": return value * unit
        case "s", "sec", "secs", "second", "seconds": return value
        case "m", "min", "mins", "minute", "minutes": return value * 60
        case "h", "hr", "hrs", "hour", "hours": return value * 3600
        case "d", "day", "days": return value * 86_400
        default: return nil
        }
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}

extension Int64 {
    fileprivate func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}
