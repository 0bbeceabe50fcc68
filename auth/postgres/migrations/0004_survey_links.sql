-- +goose Up
-- Survey response links (auth.SurveyLinkStore), as in auth/sqlite: the
-- SHA-256 of each link's token, never the token, and nothing that ties a
-- link to its response (no response id, no time of starting or
-- completing). seq orders a wave's links by creation and survives a
-- re-key. An erased address leaves its old row version until VACUUM
-- (docs/operations.md).
CREATE TABLE auth_survey_links (
	seq            bigserial   PRIMARY KEY,
	hash           bytea       NOT NULL CONSTRAINT auth_survey_links_hash_key UNIQUE,
	wave_id        text        NOT NULL,
	project_id     text        NOT NULL,
	municipality   text        NOT NULL,
	grp            text        NOT NULL,
	partnership_id text        NOT NULL,
	batch          text        NOT NULL,
	expires_at     timestamptz NOT NULL,
	state          text        NOT NULL CHECK (state IN ('invited', 'started', 'completed')),
	created_at     timestamptz NOT NULL,
	address        text        NOT NULL,
	mail           text        NOT NULL,
	mail_error     text        NOT NULL,
	reminders      integer     NOT NULL,
	last_mail_at   timestamptz
);
CREATE INDEX auth_survey_links_wave ON auth_survey_links (wave_id, seq);
