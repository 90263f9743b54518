import Foundation
import Journal
import NIOCore
import PostgresNIO

/// The journal's keys in the database that holds its log (``PostgresSchema/v5``): the rows of a key
/// file (``KeyMaterial``), shared by every node, so that each seals and opens personal values with
/// the same keys and an erasure destroys them once for all.
///
/// A node keeps a copy in memory (`KeyStore(copying:)`). It proposes the keys of new subjects here
/// (``store(_:)``), which keeps the first made for each scope and answers it, and takes in what
/// changed (``changes(after:)``) before it reads events that may be sealed with keys new to it.
///
/// ```swift
/// let keys = PostgresKeys(journal: journal)
/// let (material, through) = try await keys.changes(after: 0)
/// ```
public struct PostgresKeys: KeyMaterialStore {
    let journal: PostgresJournal

    public init(journal: PostgresJournal) { self.journal = journal }

    /// The advisory lock every change of the keys holds until it commits: changes commit in the
    /// order of their `key_change` numbers.
    static let changeLock: Int64 = 7_262_854

    /// Keys per `INSERT` statement.
    static let rowsPerStatement = 5_000

    /// Stores what the database lacks of a node's `proposal` (`KeyStore.proposeKeys(for:)`) — its
    /// subjects, and its keys whose scope has none — and answers the secrets and the database's rows
    /// for the proposal's subjects: the proposal's own, or those another node stored first. A subject
    /// erased here is made again, later than its erasure whatever the proposer's clock says.
    public func store(_ proposal: KeyMaterial) async throws(JournalError) -> KeyMaterial {
        try await write(proposal, proposed: true)
    }

    /// Stores what the database lacks of `material`: its secrets when it has none yet, its
    /// destructions, its subjects and its keys whose scope has none; answers the secrets, and for a
    /// proposal the rows held for its subjects. Rows made before an erasure (`proposed`: false) are
    /// not taken in: they come from a copy that had not seen it.
    ///
    /// - Throws: ``JournalError/storage(_:)`` when the database holds another journal's keys (other secrets).
    private func write(_ material: KeyMaterial, proposed: Bool) async throws(JournalError) -> KeyMaterial {
        try await journal.transaction { connection in
            let logger = journal.logger
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.changeLock))", logger: logger)
            if let secret = material.storeSecret {
                let signing = material.signingKey ?? KeyMaterial.randomBytes(32)
                try await connection.query(
                    """
                    INSERT INTO key_secret (id, store_secret, signing_key) VALUES (1, \(ByteBuffer(bytes: secret)), \(ByteBuffer(bytes: signing)))
                    ON CONFLICT DO NOTHING
                    """, logger: logger)
            }
            var stored = try await Self.secrets(on: connection, logger: logger)
            if let secret = material.storeSecret, stored.storeSecret != secret {
                throw JournalError.storage("the database holds another journal's keys (another secret for subject names): copy into a database of its own")
            }
            if let signing = material.signingKey, stored.signingKey != signing {
                throw JournalError.storage("the database holds another journal's keys (another signing key): copy into a database of its own")
            }
            for chunk in material.destroyed.chunks(of: Self.rowsPerStatement) {
                var bindings = PostgresBindings(capacity: 3)
                bindings.append(PostgresArray(chunk.map(\.keyId)))
                bindings.append(PostgresArray(chunk.map(\.destroyedAtUs)))
                bindings.append(PostgresArray(chunk.map(\.cause.rawValue)))
                try await connection.query(PostgresQuery(unsafeSQL: """
                    WITH gone AS (DELETE FROM data_key WHERE key_id = ANY($1) RETURNING key_id)
                    INSERT INTO destroyed_key (key_id, destroyed_at_us, cause) SELECT * FROM unnest($1, $2, $3) ON CONFLICT DO NOTHING
                    """, binds: bindings), logger: logger)
            }
            for subject in material.erasedSubjects {
                // What it destroys is what the copied material already lists.
                _ = try await Self.erase(subject.subjectHash, at: subject.erasedAtUs, on: connection, logger: logger)
            }
            if !material.destroyed.isEmpty || !material.erasedSubjects.isEmpty {
                try await connection.query("SELECT pg_notify(\(Self.channel), '')", logger: logger)
            }
            for chunk in material.subjects.chunks(of: Self.rowsPerStatement) {
                var bindings = PostgresBindings(capacity: 3)
                bindings.append(PostgresArray(chunk.map { ByteBuffer(bytes: $0.subjectHash) }))
                bindings.append(PostgresArray(chunk.map { ByteBuffer(bytes: $0.pseudonymKey) }))
                bindings.append(PostgresArray(chunk.map(\.createdAtUs)))
                try await connection.query(PostgresQuery(unsafeSQL: """
                    INSERT INTO key_subject (subject_hash, pseudonym_key, created_at_us)
                    SELECT proposed.subject_hash, proposed.pseudonym_key, \(Self.creation(proposed: proposed))
                    FROM unnest($1, $2, $3) AS proposed (subject_hash, pseudonym_key, created_at_us)
                    LEFT JOIN erased_subject AS erased USING (subject_hash)
                    WHERE \(Self.madeAfterErasure(proposed: proposed))
                    ON CONFLICT DO NOTHING
                    """, binds: bindings), logger: logger)
            }
            for chunk in material.dataKeys.chunks(of: Self.rowsPerStatement) {
                var bindings = PostgresBindings(capacity: 6)
                bindings.append(PostgresArray(chunk.map(\.keyId)))
                bindings.append(PostgresArray(chunk.map { ByteBuffer(bytes: $0.subjectHash) }))
                bindings.append(PostgresArray(chunk.map(\.kind.rawValue)))
                bindings.append(PostgresArray(chunk.map { Int32($0.year) }))
                bindings.append(PostgresArray(chunk.map { ByteBuffer(bytes: $0.key) }))
                bindings.append(PostgresArray(chunk.map(\.createdAtUs)))
                // A key destroyed before is not made again under its id.
                try await connection.query(PostgresQuery(unsafeSQL: """
                    INSERT INTO data_key (key_id, subject_hash, kind, year, key, created_at_us)
                    SELECT proposed.key_id, proposed.subject_hash, proposed.kind, proposed.year, proposed.key, \(Self.creation(proposed: proposed))
                    FROM unnest($1, $2, $3, $4, $5, $6) AS proposed (key_id, subject_hash, kind, year, key, created_at_us)
                    LEFT JOIN erased_subject AS erased USING (subject_hash)
                    WHERE NOT EXISTS (SELECT 1 FROM destroyed_key WHERE destroyed_key.key_id = proposed.key_id)
                      AND \(Self.madeAfterErasure(proposed: proposed))
                    ON CONFLICT DO NOTHING
                    """, binds: bindings), logger: logger)
            }
            // A proposal is answered with what the database holds for its subjects; a copy's rows are not read back.
            guard proposed else { return stored }
            let subjects = Set(material.subjects.map(\.subjectHash) + material.dataKeys.map(\.subjectHash))
            for chunk in Array(subjects).chunks(of: Self.rowsPerStatement) {
                let hashes = PostgresArray(chunk.map { ByteBuffer(bytes: $0) })
                let found = try await Self.read(
                    "WHERE subject_hash = ANY(\(hashes))", on: connection, logger: logger)
                stored.subjects += found.subjects
                stored.dataKeys += found.dataKeys
            }
            return stored
        }
    }

    /// The secrets, made now when the database has none: the first node (or copy) makes them.
    public func secrets() async throws(JournalError) -> KeyMaterial {
        if let secrets = try await existingSecrets() { return secrets }
        return try await write(KeyMaterial(storeSecret: KeyMaterial.randomBytes(32), signingKey: KeyMaterial.randomBytes(32)), proposed: false)
    }

    /// Every change after `cursor` (0: all the keys), with the secrets, and the change number it
    /// reaches: one snapshot, so a node that takes it in and asks again after that number misses nothing.
    public func changes(after cursor: Int64) async throws(JournalError) -> (material: KeyMaterial, through: Int64) {
        // One statement, so one snapshot and one round trip: a node asks before it copies events
        // sealed with keys it lacks, and must not hold its copy up for long.
        let query: PostgresQuery = """
            SELECT 0 AS what, change, subject_hash, pseudonym_key AS bytes, created_at_us AS at_us, NULL::text AS key_id, NULL::text AS kind, NULL::int AS year
            FROM key_subject WHERE change > \(cursor)
            UNION ALL SELECT 1, change, subject_hash, key, created_at_us, key_id, kind, year FROM data_key WHERE change > \(cursor)
            UNION ALL SELECT 2, change, NULL, NULL, destroyed_at_us, key_id, cause, NULL FROM destroyed_key WHERE change > \(cursor)
            UNION ALL SELECT 3, change, subject_hash, NULL, erased_at_us, NULL, NULL, NULL FROM erased_subject WHERE change > \(cursor)
            UNION ALL SELECT 4, 0, store_secret, signing_key, NULL, NULL, NULL, NULL FROM key_secret
            ORDER BY what, change
            """
        return try await journal.run { connection in
            var material = KeyMaterial()
            // Numbers are taken under the change lock, so every number below the highest this
            // snapshot sees was committed before it, and is in it. (The sequence itself is no
            // guide: it also counts numbers of changes not committed yet.)
            var through = cursor
            for try await (what, change, hash, bytes, at, keyId, kind, year) in try await connection.query(query, logger: journal.logger)
                .decode((Int32, Int64, ByteBuffer?, ByteBuffer?, Int64?, String?, String?, Int32?).self)
            {
                through = max(through, change)
                let subject = hash.map { Array(buffer: $0) } ?? []
                switch what {
                case 0:
                    material.subjects.append(KeyMaterial.SubjectKey(subjectHash: subject, pseudonymKey: Array(buffer: bytes!), createdAtUs: at!))
                case 1:
                    material.dataKeys.append(KeyMaterial.DataKey(
                        keyId: keyId!, subjectHash: subject, kind: PersonalDataKind(rawValue: kind!) ?? .text, year: Int(year!),
                        key: Array(buffer: bytes!), createdAtUs: at!))
                case 2:
                    material.destroyed.append(KeyMaterial.DestroyedKey(keyId: keyId!, destroyedAtUs: at!, cause: KeyMaterial.Cause(rawValue: kind!) ?? .erasure))
                case 3:
                    material.erasedSubjects.append(KeyMaterial.ErasedSubject(subjectHash: subject, erasedAtUs: at!))
                default:
                    material.storeSecret = subject
                    material.signingKey = bytes.map { Array(buffer: $0) }
                }
            }
            return (material, through)
        }
    }

    /// Destroys every key of the subject whose keyed hash is `subjectHash` (`KeyStore.subjectHash(of:)`),
    /// its pseudonym key with them, and answers the destruction for the nodes' copies.
    public func erase(subjectHash: [UInt8]) async throws(JournalError) -> KeyMaterial {
        let now = journal.clock.now().microseconds
        return try await journal.transaction { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.changeLock))", logger: journal.logger)
            let destruction = try await Self.erase(subjectHash, at: now, on: connection, logger: journal.logger)
            try await connection.query("SELECT pg_notify(\(Self.channel), '')", logger: journal.logger)
            return destruction
        }
    }

    /// The channel a destruction of keys is announced on (at its commit).
    static let channel = "tpj_keys"

    /// Calls `body` with what changed after `cursor` — at once, then each time keys are destroyed
    /// (`LISTEN tpj_keys`), so that a node forgets them without waiting for events — until `body`
    /// returns false or the task is cancelled. Changes without a destruction (new keys) come with
    /// the next destruction, or from ``changes(after:)``.
    public func follow(after cursor: Int64, _ body: (KeyMaterial, Int64) async throws -> Bool) async throws(JournalError) {
        var cursor = cursor
        try await journal.whenNotified(on: Self.channel) { _ in
            let (material, through) = try await changes(after: cursor)
            cursor = through
            return try await body(material, through)
        }
    }

    /// The secrets, if the database holds them yet (read only: nothing is made).
    public func existingSecrets() async throws(JournalError) -> KeyMaterial? {
        try await journal.run { connection in try await Self.secretsIfAny(on: connection, logger: journal.logger) }
    }

    public func keyMaterial() async throws(JournalError) -> KeyMaterial {
        try await changes(after: 0).material
    }

    public func takeIn(_ material: KeyMaterial) async throws(JournalError) {
        _ = try await write(material, proposed: false)
    }

    // MARK: Rows

    /// The creation time a row is stored with (SQL over `proposed` and its subject's erasure `erased`):
    /// a proposed row is made after the erasure of its subject, whatever its proposer's clock said.
    private static func creation(proposed: Bool) -> String {
        proposed ? "greatest(proposed.created_at_us, erased.erased_at_us + 1)" : "proposed.created_at_us"
    }

    /// Which rows are stored: a copy's rows made before their subject's erasure are not.
    private static func madeAfterErasure(proposed: Bool) -> String {
        proposed ? "true" : "(erased.erased_at_us IS NULL OR proposed.created_at_us > erased.erased_at_us)"
    }

    /// Erases the subject as it was at `now`: its keys and pseudonym key made by then (later ones
    /// belong to events about it recorded since), unless an erasure as late is recorded already.
    private static func erase(_ subject: [UInt8], at now: Int64, on connection: PostgresConnection, logger: Logger) async throws -> KeyMaterial {
        let hash = ByteBuffer(bytes: subject)
        let known = try await connection.query("SELECT erased_at_us FROM erased_subject WHERE subject_hash = \(hash)", logger: logger)
            .decode(Int64.self).first { _ in true }
        guard known.map({ $0 < now }) ?? true else { return KeyMaterial() }
        var destruction = KeyMaterial(erasedSubjects: [KeyMaterial.ErasedSubject(subjectHash: subject, erasedAtUs: now)])
        for try await keyId in try await connection.query(
            """
            WITH gone AS (DELETE FROM data_key WHERE subject_hash = \(hash) AND created_at_us <= \(now) RETURNING key_id)
            INSERT INTO destroyed_key (key_id, destroyed_at_us, cause) SELECT key_id, \(now), 'erasure' FROM gone
            ON CONFLICT DO NOTHING RETURNING key_id
            """, logger: logger
        ).decode(String.self) {
            destruction.destroyed.append(KeyMaterial.DestroyedKey(keyId: keyId, destroyedAtUs: now, cause: .erasure))
        }
        try await connection.query("DELETE FROM key_subject WHERE subject_hash = \(hash) AND created_at_us <= \(now)", logger: logger)
        try await connection.query(
            """
            INSERT INTO erased_subject (subject_hash, erased_at_us) VALUES (\(hash), \(now))
            ON CONFLICT (subject_hash) DO UPDATE SET erased_at_us = excluded.erased_at_us, change = nextval('key_change')
            """, logger: logger)
        return destruction
    }

    private static func secretsIfAny(on connection: PostgresConnection, logger: Logger) async throws -> KeyMaterial? {
        try await connection.query("SELECT store_secret, signing_key FROM key_secret", logger: logger)
            .decode((ByteBuffer, ByteBuffer).self)
            .first { _ in true }
            .map { KeyMaterial(storeSecret: Array(buffer: $0.0), signingKey: Array(buffer: $0.1)) }
    }

    private static func secrets(on connection: PostgresConnection, logger: Logger) async throws -> KeyMaterial {
        guard let secrets = try await secretsIfAny(on: connection, logger: logger) else {
            throw JournalError.storage("the database holds no keys' secrets yet")
        }
        return secrets
    }

    /// Subjects and data keys whose rows match `filter` (a `WHERE` clause over the columns both
    /// tables share), oldest change first.
    private static func read(_ filter: PostgresQuery, on connection: PostgresConnection, logger: Logger) async throws -> KeyMaterial {
        var material = KeyMaterial()
        let subjects = PostgresQuery(unsafeSQL: "SELECT subject_hash, pseudonym_key, created_at_us FROM key_subject \(filter.sql) ORDER BY change", binds: filter.binds)
        for try await (hash, key, created) in try await connection.query(subjects, logger: logger).decode((ByteBuffer, ByteBuffer, Int64).self) {
            material.subjects.append(KeyMaterial.SubjectKey(subjectHash: Array(buffer: hash), pseudonymKey: Array(buffer: key), createdAtUs: created))
        }
        let keys = PostgresQuery(
            unsafeSQL: "SELECT key_id, subject_hash, kind, year, key, created_at_us FROM data_key \(filter.sql) ORDER BY change", binds: filter.binds)
        for try await (keyId, hash, kind, year, key, created) in try await connection.query(keys, logger: logger)
            .decode((String, ByteBuffer, String, Int32, ByteBuffer, Int64).self)
        {
            material.dataKeys.append(KeyMaterial.DataKey(
                keyId: keyId, subjectHash: Array(buffer: hash), kind: PersonalDataKind(rawValue: kind) ?? .text, year: Int(year),
                key: Array(buffer: key), createdAtUs: created))
        }
        return material
    }
}

extension Array {
    /// The elements in consecutive slices of at most `size`.
    func chunks(of size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
