import Journal
import Testing

@Suite struct TimestampTests {
    @Test(arguments: [
        ("2026-03-01T08:15:00+01:00", "2026-03-01T07:15:00.000000Z"),
        ("2026-03-01T07:15:00Z", "2026-03-01T07:15:00.000000Z"),
        ("2024-02-29T23:59:59.123456789-05:30", "2024-03-01T05:29:59.123456Z"),
        ("1969-12-31T23:59:59.5Z", "1969-12-31T23:59:59.500000Z"),
        ("2000-01-01T00:00:00Z", "2000-01-01T00:00:00.000000Z"),
    ])
    func parsesWithOffsetAndFormatsInUTC(input: String, utc: String) throws {
        #expect(try Timestamp(rfc3339: input).rfc3339 == utc)
    }

    @Test(arguments: [
        ("2026-03-01T08:15:00", "offset is required"),
        ("2026-03-01", "time of day and a UTC offset are required"),
        ("2026-02-29T08:15:00Z", "does not exist"),
        ("2026-13-01T08:15:00Z", "month 13"),
        ("2026-03-01T24:00:00Z", "out of range"),
        ("2026-03-01 08:15:00Z", "expected 'T'"),
        ("2026-03-01T08:15:00+0100", "':' in the UTC offset"),
        ("0000-01-01T00:00:00Z", "year 0000"),
        ("2026-03-01T08:15:00.Z", "digits after '.'"),
        ("2026-03-01T08:15:00.1234567890Z", "more than 9 fractional digits"),
    ])
    func rejectsTimesWithoutOffsetOrOutOfRange(input: String, reason: String) {
        #expect {
            try Timestamp(rfc3339: input)
        } throws: { error in
            (error as? TimestampError)?.reason.contains(reason) == true
        }
    }

    @Test func roundTripsRandomInstants() throws {
        var random = SystemRandomNumberGenerator()
        for _ in 0..<1000 {
            let instant = Timestamp(microseconds: Int64.random(in: -2_000_000_000_000_000...4_000_000_000_000_000, using: &random))
            #expect(try Timestamp(rfc3339: instant.rfc3339) == instant)
        }
    }
}
