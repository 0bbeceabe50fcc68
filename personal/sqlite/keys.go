// Package sqlite keeps the contacts' data keys in their own SQLite file in
// the data folder (keys.db), apart from the events. It runs with
// secure_delete, and an erasure checkpoints and truncates the WAL, so a
// destroyed key survives neither in free pages nor in the log.
package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"time"

	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/internal/sqlitedb"
	"github.com/samspill/samspill/personal"
)

// migrations are the tables' SQL (internal/migrate). 0001 is the schema
// the store created before it had migrations, still IF NOT EXISTS, so a
// keys.db made then gets its version table and keeps its rows.
//
//go:embed migrations/*.sql
var migrations embed.FS

// Keys is the SQLite key store (personal.KeyStore).
type Keys struct {
	db  *sql.DB
	now func() time.Time
}

var _ personal.KeyStore = (*Keys)(nil)

// Open opens (and creates) the key store at path.
func Open(ctx context.Context, path string) (*Keys, error) {
	db, err := sqlitedb.Open(ctx, path, migrations, "secure_delete(ON)")
	if err != nil {
		return nil, fmt.Errorf("key store: %w", err)
	}
	return &Keys{db: db, now: time.Now}, nil
}

// Close closes the store.
func (k *Keys) Close() error { return k.db.Close() }

// Key returns the contact's key: personal.ErrErased for an erased
// contact, personal.ErrUnknownContact when it has none. It never makes one.
func (k *Keys) Key(ctx context.Context, contactID string) ([]byte, error) {
	var key []byte
	err := k.db.QueryRowContext(ctx, `SELECT key FROM contact_keys WHERE contact_id = ?`, contactID).Scan(&key)
	if err == nil {
		return key, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("contact key: %w", err)
	}
	var erased int
	if err := k.db.QueryRowContext(ctx, `SELECT count(*) FROM erased_contacts WHERE contact_id = ?`, contactID).Scan(&erased); err != nil {
		return nil, fmt.Errorf("contact key: %w", err)
	}
	if erased > 0 {
		return nil, personal.ErrErased
	}
	return nil, personal.ErrUnknownContact
}

// EnsureKey returns the contact's key, making one if it has none;
// personal.ErrErased for an erased contact.
func (k *Keys) EnsureKey(ctx context.Context, contactID string) ([]byte, error) {
	key, err := k.Key(ctx, contactID)
	if !errors.Is(err, personal.ErrUnknownContact) {
		return key, err
	}
	key = make([]byte, 32)
	_, _ = rand.Read(key)
	if _, err := k.db.ExecContext(ctx, `INSERT INTO contact_keys (contact_id, key, created_at) VALUES (?, ?, ?)
		ON CONFLICT (contact_id) DO NOTHING`, contactID, key, k.now().UTC().Format(time.RFC3339)); err != nil {
		return nil, fmt.Errorf("contact key: %w", writeFailed(err))
	}
	// Another writer may have made the key first: use the stored one.
	return k.Key(ctx, contactID)
}

// Erase deletes the key (overwritten in place: secure_delete), remembers
// that the contact was erased, and checkpoints the WAL into the database
// and truncates it, so no copy of the key is left in any file.
func (k *Keys) Erase(ctx context.Context, contactID string) error {
	tx, err := k.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("erase contact: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	res, err := tx.ExecContext(ctx, `DELETE FROM contact_keys WHERE contact_id = ?`, contactID)
	if err != nil {
		return fmt.Errorf("erase contact: %w", writeFailed(err))
	}
	deleted, _ := res.RowsAffected()
	var erased int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM erased_contacts WHERE contact_id = ?`, contactID).Scan(&erased); err != nil {
		return fmt.Errorf("erase contact: %w", err)
	}
	if deleted == 0 && erased == 0 {
		return fmt.Errorf("erase contact %s: %w", contactID, personal.ErrUnknownContact)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO erased_contacts (contact_id, erased_at) VALUES (?, ?) ON CONFLICT DO NOTHING`,
		contactID, k.now().UTC().Format(time.RFC3339)); err != nil {
		return fmt.Errorf("erase contact: %w", writeFailed(err))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("erase contact: %w", writeFailed(err))
	}
	return k.checkpoint(ctx)
}

// writeFailed translates the error of a write: SQLite refusing it for lack
// of space wraps eventstore.ErrStorageFull (personal.KeyStore).
func writeFailed(err error) error {
	if sqlitedb.DiskFull(err) {
		return fmt.Errorf("%w: %w", eventstore.ErrStorageFull, err)
	}
	return err
}

// checkpoint copies the WAL into the database and truncates it. A reader
// holding an old snapshot can block it; it is tried again for a while.
func (k *Keys) checkpoint(ctx context.Context) error {
	for attempt := 0; ; attempt++ {
		var busy, logFrames, checkpointed int
		if err := k.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &checkpointed); err != nil {
			return fmt.Errorf("erase contact: checkpoint: %w", err)
		}
		if busy == 0 {
			return nil
		}
		if attempt == 50 {
			return errors.New("erase contact: the key store stayed busy; the key is deleted but may linger in the WAL until the next checkpoint")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
