import Crypto
import Foundation
import GRDB
import Journal
import Synchronization

/// The data keys that seal personal values — one per data subject, kind of value and year — in a file
/// of their own beside the journal (`<journal>-keys`): not part of the hash chain, so destroying keys
/// erases values without touching a hashed byte. It also keeps each subject's pseudonym key and the
/// journal's signing key.
///
/// A value is sealed with AES-GCM under the key of its ``DataKeyScope`` (subject, kind, year); the
/// nonce is a keyed hash of the value, so the same value sealed twice gives the same bytes (a re-sent
/// event is recognised). The sealed text is `sealed:v1:<keyId>:<base64url(nonce ‖ ciphertext ‖ tag)>`.
/// Subjects are stored as keyed hashes, so the file holds no name in the clear. Deleted rows are
/// overwritten (`secure_delete`), and destroying keys empties the file's write-ahead log, so no old
/// page keeps a destroyed key.
///
/// Back it up with the journal but apart from it: a journal without its keys verifies, but its
/// personal values read `[erased]`.
public final class KeyStore: PersonalDataSealer, @unchecked Sendable {
    /// The sealed form of a value begins with this.
    public static let sealedPrefix = "sealed:v1:"

    /// What an erased value reads as.
    public static let erasedText = "[erased]"

    /// What a sealed value reads as while the key file cannot be read (it is not erased).
    public static let unreadableText = "[key file unreadable]"

    /// The file beside the journal at `journalPath`.
    public static func path(of journalPath: String) -> String { journalPath + "-keys" }

    let queue: DatabaseQueue
    let clock: JournalClock
    /// Keyed-hash secret for subject names, made with the file.
    let subjectSecret: SymmetricKey
    struct Cache {
        var byScope: [ScopeKey: (id: String, key: SymmetricKey)] = [:]
        var byId: [String: (key: SymmetricKey, subject: Data, kind: PersonalDataKind)] = [:]
        var pseudonymKeys: [Data: SymmetricKey] = [:]
        var subjectHashes: [DataSubject: Data] = [:]
        /// Key ids found missing: a destroyed key never comes back.
        var missingIds: Set<String> = []
        /// Values sealed and opened lately: an actor or technician recurs in many events.
        var sealed: [SealedValue: String] = [:]
        var opened: [String: String] = [:]
        var dataVersion: Int = 0
        /// Whether every data key was loaded into `byId` (``loadAllKeys()``) since the cache was last emptied.
        var allKeysLoaded = false
        /// Counts the destructions seen, so that keys read before one are not cached after it.
        var destructions = 0
    }
    struct SealedValue: Hashable {
        var scope: DataKeyScope
        var plaintext: String
    }
    struct ScopeKey: Hashable {
        var subject: Data
        var kind: PersonalDataKind
        var year: Int
    }
    let cache = Mutex(Cache())
    /// Sealed values as disclosed into JSON lately; emptied with the cache.
    let disclosed = Mutex(DisclosedValues())

    /// The key file a journal holding events was opened without, when it was missing: its values then
    /// read ``erasedText`` and nothing new can be sealed (see ``keys(for:clock:)``).
    public let missingFile: String?

    /// Refuses `doing` (sealing, erasing, signing) without the journal's key file.
    private func requireFile(_ doing: String) throws(JournalError) {
        guard let missingFile else { return }
        throw .storage("the key file \(missingFile) is missing: restore it from its backup before \(doing) (this journal's personal values are sealed with its keys)")
    }

    /// Refuses `doing` (erasing, applying retention) on a copy of keys kept elsewhere: keys are destroyed there.
    private func requireOwnKeys(_ doing: String) throws(JournalError) {
        guard isCopy else { return }
        throw .storage("these keys are a copy of the shared keys: \(doing) destroys keys there, and every copy then forgets them")
    }

    /// Opens (creating if needed) the key file at `path`, or keys in memory when `path` is nil.
    public convenience init(path: String?, clock: JournalClock = .live) throws(JournalError) {
        try self.init(path: path, clock: clock, missingFile: nil)
    }

    /// Keys in memory that copy keys kept elsewhere (``KeyMaterial``, with its secrets): a node's copy
    /// of the keys every node shares. It makes no key itself — new subjects' keys are made where the
    /// keys are kept and handed in with ``adopt(_:)`` (``proposeKeys(for:)``) — and destroys none but
    /// those it is told were destroyed.
    public convenience init(copying material: KeyMaterial, clock: JournalClock = .live) throws(JournalError) {
        guard let secret = material.storeSecret, secret.count == 32 else { throw .storage("the shared keys came without their 32-byte secret") }
        try self.init(path: nil, clock: clock, secret: secret, isCopy: true)
        try adopt(material)
    }

    /// Whether keys are made and destroyed elsewhere (``init(copying:clock:)``).
    public let isCopy: Bool

    /// Keys with the given secret for subject names (a new store of another store's keys).
    convenience init(path: String?, clock: JournalClock, secret: [UInt8], isCopy: Bool) throws(JournalError) {
        try self.init(path: path, clock: clock, missingFile: nil, secret: secret, isCopy: isCopy)
    }

    private init(path: String?, clock: JournalClock, missingFile: String?, secret given: [UInt8]? = nil, isCopy: Bool = false) throws(JournalError) {
        self.clock = clock
        self.missingFile = missingFile
        self.isCopy = isCopy
        do {
            var configuration = Configuration()
            configuration.label = "keys"
            configuration.busyMode = .timeout(10)
            configuration.prepareDatabase { db in
                try db.execute(sql: "PRAGMA secure_delete = ON")
                try db.execute(sql: "PRAGMA synchronous = FULL")
            }
            let isNew = path.map { !FileManager.default.fileExists(atPath: $0) } ?? false
            queue = try path.map { try DatabaseQueue(path: $0, configuration: configuration) } ?? DatabaseQueue(configuration: configuration)
            // Only its owner may read the keys (the write-ahead log SQLite makes beside it takes the same mode).
            if let path, isNew { try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path) }
            if path != nil {
                // Write-ahead logging: a commit is one sync. Destroying keys empties the log (see `destroy`).
                try queue.writeWithoutTransaction { db in _ = try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL") }
            }
            subjectSecret = try queue.write { db in
                try db.execute(sql: """
                    CREATE TABLE IF NOT EXISTS store_secret (id INTEGER PRIMARY KEY CHECK (id = 1), secret BLOB NOT NULL CHECK (length(secret) = 32));
                    CREATE TABLE IF NOT EXISTS subject (
                        subjectHash  BLOB    PRIMARY KEY CHECK (length(subjectHash) = 32),
                        pseudonymKey BLOB    NOT NULL CHECK (length(pseudonymKey) = 32),
                        createdAtUs  INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    CREATE TABLE IF NOT EXISTS data_key (
                        keyId       TEXT    PRIMARY KEY CHECK (length(keyId) = 32),
                        subjectHash BLOB    NOT NULL REFERENCES subject (subjectHash),
                        kind        TEXT    NOT NULL CHECK (kind IN ('contact', 'employee', 'text')),
                        year        INTEGER NOT NULL,
                        key         BLOB    NOT NULL CHECK (length(key) = 32),
                        createdAtUs INTEGER NOT NULL,
                        UNIQUE (subjectHash, kind, year)
                    ) WITHOUT ROWID;
                    CREATE INDEX IF NOT EXISTS data_key_by_kind_year ON data_key (kind, year);
                    CREATE TABLE IF NOT EXISTS signing_key (id INTEGER PRIMARY KEY CHECK (id = 1), privateKey BLOB NOT NULL CHECK (length(privateKey) = 32));
                    CREATE TABLE IF NOT EXISTS destroyed_key (
                        keyId       TEXT    PRIMARY KEY,
                        destroyedAtUs INTEGER NOT NULL,
                        cause       TEXT    NOT NULL CHECK (cause IN ('erasure', 'retention'))
                    ) WITHOUT ROWID;
                    CREATE TABLE IF NOT EXISTS erased_subject (
                        subjectHash BLOB    PRIMARY KEY CHECK (length(subjectHash) = 32),
                        erasedAtUs  INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    """)
                if let secret = try Data.fetchOne(db, sql: "SELECT secret FROM store_secret") { return SymmetricKey(data: secret) }
                let secret = given.map { SymmetricKey(data: $0) } ?? SymmetricKey(size: .bits256)
                try db.execute(sql: "INSERT INTO store_secret (id, secret) VALUES (1, ?)", arguments: [secret.withUnsafeBytes { Data($0) }])
                return secret
            }
        } catch let error as DatabaseError {
            throw .storage("cannot open the key file \(path ?? "in memory"): \(error.message ?? error.description)")
        } catch {
            throw .storage("cannot open the key file \(path ?? "in memory"): \(error)")
        }
    }

    /// The keys of the journal written by `writer`: its `-keys` file, or for a journal in memory, keys in
    /// memory shared by every store opened on that same writer.
    public static func keys(for writer: any DatabaseWriter, clock: JournalClock = .live) throws(JournalError) -> KeyStore {
        let path = writer.path
        let inMemory = path.isEmpty || path == ":memory:" || path.hasPrefix("file::memory:") || path.contains("mode=memory")
        if !inMemory {
            // A journal holding events whose key file is gone (not restored with it) is read without keys,
            // rather than given a new, empty key file that later values would be sealed with.
            let keyPath = Self.path(of: path)
            let holdsEvents = (try? writer.read { db in try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM event)") ?? false }) ?? false
            if holdsEvents, !FileManager.default.fileExists(atPath: keyPath) {
                return try KeyStore(path: nil, clock: clock, missingFile: keyPath)
            }
            return try KeyStore(path: keyPath, clock: clock)
        }
        let owner = writer as AnyObject
        if let shared = inMemoryStores.withLock({ stores in
            stores = stores.filter { $0.value.writer != nil }
            return stores[ObjectIdentifier(owner)].flatMap { $0.writer === owner ? $0.keys : nil }
        }) {
            return shared
        }
        let keys = try KeyStore(path: nil, clock: clock)
        inMemoryStores.withLock { $0[ObjectIdentifier(owner)] = InMemoryKeys(writer: owner, keys: keys) }
        return keys
    }

    private struct InMemoryKeys: @unchecked Sendable {
        weak var writer: AnyObject?
        let keys: KeyStore
    }
    private static let inMemoryStores = Mutex<[ObjectIdentifier: InMemoryKeys]>([:])

    // MARK: Sealing

    public func seal(_ plaintext: String, scope: DataKeyScope) throws(JournalError) -> String {
        try requireFile("appending")
        let wanted = SealedValue(scope: scope, plaintext: plaintext)
        if let sealed = cache.withLock({ $0.sealed[wanted] }) { return sealed }
        let (keyId, key) = try key(for: scope)
        // The nonce is a keyed hash of the value (a synthetic IV): the same value under the same key is
        // sealed alike — a re-sent event gives the same bytes, and repeated values cost one lookup —
        // while nobody without the key can test a guess against it.
        let nonceBytes = Data(HMAC<SHA256>.authenticationCode(for: Data(plaintext.utf8), using: key)).prefix(12)
        do {
            let box = try AES.GCM.seal(Data(plaintext.utf8), using: key, nonce: AES.GCM.Nonce(data: nonceBytes))
            let sealed = Self.sealedPrefix + keyId + ":" + Self.base64URL(box.combined!)
            cache.withLock { cache in
                if cache.sealed.count >= Self.valueCacheLimit { cache.sealed.removeAll(keepingCapacity: true) }
                cache.sealed[wanted] = sealed
            }
            return sealed
        } catch {
            throw .storage("sealing a personal value failed: \(error)")
        }
    }

    /// What a stored value shows as: the plaintext of a sealed value whose key exists, ``erasedText``
    /// when its key was destroyed, and any other text as it is.
    public func open(_ stored: String) -> String {
        guard Self.isSealed(stored) else { return stored }
        if let plain = cache.withLock({ $0.opened[stored] }) { return plain }
        guard let (keyId, box) = Self.parse(stored) else { return stored }
        let text: String
        switch unseal(keyId: keyId, box: box) {
        case .value(_, let plaintext, _): text = plaintext
        case .erased: return Self.erasedText
        case .unreadable: return Self.unreadableText
        }
        cache.withLock { cache in
            if cache.opened.count >= Self.valueCacheLimit { cache.opened.removeAll(keepingCapacity: true) }
            cache.opened[stored] = text
        }
        return text
    }

    /// What a sealed value holds, as ``unseal(_:)`` finds it.
    enum Unsealed {
        case value(kind: PersonalDataKind, plaintext: String, subject: Data)
        /// Its key was destroyed (or it does not parse): it reads ``KeyStore/erasedText`` for good.
        case erased
        /// The key file could not be read: it reads ``KeyStore/unreadableText`` until it can.
        case unreadable
    }

    /// What the sealed value `sealed` (its UTF-8 text) holds: one parse, one key look-up and one
    /// decryption, nothing cached.
    func unseal(_ sealed: UnsafeBufferPointer<UInt8>) -> Unsealed {
        guard sealed.starts(with: Self.sealedPrefixBytes) else { return .erased }
        let rest = sealed[Self.sealedPrefixBytes.count...]
        guard let colon = rest.firstIndex(of: UInt8(ascii: ":")),
              let box = Self.base64URLDecode(rest[(colon + 1)...])
        else { return .erased }
        return unseal(keyId: String(decoding: rest[..<colon], as: UTF8.self), box: box)
    }

    private func unseal(keyId: String, box: Data) -> Unsealed {
        let found: (key: SymmetricKey, subject: Data, kind: PersonalDataKind)?
        do {
            found = try lookUpKey(id: keyId)
        } catch {
            return .unreadable
        }
        guard let (key, subject, kind) = found,
              let sealed = try? AES.GCM.SealedBox(combined: box),
              let plain = try? AES.GCM.open(sealed, using: key),
              let text = String(data: plain, encoding: .utf8)
        else { return .erased }
        return .value(kind: kind, plaintext: text, subject: subject)
    }

    /// How many values each of the sealing and opening caches keeps before it starts over.
    static let valueCacheLimit = 100_000

    /// A stable stand-in for a stored value: the same value of the same subject always gives the same
    /// pseudonym, whatever its year or field (so joins and counts still work), and nobody without the
    /// subject's pseudonym key can tell whose it is. A destroyed value gives ``erasedText``.
    public func pseudonym(_ stored: String) -> String {
        guard let (keyId, box) = Self.parse(stored) else {
            return "p-" + Hex.encode(HMAC<SHA256>.authenticationCode(for: Data(("plain\u{0}" + stored).utf8), using: subjectSecret).prefix(6))
        }
        switch unseal(keyId: keyId, box: box) {
        case .value(_, let plain, let subject): return pseudonym(of: plain, subjectHash: subject)
        case .erased: return Self.erasedText
        case .unreadable: return Self.unreadableText
        }
    }

    /// The pseudonym of `plaintext`, a value of the subject with `subjectHash`: ``erasedText`` once
    /// the subject's pseudonym key is gone.
    func pseudonym(of plaintext: String, subjectHash: Data) -> String {
        pseudonymKey(subjectHash: subjectHash).map { Self.pseudonym(plaintext, key: $0) } ?? Self.erasedText
    }

    /// The pseudonym analysts see for `plaintext` of `subject`, or nil when the subject has no key
    /// (nothing of it was sealed, or it was erased): lets an authorised reader find a person's rows.
    public func pseudonym(of plaintext: String, subject: DataSubject) -> String? {
        pseudonymKey(subjectHash: subjectHash(subject)).map { Self.pseudonym(plaintext, key: $0) }
    }

    private static func pseudonym(_ plaintext: String, key: SymmetricKey) -> String {
        "p-" + Hex.encode(HMAC<SHA256>.authenticationCode(for: Data(("pseudonym\u{0}" + plaintext).utf8), using: key).prefix(6))
    }

    /// A reference to `subject` that names nobody: the first 16 hexadecimal digits of its keyed hash,
    /// which only this key file can recompute from a name.
    public func reference(of subject: DataSubject) -> String {
        Hex.encode(subjectHash(subject).prefix(8))
    }

    /// The pseudonyms of the sealed values of `subject` found in `documents` (JSON texts): what tables
    /// built from them may hold of the subject.
    public func pseudonyms(of subject: DataSubject, in documents: [String]) -> Set<String> {
        let hash = subjectHash(subject)
        var found: Set<String> = []
        for document in documents where document.contains(Self.sealedPrefix) {
            for match in document.matches(of: /sealed:v1:[0-9a-f]{32}:[A-Za-z0-9_-]+/) {
                let stored = String(match.output)
                guard let (keyId, _) = Self.parse(stored), key(id: keyId)?.subject == hash else { continue }
                found.insert(pseudonym(stored))
            }
        }
        return found
    }

    /// The years of `subject`'s data keys, oldest first, each once.
    public func keyYears(of subject: DataSubject) throws(JournalError) -> [Int] {
        let hash = subjectHash(subject)
        do {
            return try queue.read { db in try Int.fetchAll(db, sql: "SELECT DISTINCT year FROM data_key WHERE subjectHash = ? ORDER BY year", arguments: [hash]) }
        } catch {
            throw .storage("cannot read the key file: \(error)")
        }
    }

    /// The ids of `subject`'s data keys, as its sealed values name them.
    public func keyIds(of subject: DataSubject) throws(JournalError) -> [String] {
        let hash = subjectHash(subject)
        do {
            return try queue.read { db in try String.fetchAll(db, sql: "SELECT keyId FROM data_key WHERE subjectHash = ? ORDER BY year", arguments: [hash]) }
        } catch {
            throw .storage("cannot read the key file: \(error)")
        }
    }

    /// Whether `stored` is a sealed value.
    public static func isSealed(_ stored: String) -> Bool {
        stored.utf8.withContiguousStorageIfAvailable { $0.starts(with: sealedPrefixBytes) } ?? stored.utf8.starts(with: sealedPrefixBytes)
    }

    private static let sealedPrefixBytes = Array(sealedPrefix.utf8)

    // MARK: Signing

    /// The journal's Ed25519 key for statements it signs (a protected copy's link to the journal it
    /// copies), made on first use; its public half is in every statement.
    public func signingKey() throws(JournalError) -> Curve25519.Signing.PrivateKey {
        try requireFile("signing")
        do {
            let raw = try queue.write { db -> Data in
                if let raw = try Data.fetchOne(db, sql: "SELECT privateKey FROM signing_key") { return raw }
                if isCopy { throw JournalError.storage("the shared keys came without a signing key") }
                let raw = Curve25519.Signing.PrivateKey().rawRepresentation
                try db.execute(sql: "INSERT INTO signing_key (id, privateKey) VALUES (1, ?)", arguments: [raw])
                return raw
            }
            return try Curve25519.Signing.PrivateKey(rawRepresentation: raw)
        } catch {
            throw .storage("cannot read or make the journal's signing key: \(error)")
        }
    }

    /// The raw public half (32 bytes) of the journal's signing key, made on first use.
    public func signingPublicKey() throws(JournalError) -> [UInt8] {
        Array(try signingKey().publicKey.rawRepresentation)
    }

    /// Whether the journal has its signing key yet.
    public func hasSigningKey() throws(JournalError) -> Bool {
        do {
            return try queue.read { db in try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM signing_key)") ?? false }
        } catch {
            throw .storage("cannot read the key file: \(error)")
        }
    }

    // MARK: Destroying keys

    /// What destroying keys did.
    public struct Destruction: Sendable, Equatable {
        /// How many data keys were destroyed (0: the subject had none — nothing of it was sealed, or it was erased before).
        public var keys: Int
        /// The years whose keys were destroyed, oldest first.
        public var years: [Int]
        /// False when another process was reading the key file, so that the old pages of the destroyed keys
        /// stay in its write-ahead log until the last process using the file closes it.
        public var logEmptied = true

        public init(keys: Int, years: [Int], logEmptied: Bool = true) {
            self.keys = keys
            self.years = years
            self.logEmptied = logEmptied
        }
    }

    /// Destroys every key of `subject`, its pseudonym key with them: its sealed values read
    /// ``erasedText`` from then on, in this process and (at their next ``refresh()``) in every other.
    /// The keys' bytes are overwritten in the file (`secure_delete`) before this returns.
    @discardableResult
    public func erase(_ subject: DataSubject) throws(JournalError) -> Destruction {
        try requireFile("erasing")
        try requireOwnKeys("erasing")
        let hash = subjectHash(subject)
        do {
            let now = clock.now().microseconds
            let destruction = try destroy(cause: "erasure") { db in
                let rows = try Row.fetchAll(db, sql: "SELECT keyId, year FROM data_key WHERE subjectHash = ?", arguments: [hash])
                try db.execute(sql: "DELETE FROM data_key WHERE subjectHash = ?", arguments: [hash])
                try db.execute(sql: "DELETE FROM subject WHERE subjectHash = ?", arguments: [hash])
                // Kept so that a copy of these keys erases the subject too.
                try db.execute(
                    sql: "INSERT INTO erased_subject (subjectHash, erasedAtUs) VALUES (?, ?) ON CONFLICT DO UPDATE SET erasedAtUs = excluded.erasedAtUs",
                    arguments: [hash, now])
                return rows.map { ($0["keyId"], $0["year"]) }
            }
            cache.withLock { $0.pseudonymKeys[hash] = nil }
            return destruction
        } catch {
            throw .storage("cannot erase the keys of \(subject): \(error)")
        }
    }

    /// Destroys the keys of values of `kind` that occurred in a year before `year` (retention): the
    /// subjects keep their pseudonym keys and their keys of later years.
    @discardableResult
    public func expire(_ kind: PersonalDataKind, before year: Int) throws(JournalError) -> Destruction {
        try requireFile("applying retention")
        try requireOwnKeys("applying retention")
        do {
            return try destroy(cause: "retention") { db in
                let rows = try Row.fetchAll(db, sql: "SELECT keyId, year FROM data_key WHERE kind = ? AND year < ?", arguments: [kind.rawValue, year])
                try db.execute(sql: "DELETE FROM data_key WHERE kind = ? AND year < ?", arguments: [kind.rawValue, year])
                return rows.map { ($0["keyId"], $0["year"]) }
            }
        } catch {
            throw .storage("cannot destroy the \(kind.rawValue) keys before \(year): \(error)")
        }
    }

    private func destroy(cause: String, _ delete: (Database) throws -> [(String, Int)]) throws -> Destruction {
        let now = clock.now().microseconds
        let destroyed: [(String, Int)] = try queue.write { db in
            let destroyed = try delete(db)
            let insert = try db.cachedStatement(sql: "INSERT OR IGNORE INTO destroyed_key (keyId, destroyedAtUs, cause) VALUES (?, ?, ?)")
            for (keyId, _) in destroyed { try insert.execute(arguments: [keyId, now, cause]) }
            return destroyed
        }
        // The keys are gone: forgotten here at once, whatever happens to the log below.
        forget(keyIds: Set(destroyed.map(\.0)), subjects: [])
        var destruction = Destruction(keys: destroyed.count, years: Array(Set(destroyed.map(\.1))).sorted())
        destruction.logEmptied = try emptyLog()
        return destruction
    }

    /// Forgets destroyed keys and erased subjects' pseudonym keys held in memory, and every value
    /// sealed or opened with any key.
    func forget(keyIds ids: Set<String>, subjects: Set<Data>) {
        cache.withLock { cache in
            cache.byScope = cache.byScope.filter { !ids.contains($0.value.id) }
            for id in ids { cache.byId[id] = nil }
            for subject in subjects { cache.pseudonymKeys[subject] = nil }
            cache.destructions += 1
            cache.sealed.removeAll()
            cache.opened.removeAll()
        }
        disclosed.withLock { $0.removeAll() }
    }

    /// Copies the write-ahead log into the file and truncates it to nothing, so that no old page
    /// holding a destroyed key outlives the destruction. Waits (up to the busy timeout) for readers in
    /// other processes to let go; returns false when one still held on.
    func emptyLog() throws -> Bool {
        guard !queue.path.isEmpty, queue.path != ":memory:" else { return true }
        let busy = try queue.writeWithoutTransaction { db -> Int in
            try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)")![0]
        }
        return busy == 0
    }

    /// Forgets cached keys when another process changed the file (an erasure), so that a long-running
    /// reader stops revealing what was erased. Cheap: one `PRAGMA data_version`.
    public func refresh() {
        guard let version = try? queue.read({ db in try Int.fetchOne(db, sql: "PRAGMA data_version") ?? 0 }) else { return }
        let changed = cache.withLock { cache in
            guard cache.dataVersion != version else { return false }
            let destructions = cache.destructions
            cache = Cache()
            cache.dataVersion = version
            cache.destructions = destructions + 1
            return true
        }
        // Not under the cache's lock: disclosing takes this lock first, then the cache's.
        if changed { disclosed.withLock { $0.removeAll() } }
    }

    /// How many subjects and data keys the file holds, and how many keys were destroyed.
    public func counts() throws(JournalError) -> (subjects: Int, keys: Int, destroyed: Int) {
        do {
            return try queue.read { db in
                (try Int.fetchOne(db, sql: "SELECT count(*) FROM subject") ?? 0,
                 try Int.fetchOne(db, sql: "SELECT count(*) FROM data_key") ?? 0,
                 try Int.fetchOne(db, sql: "SELECT count(*) FROM destroyed_key") ?? 0)
            }
        } catch {
            throw .storage("cannot read the key file: \(error)")
        }
    }

    // MARK: Keys

    func subjectHash(_ subject: DataSubject) -> Data {
        if let hash = cache.withLock({ $0.subjectHashes[subject] }) { return hash }
        let hash = Data(HMAC<SHA256>.authenticationCode(for: Data(subject.description.utf8), using: subjectSecret))
        cache.withLock { $0.subjectHashes[subject] = hash }
        return hash
    }

    func scopeKey(_ scope: DataKeyScope) -> ScopeKey {
        ScopeKey(subject: subjectHash(scope.subject), kind: scope.kind, year: scope.year)
    }

    /// The scope's key, made (and stored durably) on first use.
    private func key(for scope: DataKeyScope) throws(JournalError) -> (String, SymmetricKey) {
        let wanted = scopeKey(scope)
        if let found = cache.withLock({ $0.byScope[wanted] }) { return found }
        try makeKeys(for: [scope])
        guard let found = cache.withLock({ $0.byScope[wanted] }) else { throw .storage("the key of a data subject was not stored") }
        return found
    }

    /// Makes the keys of the scopes that have none, in one transaction (one sync of the file), so
    /// that sealing a large batch does not wait for the disk once per new subject.
    public func makeKeys(for scopes: Set<DataKeyScope>) throws(JournalError) {
        // Another process may have destroyed keys since: never seal under a key that is gone.
        refresh()
        let missing = Set(scopes.map(scopeKey)).filter { wanted in cache.withLock { $0.byScope[wanted] == nil } }
        guard !missing.isEmpty else { return }
        if isCopy {
            throw .storage("\(missing.count) new data key(s) are not in the shared keys yet: they are made there first (proposeKeys, adopt)")
        }
        let now = clock.now().microseconds
        do {
            let found: [(ScopeKey, String, SymmetricKey)] = try queue.write { db in
                var found: [(ScopeKey, String, SymmetricKey)] = []
                let select = try db.cachedStatement(sql: "SELECT keyId, key FROM data_key WHERE subjectHash = ? AND kind = ? AND year = ?")
                let insertSubject = try db.cachedStatement(
                    sql: "INSERT INTO subject (subjectHash, pseudonymKey, createdAtUs) VALUES (?, ?, ?) ON CONFLICT DO NOTHING")
                let insertKey = try db.cachedStatement(
                    sql: "INSERT INTO data_key (keyId, subjectHash, kind, year, key, createdAtUs) VALUES (?, ?, ?, ?, ?, ?)")
                for wanted in missing {
                    let arguments: StatementArguments = [wanted.subject, wanted.kind.rawValue, wanted.year]
                    if let row = try Row.fetchOne(select, arguments: arguments) {
                        found.append((wanted, row["keyId"], SymmetricKey(data: row["key"] as Data)))
                        continue
                    }
                    try insertSubject.execute(arguments: [wanted.subject, SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }, now])
                    let key = SymmetricKey(size: .bits256)
                    let keyId = Hex.encode(SymmetricKey(size: .bits128).withUnsafeBytes { Data($0) })
                    try insertKey.execute(arguments: [keyId, wanted.subject, wanted.kind.rawValue, wanted.year, key.withUnsafeBytes { Data($0) }, now])
                    found.append((wanted, keyId, key))
                }
                return found
            }
            cache.withLock { cache in
                for (wanted, keyId, key) in found {
                    cache.byScope[wanted] = (keyId, key)
                    cache.byId[keyId] = (key, wanted.subject, wanted.kind)
                }
            }
        } catch {
            throw .storage("cannot store the keys of new data subjects: \(error)")
        }
    }

    private func key(id: String) -> (key: SymmetricKey, subject: Data, kind: PersonalDataKind)? {
        try? lookUpKey(id: id)
    }

    /// The most keys ``loadAllKeys()`` holds in memory (about 150 bytes each); a file with more is read key by key.
    static let loadAllLimit = 500_000

    /// Loads every data key in one read, for a reader about to disclose the whole log (an export, a
    /// full read): each value then costs no look-up of its key. Does nothing when the keys were loaded
    /// since the cache was last emptied, when the file holds more than ``loadAllLimit`` keys, or when
    /// it cannot be read (keys are then looked up one by one, as a reader of one customer does).
    public func loadAllKeys() {
        let (loaded, destructions) = cache.withLock { ($0.allKeysLoaded, $0.destructions) }
        guard !loaded, missingFile == nil else { return }
        let keys = try? queue.read { db -> [(String, (key: SymmetricKey, subject: Data, kind: PersonalDataKind))]? in
            guard try Int.fetchOne(db, sql: "SELECT count(*) FROM data_key") ?? 0 <= Self.loadAllLimit else { return nil }
            var keys: [(String, (key: SymmetricKey, subject: Data, kind: PersonalDataKind))] = []
            let rows = try Row.fetchCursor(db, sql: "SELECT keyId, key, subjectHash, kind FROM data_key")
            while let row = try rows.next() {
                keys.append((row["keyId"], (SymmetricKey(data: row["key"] as Data), row["subjectHash"] as Data, PersonalDataKind(rawValue: row["kind"]) ?? .text)))
            }
            return keys
        }
        guard let keys = keys ?? nil else { return }
        cache.withLock { cache in
            // A destruction meanwhile may have removed some of these keys: keep none of them.
            guard cache.destructions == destructions else { return }
            for (id, key) in keys { cache.byId[id] = key }
            cache.allKeysLoaded = true
        }
    }

    /// The key `id`, or nil when it was destroyed (or never made); throws when the key file cannot be read.
    private func lookUpKey(id: String) throws -> (key: SymmetricKey, subject: Data, kind: PersonalDataKind)? {
        let (cached, missing) = cache.withLock { ($0.byId[id], $0.missingIds.contains(id)) }
        if let cached { return cached }
        if missing { return nil }
        // One statement, no transaction around it: a full read looks up thousands of keys. Only a key
        // found missing is remembered so; a file that could not be read is asked again next time.
        let read = try queue.inDatabase { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT key, subjectHash, kind FROM data_key WHERE keyId = ?"), arguments: [id])
        }
        guard let row = read else {
            cache.withLock { _ = $0.missingIds.insert(id) }
            return nil
        }
        let found = (key: SymmetricKey(data: row["key"] as Data), subject: row["subjectHash"] as Data,
                     kind: PersonalDataKind(rawValue: row["kind"]) ?? .text)
        cache.withLock { $0.byId[id] = found }
        return found
    }

    func pseudonymKey(subjectHash: Data) -> SymmetricKey? {
        if let key = cache.withLock({ $0.pseudonymKeys[subjectHash] }) { return key }
        guard let data = try? queue.inDatabase({ db in
            try Data.fetchOne(db.cachedStatement(sql: "SELECT pseudonymKey FROM subject WHERE subjectHash = ?"), arguments: [subjectHash])
        }) else { return nil }
        let key = SymmetricKey(data: data)
        cache.withLock { $0.pseudonymKeys[subjectHash] = key }
        return key
    }

    // MARK: Text

    static func parse(_ stored: String) -> (keyId: String, box: Data)? {
        guard isSealed(stored) else { return nil }
        let rest = stored.utf8.dropFirst(sealedPrefix.utf8.count)
        guard let colon = rest.firstIndex(of: UInt8(ascii: ":")),
              let keyId = String(rest[..<colon]),
              let box = base64URLDecode(rest[rest.index(after: colon)...])
        else { return nil }
        return (keyId, box)
    }

    private static let base64URLAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    private static let base64URLValues: [UInt8] = {
        var values = [UInt8](repeating: 0xFF, count: 256)
        for (index, character) in base64URLAlphabet.enumerated() { values[Int(character)] = UInt8(index) }
        return values
    }()

    /// Base64url without padding (RFC 4648 §5).
    static func base64URL<Bytes: Collection>(_ data: Bytes) -> String where Bytes.Element == UInt8 {
        let bytes = Array(data)
        let alphabet = base64URLAlphabet
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count * 4 + 2) / 3)
        var index = 0
        while index + 3 <= bytes.count {
            let value = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            output.append(alphabet[Int(value >> 18 & 63)])
            output.append(alphabet[Int(value >> 12 & 63)])
            output.append(alphabet[Int(value >> 6 & 63)])
            output.append(alphabet[Int(value & 63)])
            index += 3
        }
        let rest = bytes.count - index
        if rest > 0 {
            let value = UInt32(bytes[index]) << 16 | (rest == 2 ? UInt32(bytes[index + 1]) << 8 : 0)
            output.append(alphabet[Int(value >> 18 & 63)])
            output.append(alphabet[Int(value >> 12 & 63)])
            if rest == 2 { output.append(alphabet[Int(value >> 6 & 63)]) }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// The bytes of base64url text without padding, or nil when it is not such text.
    static func base64URLDecode<Text: Collection>(_ text: Text) -> Data? where Text.Element == UInt8 {
        let values = base64URLValues
        var output: [UInt8] = []
        output.reserveCapacity(text.count * 3 / 4)
        var accumulator: UInt32 = 0, bits = 0
        for character in text {
            let value = values[Int(character)]
            guard value != 0xFF else { return nil }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        return bits < 6 ? Data(output) : nil
    }
}
