import Crypto

/// A producer-chosen event identifier: a UUID in its canonical lower-case 8-4-4-4-12 form.
///
/// The event id is the idempotency key of an append. Upper-case input is accepted and folded to
/// lower case, so `0190A…` and `0190a…` name the same event.
public struct EventID: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let rawValue: String

    /// Accepts `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in hexadecimal digits of either case.
    public init?(_ text: String) {
        let utf8 = text.utf8
        guard utf8.count == 36 else { return nil }
        var capitals = false
        for (offset, byte) in utf8.enumerated() {
            switch offset {
            case 8, 13, 18, 23:
                guard byte == UInt8(ascii: "-") else { return nil }
            default:
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"): continue
                case UInt8(ascii: "A")...UInt8(ascii: "F"): capitals = true
                default: return nil
                }
            }
        }
        // An id in small letters, as every stored one is, is kept as it is: reading events makes no copy.
        rawValue = capitals ? String(decoding: utf8.map { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "F") ? $0 + 32 : $0 }, as: UTF8.self) : text
    }

    public var description: String { rawValue }

    public static func < (lhs: EventID, rhs: EventID) -> Bool { lhs.rawValue < rhs.rawValue }

    /// A name-based UUID (version 5, RFC 9562): the same namespace and name always give the same id.
    ///
    /// Imports derive event ids this way from a mapping's namespace and a row's source key, so that
    /// importing the same row again finds the event already recorded.
    public static func nameBased(namespace: EventID, name: String) -> EventID {
        var hasher = Insecure.SHA1()
        hasher.update(data: namespace.bytes)
        hasher.update(data: Array(name.utf8))
        var bytes = Array(hasher.finalize().prefix(16))
        bytes[6] = 0x50 | (bytes[6] & 0x0F)
        bytes[8] = 0x80 | (bytes[8] & 0x3F)
        return EventID(bytes: bytes)
    }

    /// The 16 bytes of the UUID.
    public var bytes: [UInt8] {
        let digits = rawValue.utf8.filter { $0 != UInt8(ascii: "-") }.map { $0 <= 57 ? $0 - 48 : ($0 | 0x20) - 87 }
        return (0..<16).map { digits[2 * $0] << 4 | digits[2 * $0 + 1] }
    }

    private init(bytes: [UInt8]) {
        let hex = Hex.encode(bytes)
        let parts = [hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4), hex.dropFirst(16).prefix(4), hex.dropFirst(20)]
        rawValue = parts.joined(separator: "-")
    }

    /// A time-ordered UUID (version 7) from a millisecond timestamp and 74 random bits.
    ///
    /// Time-ordered ids keep the event-id index append-mostly, which makes bulk appends about twice
    /// as fast as with random (version 4) ids.
    public static func version7(milliseconds: Int64, random: (UInt64, UInt64)) -> EventID {
        func byte(_ index: Int) -> UInt8 {
            switch index {
            case 0..<6: UInt8(truncatingIfNeeded: milliseconds >> (8 * (5 - index)))
            case 6: 0x70 | (UInt8(truncatingIfNeeded: random.0) & 0x0F)
            case 8: 0x80 | (UInt8(truncatingIfNeeded: random.0 >> 16) & 0x3F)
            case 7..<14: UInt8(truncatingIfNeeded: random.0 >> (8 * (index - 6)))
            default: UInt8(truncatingIfNeeded: random.1 >> (8 * (index - 14)))
            }
        }
        // Written straight into the string's storage: ids are made in bulk by generators and importers.
        let text = String(unsafeUninitializedCapacity: 36) { buffer in
            var at = 0
            for index in 0..<16 {
                if index == 4 || index == 6 || index == 8 || index == 10 {
                    buffer[at] = UInt8(ascii: "-")
                    at += 1
                }
                let value = byte(index)
                let high = value >> 4, low = value & 0xF
                buffer[at] = high < 10 ? 48 + high : 87 + high
                buffer[at + 1] = low < 10 ? 48 + low : 87 + low
                at += 2
            }
            return 36
        }
        return EventID(lowercased: text)
    }

    /// An id already in canonical form.
    private init(lowercased text: String) {
        rawValue = text
    }
}
