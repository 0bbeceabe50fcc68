// Package postgres keeps the contacts' data keys, and the installation
// secret, in PostgreSQL, apart from the events, so that several samspill
// instances share them. It behaves as personal/sqlite does (the shared
// suite personal/personaltest holds both to the same contract), except in
// what an erasure leaves behind on disk.
//
// The tables (personal_keys, personal_installation_secret) live in the
// connection's current schema, the first existing one of its search_path.
// Open creates them if need be, under an advisory lock keyed on that
// schema, so instances that start at the same time do not trip over each
// other.
//
// # What an erasure achieves, and what it cannot
//
// Erase sets the contact's key to NULL (the row stays as the record that
// the contact was erased) and then runs VACUUM on the table. From then on
// no instance can read the key through PostgreSQL, and every copy of the
// contact's personal data in the events is unreadable to samspill.
//
// PostgreSQL never overwrites a row in place: the old row version, key
// included, stays in the table's pages until VACUUM removes it. The VACUUM
// after each erasure removes it (and those of earlier erasures) from the
// table's pages, and the next checkpoint writes those pages to the data
// file. Streaming replicas replay the removal. VACUUM can remove a row
// version only once no transaction that might still see it is open: while
// a transaction older than the erasure runs anywhere in the database (a
// long report, a pg_dump in progress, a prepared transaction, a standby
// with hot_standby_feedback or its replication slot), the key stays in
// the pages until a later VACUUM (autovacuum, or the next erasure; erasing
// the contact again runs one).
//
// Where copies of the key can remain all the same, out of any
// application's reach (personal/sqlite, with secure_delete and a truncated
// WAL, leaves none in its files):
//   - the key was written to the write-ahead log when it was made, and
//     again in a full-page image whenever its page was first changed after
//     a checkpoint (the erasure's own update included); WAL segments keep
//     it until they are recycled and overwritten, and a WAL archive
//     (archive_mode, point-in-time recovery) keeps it for as long as the
//     archive is kept;
//   - base backups and dumps taken before the erasure hold the key;
//   - logical replicas and anything else fed from the WAL hold what they
//     received;
//   - the server log holds it if statements are logged with their
//     parameters (log_statement = mod or all);
//   - the file system and the disk may keep freed blocks (as with SQLite).
//
// So on PostgreSQL an erasure is complete only when the last WAL segment,
// archive and backup made before it has been destroyed: the retention of
// backups and WAL archives bounds how long an erased person stays
// recoverable, and operations must say so (docs/operations.md).
package postgres

import (
	"context"
	"crypto/rand"
	"embed"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/internal/pgdb"
	"github.com/samspill/samspill/personal"
)

// keySize is the length of a contact's key and of the installation
// secret: 256 bits.
const keySize = 32

// migrations are the tables' SQL (internal/migrate), their versions in
// personal_schema_migrations. 0001 is the schema the store created before
// it had migrations, still IF NOT EXISTS, so a schema made then gets its
// version table and keeps its rows.
//
//go:embed migrations/*.sql
var migrations embed.FS

// applicationName names the store's connections in pg_stat_activity
// unless the connection string names them.
const applicationName = "samspill keys"

// Keys is the PostgreSQL key store (personal.KeyStore). It is safe for
// concurrent use, also by several processes on one schema.
type Keys struct {
	pool *pgxpool.Pool
	now  func() time.Time
}

var _ personal.KeyStore = (*Keys)(nil)

// Open connects to the PostgreSQL server of connString (a URL or key=value
// pairs, as pgx reads them; pool_max_conns and the other pgxpool settings
// work too) and creates the key tables in the current schema if they are
// not there. Concurrent Opens on one schema are safe.
func Open(ctx context.Context, connString string) (*Keys, error) {
	pool, err := pgdb.Open(ctx, connString, pgdb.Store{
		Name:         "personal/postgres",
		Application:  applicationName,
		Migrations:   migrations,
		VersionTable: "personal_schema_migrations",
		MaxConns:     maxConns,
	})
	if err != nil {
		return nil, fmt.Errorf("key store: %w", err)
	}
	return &Keys{pool: pool, now: time.Now}, nil
}

// maxConns bounds the store's pool (pool_max_conns in the connection
// string overrides it).
const maxConns = 2

// Close closes the store's connections. It never fails; the error is
// there so that Keys closes as personal/sqlite's does.
func (k *Keys) Close() error {
	k.pool.Close()
	return nil
}

// Key returns the contact's key: personal.ErrErased for an erased
// contact, personal.ErrUnknownContact when it has none. It never makes one.
func (k *Keys) Key(ctx context.Context, contactID string) ([]byte, error) {
	var key []byte
	err := k.pool.QueryRow(ctx, `SELECT key FROM personal_keys WHERE contact_id = $1`, contactID).Scan(&key)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, personal.ErrUnknownContact
	case err != nil:
		return nil, fmt.Errorf("contact key: %w", err)
	case key == nil:
		return nil, personal.ErrErased
	}
	return key, nil
}

// EnsureKey returns the contact's key, making one if it has none.
// Instances that make the same contact's key at the same time all get the
// one stored first. It returns personal.ErrErased for an erased contact.
func (k *Keys) EnsureKey(ctx context.Context, contactID string) ([]byte, error) {
	key, err := k.Key(ctx, contactID)
	if !errors.Is(err, personal.ErrUnknownContact) {
		return key, err
	}
	key = make([]byte, keySize)
	_, _ = rand.Read(key) // never fails (crypto/rand)
	if _, err := k.pool.Exec(ctx, `INSERT INTO personal_keys (contact_id, key, created_at) VALUES ($1, $2, $3)
		ON CONFLICT (contact_id) DO NOTHING`, contactID, key, k.now().UTC()); err != nil {
		return nil, fmt.Errorf("contact key: %w", writeFailed(err))
	}
	// Another instance may have made the key first (or erased the
	// contact since): use what is stored.
	return k.Key(ctx, contactID)
}

// Erase sets the contact's key to NULL, remembering that the contact was
// erased, and then vacuums the table so that the old row version with the
// key leaves the table's pages; see the package comment for what remains
// elsewhere. Erasing an erased contact is no error and vacuums again;
// personal.ErrUnknownContact means there never was a key. An error from
// VACUUM is returned after the key is already unreadable; erasing again
// retries it.
func (k *Keys) Erase(ctx context.Context, contactID string) error {
	tag, err := k.pool.Exec(ctx, `UPDATE personal_keys SET key = NULL, erased_at = $2 WHERE contact_id = $1 AND key IS NOT NULL`,
		contactID, k.now().UTC())
	if err != nil {
		return fmt.Errorf("erase contact: %w", writeFailed(err))
	}
	if tag.RowsAffected() == 0 {
		var known bool
		if err := k.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM personal_keys WHERE contact_id = $1)`, contactID).Scan(&known); err != nil {
			return fmt.Errorf("erase contact: %w", err)
		}
		if !known {
			return fmt.Errorf("erase contact %s: %w", contactID, personal.ErrUnknownContact)
		}
	}
	// VACUUM cannot run inside a transaction; the pool runs it on its own.
	if _, err := k.pool.Exec(ctx, `VACUUM personal_keys`); err != nil {
		return fmt.Errorf("erase contact: the key is erased, but its old row version may stay in the table's pages until the next VACUUM: %w", writeFailed(err))
	}
	return nil
}

// writeFailed translates the error of a write: the server refusing it for
// lack of space wraps eventstore.ErrStorageFull (personal.KeyStore).
func writeFailed(err error) error {
	if pgdb.DiskFull(err) {
		return fmt.Errorf("%w: %w", eventstore.ErrStorageFull, err)
	}
	return err
}

// InstallationSecret returns the installation's secret: 32 random bytes,
// made by the first caller on the schema and the same for every caller
// after, in every instance (instances that make it at the same time all
// get the one stored first).
func (k *Keys) InstallationSecret(ctx context.Context) ([]byte, error) {
	secret, err := k.storedSecret(ctx)
	if err == nil || !errors.Is(err, pgx.ErrNoRows) {
		return secret, err
	}
	secret = make([]byte, keySize)
	_, _ = rand.Read(secret) // never fails (crypto/rand)
	if _, err := k.pool.Exec(ctx, `INSERT INTO personal_installation_secret (secret, created_at) VALUES ($1, $2)
		ON CONFLICT (singleton) DO NOTHING`, secret, k.now().UTC()); err != nil {
		return nil, fmt.Errorf("installation secret: %w", err)
	}
	// Another instance may have made it first: use what is stored.
	secret, err = k.storedSecret(ctx)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errors.New("installation secret: none stored after making one")
	}
	return secret, err
}

// storedSecret reads the installation secret; pgx.ErrNoRows means there is
// none yet.
func (k *Keys) storedSecret(ctx context.Context) ([]byte, error) {
	var secret []byte
	err := k.pool.QueryRow(ctx, `SELECT secret FROM personal_installation_secret`).Scan(&secret)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, err
	case err != nil:
		return nil, fmt.Errorf("installation secret: %w", err)
	}
	return secret, nil
}
