/// CSV as RFC 4180 writes it: fields with a comma, quote or line break are quoted, quotes doubled.
public enum CSV {
    /// One record, ended by CRLF.
    public static func record(_ fields: [String]) -> String {
        fields.map(field).joined(separator: ",") + "\r\n"
    }

    public static func field(_ text: String) -> String {
        var text = text
        return text.withUTF8 { bytes in
            var output: [UInt8] = []
            writeField(utf8: UnsafeRawBufferPointer(bytes), into: &output)
            return String(decoding: output, as: UTF8.self)
        }
    }

    /// Appends the UTF-8 text `bytes` as one field, quoted like ``field(_:)``.
    public static func writeField(utf8 bytes: UnsafeRawBufferPointer, into output: inout [UInt8]) {
        let needsQuotes = bytes.contains { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0A || $0 == 0x0D }
        guard needsQuotes else {
            output.append(contentsOf: bytes)
            return
        }
        output.append(UInt8(ascii: "\""))
        for byte in bytes {
            if byte == UInt8(ascii: "\"") { output.append(byte) }
            output.append(byte)
        }
        output.append(UInt8(ascii: "\""))
    }
}
