import Crypto

/// A journal's keys as rows: what moves between two stores of the same keys — a key file and the
/// PostgreSQL database a log was copied into, or the shared keys and a node's copy of them.
///
/// Subjects appear as keyed hashes (``KeyMaterial/storeSecret`` is the key), so no row names anybody.
public struct KeyMaterial: Sendable, Equatable {
    /// The keyed-hash secret of subject names (32 bytes); nil when the rows come without it.
    public var storeSecret: [UInt8]?
    /// The journal's Ed25519 signing key (32 bytes), once one was made.
    public var signingKey: [UInt8]?
    public var subjects: [SubjectKey]
    public var dataKeys: [DataKey]
    public var destroyed: [DestroyedKey]
    /// Erased subjects: their pseudonym keys went with their data keys.
    public var erasedSubjects: [ErasedSubject]

    public init(
        storeSecret: [UInt8]? = nil, signingKey: [UInt8]? = nil, subjects: [SubjectKey] = [], dataKeys: [DataKey] = [],
        destroyed: [DestroyedKey] = [], erasedSubjects: [ErasedSubject] = []
    ) {
        self.storeSecret = storeSecret
        self.signingKey = signingKey
        self.subjects = subjects
        self.dataKeys = dataKeys
        self.destroyed = destroyed
        self.erasedSubjects = erasedSubjects
    }

    /// `count` bytes from the system's secure random source: new keys and secrets.
    public static func randomBytes(_ count: Int) -> [UInt8] {
        SymmetricKey(size: SymmetricKeySize(bitCount: count * 8)).withUnsafeBytes { Array($0) }
    }

    /// Whether it holds no rows (secrets aside).
    public var isEmpty: Bool { subjects.isEmpty && dataKeys.isEmpty && destroyed.isEmpty && erasedSubjects.isEmpty }

    /// A data subject's pseudonym key.
    public struct SubjectKey: Sendable, Hashable {
        public var subjectHash: [UInt8]
        public var pseudonymKey: [UInt8]
        public var createdAtUs: Int64

        public init(subjectHash: [UInt8], pseudonymKey: [UInt8], createdAtUs: Int64) {
            self.subjectHash = subjectHash
            self.pseudonymKey = pseudonymKey
            self.createdAtUs = createdAtUs
        }
    }

    /// The key of one ``DataKeyScope``: one subject's values of one kind from one year.
    public struct DataKey: Sendable, Hashable {
        /// 32 hexadecimal digits, as sealed values name their key.
        public var keyId: String
        public var subjectHash: [UInt8]
        public var kind: PersonalDataKind
        public var year: Int
        public var key: [UInt8]
        public var createdAtUs: Int64

        public init(keyId: String, subjectHash: [UInt8], kind: PersonalDataKind, year: Int, key: [UInt8], createdAtUs: Int64) {
            self.keyId = keyId
            self.subjectHash = subjectHash
            self.kind = kind
            self.year = year
            self.key = key
            self.createdAtUs = createdAtUs
        }
    }

    /// A destroyed data key, by erasure or retention.
    public struct DestroyedKey: Sendable, Hashable {
        public var keyId: String
        public var destroyedAtUs: Int64
        public var cause: Cause

        public init(keyId: String, destroyedAtUs: Int64, cause: Cause) {
            self.keyId = keyId
            self.destroyedAtUs = destroyedAtUs
            self.cause = cause
        }
    }

    /// A subject erased: every key it had then, its pseudonym key with them. Keys made for it later
    /// (new events about it) are not erased by it.
    public struct ErasedSubject: Sendable, Hashable {
        public var subjectHash: [UInt8]
        public var erasedAtUs: Int64

        public init(subjectHash: [UInt8], erasedAtUs: Int64) {
            self.subjectHash = subjectHash
            self.erasedAtUs = erasedAtUs
        }
    }

    /// Why a key was destroyed.
    public enum Cause: String, Sendable, Hashable {
        case erasure, retention
    }
}

/// Where a journal's keys are kept, read and written as rows: what a verbatim copy of a journal
/// takes along with its log, so that the copy's personal values open as the original's do.
public protocol KeyMaterialStore: Sendable {
    /// Every row, with the secrets.
    func keyMaterial() async throws(JournalError) -> KeyMaterial

    /// Takes in rows of these same keys kept elsewhere: destructions first, then what it lacks.
    ///
    /// - Throws: ``JournalError/storage(_:)`` for another journal's keys (other secrets).
    func takeIn(_ material: KeyMaterial) async throws(JournalError)
}
