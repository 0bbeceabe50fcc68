-- +goose Up
-- Survey response links (auth.SurveyLinkStore): the SHA-256 of each link's
-- token, never the token, and nothing that ties a link to its response
-- (no response id, no time of starting or completing: state is all).
-- seq orders a wave's links by creation and survives a re-key, which
-- replaces the hash. address is '' for links not mailed by samspill and
-- once erased at the wave's close (secure_delete is on for this file).
CREATE TABLE survey_links (
	seq            INTEGER PRIMARY KEY AUTOINCREMENT,
	hash           BLOB NOT NULL UNIQUE,
	wave_id        TEXT NOT NULL,
	project_id     TEXT NOT NULL,
	municipality   TEXT NOT NULL,
	grp            TEXT NOT NULL,
	partnership_id TEXT NOT NULL,
	batch          TEXT NOT NULL,
	expires_at     TEXT NOT NULL,
	state          TEXT NOT NULL CHECK (state IN ('invited', 'started', 'completed')),
	created_at     TEXT NOT NULL,
	address        TEXT NOT NULL,
	mail           TEXT NOT NULL,
	mail_error     TEXT NOT NULL,
	reminders      INTEGER NOT NULL,
	last_mail_at   TEXT
) STRICT;
CREATE INDEX survey_links_wave ON survey_links (wave_id, seq);
