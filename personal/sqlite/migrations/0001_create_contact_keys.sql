-- +goose Up
CREATE TABLE IF NOT EXISTS contact_keys (
	contact_id TEXT PRIMARY KEY,
	key        BLOB NOT NULL,
	created_at TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS erased_contacts (
	contact_id TEXT PRIMARY KEY,
	erased_at  TEXT NOT NULL
) STRICT;
