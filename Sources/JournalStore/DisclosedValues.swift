import Foundation
import Journal

/// Sealed values lately disclosed, found by their sealed bytes: a value seen before costs a table
/// look-up and a copy, with no string built, hashed, decrypted or escaped. An actor, a technician or
/// a contact person recurs in many events; a value seen once costs one decryption. Free texts are not
/// kept: each is opened where it is read.
///
/// The key store owns it and empties it whenever keys are destroyed here or in another process, so
/// nothing erased is shown from it.
struct DisclosedValues {
    /// A value as one mode shows it: its text, and that text as a JSON string literal.
    struct Shown: Sendable {
        var text: String
        var literal: [UInt8]

        init(_ text: String) {
            self.text = text
            literal = []
            CanonicalJSON.writeString(text, into: &literal)
        }
    }

    /// Mutated only under the key store's lock.
    private final class Entry: @unchecked Sendable {
        let sealed: [UInt8]
        /// The value's kind; nil when its key is gone.
        let kind: PersonalDataKind?
        let plain: Shown?
        /// The keyed hash of the value's subject, whose pseudonym key makes its pseudonym.
        let subject: Data?
        var pseudonym: Shown?

        init(sealed: [UInt8], kind: PersonalDataKind?, plain: Shown?, subject: Data?) {
            self.sealed = sealed
            self.kind = kind
            self.plain = plain
            self.subject = subject
        }
    }
    private var entries: [UInt64: Entry] = [:]

    /// How many values it keeps before it starts over.
    static let limit = 100_000

    static let hidden = Shown(Disclosure.hiddenText)
    static let erased = Shown(KeyStore.erasedText)
    static let unreadable = Shown(KeyStore.unreadableText)

    mutating func removeAll() { entries.removeAll() }

    /// How the sealed value `sealed` (its text, without quotes) shows under `masking`.
    mutating func shown(_ sealed: UnsafeBufferPointer<UInt8>, masking: Masking, keys: KeyStore) -> Shown {
        if masking.uniform == .hidden { return Self.hidden }
        let key = Self.key(of: sealed)
        let entry: Entry
        if let found = entries[key], Self.equal(found.sealed, sealed) {
            entry = found
        } else {
            switch keys.unseal(sealed) {
            case .value(let kind, let plaintext, let subject):
                // A free text is rarely seen twice: kept, it would only push out the names that recur.
                entry = Entry(sealed: kind == .text ? [] : Array(sealed), kind: kind, plain: Shown(plaintext), subject: subject)
            case .erased: entry = Entry(sealed: Array(sealed), kind: nil, plain: nil, subject: nil)
            case .unreadable: return Self.unreadable
            }
            if entry.kind != .text {
                if entries.count >= Self.limit { entries.removeAll(keepingCapacity: true) }
                entries[key] = entry
            }
        }
        guard let kind = entry.kind else { return Self.erased }
        switch masking.uniform ?? masking[kind] {
        case .plain:
            return entry.plain!
        case .pseudonym:
            if let pseudonym = entry.pseudonym { return pseudonym }
            // From the plaintext opened above: no second decryption.
            let pseudonym = Shown(keys.pseudonym(of: entry.plain!.text, subjectHash: entry.subject!))
            entry.pseudonym = pseudonym
            return pseudonym
        case .hidden:
            return Self.hidden
        }
    }

    private static func equal(_ stored: [UInt8], _ sealed: UnsafeBufferPointer<UInt8>) -> Bool {
        stored.count == sealed.count && stored.withUnsafeBufferPointer { memcmp($0.baseAddress!, sealed.baseAddress!, sealed.count) == 0 }
    }

    /// A table key from the value's last ten characters: base64 of its authentication tag, as good as random.
    private static func key(of sealed: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var key = UInt64(sealed.count)
        for byte in sealed.suffix(10) { key = key &<< 6 ^ UInt64(byte) }
        return key
    }
}
