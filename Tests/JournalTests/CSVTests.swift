import Journal
import Testing

@Suite struct CSVTests {
    @Test(arguments: [
        ("plain", "plain"),
        ("Müller GmbH", "Müller GmbH"),
        ("a,b", "\"a,b\""),
        ("say \"hi\"", "\"say \"\"hi\"\"\""),
        ("two\nlines", "\"two\nlines\""),
        // CR LF is one Character in Swift; the field is still quoted.
        ("two\r\nlines", "\"two\r\nlines\""),
        ("", ""),
    ])
    func aFieldIsQuotedWhenItHoldsADelimiterQuoteOrLineBreak(text: String, expected: String) {
        #expect(CSV.field(text) == expected)
    }

    @Test func aRecordEndsWithCRLF() {
        #expect(CSV.record(["a", "b,c", ""]) == "a,\"b,c\",\r\n")
    }

    @Test(arguments: ["plain", "quote \" and backslash \\", "tab\tnew\nline\u{1}", "Grüße ✓"])
    func jsonStringsFromBytesAreWrittenAsFromText(text: String) throws {
        var fromText: [UInt8] = []
        CanonicalJSON.writeString(text, into: &fromText)
        var fromBytes: [UInt8] = []
        Array(text.utf8).withUnsafeBytes { CanonicalJSON.writeString(utf8: $0, into: &fromBytes) }
        #expect(fromBytes == fromText)
        #expect(try JSONParser.parse(String(decoding: fromBytes, as: UTF8.self)) == .string(text))
    }
}
