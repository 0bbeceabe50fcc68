-- +goose Up
-- Personal users (auth.UserStore), tokens that belong to one and expire,
-- and the audit log. A user's sessions name it by kind 'user' and its id
-- (as bytes) in the sessions table of 0001.
--
-- subject_hash is the SHA-256 of provider, NUL, subject: the provider's
-- subject is no secret but is personal data, and only equality is needed.
-- Erasing the user sets it NULL (many NULLs are allowed by UNIQUE), so
-- the person signing in again is a new user. profile is the name and
-- e-mail sealed under the user's own key (auth.Sealer), NULL once erased.
-- municipalities are today's codes, comma-separated, as in tokens.
CREATE TABLE users (
	id               TEXT PRIMARY KEY,
	provider         TEXT NOT NULL,
	subject_hash     BLOB UNIQUE,
	profile          BLOB,
	role             TEXT NOT NULL,
	municipalities   TEXT NOT NULL,
	granted_by_admin INTEGER NOT NULL DEFAULT 0,
	disabled         INTEGER NOT NULL DEFAULT 0,
	erased           INTEGER NOT NULL DEFAULT 0,
	created_at       TEXT NOT NULL,
	last_sign_in_at  TEXT NOT NULL
) STRICT;

-- owner is the user who answers for the token (NULL for a service
-- account's); expires_at is RFC 3339 in UTC, NULL for never.
ALTER TABLE tokens ADD COLUMN owner TEXT REFERENCES users (id);
ALTER TABLE tokens ADD COLUMN expires_at TEXT;
CREATE INDEX tokens_owner ON tokens (owner);

-- grant_json is the grant given ({"role":…,"municipalities":[…]}), NULL
-- where the action gives none. No personal data: users by id, tokens by
-- name.
CREATE TABLE audit (
	seq        INTEGER PRIMARY KEY AUTOINCREMENT,
	at         TEXT NOT NULL,
	actor      TEXT NOT NULL,
	action     TEXT NOT NULL,
	target     TEXT NOT NULL,
	grant_json TEXT
) STRICT;
CREATE INDEX audit_actor ON audit (actor, seq);
CREATE INDEX audit_target ON audit (target, seq);
CREATE INDEX audit_action ON audit (action, seq);

