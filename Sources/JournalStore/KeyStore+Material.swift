import Crypto
import Foundation
import GRDB
import Journal
import Synchronization

/// The keys as rows (``KeyMaterial``): read out whole for a copy of the journal, proposed for new
/// scopes, and taken in from another store of the same keys.
extension KeyStore: KeyMaterialStore {
    /// Makes the key file at `path` (which must not exist) holding `material`, secrets included: the
    /// keys of a journal copied out of another store.
    public static func create(at path: String, from material: KeyMaterial, clock: JournalClock = .live) throws(JournalError) -> KeyStore {
        guard let secret = material.storeSecret, secret.count == 32 else { throw .storage("the keys to copy came without their 32-byte secret") }
        guard !FileManager.default.fileExists(atPath: path) else { throw .storage("the key file \(path) exists already") }
        let keys = try KeyStore(path: path, clock: clock, secret: secret, isCopy: false)
        try keys.adopt(material)
        return keys
    }

    public func keyMaterial() async throws(JournalError) -> KeyMaterial {
        try material()
    }

    public func takeIn(_ material: KeyMaterial) async throws(JournalError) {
        try adopt(material)
    }

    /// The keyed hash that stands for `subject` in every row of these keys.
    public func subjectHash(of subject: DataSubject) -> [UInt8] {
        Array(subjectHash(subject))
    }

    /// Every row, with the secrets: what a verbatim copy of the journal takes along.
    public func material() throws(JournalError) -> KeyMaterial {
        do {
            return try queue.read { db in
                var material = KeyMaterial(
                    storeSecret: try Data.fetchOne(db, sql: "SELECT secret FROM store_secret").map(Array.init),
                    signingKey: try Data.fetchOne(db, sql: "SELECT privateKey FROM signing_key").map(Array.init))
                for row in try Row.fetchAll(db, sql: "SELECT subjectHash, pseudonymKey, createdAtUs FROM subject ORDER BY createdAtUs, subjectHash") {
                    material.subjects.append(KeyMaterial.SubjectKey(
                        subjectHash: Array(row["subjectHash"] as Data), pseudonymKey: Array(row["pseudonymKey"] as Data), createdAtUs: row["createdAtUs"]))
                }
                let keys = try Row.fetchCursor(db, sql: "SELECT keyId, subjectHash, kind, year, key, createdAtUs FROM data_key ORDER BY createdAtUs, keyId")
                while let row = try keys.next() {
                    material.dataKeys.append(KeyMaterial.DataKey(
                        keyId: row["keyId"], subjectHash: Array(row["subjectHash"] as Data), kind: PersonalDataKind(rawValue: row["kind"]) ?? .text,
                        year: row["year"], key: Array(row["key"] as Data), createdAtUs: row["createdAtUs"]))
                }
                for row in try Row.fetchAll(db, sql: "SELECT subjectHash, erasedAtUs FROM erased_subject ORDER BY erasedAtUs, subjectHash") {
                    material.erasedSubjects.append(KeyMaterial.ErasedSubject(subjectHash: Array(row["subjectHash"] as Data), erasedAtUs: row["erasedAtUs"]))
                }
                for row in try Row.fetchAll(db, sql: "SELECT keyId, destroyedAtUs, cause FROM destroyed_key ORDER BY destroyedAtUs, keyId") {
                    material.destroyed.append(KeyMaterial.DestroyedKey(
                        keyId: row["keyId"], destroyedAtUs: row["destroyedAtUs"], cause: KeyMaterial.Cause(rawValue: row["cause"]) ?? .erasure))
                }
                return material
            }
        } catch {
            throw .storage("cannot read the key file: \(error)")
        }
    }

    /// New keys for the scopes that have none here, and a new pseudonym key for each of their
    /// subjects: what a node asks the shared keys to store. They store what they lack — a pseudonym
    /// key only for a subject they do not know (a new one, or one erased meanwhile) — and answer the
    /// keys they hold for those subjects, the proposal's or another node's made first, for ``adopt(_:)``.
    public func proposeKeys(for scopes: Set<DataKeyScope>) -> KeyMaterial {
        let now = clock.now().microseconds
        var proposal = KeyMaterial()
        var subjects: Set<Data> = []
        for scope in scopes {
            let wanted = scopeKey(scope)
            guard cache.withLock({ $0.byScope[wanted] == nil }) else { continue }
            if subjects.insert(wanted.subject).inserted {
                proposal.subjects.append(KeyMaterial.SubjectKey(
                    subjectHash: Array(wanted.subject), pseudonymKey: KeyMaterial.randomBytes(32), createdAtUs: now))
            }
            proposal.dataKeys.append(KeyMaterial.DataKey(
                keyId: Hex.encode(KeyMaterial.randomBytes(16)), subjectHash: Array(wanted.subject), kind: wanted.kind, year: wanted.year,
                key: KeyMaterial.randomBytes(32), createdAtUs: now))
        }
        return proposal
    }

    /// Takes in rows of these same keys kept elsewhere: first the destructions — each key and erased
    /// subject is forgotten here at once, and a key destroyed here is never taken in again — then the
    /// subjects and keys this store lacks.
    ///
    /// - Throws: ``JournalError/storage(_:)`` when the rows are another journal's keys: another secret
    ///   or signing key, another pseudonym key for a subject, or another key for a scope.
    public func adopt(_ material: KeyMaterial) throws(JournalError) {
        var destroyedIds = Set(material.destroyed.map(\.keyId))
        var erased: Set<Data> = []
        var adopted: [(ScopeKey, String, SymmetricKey)] = []
        do {
            try queue.write { db in
                if let secret = material.storeSecret, try Data.fetchOne(db, sql: "SELECT secret FROM store_secret") != Data(secret) {
                    throw KeyConflict("another secret for subject names")
                }
                if let signing = material.signingKey {
                    if let mine = try Data.fetchOne(db, sql: "SELECT privateKey FROM signing_key") {
                        guard mine == Data(signing) else { throw KeyConflict("another signing key") }
                    } else {
                        try db.execute(sql: "INSERT INTO signing_key (id, privateKey) VALUES (1, ?)", arguments: [Data(signing)])
                    }
                }
                let destroy = try db.cachedStatement(sql: "DELETE FROM data_key WHERE keyId = ?")
                let tombstone = try db.cachedStatement(sql: "INSERT OR IGNORE INTO destroyed_key (keyId, destroyedAtUs, cause) VALUES (?, ?, ?)")
                for key in material.destroyed {
                    try destroy.execute(arguments: [key.keyId])
                    try tombstone.execute(arguments: [key.keyId, key.destroyedAtUs, key.cause.rawValue])
                }
                /// Destroys the subject's keys and pseudonym key made up to `instant`.
                func erase(_ hash: Data, through instant: Int64) throws {
                    let keyIds = try String.fetchAll(
                        db, sql: "SELECT keyId FROM data_key WHERE subjectHash = ? AND createdAtUs <= ?", arguments: [hash, instant])
                    for keyId in keyIds {
                        try destroy.execute(arguments: [keyId])
                        try tombstone.execute(arguments: [keyId, instant, KeyMaterial.Cause.erasure.rawValue])
                    }
                    destroyedIds.formUnion(keyIds)
                    try db.execute(sql: "DELETE FROM subject WHERE subjectHash = ? AND createdAtUs <= ?", arguments: [hash, instant])
                    erased.insert(hash)
                }
                // An erasure takes what the subject had when it was erased, once.
                for subject in material.erasedSubjects {
                    let hash = Data(subject.subjectHash)
                    let known = try Int64.fetchOne(db, sql: "SELECT erasedAtUs FROM erased_subject WHERE subjectHash = ?", arguments: [hash])
                    guard known.map({ $0 < subject.erasedAtUs }) ?? true else { continue }
                    try erase(hash, through: subject.erasedAtUs)
                    try db.execute(
                        sql: "INSERT INTO erased_subject (subjectHash, erasedAtUs) VALUES (?, ?) ON CONFLICT DO UPDATE SET erasedAtUs = excluded.erasedAtUs",
                        arguments: [hash, subject.erasedAtUs])
                }
                let insertSubject = try db.cachedStatement(
                    sql: "INSERT INTO subject (subjectHash, pseudonymKey, createdAtUs) VALUES (?, ?, ?) ON CONFLICT DO NOTHING")
                let subjectKey = try db.cachedStatement(sql: "SELECT pseudonymKey, createdAtUs FROM subject WHERE subjectHash = ?")
                // Rows made before their subject's erasure come from a copy that had not seen it.
                let erasedAt = try db.cachedStatement(sql: "SELECT erasedAtUs FROM erased_subject WHERE subjectHash = ?")
                func madeBeforeErasure(_ subject: Data, _ created: Int64) throws -> Bool {
                    try Int64.fetchOne(erasedAt, arguments: [subject]).map { created <= $0 } ?? false
                }
                for subject in material.subjects {
                    let hash = Data(subject.subjectHash)
                    guard try !madeBeforeErasure(hash, subject.createdAtUs) else { continue }
                    if let mine = try Row.fetchOne(subjectKey, arguments: [hash]), mine["pseudonymKey"] as Data != Data(subject.pseudonymKey) {
                        // A subject made again after ours: ours was erased where the keys are kept, and
                        // the erasure is on its way. Until it comes, its keys are gone here too.
                        guard (mine["createdAtUs"] as Int64) < subject.createdAtUs else {
                            throw KeyConflict("another pseudonym key for subject \(Hex.encode(subject.subjectHash.prefix(8)))")
                        }
                        try erase(hash, through: subject.createdAtUs - 1)
                    }
                    try insertSubject.execute(arguments: [hash, Data(subject.pseudonymKey), subject.createdAtUs])
                }
                let isDestroyed = try db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM destroyed_key WHERE keyId = ?)")
                let insertKey = try db.cachedStatement(
                    sql: "INSERT INTO data_key (keyId, subjectHash, kind, year, key, createdAtUs) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")
                let scopeKeyId = try db.cachedStatement(sql: "SELECT keyId, key FROM data_key WHERE subjectHash = ? AND kind = ? AND year = ?")
                for key in material.dataKeys {
                    guard try Bool.fetchOne(isDestroyed, arguments: [key.keyId]) == false, try !madeBeforeErasure(Data(key.subjectHash), key.createdAtUs)
                    else { continue }
                    try insertKey.execute(arguments: [key.keyId, Data(key.subjectHash), key.kind.rawValue, key.year, Data(key.key), key.createdAtUs])
                    let stored = try Row.fetchOne(scopeKeyId, arguments: [Data(key.subjectHash), key.kind.rawValue, key.year])
                    guard let stored, stored["keyId"] as String == key.keyId, stored["key"] as Data == Data(key.key) else {
                        throw KeyConflict("another \(key.kind.rawValue) key of \(key.year) for subject \(Hex.encode(key.subjectHash.prefix(8)))")
                    }
                    adopted.append((ScopeKey(subject: Data(key.subjectHash), kind: key.kind, year: key.year), key.keyId, SymmetricKey(data: key.key)))
                }
            }
        } catch let conflict as KeyConflict {
            throw .storage("the keys handed in are another journal's: \(conflict.what) than these keys have")
        } catch {
            throw .storage("cannot take in keys: \(error)")
        }
        if !destroyedIds.isEmpty || !erased.isEmpty {
            forget(keyIds: destroyedIds, subjects: erased)
            _ = try? emptyLog()
        }
        guard !adopted.isEmpty else { return }
        let wereMissing = cache.withLock { cache in
            var wereMissing = false
            for (scope, keyId, key) in adopted {
                cache.byScope[scope] = (keyId, key)
                cache.byId[keyId] = (key, scope.subject, scope.kind)
                wereMissing = cache.missingIds.remove(keyId) != nil || wereMissing
            }
            return wereMissing
        }
        // A value read before its key came in was disclosed as erased: not any more.
        if wereMissing { disclosed.withLock { $0.removeAll() } }
    }

    /// Whether every key that sealed a value in `events` is here, or was destroyed here: a copy of
    /// shared keys asks before it takes in events, and fetches the keys made since only when not.
    public func holdsKeys(of events: [RecordedEvent]) -> Bool {
        for event in events {
            for text in [event.payload, event.actor ?? ""] where text.contains(Self.sealedPrefix) {
                for match in text.matches(of: /sealed:v1:([0-9a-f]{32}):/) where !holdsKey(String(match.output.1)) {
                    return false
                }
            }
        }
        return true
    }

    /// Whether the key `id` is here or was destroyed here.
    private func holdsKey(_ id: String) -> Bool {
        if cache.withLock({ $0.byId[id] != nil }) { return true }
        let found = try? queue.read { db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM data_key WHERE keyId = ?) OR EXISTS (SELECT 1 FROM destroyed_key WHERE keyId = ?)",
                              arguments: [id, id])
        }
        return found == true
    }

    private struct KeyConflict: Error {
        let what: String
        init(_ what: String) { self.what = what }
    }
}
