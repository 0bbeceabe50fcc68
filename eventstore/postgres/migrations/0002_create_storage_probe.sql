-- +goose Up
-- The storage probe (eventstore.StorageProber): while appends fail for lack
-- of space, readiness checks empty this table (TRUNCATE gives it a new,
-- empty file) and insert eight rows of 7,000 bytes kept in line and
-- uncompressed (STORAGE PLAIN), one per page, which must extend that file
-- by 64 KiB: the insert succeeds only where a table can grow again, by
-- more than an append of usual size needs. It holds no event and nothing a
-- reader sees.
CREATE TABLE storage_probe (
    probed_at TEXT NOT NULL,
    pad       TEXT NOT NULL
);
ALTER TABLE storage_probe ALTER COLUMN pad SET STORAGE PLAIN;
