import Journal
import Testing

@Suite struct JSONObjectWriterTests {
    @Test func writesMembersInOrderAsTheCanonicalWriterWould() throws {
        let text = "quote \" backslash \\ newline \n tab \t bell \u{07} Straße 𝄞"
        var bytes: [UInt8] = Array("[".utf8)
        JSONObjectWriter.append(to: &bytes) { object in
            object.string("a", text)
            object.string("b", nil)
            object.bool("c", false)
            object.number("d", JSONNumber(0.1 + 0.2))
            object.instant("e", Timestamp(microseconds: -1))
            object.integer("f", -42)
            object.json("g", #"{"x":[1,null]}"#)
            object.json("h", nil)
            object.strings("i", ["", "z"])
            object.json("j") { $0.append(contentsOf: "true".utf8) }
        }
        bytes.append(contentsOf: "]".utf8)
        let expected: JSONValue = [[
            "a": .string(text), "c": false, "d": .number(JSONNumber(0.1 + 0.2)), "e": "1969-12-31T23:59:59.999999Z", "f": -42,
            "g": ["x": [1, nil]], "i": ["", "z"], "j": true,
        ]]
        #expect(String(decoding: bytes, as: UTF8.self) == CanonicalJSON.string(expected))
        #expect(try JSONParser.parse(bytes) == expected)
    }

    @Test func anObjectWithoutMembersIsEmptyBraces() {
        var bytes: [UInt8] = []
        JSONObjectWriter.append(to: &bytes) { $0.string("only", nil) }
        #expect(bytes == Array("{}".utf8))
    }
}
