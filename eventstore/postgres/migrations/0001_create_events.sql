-- +goose Up
-- The global log. position is assigned by the appending transaction from
-- the counter in positions, under that row's lock, so positions grow
-- strictly in commit order (see the package comment). Times are UTC
-- RFC 3339 text with nine fractional digits (TIMESTAMPTZ keeps only
-- microseconds); metadata and data are the JSON text exactly as appended
-- (jsonb would rewrite it, and exports must be byte-reproducible).
CREATE TABLE events (
    position       BIGINT NOT NULL CHECK (position >= 1),
    event_id       TEXT   NOT NULL,
    stream_id      TEXT   NOT NULL,
    version        BIGINT NOT NULL CHECK (version >= 1),
    type           TEXT   NOT NULL,
    schema_version BIGINT NOT NULL,
    occurred_at    TEXT   NOT NULL,
    recorded_at    TEXT   NOT NULL,
    metadata       TEXT   NOT NULL,
    data           TEXT   NOT NULL,
    CONSTRAINT events_pkey PRIMARY KEY (position),
    CONSTRAINT events_event_id_unique UNIQUE (event_id),
    CONSTRAINT events_stream_version_unique UNIQUE (stream_id, version)
);

-- The first event of every stream, for listing streams.
CREATE INDEX events_first_of_stream ON events (position) WHERE version = 1;

-- Idempotency keys are written in the same transaction as the events they
-- stand for.
CREATE TABLE idempotency_keys (
    key           TEXT   NOT NULL,
    request_hash  TEXT   NOT NULL,
    stream_id     TEXT   NOT NULL,
    first_version BIGINT NOT NULL,
    last_version  BIGINT NOT NULL,
    position      BIGINT NOT NULL REFERENCES events (position),
    recorded_at   TEXT   NOT NULL,
    CONSTRAINT idempotency_keys_pkey PRIMARY KEY (key)
);

-- The last position handed out: one row, which every transaction that
-- writes events locks first and updates last.
CREATE TABLE positions (
    only_row BOOLEAN NOT NULL DEFAULT TRUE CHECK (only_row),
    last     BIGINT  NOT NULL CHECK (last >= 0),
    CONSTRAINT positions_pkey PRIMARY KEY (only_row)
);
INSERT INTO positions (last) VALUES (0);
