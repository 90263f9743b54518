import Journal

/// Calendar arithmetic and the customers' local time.
///
/// Days are counted from 1970-01-01 (day 0). Business times are written in the customer's local time
/// with its offset: Central European Time (+01:00, summer +02:00) for most countries, +00:00/+01:00 for
/// the United Kingdom, Ireland and Portugal, +02:00/+03:00 for Finland, with the EU rule for summer time
/// (last Sunday of March to last Sunday of October). Touchpoints happen in the daytime, so the offset of
/// a day is the one in force after the change at 01:00 UTC; the night that records an event is the
/// one after its UTC day, so `recordedAt` always follows `occurredAt`.
enum WorldCalendar {
    static let secondsPerDay: Int64 = 86_400

    static func days(year: Int, month: Int, day: Int) -> Int {
        Timestamp.daysFromCivil(year: year, month: month, day: day)
    }

    static func civil(_ days: Int) -> (year: Int, month: Int, day: Int) {
        Timestamp.civilFromDays(days)
    }

    /// Parses `YYYY-MM-DD` into a day number; nil when it is not a real date.
    static func days(parsing text: String) -> Int? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            parts.allSatisfy({ $0.allSatisfy(\.isASCII) }),
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
            year >= 1, (1...12).contains(month), day >= 1
        else { return nil }
        let result = days(year: year, month: month, day: day)
        return civil(result) == (year, month, day) ? result : nil
    }

    /// 0 = Sunday … 6 = Saturday.
    static func weekday(_ days: Int) -> Int {
        ((days + 4) % 7 + 7) % 7
    }

    static func isWeekend(_ days: Int) -> Bool {
        let w = weekday(days)
        return w == 0 || w == 6
    }

    /// The day of the last Sunday of `month` in `year`.
    static func lastSunday(year: Int, month: Int) -> Int {
        let last = days(year: year, month: month, day: month == 3 || month == 10 ? 31 : 30)
        return last - weekday(last)
    }

    /// Whether EU summer time is in force on `day` (for times of day after 03:00).
    static func isSummerTime(_ day: Int) -> Bool {
        let index = day - summerTimeTable.first
        if index >= 0, index < summerTimeTable.days.count { return summerTimeTable.days[index] }
        let year = civil(day).year
        return day >= lastSunday(year: year, month: 3) && day < lastSunday(year: year, month: 10)
    }

    /// Summer time per day from 1990 to 2140, looked up for every business time the world writes.
    private static let summerTimeTable: (first: Int, days: [Bool]) = {
        let first = days(year: 1990, month: 1, day: 1)
        var table: [Bool] = []
        for year in 1990...2140 {
            let start = lastSunday(year: year, month: 3), end = lastSunday(year: year, month: 10)
            for day in days(year: year, month: 1, day: 1)..<days(year: year + 1, month: 1, day: 1) {
                table.append(day >= start && day < end)
            }
        }
        return (first, table)
    }()

    /// The same calendar date `years` later (29 February becomes 28 February).
    static func adding(years: Int, to day: Int) -> Int {
        let (y, m, d) = civil(day)
        return days(year: y + years, month: m, day: m == 2 && d == 29 ? 28 : d)
    }

    // MARK: Formatting

    /// `YYYY-MM-DD`.
    static func dateText(_ day: Int) -> String {
        let (y, m, d) = civil(day)
        return String(unsafeUninitializedCapacity: 10) { buffer in
            write4(y, buffer, 0)
            buffer[4] = UInt8(ascii: "-")
            write2(m, buffer, 5)
            buffer[7] = UInt8(ascii: "-")
            write2(d, buffer, 8)
            return 10
        }
    }

    /// `YYYY-MM-DDTHH:MM:SS±HH:MM` for an instant (seconds since 1970, UTC) shown at `offsetMinutes`.
    static func instantText(_ utcSeconds: Int64, offsetMinutes: Int) -> String {
        let local = utcSeconds + Int64(offsetMinutes * 60)
        let day = Int(local >= 0 ? local / secondsPerDay : (local - secondsPerDay + 1) / secondsPerDay)
        let second = Int(local - Int64(day) * secondsPerDay)
        let (y, m, d) = civil(day)
        return String(unsafeUninitializedCapacity: 25) { buffer in
            write4(y, buffer, 0)
            buffer[4] = UInt8(ascii: "-")
            write2(m, buffer, 5)
            buffer[7] = UInt8(ascii: "-")
            write2(d, buffer, 8)
            buffer[10] = UInt8(ascii: "T")
            write2(second / 3600, buffer, 11)
            buffer[13] = UInt8(ascii: ":")
            write2(second % 3600 / 60, buffer, 14)
            buffer[16] = UInt8(ascii: ":")
            write2(second % 60, buffer, 17)
            buffer[19] = offsetMinutes < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+")
            write2(abs(offsetMinutes) / 60, buffer, 20)
            buffer[22] = UInt8(ascii: ":")
            write2(abs(offsetMinutes) % 60, buffer, 23)
            return 25
        }
    }

    private static func write2(_ value: Int, _ buffer: UnsafeMutableBufferPointer<UInt8>, _ at: Int) {
        buffer[at] = UInt8(48 + value / 10 % 10)
        buffer[at + 1] = UInt8(48 + value % 10)
    }

    private static func write4(_ value: Int, _ buffer: UnsafeMutableBufferPointer<UInt8>, _ at: Int) {
        write2(value / 100, buffer, at)
        write2(value % 100, buffer, at + 2)
    }
}

/// A customer's time zone: its standard offset; all follow the EU summer-time rule.
struct WorldZone: Sendable, Hashable {
    var standardMinutes: Int

    func offsetMinutes(onDay day: Int) -> Int {
        standardMinutes + (WorldCalendar.isSummerTime(day) ? 60 : 0)
    }

    /// The instant of `minute` after local midnight on `day`.
    func instant(day: Int, minute: Int) -> Int64 {
        Int64(day) * WorldCalendar.secondsPerDay + Int64(minute - offsetMinutes(onDay: day)) * 60
    }

    /// The local day and minute of the day of an instant.
    func local(_ utcSeconds: Int64) -> (day: Int, minute: Int) {
        var day = Int(utcSeconds / WorldCalendar.secondsPerDay)
        var local = utcSeconds + Int64(offsetMinutes(onDay: day) * 60)
        day = Int(local / WorldCalendar.secondsPerDay)
        local = utcSeconds + Int64(offsetMinutes(onDay: day) * 60)
        return (Int(local / WorldCalendar.secondsPerDay), Int(local % WorldCalendar.secondsPerDay / 60))
    }

    func text(_ utcSeconds: Int64) -> String {
        WorldCalendar.instantText(utcSeconds, offsetMinutes: offsetMinutes(onDay: Int(utcSeconds / WorldCalendar.secondsPerDay)))
    }
}
