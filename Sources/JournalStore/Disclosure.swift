import GRDB
import Journal
import Synchronization

/// How a reader sees personal values.
public enum DisclosureMode: String, Sendable, CaseIterable {
    /// The plaintext (``KeyStore/erasedText`` once erased).
    case plain
    /// A stable keyed pseudonym per value (``KeyStore/pseudonym(_:)``): joins and counts still work.
    case pseudonym
    /// `[hidden]`.
    case hidden
}

/// Turns the sealed personal values a reader is given back into what its mode allows. Sealed values
/// are whole JSON strings (`"sealed:v1:…"`), so a document is revealed by replacing each such string
/// literal with the JSON string of its disclosed text; nothing else in it changes.
public struct Disclosure: Sendable {
    public static let hiddenText = "[hidden]"

    public let keys: KeyStore
    public let masking: Masking

    /// Disclosure with `keys`; forgets keys another process erased meanwhile (``KeyStore/refresh()``).
    public init(keys: KeyStore, masking: Masking) {
        keys.refresh()
        self.keys = keys
        self.masking = masking
    }

    /// Disclosure of every kind of value in one `mode`.
    public init(keys: KeyStore, mode: DisclosureMode) {
        self.init(keys: keys, masking: Masking(mode))
    }

    /// One stored value as this reader sees it; text that is not sealed is returned as it is.
    public func value(_ stored: String) -> String {
        guard KeyStore.isSealed(stored) else { return stored }
        var stored = stored
        return stored.withUTF8 { bytes in keys.disclosed.withLock { $0.shown(bytes, masking: masking, keys: keys).text } }
    }

    /// An optional stored value as this reader sees it.
    public func value(_ stored: String?) -> String? { stored.map(value) }

    /// JSON text (or any text holding JSON documents, such as NDJSON) with each sealed string literal disclosed.
    public func json(_ text: String) -> String {
        var text = text
        let disclosed: [UInt8]? = text.withUTF8 { bytes in
            guard Self.firstSealed(in: bytes, from: 0) != nil else { return nil }
            var output: [UInt8] = []
            write(bytes, into: &output)
            return output
        }
        return disclosed.map { String(decoding: $0, as: UTF8.self) } ?? text
    }

    /// UTF-8 JSON text with each sealed string literal disclosed, as a string.
    public func json(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        guard Self.firstSealed(in: bytes, from: 0) != nil else { return String(decoding: bytes, as: UTF8.self) }
        var output: [UInt8] = []
        write(bytes, into: &output)
        return String(decoding: output, as: UTF8.self)
    }

    /// JSON bytes with each sealed string literal disclosed.
    public func json(_ bytes: [UInt8]) -> [UInt8] {
        bytes.withUnsafeBufferPointer { buffer in
            guard Self.firstSealed(in: buffer, from: 0) != nil else { return bytes }
            var output: [UInt8] = []
            write(buffer, into: &output)
            return output
        }
    }

    /// Appends JSON bytes to `output` with each sealed string literal disclosed.
    public func write(_ bytes: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]) {
        output.reserveCapacity(output.count + bytes.count + 64)
        var copied = 0, from = 0
        keys.disclosed.withLock { disclosed in
            while let found = Self.firstSealed(in: bytes, from: from) {
                // Sealed text is letters, digits, '-', '_' and ':' up to the closing quote; a string that only
                // begins like one (an escaped quote, any other character) is text and stays as it is.
                let end = bytes[(found + 1)...].firstIndex { !Self.isSealedTextByte($0) } ?? bytes.count
                guard end < bytes.count, bytes[end] == UInt8(ascii: "\"") else {
                    from = found + 1
                    continue
                }
                output.append(contentsOf: bytes[copied..<found])
                output.append(contentsOf: disclosed.shown(UnsafeBufferPointer(rebasing: bytes[(found + 1)..<end]), masking: masking, keys: keys).literal)
                copied = end + 1
                from = copied
            }
        }
        output.append(contentsOf: bytes[copied...])
    }

    /// Where the first sealed string literal (`"sealed:v1:`) begins in `bytes` at or after `start`: a
    /// sealed value is a whole JSON string, so its opening quote follows `:`, `[`, `,` or white space —
    /// never a backslash, as a quote inside a text would.
    static func firstSealed(in bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        let marker = quotedPrefixBytes
        let last = bytes.count - marker.count
        var index = start
        while index <= last {
            if bytes[index] == UInt8(ascii: "\""), bytes[index + 1] == UInt8(ascii: "s") {
                let opens = index == 0 || {
                    switch bytes[index - 1] {
                    case UInt8(ascii: ":"), UInt8(ascii: "["), UInt8(ascii: ","), UInt8(ascii: " "), 0x0A, 0x0D, 0x09: true
                    default: false
                    }
                }()
                if opens, (2..<marker.count).allSatisfy({ bytes[index + $0] == marker[$0] }) { return index }
            }
            index += 1
        }
        return nil
    }

    /// An event with its payload and actor disclosed.
    public func event(_ event: RecordedEvent) -> RecordedEvent {
        var disclosed = event
        disclosed.payload = json(event.payload)
        disclosed.actor = value(event.actor)
        return disclosed
    }

    private static func isSealedTextByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: ":"): true
        default: false
        }
    }

    static let quotedPrefix = "\"" + KeyStore.sealedPrefix
    static let quotedPrefixBytes = Array(quotedPrefix.utf8)
}

extension EventStore {
    /// How a reader in `mode` sees this journal's personal values.
    public func disclosure(_ mode: DisclosureMode = .plain) -> Disclosure { Disclosure(keys: keys, mode: mode) }

    /// How a reader with `masking` sees this journal's personal values.
    public func disclosure(_ masking: Masking) -> Disclosure { Disclosure(keys: keys, masking: masking) }
}

extension Disclosure {
    /// The SQL function that discloses a stored value or JSON document: `tpj_disclose(payload)`.
    public static let sqlFunctionName = "tpj_disclose"

    /// What `tpj_disclose(text)` returns: a sealed value disclosed, or a JSON document with its sealed strings disclosed.
    public func sql(_ text: String) -> String {
        KeyStore.isSealed(text) ? value(text) : json(text)
    }

    /// `tpj_disclose` for GRDB connections.
    public var databaseFunction: DatabaseFunction {
        DatabaseFunction(Self.sqlFunctionName, argumentCount: 1, pure: true) { values in
            guard let text = String.fromDatabaseValue(values[0]) else { return values[0] }
            return sql(text)
        }
    }
}
