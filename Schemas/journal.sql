CREATE TRIGGER event_append_at_end BEFORE INSERT ON event
WHEN NEW.position IS NOT coalesce((SELECT max(position) FROM event), 0) + 1
  OR NEW.recordedAtUs < coalesce((SELECT recordedAtUs FROM event ORDER BY position DESC LIMIT 1), NEW.recordedAtUs)
  OR NEW.prevHash IS NOT coalesce((SELECT hash FROM event ORDER BY position DESC LIMIT 1), zeroblob(32))
BEGIN SELECT RAISE(ABORT, 'journal events are immutable: an insert must extend the log at its end'); END;

CREATE TRIGGER event_next_stream_version BEFORE INSERT ON event
WHEN NEW.streamVersion IS NOT coalesce((SELECT max(streamVersion) FROM event WHERE customerId = NEW.customerId), 0) + 1
BEGIN SELECT RAISE(ABORT, 'journal events are immutable: streamVersion must be the next version of the customer'); END;

CREATE TRIGGER event_no_delete BEFORE DELETE ON event
BEGIN SELECT RAISE(ABORT, 'journal events are immutable: DELETE refused'); END;

CREATE TRIGGER event_no_update BEFORE UPDATE ON event
BEGIN SELECT RAISE(ABORT, 'journal events are immutable: UPDATE refused'); END;

CREATE TRIGGER event_unique_event_id BEFORE INSERT ON event
WHEN EXISTS (SELECT 1 FROM event WHERE eventId = NEW.eventId)
BEGIN SELECT RAISE(ABORT, 'journal events are immutable: eventId already recorded'); END;

CREATE TRIGGER import_no_delete BEFORE DELETE ON import
BEGIN SELECT RAISE(ABORT, 'journal imports are immutable: DELETE refused'); END;

CREATE TRIGGER import_no_update BEFORE UPDATE ON import
BEGIN SELECT RAISE(ABORT, 'journal imports are immutable: UPDATE refused'); END;

CREATE TABLE declared_projection (
    name      TEXT    PRIMARY KEY,
    sql       TEXT    NOT NULL,
    sha256    TEXT    NOT NULL CHECK (length(sha256) = 64),
    addedAtUs INTEGER NOT NULL
) STRICT;

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
, sourceRecordedAtUs INTEGER CHECK (sourceRecordedAtUs <= recordedAtUs), importRef TEXT CHECK ((importRef IS NULL) = (sourceRecordedAtUs IS NULL))) STRICT;

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

CREATE UNIQUE INDEX event_eventId ON event (eventId);

CREATE UNIQUE INDEX event_stream ON event (customerId, streamVersion);
