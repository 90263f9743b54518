CREATE TABLE projection (
    name        TEXT    PRIMARY KEY,
    version     INTEGER NOT NULL CHECK (version >= 1),
    generation  INTEGER NOT NULL CHECK (generation >= 1),
    checkpoint  INTEGER NOT NULL CHECK (checkpoint >= 0),
    updatedAtUs INTEGER NOT NULL
) STRICT;
