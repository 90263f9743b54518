import Foundation

/// The log's schema in PostgreSQL: the same columns as the SQLite journal's `event` table, and every
/// rule of the log enforced by the database itself, for every client.
///
/// - `event` is append-only: triggers refuse `UPDATE`, `DELETE` and `TRUNCATE`.
/// - `log_head`, one row, holds the last position, its hash and its recording time. Every insert into
///   `event` must extend the log at that head — the next position, `prev_hash` equal to the head's
///   hash, a recording time that does not go back, the customer's next stream version — and moves
///   the head, under the head row's lock. An append locks that row first (`append_events`, or
///   `lock_log_head()` in its transaction), so positions are given out in commit order: no reader
///   ever sees position P committed before P − 1.
/// - Only the trigger moves the head: any other change of `log_head` is refused. It announces the new
///   head on the channel `tpj_log` (`NOTIFY`, delivered at commit).
/// - The role that applies the migrations owns the schema; only it (and a superuser) can alter or drop
///   it. The application may run as another role, granted ``grants(to:)``: it can read the log and
///   append to it, and nothing else — it locks the head through `lock_log_head()` and moves it
///   through the trigger, both of which run with the owner's rights.
enum PostgresSchema {
    /// Applied in order, each once and whole (its statements in one transaction), recorded in `tpj_migration`.
    static let migrations: [(name: String, statements: [String])] = [
        ("v1-event-log", v1), ("v2-statement-checks", v2), ("v3-application-role", v3), ("v4-access-tokens", v4),
        ("v5-data-keys", v5), ("v6-nodes", v6), ("v7-append-function", v7),
    ]

    static let v1: [String] = [
        #"""
            CREATE TABLE event (
                position              BIGINT  PRIMARY KEY CHECK (position > 0),
                event_id              TEXT    NOT NULL UNIQUE,
                customer_id           TEXT    NOT NULL,
                stream_version        INTEGER NOT NULL CHECK (stream_version > 0),
                type                  TEXT    NOT NULL,
                schema_version        INTEGER NOT NULL,
                occurred_at           TEXT    NOT NULL,
                occurred_at_us        BIGINT  NOT NULL,
                recorded_at_us        BIGINT  NOT NULL,
                case_id               TEXT,
                asset_id              TEXT,
                site_id               TEXT,
                actor                 TEXT,
                source                TEXT,
                correlation_id        TEXT,
                causation_id          TEXT,
                payload               TEXT    NOT NULL CHECK ((payload::json) IS NOT NULL),
                prev_hash             BYTEA   NOT NULL CHECK (length(prev_hash) = 32),
                hash                  BYTEA   NOT NULL CHECK (length(hash) = 32),
                source_recorded_at_us BIGINT  CHECK (source_recorded_at_us <= recorded_at_us),
                import_ref            TEXT,
                UNIQUE (customer_id, stream_version)
            )
            """#,
        #"""
            CREATE TABLE log_head (
                only_row       BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (only_row),
                position       BIGINT  NOT NULL,
                hash           BYTEA   NOT NULL,
                recorded_at_us BIGINT  NOT NULL
            )
            """#,
        #"""
            INSERT INTO log_head VALUES (TRUE, 0, decode(repeat('00', 32), 'hex'), -9223372036854775808)
            """#,
        #"""
            CREATE FUNCTION event_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'journal events are immutable: % refused', TG_OP USING ERRCODE = 'restrict_violation';
            END $$
            """#,
        #"""
            CREATE TRIGGER event_no_change BEFORE UPDATE OR DELETE ON event
                FOR EACH ROW EXECUTE FUNCTION event_refuse_change()
            """#,
        #"""
            CREATE TRIGGER event_no_truncate BEFORE TRUNCATE ON event
                FOR EACH STATEMENT EXECUTE FUNCTION event_refuse_change()
            """#,
        // After the row is in (so an insert skipped by ON CONFLICT never moves the head).
        #"""
            CREATE FUNCTION event_extend_log() RETURNS trigger LANGUAGE plpgsql AS $$
            DECLARE
                head log_head%ROWTYPE;
            BEGIN
                SELECT * INTO head FROM log_head FOR UPDATE;
                IF NEW.position <> head.position + 1 THEN
                    RAISE EXCEPTION 'the log is extended at its end only: position % after %', NEW.position, head.position
                        USING ERRCODE = 'restrict_violation';
                END IF;
                IF NEW.prev_hash <> head.hash THEN
                    RAISE EXCEPTION 'prev_hash of position % is not the hash of position %', NEW.position, head.position
                        USING ERRCODE = 'restrict_violation';
                END IF;
                IF NEW.recorded_at_us < head.recorded_at_us THEN
                    RAISE EXCEPTION 'recorded_at of position % goes back in time', NEW.position USING ERRCODE = 'restrict_violation';
                END IF;
                -- With UNIQUE (customer_id, stream_version), a predecessor at an earlier position for every
            -- version but 1 keeps each stream 1, 2, 3 … in position order (also when one statement
            -- inserts several rows, whose triggers run after all of them are in).
            IF NEW.stream_version > 1 AND NOT EXISTS (
                    SELECT 1 FROM event WHERE customer_id = NEW.customer_id AND stream_version = NEW.stream_version - 1
                      AND position < NEW.position) THEN
                    RAISE EXCEPTION 'stream version % of customer % is not the next one', NEW.stream_version, NEW.customer_id
                        USING ERRCODE = 'restrict_violation';
                END IF;
                UPDATE log_head SET position = NEW.position, hash = NEW.hash, recorded_at_us = NEW.recorded_at_us;
                RETURN NULL;
            END $$
            """#,
        #"""
            CREATE TRIGGER event_extend_log AFTER INSERT ON event
                FOR EACH ROW EXECUTE FUNCTION event_extend_log()
            """#,
        #"""
            CREATE FUNCTION log_head_guard() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'UPDATE' AND pg_trigger_depth() > 1 THEN
                    RETURN NEW;
                END IF;
                RAISE EXCEPTION 'the log head moves only with an insert into event: % refused', TG_OP
                    USING ERRCODE = 'restrict_violation';
            END $$
            """#,
        #"""
            CREATE TRIGGER log_head_guard BEFORE UPDATE OR DELETE ON log_head
                FOR EACH ROW EXECUTE FUNCTION log_head_guard()
            """#,
        #"""
            CREATE TRIGGER log_head_no_truncate BEFORE TRUNCATE ON log_head
                FOR EACH STATEMENT EXECUTE FUNCTION log_head_guard()
            """#,
        #"""
            CREATE TRIGGER log_head_no_insert BEFORE INSERT ON log_head
                FOR EACH ROW EXECUTE FUNCTION log_head_guard()
            """#,
    ]

    /// The checks of `v1`'s row trigger, made once per statement over all the rows it inserted (a
    /// transition table): the same rules and messages, at a fraction of the cost for many rows; and a
    /// notification on channel `tpj_log` with the new head, which PostgreSQL delivers at commit.
    /// The payload's JSON check goes.
    static let v2: [String] = [
        // Payloads are checked by the schemas before they are chained, as the SQLite journal leaves it;
        // here each would be parsed a second time, by the one writer.
        "ALTER TABLE event DROP CONSTRAINT event_payload_check",
        "DROP TRIGGER event_extend_log ON event",
        "DROP FUNCTION event_extend_log()",
        #"""
            CREATE FUNCTION event_extend_log() RETURNS trigger LANGUAGE plpgsql AS $$
            DECLARE
                head log_head%ROWTYPE;
                bad RECORD;
            BEGIN
                SELECT * INTO head FROM log_head FOR UPDATE;
                SELECT * INTO bad FROM (
                    SELECT position, prev_hash, recorded_at_us,
                           head.position + row_number() OVER w AS expected,
                           coalesce(lag(hash) OVER w, head.hash) AS previous_hash,
                           coalesce(lag(recorded_at_us) OVER w, head.recorded_at_us) AS previous_recorded
                    FROM inserted WINDOW w AS (ORDER BY position)
                ) rows
                WHERE position <> expected OR prev_hash <> previous_hash OR recorded_at_us < previous_recorded
                ORDER BY position LIMIT 1;
                IF FOUND THEN
                    IF bad.position <> bad.expected THEN
                        RAISE EXCEPTION 'the log is extended at its end only: position % after %', bad.position, bad.expected - 1
                            USING ERRCODE = 'restrict_violation';
                    ELSIF bad.prev_hash <> bad.previous_hash THEN
                        RAISE EXCEPTION 'prev_hash of position % is not the hash of position %', bad.position, bad.position - 1
                            USING ERRCODE = 'restrict_violation';
                    ELSE
                        RAISE EXCEPTION 'recorded_at of position % goes back in time', bad.position USING ERRCODE = 'restrict_violation';
                    END IF;
                END IF;
                -- With UNIQUE (customer_id, stream_version), a predecessor at an earlier position for every
                -- version but 1 keeps each stream 1, 2, 3 … in position order. Within the statement that is
                -- the customer's row before; for a customer's first row, one probe of the stream index (a
                -- subquery, not a join: the plan is cached for the session, and a join planned for a
                -- statement of many rows would scan the whole log for every later one).
                SELECT * INTO bad FROM (
                    SELECT customer_id, stream_version, position,
                           lag(stream_version) OVER (PARTITION BY customer_id ORDER BY position) AS previous_version
                    FROM inserted
                ) n
                WHERE n.stream_version > 1 AND CASE
                    WHEN n.previous_version IS NOT NULL THEN n.previous_version <> n.stream_version - 1
                    ELSE NOT coalesce((
                        SELECT e.position < n.position FROM event e
                        WHERE e.customer_id = n.customer_id AND e.stream_version = n.stream_version - 1), false)
                    END
                ORDER BY n.position LIMIT 1;
                IF FOUND THEN
                    RAISE EXCEPTION 'stream version % of customer % is not the next one', bad.stream_version, bad.customer_id
                        USING ERRCODE = 'restrict_violation';
                END IF;
                UPDATE log_head SET position = last.position, hash = last.hash, recorded_at_us = last.recorded_at_us
                FROM (SELECT position, hash, recorded_at_us FROM inserted ORDER BY position DESC LIMIT 1) last
                RETURNING log_head.position INTO head.position;
                -- Delivered when the transaction commits, in commit order: followers wake up (PostgresJournal.follow).
                IF FOUND THEN
                    PERFORM pg_notify('tpj_log', head.position::text);
                END IF;
                RETURN NULL;
            END $$
            """#,
        #"""
            CREATE TRIGGER event_extend_log AFTER INSERT ON event REFERENCING NEW TABLE AS inserted
                FOR EACH STATEMENT EXECUTE FUNCTION event_extend_log()
            """#,
    ]

    /// The head locked through a function, so that an application role needs no right to change `log_head`.
    static let v3: [String] = [
        #"""
            CREATE FUNCTION lock_log_head() RETURNS TABLE (head_position BIGINT, head_hash BYTEA, head_recorded_at_us BIGINT)
            LANGUAGE sql SECURITY DEFINER SET search_path FROM CURRENT
            AS $$ SELECT position, hash, recorded_at_us FROM log_head FOR UPDATE $$
            """#,
        "ALTER FUNCTION event_extend_log() SECURITY DEFINER SET search_path FROM CURRENT",
        "REVOKE ALL ON event, log_head, tpj_migration FROM PUBLIC",
        "REVOKE ALL ON FUNCTION lock_log_head() FROM PUBLIC",
    ]

    /// Bearer tokens and the web pages' sessions (``PostgresAccessTokens``): only hashes of their
    /// secrets, shared by every server on this database.
    static let v4: [String] = [
        #"""
            CREATE TABLE access_token (
                id             TEXT   PRIMARY KEY,
                name           TEXT   NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
                role           TEXT   NOT NULL CHECK (role IN ('ingest', 'staff', 'analyst', 'auditor', 'admin')),
                hash           TEXT   NOT NULL UNIQUE CHECK (length(hash) = 64),
                created_at_us  BIGINT NOT NULL,
                revoked_at_us  BIGINT
            )
            """#,
        // At most one active token per name, also under concurrent creation.
        "CREATE UNIQUE INDEX access_token_active_name ON access_token (name) WHERE revoked_at_us IS NULL",
        #"""
            CREATE TABLE web_session (
                hash           TEXT   PRIMARY KEY CHECK (length(hash) = 64),
                token_id       TEXT   NOT NULL REFERENCES access_token (id),
                created_at_us  BIGINT NOT NULL,
                expires_at_us  BIGINT NOT NULL
            )
            """#,
        "CREATE INDEX web_session_token ON web_session (token_id)",
        "REVOKE ALL ON access_token, web_session FROM PUBLIC",
    ]

    /// The keys that seal personal values (``PostgresKeys``), shared by every node: the same tables as
    /// the SQLite journal's key file. Every change takes the lock ``PostgresKeys/changeLock`` and a
    /// number from `key_change` under it, so changes commit in the order of their numbers and a node
    /// that has seen number N has seen every change before it. Keys are destroyed by deleting them
    /// (crypto-shredding); a tombstone in `destroyed_key` or `erased_subject` tells the other nodes.
    static let v5: [String] = [
        #"""
            CREATE TABLE key_secret (
                id             INTEGER PRIMARY KEY CHECK (id = 1),
                store_secret   BYTEA   NOT NULL CHECK (length(store_secret) = 32),
                signing_key    BYTEA   NOT NULL CHECK (length(signing_key) = 32)
            )
            """#,
        "CREATE SEQUENCE key_change",
        #"""
            CREATE TABLE key_subject (
                subject_hash   BYTEA  PRIMARY KEY CHECK (length(subject_hash) = 32),
                pseudonym_key  BYTEA  NOT NULL CHECK (length(pseudonym_key) = 32),
                created_at_us  BIGINT NOT NULL,
                change         BIGINT NOT NULL DEFAULT nextval('key_change')
            )
            """#,
        "CREATE INDEX key_subject_change ON key_subject (change)",
        #"""
            CREATE TABLE data_key (
                key_id         TEXT    PRIMARY KEY CHECK (length(key_id) = 32),
                subject_hash   BYTEA   NOT NULL REFERENCES key_subject (subject_hash),
                kind           TEXT    NOT NULL CHECK (kind IN ('contact', 'employee', 'text')),
                year           INTEGER NOT NULL,
                key            BYTEA   NOT NULL CHECK (length(key) = 32),
                created_at_us  BIGINT  NOT NULL,
                change         BIGINT  NOT NULL DEFAULT nextval('key_change'),
                UNIQUE (subject_hash, kind, year)
            )
            """#,
        "CREATE INDEX data_key_change ON data_key (change)",
        #"""
            CREATE TABLE destroyed_key (
                key_id           TEXT   PRIMARY KEY,
                destroyed_at_us  BIGINT NOT NULL,
                cause            TEXT   NOT NULL CHECK (cause IN ('erasure', 'retention')),
                change           BIGINT NOT NULL DEFAULT nextval('key_change')
            )
            """#,
        "CREATE INDEX destroyed_key_change ON destroyed_key (change)",
        #"""
            CREATE TABLE erased_subject (
                subject_hash   BYTEA  PRIMARY KEY CHECK (length(subject_hash) = 32),
                erased_at_us   BIGINT NOT NULL,
                change         BIGINT NOT NULL DEFAULT nextval('key_change')
            )
            """#,
        "CREATE INDEX erased_subject_change ON erased_subject (change)",
        "REVOKE ALL ON key_secret, key_subject, data_key, destroyed_key, erased_subject FROM PUBLIC",
        "REVOKE ALL ON SEQUENCE key_change FROM PUBLIC",
    ]

    /// What several servers on one log share besides it: the access log, the signed tree heads
    /// (``PostgresTreeHeads``) and the leases of work one server does for all (``PostgresLease``).
    /// The access log and the heads are append-only, as in a journal file.
    static let v6: [String] = [
        #"""
            CREATE TABLE access_log (
                id           BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                at_us        BIGINT  NOT NULL,
                token_name   TEXT    NOT NULL,
                role         TEXT    NOT NULL,
                customer_id  TEXT    NOT NULL,
                method       TEXT    NOT NULL,
                target       TEXT    NOT NULL,
                status       INTEGER NOT NULL
            )
            """#,
        "CREATE INDEX access_log_by_customer ON access_log (customer_id, at_us)",
        #"""
            CREATE FUNCTION append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'restrict_violation';
            END $$
            """#,
        "CREATE TRIGGER access_log_no_change BEFORE UPDATE OR DELETE ON access_log FOR EACH ROW EXECUTE FUNCTION append_only()",
        "CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log FOR EACH STATEMENT EXECUTE FUNCTION append_only()",
        #"""
            CREATE TABLE tree_head (
                id            BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                tree_size     BIGINT  NOT NULL CHECK (tree_size >= 0),
                root_hash     BYTEA   NOT NULL CHECK (length(root_hash) = 32),
                signed_at_us  BIGINT  NOT NULL,
                public_key    BYTEA   NOT NULL CHECK (length(public_key) = 32),
                signature     BYTEA   NOT NULL CHECK (length(signature) = 64),
                signed_by     TEXT    NOT NULL
            )
            """#,
        "CREATE INDEX tree_head_by_time ON tree_head (signed_at_us)",
        "CREATE TRIGGER tree_head_no_change BEFORE UPDATE OR DELETE ON tree_head FOR EACH ROW EXECUTE FUNCTION append_only()",
        "CREATE TRIGGER tree_head_no_truncate BEFORE TRUNCATE ON tree_head FOR EACH STATEMENT EXECUTE FUNCTION append_only()",
        #"""
            CREATE FUNCTION tree_head_in_order() RETURNS trigger LANGUAGE plpgsql AS $$
            DECLARE
                last tree_head;
            BEGIN
                SELECT * INTO last FROM tree_head ORDER BY id DESC LIMIT 1;
                IF NEW.tree_size > (SELECT position FROM log_head) OR NEW.tree_size < coalesce(last.tree_size, 0)
                   OR NEW.signed_at_us < coalesce(last.signed_at_us, NEW.signed_at_us) THEN
                    RAISE EXCEPTION 'signed tree heads are append-only: a head must cover no more than the log and no less, nor earlier, than the last'
                        USING ERRCODE = 'restrict_violation';
                END IF;
                RETURN NEW;
            END $$
            """#,
        "CREATE TRIGGER tree_head_in_order BEFORE INSERT ON tree_head FOR EACH ROW EXECUTE FUNCTION tree_head_in_order()",
        #"""
            CREATE TABLE lease (
                name        TEXT        PRIMARY KEY,
                holder      TEXT        NOT NULL,
                expires_at  TIMESTAMPTZ NOT NULL
            )
            """#,
        "REVOKE ALL ON access_log, tree_head, lease FROM PUBLIC",
    ]

    /// An append in one statement (``PostgresAppend``): `append_events` locks the head, takes the
    /// recording time, numbers the rows after the head, chains their hashes and inserts them, so the
    /// head's lock is held only while the server works, never across a round trip to a client. The
    /// client sends each row's canonical envelope without its position and recording time — the
    /// bytes before `position`'s value and those after `recordedAt`'s (``EventChain``) — and the
    /// function fills both in: `sha256(prev_hash ‖ head ‖ position ‖ ,"recordedAt":"…" ‖ tail)`.
    ///
    /// The recording time is the client's clock (`clock_us`) or the head's, whichever is later, in
    /// ``Timestamp/rfc3339``'s form. When it is past `latest_us` nothing is inserted and
    /// `previous_head` is NULL. Otherwise `previous_head` is the head the rows were put after.
    ///
    /// A row whose stream version or event id is taken by then fails the statement with a unique
    /// violation and nothing is stored: the client read the log before another append committed,
    /// and plans again. The function runs with its caller's rights (an application role needs to
    /// insert into `event` and to lock the head, as ``grants(to:)`` allows).
    static let v7: [String] = [
        #"""
            CREATE FUNCTION append_events(
                event_ids TEXT[], customer_ids TEXT[], stream_versions INTEGER[], types TEXT[], schema_versions INTEGER[],
                occurred_ats TEXT[], occurred_ats_us BIGINT[], case_ids TEXT[], asset_ids TEXT[], site_ids TEXT[],
                actors TEXT[], sources TEXT[], correlation_ids TEXT[], causation_ids TEXT[], payloads TEXT[],
                sources_recorded_at_us BIGINT[], import_refs TEXT[], envelope_heads BYTEA[], envelope_tails BYTEA[],
                clock_us BIGINT, latest_us BIGINT)
            RETURNS TABLE (previous_head BIGINT, recorded_us BIGINT)
            LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
            DECLARE
                head RECORD;
                recorded BIGINT;
                fraction BIGINT;
                recorded_text TEXT;
                previous BYTEA;
                previous_hashes BYTEA[] := '{}';
                hashes BYTEA[] := '{}';
                total INTEGER := coalesce(array_length(event_ids, 1), 0);
            BEGIN
                SELECT * INTO head FROM lock_log_head();
                recorded := greatest(clock_us, head.head_recorded_at_us);
                IF recorded > latest_us THEN
                    RETURN QUERY SELECT NULL::BIGINT, recorded;
                    RETURN;
                END IF;
                -- Timestamp.rfc3339: UTC, six fractional digits.
                fraction := (recorded % 1000000 + 1000000) % 1000000;
                recorded_text := to_char(to_timestamp((recorded - fraction) / 1000000) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
                    || '.' || lpad(fraction::text, 6, '0') || 'Z';
                previous := head.head_hash;
                FOR i IN 1 .. total LOOP
                    previous_hashes[i] := previous;
                    previous := sha256(previous || envelope_heads[i]
                        || convert_to((head.head_position + i)::text || ',"recordedAt":"' || recorded_text || '"', 'UTF8')
                        || envelope_tails[i]);
                    hashes[i] := previous;
                END LOOP;
                INSERT INTO event (
                    position, event_id, customer_id, stream_version, type, schema_version, occurred_at, occurred_at_us,
                    recorded_at_us, case_id, asset_id, site_id, actor, source, correlation_id, causation_id, payload,
                    prev_hash, hash, source_recorded_at_us, import_ref)
                SELECT head.head_position + r.n, r.event_id, r.customer_id, r.stream_version, r.type, r.schema_version,
                       r.occurred_at, r.occurred_at_us, recorded, r.case_id, r.asset_id, r.site_id, r.actor, r.source,
                       r.correlation_id, r.causation_id, r.payload, r.prev_hash, r.hash, r.source_recorded_at_us, r.import_ref
                FROM unnest(event_ids, customer_ids, stream_versions, types, schema_versions, occurred_ats, occurred_ats_us,
                            case_ids, asset_ids, site_ids, actors, sources, correlation_ids, causation_ids, payloads,
                            sources_recorded_at_us, import_refs, previous_hashes, hashes) WITH ORDINALITY
                     AS r(event_id, customer_id, stream_version, type, schema_version, occurred_at, occurred_at_us,
                          case_id, asset_id, site_id, actor, source, correlation_id, causation_id, payload,
                          source_recorded_at_us, import_ref, prev_hash, hash, n)
                ORDER BY r.n;
                RETURN QUERY SELECT head.head_position, recorded;
            END $$
            """#,
    ]

    /// What an application role may do: read the log and the applied migrations, append, lock the
    /// head; keep tokens (create, revoke — never delete) and sessions; make keys and destroy them
    /// (an erasure through the server), never change one.
    static func grants(to role: String) -> [String] {
        let role = "\"" + role.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        return [
            "GRANT SELECT, INSERT ON event TO \(role)",
            "GRANT SELECT ON log_head, tpj_migration TO \(role)",
            "GRANT EXECUTE ON FUNCTION lock_log_head() TO \(role)",
            "GRANT SELECT, INSERT, UPDATE (revoked_at_us) ON access_token TO \(role)",
            "GRANT SELECT, INSERT, DELETE ON web_session TO \(role)",
            "GRANT SELECT, INSERT ON key_secret, destroyed_key TO \(role)",
            "GRANT SELECT, INSERT, DELETE ON key_subject, data_key TO \(role)",
            "GRANT SELECT, INSERT, UPDATE (erased_at_us, change) ON erased_subject TO \(role)",
            "GRANT USAGE ON SEQUENCE key_change TO \(role)",
            "GRANT SELECT, INSERT ON access_log, tree_head TO \(role)",
            "GRANT SELECT, INSERT, UPDATE, DELETE ON lease TO \(role)",
        ]
    }
}
