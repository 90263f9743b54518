/// An instant in microseconds since 1970-01-01T00:00:00Z, with RFC 3339 parsing and formatting.
///
/// Business times (`occurredAt`) must carry an explicit offset (`Z` or `±HH:MM`): a time without one
/// is ambiguous across the sites of a manufacturer and is rejected.
///
/// ```swift
/// let t = try Timestamp(rfc3339: "2026-03-01T08:15:00+01:00")
/// t.rfc3339   // "2026-03-01T07:15:00.000000Z"
/// ```
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var microseconds: Int64

    public init(microseconds: Int64) {
        self.microseconds = microseconds
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.microseconds < rhs.microseconds }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`; the fraction is kept to the microsecond.
    public init(rfc3339 text: String) throws(TimestampError) {
        var text = text
        let result = text.withUTF8 { Self.parse($0) }
        switch result {
        case .success(let microseconds): self.microseconds = microseconds
        case .failure(let reason): throw TimestampError(text: text, reason: reason.message)
        }
    }

    /// Midnight UTC at the start of a calendar date `YYYY-MM-DD`.
    public init(utcDate date: String) throws(TimestampError) {
        guard date.utf8.count == 10 else { throw TimestampError(text: date, reason: "a date is YYYY-MM-DD") }
        try self.init(rfc3339: date + "T00:00:00Z")
    }

    /// An RFC 3339 time with offset, or a date `YYYY-MM-DD` meaning midnight UTC; nil for anything else.
    /// The form every command-line option and query parameter that names an instant accepts.
    public init?(instantOrDate text: String) {
        if let instant = try? Timestamp(rfc3339: text) {
            self = instant
        } else if let midnight = try? Timestamp(utcDate: text) {
            self = midnight
        } else {
            return nil
        }
    }

    private struct ParseFailure: Error {
        let message: String
    }

    private static func parse(_ b: UnsafeBufferPointer<UInt8>) -> Result<Int64, ParseFailure> {
        do throws(ParseFailure) {
            return .success(try parseThrowing(b))
        } catch {
            return .failure(error)
        }
    }

    private static func parseThrowing(_ b: UnsafeBufferPointer<UInt8>) throws(ParseFailure) -> Int64 {
        func fail(_ reason: String) -> ParseFailure { ParseFailure(message: reason) }
        func number(_ from: Int, _ count: Int) throws(ParseFailure) -> Int {
            guard from + count <= b.count else { throw fail("it is too short") }
            var value = 0
            for i in from..<(from + count) {
                guard b[i] >= 48, b[i] <= 57 else { throw fail("expected a digit at character \(i + 1)") }
                value = value * 10 + Int(b[i] - 48)
            }
            return value
        }
        func expect(_ i: Int, _ char: UInt8, _ what: String) throws(ParseFailure) {
            guard i < b.count, b[i] == char else { throw fail("expected \(what) at character \(i + 1)") }
        }
        let year = try number(0, 4)
        try expect(4, UInt8(ascii: "-"), "'-'")
        let month = try number(5, 2)
        try expect(7, UInt8(ascii: "-"), "'-'")
        let day = try number(8, 2)
        guard b.count > 10, b[10] == UInt8(ascii: "T") else {
            throw fail(b.count == 10 ? "a time of day and a UTC offset are required" : "expected 'T' at character 11")
        }
        let hour = try number(11, 2)
        try expect(13, UInt8(ascii: ":"), "':'")
        let minute = try number(14, 2)
        try expect(16, UInt8(ascii: ":"), "':' and seconds")
        let second = try number(17, 2)
        var i = 19
        var fraction: Int64 = 0
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            var digits = 0
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                if digits < 6 { fraction = fraction * 10 + Int64(b[i] - 48) }
                digits += 1
                i += 1
            }
            guard digits > 0 else { throw fail("expected digits after '.'") }
            guard digits <= 9 else { throw fail("more than 9 fractional digits") }
            if digits < 6 { for _ in digits..<6 { fraction *= 10 } }
        }
        guard i < b.count else { throw fail("a UTC offset is required (Z or ±HH:MM)") }
        var offsetSeconds = 0
        switch b[i] {
        case UInt8(ascii: "Z"):
            i += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            let sign = b[i] == UInt8(ascii: "-") ? -1 : 1
            let offsetHour = try number(i + 1, 2)
            try expect(i + 3, UInt8(ascii: ":"), "':' in the UTC offset")
            let offsetMinute = try number(i + 4, 2)
            guard offsetHour <= 23, offsetMinute <= 59 else { throw fail("the UTC offset is out of range") }
            offsetSeconds = sign * (offsetHour * 3600 + offsetMinute * 60)
            i += 6
        default:
            throw fail("a UTC offset is required (Z or ±HH:MM)")
        }
        guard i == b.count else { throw fail("unexpected characters after the UTC offset") }
        guard year > 0 else { throw fail("year 0000 does not exist") }
        guard (1...12).contains(month) else { throw fail("month \(month) is out of range") }
        guard day >= 1, day <= daysInMonth(year: year, month: month) else {
            throw fail("day \(day) does not exist in \(year)-\(month < 10 ? "0" : "")\(month)")
        }
        guard hour <= 23, minute <= 59, second <= 59 else { throw fail("the time of day is out of range") }
        let days = Int64(daysFromCivil(year: year, month: month, day: day))
        let seconds = days * 86_400 + Int64(hour * 3600 + minute * 60 + second - offsetSeconds)
        return seconds * 1_000_000 + fraction
    }

    /// The instant in UTC with six fractional digits: `2026-03-01T07:15:00.000000Z`.
    public var rfc3339: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(27)
        writeRFC3339(into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends ``rfc3339`` to `output`, written digit by digit (documents carry many instants).
    public func writeRFC3339(into output: inout [UInt8]) {
        let (seconds, micros) = microseconds.quotientAndRemainder(dividingBy: 1_000_000)
        var wholeSeconds = seconds
        var fraction = micros
        if fraction < 0 {
            fraction += 1_000_000
            wholeSeconds -= 1
        }
        let (days, secondOfDay) = Self.floorDivide(wholeSeconds, 86_400)
        let (year, month, day) = Self.civilFromDays(Int(days))
        if (0...9999).contains(year) {
            Self.appendDigits(year, 4, &output)
        } else {
            output.append(contentsOf: String(year).utf8)
        }
        output.append(UInt8(ascii: "-"))
        Self.appendDigits(month, 2, &output)
        output.append(UInt8(ascii: "-"))
        Self.appendDigits(day, 2, &output)
        output.append(UInt8(ascii: "T"))
        Self.appendDigits(Int(secondOfDay / 3600), 2, &output)
        output.append(UInt8(ascii: ":"))
        Self.appendDigits(Int(secondOfDay % 3600 / 60), 2, &output)
        output.append(UInt8(ascii: ":"))
        Self.appendDigits(Int(secondOfDay % 60), 2, &output)
        output.append(UInt8(ascii: "."))
        Self.appendDigits(Int(fraction), 6, &output)
        output.append(UInt8(ascii: "Z"))
    }

    /// Appends the `width` lowest decimal digits of a non-negative `value`, with leading zeros.
    private static func appendDigits(_ value: Int, _ width: Int, _ output: inout [UInt8]) {
        var divisor = 1
        for _ in 1..<width { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            output.append(UInt8(ascii: "0") + UInt8(rest / divisor % 10))
            rest %= divisor
            divisor /= 10
        }
    }

    /// The calendar date in UTC, `YYYY-MM-DD`.
    public var utcDate: String { String(rfc3339.prefix(10)) }

    public var description: String { rfc3339 }

    public static func seconds(_ seconds: Int64) -> Timestamp { Timestamp(microseconds: seconds * 1_000_000) }

    // MARK: Calendar arithmetic (proleptic Gregorian, after H. Hinnant's days_from_civil)

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
    public static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The proleptic Gregorian date of a day counted from 1970-01-01.
    public static func civilFromDays(_ days: Int) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func floorDivide(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
        let (q, r) = a.quotientAndRemainder(dividingBy: b)
        return r < 0 ? (q - 1, r + b) : (q, r)
    }

}

/// A timestamp that is not RFC 3339 with an explicit offset.
public struct TimestampError: Error, Sendable, Hashable, CustomStringConvertible {
    public let text: String
    public let reason: String

    public var description: String { "\"\(text)\" is not an ISO-8601 timestamp with offset: \(reason)" }
}
