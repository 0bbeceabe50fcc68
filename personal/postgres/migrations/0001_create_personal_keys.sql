-- +goose Up
-- The tables. A contact's row outlives its key: erasing
-- sets key to NULL and erased_at, so the primary key that makes a key
-- once also keeps an erased contact from ever getting a new one. The
-- installation secret's table holds at most one row.
CREATE TABLE IF NOT EXISTS personal_keys (
	contact_id text        PRIMARY KEY,
	key        bytea       CHECK (octet_length(key) = 32),
	created_at timestamptz NOT NULL,
	erased_at  timestamptz,
	CHECK ((key IS NULL) = (erased_at IS NOT NULL))
);
CREATE TABLE IF NOT EXISTS personal_installation_secret (
	singleton  boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
	secret     bytea       NOT NULL CHECK (octet_length(secret) = 32),
	created_at timestamptz NOT NULL
);
