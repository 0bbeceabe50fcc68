-- +goose Up
-- Research projects (auth.ProjectStore) and who is granted them, as in
-- auth/sqlite. ends is NULL for none. sealed_key is the project's
-- pseudonymisation key sealed under a key derived from the installation's
-- secret (auth.ProjectSealer), the id and key_generation its additional
-- data; a rotation overwrites it.
CREATE TABLE auth_projects (
	id             text        PRIMARY KEY,
	name           text        NOT NULL,
	institution    text        NOT NULL,
	purpose        text        NOT NULL,
	starts         date        NOT NULL,
	ends           date,
	municipalities text[]      NOT NULL,
	key_generation integer     NOT NULL,
	sealed_key     bytea       NOT NULL,
	created_at     timestamptz NOT NULL
);

-- subject is a user's id or a token's name, as Principal.Subject.
CREATE TABLE auth_project_members (
	project text NOT NULL REFERENCES auth_projects (id),
	subject text NOT NULL,
	PRIMARY KEY (project, subject)
);
CREATE INDEX auth_project_members_subject ON auth_project_members (subject);
