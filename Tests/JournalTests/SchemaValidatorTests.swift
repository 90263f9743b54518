import Journal
import Testing

@Suite struct SchemaValidatorTests {
    func schema(_ text: String) throws -> JSONSchema {
        try JSONSchema(compiling: JSONParser.parse(text))
    }

    @Test func reportsPathRuleAndMessage() throws {
        let s = try schema(#"{"type":"object","properties":{"lines":{"type":"array","items":{"type":"object","required":["quantity"],"properties":{"quantity":{"type":"integer","minimum":1}}}}}}"#)
        let violations = s.validate(try JSONParser.parse(#"{"lines":[{"quantity":2},{"quantity":0},{}]}"#))
        #expect(violations.map(\.path) == ["/lines/1/quantity", "/lines/2"])
        #expect(violations.map(\.rule) == ["minimum", "required"])
        #expect(violations[0].message == "must be ≥ 1, got 0")
    }

    @Test(arguments: [
        #"{"type":"string","patternProperties":{}}"#,
        #"{"if":{"type":"string"}}"#,
        #"{"format":"email"}"#,
        #"{"$ref":"https://example.com/other.json"}"#,
        ##"{"$ref":"#/$defs/missing"}"##,
        #"{"type":"strin"}"#,
        #"{"pattern":"(["}"#,
        #"{"pattern":"^(EUR|USD)$"}"#,
        #"{"maxLength":1e19}"#,
        ##"{"$ref":"#/$defs/a","$defs":{"a":{"$ref":"#/$defs/a"}}}"##,
        ##"{"$defs":{"a":{"anyOf":[{"$ref":"#/$defs/b"}]},"b":{"not":{"$ref":"#/$defs/a"}}}}"##,
    ])
    func refusesSchemasItCannotFullyCheck(text: String) {
        #expect(throws: SchemaCompilationError.self) { try schema(text) }
    }

    @Test(arguments: [
        ("^[A-Z]{3}$", "EUR", true), ("^[A-Z]{3}$", "EURO", false), ("^[A-Z]{3}$", "eur", false),
        ("[0-9]+", "ab12", true), ("^SN-\\d{4,}$", "SN-12345", true), ("^SN-\\d{4,}$", "SN-123", false),
        ("^a.c$", "abc", true), ("^[^x]*$", "abc", true), ("^[^x]*$", "axc", false), ("^ab?c$", "ac", true),
        ("^[A-Za-z0-9._-]{1,5}$", "a.b-c", true), ("^[A-Za-z0-9._-]{1,5}$", "abcdef", false),
        ("^Ä+$", "ÄÄ", true), ("^a.c$", "a\rc", false), ("^a.c$", "a\u{2028}c", false),
    ])
    func matchesPatternsLikeECMAScript(pattern: String, text: String, matches: Bool) throws {
        let s = try schema(#"{"type":"string","pattern":"# + CanonicalJSON.string(.string(pattern)) + "}")
        #expect(s.accepts(.string(text)) == matches)
    }

    @Test func treatsWholeFloatsAsIntegersAndComparesEnumsByValue() throws {
        let s = try schema(#"{"type":"integer","enum":[1,2]}"#)
        #expect(s.accepts(try JSONParser.parse("2.0")))
        #expect(!s.accepts(try JSONParser.parse("2.5")))
        #expect(!s.accepts(.string("1")))
    }

    @Test func acceptsRecursionThroughTheInstance() throws {
        let s = try schema(##"{"$ref":"#/$defs/node","$defs":{"node":{"type":"object","properties":{"child":{"$ref":"#/$defs/node"}}}}}"##)
        #expect(s.accepts(try JSONParser.parse(#"{"child":{"child":{}}}"#)))
        #expect(!s.accepts(try JSONParser.parse(#"{"child":{"child":3}}"#)))
    }

    @Test func comparesEnumStringsByCodePoints() throws {
        let s = try schema(#"{"enum":["Å"]}"#)
        #expect(s.accepts(.string("\u{00C5}")))
        #expect(!s.accepts(.string("A\u{030A}")))  // canonically equivalent, but other code points
    }

    @Test func oneOfNotAndUniqueItems() throws {
        let s = try schema(#"{"type":"array","uniqueItems":true,"items":{"oneOf":[{"type":"integer"},{"type":"number","minimum":10}],"not":{"const":3}}}"#)
        #expect(s.accepts(try JSONParser.parse("[1,2]")))
        #expect(!s.accepts(try JSONParser.parse("[1,1]")))
        #expect(!s.accepts(try JSONParser.parse("[3]")))
        #expect(!s.accepts(try JSONParser.parse("[12]")))  // both alternatives match
    }
}
