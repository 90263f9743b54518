/// The journal's canonical JSON form: the exact bytes that are stored and hashed.
///
/// Rules: object members sorted by key (by UTF-16 code units, as RFC 8785), no white space,
/// numbers as ``JSONNumber/canonicalText``, strings escaped minimally (`\"`, `\\`, `\b`, `\f`,
/// `\n`, `\r`, `\t`, other control characters as `\u00XX`; everything else as raw UTF-8).
public enum CanonicalJSON {
    /// Appends the canonical bytes of `value` to `output`.
    public static func write(_ value: JSONValue, into output: inout [UInt8]) {
        var repeated: String?
        write(value, into: &output, repeatedName: &repeated)
    }

    /// The canonical bytes of `value`, or the first member name that an object of it has twice
    /// (the parser never builds such a value; one assembled in code can).
    public static func bytesCheckingNames(_ value: JSONValue) -> (bytes: [UInt8], repeatedName: String?) {
        var output: [UInt8] = []
        output.reserveCapacity(256)
        var repeated: String?
        write(value, into: &output, repeatedName: &repeated)
        return (output, repeated)
    }

    private static func write(_ value: JSONValue, into output: inout [UInt8], repeatedName: inout String?) {
        switch value {
        case .null: output.append(contentsOf: "null".utf8)
        case .bool(let flag): output.append(contentsOf: (flag ? "true" : "false").utf8)
        case .number(let number): output.append(contentsOf: number.canonicalText.utf8)
        case .string(let string): writeString(string, into: &output)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (offset, element) in elements.enumerated() {
                if offset > 0 { output.append(UInt8(ascii: ",")) }
                write(element, into: &output, repeatedName: &repeatedName)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            output.append(UInt8(ascii: "{"))
            let sorted = sortedMembers(members)
            for (offset, member) in sorted.enumerated() {
                if offset > 0 {
                    output.append(UInt8(ascii: ","))
                    // Sorted, equal names are neighbours.
                    if repeatedName == nil, !utf16Less(sorted[offset - 1].key, member.key) { repeatedName = member.key }
                }
                writeString(member.key, into: &output)
                output.append(UInt8(ascii: ":"))
                write(member.value, into: &output, repeatedName: &repeatedName)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    /// The canonical bytes of `value`.
    public static func bytes(_ value: JSONValue) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(256)
        write(value, into: &output)
        return output
    }

    /// The canonical text of `value`.
    public static func string(_ value: JSONValue) -> String {
        String(decoding: bytes(value), as: UTF8.self)
    }

    /// Appends `string` as a canonical JSON string literal.
    public static func writeString(_ string: String, into output: inout [UInt8]) {
        var string = string
        string.withUTF8 { writeString(utf8: UnsafeRawBufferPointer($0), into: &output) }
    }

    /// Appends the UTF-8 text `bytes` as a JSON string, quoted and escaped like ``writeString(_:into:)``.
    public static func writeString(utf8 bytes: UnsafeRawBufferPointer, into output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        // Copy runs of bytes that need no escape in one go.
        var runStart = 0
        for index in 0..<bytes.count {
            let byte = bytes[index]
            if byte >= 0x20, byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\") { continue }
            output.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[runStart..<index]))
            appendEscape(for: byte, into: &output)
            runStart = index + 1
        }
        output.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[runStart..<bytes.count]))
        output.append(UInt8(ascii: "\""))
    }

    private static func appendEscape(for byte: UInt8, into output: inout [UInt8]) {
        switch byte {
        case UInt8(ascii: "\""): output.append(contentsOf: [0x5C, 0x22])
        case UInt8(ascii: "\\"): output.append(contentsOf: [0x5C, 0x5C])
        case 0x08: output.append(contentsOf: [0x5C, UInt8(ascii: "b")])
        case 0x0C: output.append(contentsOf: [0x5C, UInt8(ascii: "f")])
        case 0x0A: output.append(contentsOf: [0x5C, UInt8(ascii: "n")])
        case 0x0D: output.append(contentsOf: [0x5C, UInt8(ascii: "r")])
        case 0x09: output.append(contentsOf: [0x5C, UInt8(ascii: "t")])
        default:
            let hex: [UInt8] = Array("0123456789abcdef".utf8)
            output.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
        }
    }

    private static func sortedMembers(_ members: [JSONMember]) -> [JSONMember] {
        var isSorted = true
        for index in members.indices.dropFirst() where !utf16Less(members[index - 1].key, members[index].key) {
            isSorted = false
            break
        }
        if isSorted { return members }
        return members.sorted { utf16Less($0.key, $1.key) }
    }

    /// RFC 8785 orders member names by their UTF-16 code units. UTF-8 bytes order like code points,
    /// and code points like UTF-16 units except where U+E000 … U+FFFF meets a supplementary character,
    /// so the bytes decide unless the first difference involves a lead byte of U+E000 or above.
    static func utf16Less(_ lhs: String, _ rhs: String) -> Bool {
        var left = lhs.utf8.makeIterator(), right = rhs.utf8.makeIterator()
        while true {
            guard let a = left.next() else { return right.next() != nil }
            guard let b = right.next() else { return false }
            if a != b {
                if a >= 0xEE || b >= 0xEE { return lhs.utf16.lexicographicallyPrecedes(rhs.utf16) }
                return a < b
            }
        }
    }
}
