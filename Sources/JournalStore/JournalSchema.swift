import GRDB

/// The journal's SQLite schema. Migrations are append-only: never edit a shipped one.
///
/// Every invariant SQLite can enforce, it enforces, for every connection, not only the journal's:
/// the table is `STRICT`; event ids and `(customerId, streamVersion)` are unique; triggers refuse
/// `UPDATE` and `DELETE`, and refuse any `INSERT` that does not extend the log at its end (the next
/// position, the next stream version, a `recordedAt` that does not go back, `prevHash` equal to the
/// last event's hash). The last rule also stops `INSERT OR REPLACE`, which deletes the conflicting
/// row without firing DELETE triggers.
public enum JournalSchema {
    public static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-event-log") { db in
            try db.execute(sql: v1)
        }
        migrator.registerMigration("v2-projection-state") { db in
            try db.execute(sql: v2)
        }
        migrator.registerMigration("v3-projections-moved-out") { db in
            // Projections now live in a file of their own (or, in memory, are set up again by
            // `projectionsMigrator`): their old tables, views and state leave the journal and are
            // folded again from the log.
            let views = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'view'")
            for view in views { try db.execute(sql: "DROP VIEW \"\(view)\"") }
            let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name GLOB 'p_*'")
            for table in tables { try db.execute(sql: "DROP TABLE \"\(table)\"") }
            try db.execute(sql: "DROP TABLE projection")
        }
        migrator.registerMigration("v4-migrated-history") { db in
            try db.execute(sql: v4)
        }
        migrator.registerMigration("v5-declared-projections") { db in
            try db.execute(sql: v5)
        }
        migrator.registerMigration("v6-merkle-tree") { db in
            try db.execute(sql: v6)
            try MerkleNodes.backfill(db)
        }
        migrator.registerMigration("v7-access-log") { db in
            try db.execute(sql: v7)
        }
        migrator.registerMigration("v8-access-tokens") { db in
            try db.execute(sql: v8)
        }
        return migrator
    }

    /// The projections' database: their state, one row per projection, updated in the same
    /// transaction as their tables (which the projection runner creates).
    public static var projectionsMigrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("projections-v1-state") { db in
            try db.execute(sql: v2)
        }
        return migrator
    }

    /// The error message of the trigger that refuses an already recorded eventId.
    static let eventIdRecordedMessage = "journal events are immutable: eventId already recorded"

    /// Projection state: one row per projection, updated in the same transaction as its tables.
    /// In the journal from v2 to v3; in the projections' database since.
    public static let v2 = """
        CREATE TABLE projection (
            name        TEXT    PRIMARY KEY,
            version     INTEGER NOT NULL CHECK (version >= 1),
            generation  INTEGER NOT NULL CHECK (generation >= 1),
            checkpoint  INTEGER NOT NULL CHECK (checkpoint >= 0),
            updatedAtUs INTEGER NOT NULL
        ) STRICT;
        """

    /// Migrated history: an imported event keeps the time its source system recorded it (never after the
    /// journal's own `recordedAt`) and names its import and source line; each import is described once.
    public static let v4 = """
        ALTER TABLE event ADD COLUMN sourceRecordedAtUs INTEGER CHECK (sourceRecordedAtUs <= recordedAtUs);
        ALTER TABLE event ADD COLUMN importRef TEXT CHECK ((importRef IS NULL) = (sourceRecordedAtUs IS NULL));

        CREATE TABLE import (
            importNumber    INTEGER PRIMARY KEY CHECK (importNumber >= 1),
            recordedAtUs    INTEGER NOT NULL,
            mappingName     TEXT    NOT NULL,
            mappingSha256   TEXT    NOT NULL CHECK (length(mappingSha256) = 64),
            mapping         TEXT    NOT NULL,
            sources         TEXT    NOT NULL CHECK (json_valid(sources)),
            rowsRead        INTEGER NOT NULL CHECK (rowsRead >= 0),
            eventsStored    INTEGER NOT NULL CHECK (eventsStored >= 0),
            alreadyRecorded INTEGER NOT NULL CHECK (alreadyRecorded >= 0),
            rowsRejected    INTEGER NOT NULL CHECK (rowsRejected >= 0),
            firstPosition   INTEGER,
            lastPosition    INTEGER
        ) STRICT;

        CREATE TRIGGER import_no_update BEFORE UPDATE ON import
        BEGIN SELECT RAISE(ABORT, 'journal imports are immutable: UPDATE refused'); END;

        CREATE TRIGGER import_no_delete BEFORE DELETE ON import
        BEGIN SELECT RAISE(ABORT, 'journal imports are immutable: DELETE refused'); END;
        """

    /// Projections declared in SQL by analysts (`tpj projection add`): kept with the journal, since
    /// they are not derived from the log and a lost projections' file must be rebuilt with them.
    public static let v5 = """
        CREATE TABLE declared_projection (
            name      TEXT    PRIMARY KEY,
            sql       TEXT    NOT NULL,
            sha256    TEXT    NOT NULL CHECK (length(sha256) = 64),
            addedAtUs INTEGER NOT NULL
        ) STRICT;
        """

    /// The stored part of the Merkle tree over the log (``MerkleNodes``) and the signed tree heads,
    /// both append-only like the log.
    public static let v6 = """
        CREATE TABLE merkle_node (
            level INTEGER NOT NULL CHECK (level >= 4 AND level < 63),
            idx   INTEGER NOT NULL CHECK (idx >= 0),
            hash  BLOB    NOT NULL CHECK (length(hash) = 32),
            PRIMARY KEY (level, idx)
        ) STRICT, WITHOUT ROWID;
        CREATE TRIGGER merkle_node_no_update BEFORE UPDATE ON merkle_node
        BEGIN SELECT RAISE(ABORT, 'the Merkle tree is append-only: UPDATE refused'); END;
        CREATE TRIGGER merkle_node_no_delete BEFORE DELETE ON merkle_node
        BEGIN SELECT RAISE(ABORT, 'the Merkle tree is append-only: DELETE refused'); END;
        CREATE TABLE tree_head (
            id         INTEGER PRIMARY KEY,
            treeSize   INTEGER NOT NULL CHECK (treeSize >= 0),
            rootHash   BLOB    NOT NULL CHECK (length(rootHash) = 32),
            signedAtUs INTEGER NOT NULL,
            publicKey  BLOB    NOT NULL CHECK (length(publicKey) = 32),
            signature  BLOB    NOT NULL CHECK (length(signature) = 64)
        ) STRICT;
        CREATE INDEX tree_head_by_time ON tree_head (signedAtUs);
        CREATE TRIGGER tree_head_no_update BEFORE UPDATE ON tree_head
        BEGIN SELECT RAISE(ABORT, 'signed tree heads are append-only: UPDATE refused'); END;
        CREATE TRIGGER tree_head_no_delete BEFORE DELETE ON tree_head
        BEGIN SELECT RAISE(ABORT, 'signed tree heads are append-only: DELETE refused'); END;
        CREATE TRIGGER tree_head_in_order BEFORE INSERT ON tree_head
        WHEN NEW.treeSize > (SELECT coalesce(max(position), 0) FROM event)
          OR NEW.treeSize < coalesce((SELECT treeSize FROM tree_head ORDER BY id DESC LIMIT 1), 0)
          OR NEW.signedAtUs < coalesce((SELECT signedAtUs FROM tree_head ORDER BY id DESC LIMIT 1), NEW.signedAtUs)
        BEGIN SELECT RAISE(ABORT, 'signed tree heads are append-only: a head must cover no more than the log and no less, nor earlier, than the last'); END;
        """

    /// Who read which customer through the server, when and how (``AccessRecord``): append-only.
    public static let v7 = """
        CREATE TABLE access_log (
            id         INTEGER PRIMARY KEY,
            atUs       INTEGER NOT NULL,
            tokenName  TEXT    NOT NULL,
            role       TEXT    NOT NULL,
            customerId TEXT    NOT NULL,
            method     TEXT    NOT NULL,
            target     TEXT    NOT NULL,
            status     INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX access_log_by_customer ON access_log (customerId, atUs);
        CREATE TRIGGER access_log_no_update BEFORE UPDATE ON access_log
        BEGIN SELECT RAISE(ABORT, 'the access log is append-only: UPDATE refused'); END;
        CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log
        BEGIN SELECT RAISE(ABORT, 'the access log is append-only: DELETE refused'); END;
        """

    /// Bearer tokens and the web pages' sessions (``AccessTokens``): only hashes of their secrets.
    /// `IF NOT EXISTS`: servers before this migration created them themselves as they started.
    public static let v8 = """
        CREATE TABLE IF NOT EXISTS access_token (
            id          TEXT    PRIMARY KEY,
            name        TEXT    NOT NULL,
            role        TEXT    NOT NULL,
            hash        TEXT    NOT NULL UNIQUE,
            createdAtUs INTEGER NOT NULL,
            revokedAtUs INTEGER
        ) STRICT;
        CREATE TABLE IF NOT EXISTS web_session (
            hash        TEXT    PRIMARY KEY,
            tokenId     TEXT    NOT NULL REFERENCES access_token(id),
            createdAtUs INTEGER NOT NULL,
            expiresAtUs INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX IF NOT EXISTS web_session_by_token ON web_session(tokenId);
        """

    /// The SQL of the first migration: the `event` table, its indexes and its triggers.
    public static let v1 = """
        CREATE TABLE event (
            position      INTEGER PRIMARY KEY,
            eventId       TEXT    NOT NULL,
            customerId    TEXT    NOT NULL,
            streamVersion INTEGER NOT NULL CHECK (streamVersion >= 1),
            type          TEXT    NOT NULL,
            schemaVersion INTEGER NOT NULL CHECK (schemaVersion >= 1),
            occurredAt    TEXT    NOT NULL,
            occurredAtUs  INTEGER NOT NULL,
            recordedAtUs  INTEGER NOT NULL,
            caseId        TEXT,
            assetId       TEXT,
            siteId        TEXT,
            actor         TEXT,
            source        TEXT,
            correlationId TEXT,
            causationId   TEXT,
            payload       TEXT    NOT NULL,
            prevHash      BLOB    NOT NULL CHECK (length(prevHash) = 32),
            hash          BLOB    NOT NULL CHECK (length(hash) = 32)
        ) STRICT;
        CREATE UNIQUE INDEX event_eventId ON event (eventId);
        CREATE UNIQUE INDEX event_stream ON event (customerId, streamVersion);

        CREATE TRIGGER event_no_update BEFORE UPDATE ON event
        BEGIN SELECT RAISE(ABORT, 'journal events are immutable: UPDATE refused'); END;

        CREATE TRIGGER event_no_delete BEFORE DELETE ON event
        BEGIN SELECT RAISE(ABORT, 'journal events are immutable: DELETE refused'); END;

        CREATE TRIGGER event_append_at_end BEFORE INSERT ON event
        WHEN NEW.position IS NOT coalesce((SELECT max(position) FROM event), 0) + 1
          OR NEW.recordedAtUs < coalesce((SELECT recordedAtUs FROM event ORDER BY position DESC LIMIT 1), NEW.recordedAtUs)
          OR NEW.prevHash IS NOT coalesce((SELECT hash FROM event ORDER BY position DESC LIMIT 1), zeroblob(32))
        BEGIN SELECT RAISE(ABORT, 'journal events are immutable: an insert must extend the log at its end'); END;

        CREATE TRIGGER event_next_stream_version BEFORE INSERT ON event
        WHEN NEW.streamVersion IS NOT coalesce((SELECT max(streamVersion) FROM event WHERE customerId = NEW.customerId), 0) + 1
        BEGIN SELECT RAISE(ABORT, 'journal events are immutable: streamVersion must be the next version of the customer'); END;

        CREATE TRIGGER event_unique_event_id BEFORE INSERT ON event
        WHEN EXISTS (SELECT 1 FROM event WHERE eventId = NEW.eventId)
        BEGIN SELECT RAISE(ABORT, 'journal events are immutable: eventId already recorded'); END;
        """
}
