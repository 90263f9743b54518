/// The log's schema in PostgreSQL: the same columns as the SQLite journal's `event` table, and every
/// rule of the log enforced by the database itself, for every client.
///
/// - `event` is append-only: triggers refuse `UPDATE`, `DELETE` and `TRUNCATE`.
/// - `log_head`, one row, holds the last position, its hash and its recording time. Every insert into
///   `event` must extend the log at that head — the next position, `prev_hash` equal to the head's
///   hash, a recording time that does not go back, the customer's next stream version — and moves
///   the head, under the head row's lock. An appending transaction locks that row first, so
///   positions are given out in commit order: no reader ever sees position P committed before P − 1.
/// - Only the trigger moves the head: any other change of `log_head` is refused.
enum PostgresSchema {
    /// Applied in order, each once and whole (its statements in one transaction), recorded in `tpj_migration`.
    static let migrations: [(name: String, statements: [String])] = [("v1-event-log", v1)]

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
}
