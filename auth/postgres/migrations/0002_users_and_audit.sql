-- +goose Up
-- Personal users (auth.UserStore), tokens that belong to one and expire,
-- and the audit log, as in auth/sqlite. A user's sessions name it by kind
-- 'user' and its id (as UTF-8 bytes) in auth_sessions.
--
-- subject_hash is the SHA-256 of provider, NUL, subject (auth.SubjectHash),
-- NULL once the user is erased; profile is the name and e-mail sealed
-- under the user's own key (auth.Sealer), NULL once erased. The
-- constraint name is what SignIn recognises when two first sign-ins race.
CREATE TABLE auth_users (
	id               text        PRIMARY KEY,
	provider         text        NOT NULL,
	subject_hash     bytea       CONSTRAINT auth_users_subject_hash_key UNIQUE,
	profile          bytea,
	role             text        NOT NULL,
	municipalities   text[]      NOT NULL,
	granted_by_admin boolean     NOT NULL DEFAULT false,
	disabled         boolean     NOT NULL DEFAULT false,
	erased           boolean     NOT NULL DEFAULT false,
	created_at       timestamptz NOT NULL,
	last_sign_in_at  timestamptz NOT NULL
);

-- owner is the user who answers for the token (NULL for a service
-- account's); expires_at is NULL for never.
ALTER TABLE auth_tokens ADD COLUMN owner text REFERENCES auth_users (id);
ALTER TABLE auth_tokens ADD COLUMN expires_at timestamptz;
CREATE INDEX auth_tokens_owner ON auth_tokens (owner);

-- grant_json is the grant given, NULL where the action gives none. No
-- personal data: users by id, tokens by name.
CREATE TABLE auth_audit (
	seq        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at         timestamptz NOT NULL,
	actor      text        NOT NULL,
	action     text        NOT NULL,
	target     text        NOT NULL,
	grant_json jsonb
);
CREATE INDEX auth_audit_actor ON auth_audit (actor, seq);
CREATE INDEX auth_audit_target ON auth_audit (target, seq);
CREATE INDEX auth_audit_action ON auth_audit (action, seq);
