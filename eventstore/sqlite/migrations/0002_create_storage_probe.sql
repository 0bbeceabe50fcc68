-- The storage probe (eventstore.StorageProber): while appends fail for lack
-- of space, readiness checks rewrite this one row, about a page of zeros,
-- to learn when a write goes through again. It holds no event and nothing
-- a reader sees.
CREATE TABLE storage_probe (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    probed_at TEXT    NOT NULL,
    pad       BLOB    NOT NULL
) STRICT;
