-- +goose Up
-- The tables. A session names its principal by kind and
-- reference (auth.PrincipalToken and the token's hash), so that another
-- kind of principal fits the same table; times are RFC 3339 in UTC to the
-- second, which compare as text.
CREATE TABLE IF NOT EXISTS tokens (
	name           TEXT PRIMARY KEY,
	hash           BLOB NOT NULL UNIQUE,
	role           TEXT NOT NULL,
	municipalities TEXT NOT NULL,
	created_at     TEXT NOT NULL,
	last_used_at   TEXT
) STRICT;
CREATE TABLE IF NOT EXISTS sessions (
	hash           BLOB PRIMARY KEY,
	principal_kind TEXT NOT NULL,
	principal_ref  BLOB NOT NULL,
	created_at     TEXT NOT NULL,
	last_used_at   TEXT NOT NULL,
	expires_at     TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS sessions_principal ON sessions (principal_kind, principal_ref);
CREATE INDEX IF NOT EXISTS sessions_expires ON sessions (expires_at);