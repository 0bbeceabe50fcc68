-- +goose Up
-- Research projects (auth.ProjectStore) and who is granted them.
--
-- municipalities are today's codes, comma-separated, as in tokens ('' for
-- all); ends is '' for none. sealed_key is the project's pseudonymisation
-- key sealed under a key derived from the installation's secret
-- (auth.ProjectSealer), the id and key_generation its additional data.
-- A rotation overwrites it; secure_delete (on for this file) and a
-- checkpoint leave the old one in no page.
CREATE TABLE projects (
	id             TEXT PRIMARY KEY,
	name           TEXT NOT NULL,
	institution    TEXT NOT NULL,
	purpose        TEXT NOT NULL,
	starts         TEXT NOT NULL,
	ends           TEXT NOT NULL,
	municipalities TEXT NOT NULL,
	key_generation INTEGER NOT NULL,
	sealed_key     BLOB NOT NULL,
	created_at     TEXT NOT NULL
) STRICT;

-- subject is a user's id or a token's name, as Principal.Subject.
CREATE TABLE project_members (
	project TEXT NOT NULL REFERENCES projects (id),
	subject TEXT NOT NULL,
	PRIMARY KEY (project, subject)
) STRICT;
CREATE INDEX project_members_subject ON project_members (subject);
