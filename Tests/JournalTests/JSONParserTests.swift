import Journal
import Testing

@Suite struct JSONParserTests {
    @Test(arguments: [
        (#"{"b":1,"a":[true,false,null]}"#, #"{"a":[true,false,null],"b":1}"#),
        (#"  {"x" : "a\u00e9\n\"q\"" }  "#, #"{"x":"aé\n\"q\""}"#),
        (#"[1.0, 2.50, -0, 1e2, 0.1, 12345678901234567890]"#, "[1,2.5,0,100,0.1,12345678901234567890]"),
        (#"{"emoji":"\ud83d\ude00","slash":"\/"}"#, #"{"emoji":"😀","slash":"/"}"#),
        (#"{"ctl":"\u0001"}"#, #"{"ctl":"\u0001"}"#),
    ])
    func parsesAndWritesCanonicalForm(input: String, canonical: String) throws {
        // Given JSON text, when parsed and written canonically, then keys are sorted and numbers normalised.
        let value = try JSONParser.parse(input)
        #expect(CanonicalJSON.string(value) == canonical)
        // Canonical output is a fixed point.
        #expect(CanonicalJSON.string(try JSONParser.parse(canonical)) == canonical)
    }

    @Test(arguments: [
        ("", "unexpected end of input"),
        ("{", "expected a member name"),
        (#"{"a":1,}"#, "expected a member name"),
        (#"{"a":1 "b":2}"#, "expected ',' or '}'"),
        (#"{"a":1,"a":2}"#, "duplicate member name"),
        ("[01]", "leading zero"),
        ("[1.]", "expected a digit after '.'"),
        ("[tru]", "invalid literal"),
        (#"["a"#, "unterminated string"),
        (#"["\x"]"#, "invalid escape"),
        (#"["\ud800"]"#, "lone high surrogate"),
        ("[1] [2]", "unexpected data after"),
        ("[1e999]", "out of range"),
        ("\"tab\there\"", "unescaped control character"),
    ])
    func rejectsMalformedJSON(input: String, message: String) {
        #expect {
            try JSONParser.parse(input)
        } throws: { error in
            (error as? JSONSyntaxError)?.message.contains(message) == true
        }
    }

    @Test func namesThatDifferOnlyInNormalisationAreDifferentMembers() throws {
        // "é" precomposed and decomposed are distinct JSON member names.
        let value = try JSONParser.parse("{\"\u{00E9}\":1,\"e\u{0301}\":2}")
        guard case .object(let members) = value else { Issue.record("not an object"); return }
        #expect(members.count == 2)
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse("{\"\u{00E9}\":1,\"\u{00E9}\":2}") }
    }

    @Test func findsDuplicatesInLargeObjectsInLinearTime() throws {
        let members = (0..<50_000).map { "\"k\($0)\":\($0)" }.joined(separator: ",")
        #expect(throws: Never.self) { try JSONParser.parse("{\(members)}") }
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse("{\(members),\"k49999\":0}") }
    }

    @Test func rejectsInvalidUTF8() {
        let bytes: [UInt8] = [0x5B, 0x22, 0xC3, 0x28, 0x22, 0x5D]  // ["\xC3("]
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(bytes) }
        // After ASCII in the same string, and in a member name.
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse([0x5B, 0x22, 0x61, 0x62, 0xFF, 0x22, 0x5D]) }  // ["ab\xFF"]
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse([0x7B, 0x22, 0xC3, 0x22, 0x3A, 0x31, 0x7D]) }  // {"\xC3":1}
    }

    @Test func readsTextWhereverItIsStored() throws {
        let text = #"{"name":"Müller GmbH","city":"Köln","id":"C-1"}"#
        let value = try JSONParser.parse(text)
        #expect(value["name"]?.stringValue == "Müller GmbH" && value["city"]?.stringValue == "Köln" && value["id"]?.stringValue == "C-1")
        // The same from an array of bytes and from a collection that keeps no contiguous storage.
        #expect(try JSONParser.parse(Array(text.utf8)) == value)
        #expect(try JSONParser.parse(AnyCollection(text.utf8)) == value)
    }

    @Test func rejectsNestingBeyondTheLimit() {
        let deep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        let ok = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(deep) }
        #expect(throws: Never.self) { try JSONParser.parse(ok) }
    }

    @Test func sortsKeysByUTF16CodeUnits() throws {
        // U+1F600 (surrogates D83D…) sorts before U+FF21 in UTF-16 order, after it in code-point order.
        let value = try JSONParser.parse(#"{"Ａ":1,"😀":2}"#)
        #expect(CanonicalJSON.string(value) == #"{"😀":2,"Ａ":1}"#)
    }

    @Test func membersAreOrderedByUTF16CodeUnitsWhateverTheirScript() throws {
        let keys = ["b", "a", "ab", "", "é", "e\u{301}", "Ａ", "😀", "\u{E000}", "\u{FFFF}", "𝄞", "z", "Z", "ä", "ß", "日本", "aé", "a😀", "aＡ"]
        for rotation in keys.indices {
            let shuffled = Array(keys[rotation...] + keys[..<rotation]).reversed()
            let written = CanonicalJSON.string(.object(shuffled.map { JSONMember($0, .null) }))
            let expected = keys.sorted { $0.utf16.lexicographicallyPrecedes($1.utf16) }
            #expect(written == "{" + expected.map { CanonicalJSON.string(.string($0)) + ":null" }.joined(separator: ",") + "}")
        }
    }
}
