-- +goose Up
-- The storage probe (eventstore.StorageProber): while appends fail for lack
-- of space, readiness checks rewrite this one row, 64 KiB of zeros, to
-- learn when a write goes through again. That is more than an append of
-- usual size writes, so a probe that succeeds means appends have room, not
-- merely that a small write fitted where a failed append left some. It
-- holds no event and nothing a reader sees.
CREATE TABLE storage_probe (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    probed_at TEXT    NOT NULL,
    pad       BLOB    NOT NULL
) STRICT;
