-- +goose Up
-- The global log. position is the rowid, assigned inside the single writer
-- transaction, so positions grow strictly in commit order. Times are UTC
-- RFC 3339 text with nine fractional digits (sortable, exact to the
-- nanosecond); metadata and data are JSON text.
CREATE TABLE events (
    position       INTEGER PRIMARY KEY,
    event_id       TEXT    NOT NULL UNIQUE,
    stream_id      TEXT    NOT NULL,
    version        INTEGER NOT NULL CHECK (version >= 1),
    type           TEXT    NOT NULL,
    schema_version INTEGER NOT NULL,
    occurred_at    TEXT    NOT NULL,
    recorded_at    TEXT    NOT NULL,
    metadata       TEXT    NOT NULL,
    data           TEXT    NOT NULL,
    UNIQUE (stream_id, version)
) STRICT;

-- Idempotency keys are written in the same transaction as the events they
-- stand for.
CREATE TABLE idempotency_keys (
    key           TEXT    PRIMARY KEY,
    request_hash  TEXT    NOT NULL,
    stream_id     TEXT    NOT NULL,
    first_version INTEGER NOT NULL,
    last_version  INTEGER NOT NULL,
    position      INTEGER NOT NULL REFERENCES events (position),
    recorded_at   TEXT    NOT NULL
) STRICT, WITHOUT ROWID;
