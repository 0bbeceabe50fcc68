-- The storage probe (eventstore.StorageProber): while appends fail for lack
-- of space, readiness checks empty this table (TRUNCATE gives it a new,
-- empty file) and insert one row, which must extend that file by a page:
-- it succeeds only where a table can grow again. It holds no event and
-- nothing a reader sees.
CREATE TABLE storage_probe (
    probed_at TEXT NOT NULL
);
