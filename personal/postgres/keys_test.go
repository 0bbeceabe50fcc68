package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/samspill/samspill/internal/pgtest"
	"github.com/samspill/samspill/personal"
	"github.com/samspill/samspill/personal/personaltest"
)

// openAt opens a store on the schema of url and closes it when the test
// ends.
func openAt(t *testing.T, url string) *Keys {
	t.Helper()
	k, err := Open(t.Context(), url)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = k.Close() })
	return k
}

func TestContract(t *testing.T) {
	personaltest.Run(t, func(t *testing.T) personal.KeyStore { return openAt(t, pgtest.URL(t)) })
}

// connect opens a connection of the test's own on the schema of url.
func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

// TestTwoInstancesRaceForOneKey: two instances (two Opens on one schema)
// making the same contact's key at the same time get the same key, and an
// erasure on one is an erasure on the other.
func TestTwoInstancesRaceForOneKey(t *testing.T) {
	ctx := t.Context()
	url := pgtest.URL(t)
	instances := []*Keys{openAt(t, url), openAt(t, url)}
	const callers = 8
	for c := range 10 {
		contactID := fmt.Sprintf("contact-%d", c)
		got := make([][]byte, callers)
		errs := make([]error, callers)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range callers {
			k := instances[i%2]
			wg.Go(func() {
				<-start
				got[i], errs[i] = k.EnsureKey(ctx, contactID)
			})
		}
		close(start)
		wg.Wait()
		for i := range callers {
			if errs[i] != nil || len(got[i]) != keySize || !bytes.Equal(got[i], got[0]) {
				t.Fatalf("%s, caller %d (instance %d): %x, %v; caller 0 got %x", contactID, i, i%2, got[i], errs[i], got[0])
			}
		}
	}
	if err := instances[0].Erase(ctx, "contact-0"); err != nil {
		t.Fatal(err)
	}
	if key, err := instances[1].EnsureKey(ctx, "contact-0"); !errors.Is(err, personal.ErrErased) {
		t.Fatalf("erased on the other instance: %x, %v; want ErrErased", key, err)
	}
	if err := instances[1].Erase(ctx, "contact-0"); err != nil {
		t.Fatalf("erasing again on the other instance: %v", err)
	}
}

// TestInstallationSecret: one secret per schema, the same across Opens and
// for instances racing to make it, another in another schema.
func TestInstallationSecret(t *testing.T) {
	ctx := t.Context()
	url := pgtest.URL(t)
	a, b := openAt(t, url), openAt(t, url)
	const callers = 16
	got := make([][]byte, callers)
	errs := make([]error, callers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range callers {
		k := []*Keys{a, b}[i%2]
		wg.Go(func() {
			<-start
			got[i], errs[i] = k.InstallationSecret(ctx)
		})
	}
	close(start)
	wg.Wait()
	for i := range callers {
		if errs[i] != nil || len(got[i]) != keySize || !bytes.Equal(got[i], got[0]) {
			t.Fatalf("caller %d: %x, %v; caller 0 got %x", i, got[i], errs[i], got[0])
		}
	}
	if bytes.Equal(got[0], make([]byte, keySize)) {
		t.Fatal("the secret is all zeros")
	}
	_ = a.Close()
	_ = b.Close()
	again, err := openAt(t, url).InstallationSecret(ctx)
	if err != nil || !bytes.Equal(again, got[0]) {
		t.Fatalf("after opening again: %x, %v; want %x", again, err, got[0])
	}
	other, err := openAt(t, pgtest.URL(t)).InstallationSecret(ctx)
	if err != nil || len(other) != keySize || bytes.Equal(other, got[0]) {
		t.Fatalf("another schema's secret: %x, %v; want 32 bytes other than %x", other, err, got[0])
	}
	// The secret is not a contact's key, and no contact can take its place.
	if _, err := openAt(t, url).Key(ctx, "installation"); !errors.Is(err, personal.ErrUnknownContact) {
		t.Fatalf("Key(installation): %v, want ErrUnknownContact", err)
	}
}

// TestConcurrentOpen: instances starting at once on an empty schema all
// open it (the schema is made under the advisory lock).
func TestConcurrentOpen(t *testing.T) {
	url := pgtest.URL(t)
	const instances = 8
	stores := make([]*Keys, instances)
	errs := make([]error, instances)
	var wg sync.WaitGroup
	for i := range instances {
		wg.Go(func() { stores[i], errs[i] = Open(t.Context(), url) })
	}
	wg.Wait()
	for i := range instances {
		if errs[i] != nil {
			t.Fatalf("instance %d: %v", i, errs[i])
		}
		t.Cleanup(func() { _ = stores[i].Close() })
	}
	key, err := stores[0].EnsureKey(t.Context(), "c1")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := stores[instances-1].Key(t.Context(), "c1"); err != nil || !bytes.Equal(got, key) {
		t.Fatalf("another instance: %x, %v; want %x", got, err, key)
	}
}

// TestEraseNullsTheKeyAndVacuums: the erased contact's row keeps only the
// fact of the erasure, and the table was vacuumed after it.
func TestEraseNullsTheKeyAndVacuums(t *testing.T) {
	ctx := t.Context()
	url := pgtest.URL(t)
	keys := openAt(t, url)
	if _, err := keys.EnsureKey(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	if err := keys.Erase(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	conn := connect(t, url)
	var (
		keyIsNull bool
		erasedAt  *time.Time
	)
	if err := conn.QueryRow(ctx, `SELECT key IS NULL, erased_at FROM personal_keys WHERE contact_id = 'c1'`).Scan(&keyIsNull, &erasedAt); err != nil {
		t.Fatal(err)
	}
	if !keyIsNull || erasedAt == nil || time.Since(*erasedAt).Abs() > time.Minute {
		t.Fatalf("erased row: key is null %v, erased at %v", keyIsNull, erasedAt)
	}
	var vacuumed *time.Time
	if err := conn.QueryRow(ctx, `SELECT last_vacuum FROM pg_stat_user_tables WHERE relid = 'personal_keys'::regclass`).Scan(&vacuumed); err != nil {
		t.Fatal(err)
	}
	if vacuumed == nil {
		t.Fatal("personal_keys was not vacuumed")
	}
}

// TestErasedKeyLeavesTheTableFile reads the table's data file through the
// server (pg_read_binary_file after a CHECKPOINT, which needs a superuser
// or the roles pg_read_server_files and pg_checkpoint; skipped without
// them): after the erasure the key is no longer in it. It logs whether
// the key is still in the WAL segment written when it was made, which no
// erasure can change (see the package comment).
func TestErasedKeyLeavesTheTableFile(t *testing.T) {
	ctx := t.Context()
	url := pgtest.URL(t)
	keys := openAt(t, url)
	conn := connect(t, url)
	for i := range 50 { // a few pages' worth of other contacts
		if _, err := keys.EnsureKey(ctx, fmt.Sprintf("other-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	erased, err := keys.EnsureKey(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	var segment string
	if err := conn.QueryRow(ctx, `SELECT pg_walfile_name(pg_current_wal_lsn())`).Scan(&segment); err != nil {
		t.Fatal(err)
	}
	inTableFile := func() bool {
		t.Helper()
		if _, err := conn.Exec(ctx, `CHECKPOINT`); err != nil {
			skipUnprivileged(t, err)
			t.Fatal(err)
		}
		var file []byte
		if err := conn.QueryRow(ctx, `SELECT pg_read_binary_file(pg_relation_filepath('personal_keys'))`).Scan(&file); err != nil {
			skipUnprivileged(t, err)
			t.Fatal(err)
		}
		return bytes.Contains(file, erased)
	}
	if !inTableFile() {
		t.Fatal("the key is not in the table's file before the erasure: the check cannot see it")
	}
	// A transaction elsewhere in the database (another package's test)
	// may hold back what VACUUM can remove; erasing again vacuums again,
	// as an operator would.
	for attempt := 0; ; attempt++ {
		if err := keys.Erase(ctx, "c1"); err != nil {
			t.Fatal(err)
		}
		if !inTableFile() {
			break
		}
		if attempt == 40 {
			t.Fatal("the erased key stayed in the table's file")
		}
		t.Logf("attempt %d: the key is still in the file (an older transaction may hold its row version back); erasing again", attempt)
		time.Sleep(250 * time.Millisecond)
	}
	var wal []byte
	if err := conn.QueryRow(ctx, `SELECT pg_read_binary_file('pg_wal/' || $1::text)`, segment).Scan(&wal); err != nil {
		t.Logf("WAL segment %s not readable: %v", segment, err)
		return
	}
	t.Logf("the erased key is in the table's file: false; in WAL segment %s: %v (the limit of erasure on PostgreSQL)", segment, bytes.Contains(wal, erased))
}

// skipUnprivileged skips the test when err is PostgreSQL's
// insufficient_privilege.
func skipUnprivileged(t *testing.T, err error) {
	t.Helper()
	var pg *pgconn.PgError
	if errors.As(err, &pg) && pg.Code == "42501" {
		t.Skipf("needs a superuser or pg_read_server_files and pg_checkpoint: %v", strings.TrimSpace(pg.Message))
	}
}
