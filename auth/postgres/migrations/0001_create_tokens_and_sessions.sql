-- +goose Up
-- The tables. Names compare byte for byte (the primary key;
-- List orders them with the "C" collation), as in auth/sqlite. The
-- constraint names are what Create recognises in a unique violation. A
-- session names its principal by kind and reference (auth.PrincipalToken
-- and the token's hash), so that another kind of principal fits the same
-- table.
CREATE TABLE IF NOT EXISTS auth_tokens (
	name           text        CONSTRAINT auth_tokens_pkey PRIMARY KEY,
	hash           bytea       NOT NULL CONSTRAINT auth_tokens_hash_key UNIQUE,
	role           text        NOT NULL,
	municipalities text[]      NOT NULL,
	created_at     timestamptz NOT NULL,
	last_used_at   timestamptz
);
CREATE TABLE IF NOT EXISTS auth_sessions (
	hash           bytea       PRIMARY KEY,
	principal_kind text        NOT NULL,
	principal_ref  bytea       NOT NULL,
	created_at     timestamptz NOT NULL,
	last_used_at   timestamptz NOT NULL,
	expires_at     timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS auth_sessions_principal ON auth_sessions (principal_kind, principal_ref);
CREATE INDEX IF NOT EXISTS auth_sessions_expires ON auth_sessions (expires_at);
