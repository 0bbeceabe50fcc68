// Package pgtest gives a test a PostgreSQL schema of its own on the server
// that SAMSPILL_TEST_POSTGRES_URL names, or skips the test with a message
// when that variable is not set. CI sets it (.ci/run); a fresh machine
// without PostgreSQL skips these tests.
//
// Each call makes a new, empty schema and returns a connection string
// whose search_path is that schema, so tests of every package can share
// one database and run in parallel without seeing each other's tables.
// The schema is dropped when the test ends.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/samspill/samspill/internal/smallfs"
)

// EnvURL names the environment variable with the server's connection
// string, e.g. postgres://root@127.0.0.1:5432/test?sslmode=disable.
const EnvURL = "SAMSPILL_TEST_POSTGRES_URL"

// ServerURL returns the connection string of EnvURL, or skips t.
func ServerURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvURL)
	if u == "" {
		t.Skipf("PostgreSQL tests skipped: set %s (e.g. postgres://root@127.0.0.1:5432/test?sslmode=disable) to run them", EnvURL)
	}
	return u
}

// URL makes a new, empty schema on the server of EnvURL and returns a
// connection string that works in it (search_path set to it). The schema
// is dropped with everything in it when t ends. It skips t when EnvURL is
// not set and fails t when the server cannot be reached: a configured
// server that is down is a failure, not a skip.
func URL(t testing.TB) string {
	t.Helper()
	server := ServerURL(t)
	schema := "samspill_test_" + randomHex(6)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := exec(ctx, server, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("pgtest: create schema on %s: %v", EnvURL, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if err := exec(ctx, server, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("pgtest: drop schema %s: %v", schema, err)
		}
	})
	withSchema, err := WithSearchPath(server, schema)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return withSchema
}

// URLOnSmallDisk is URL whose tables live on a small disk of their own: a
// tablespace on a tmpfs of size (smallfs.Mount; as mount reads it, e.g.
// "2m"), which the test can fill (smallfs.Fill) to make the server refuse
// writes for lack of space (SQLSTATE 53100 disk_full), as a full disk
// does. It returns the connection string (default_tablespace set) and the
// tmpfs's path. It skips t where that cannot be: EnvURL not set, a server
// on another machine (its data directory is not here, so a tmpfs mounted
// here is out of its reach), a role that is no superuser (CREATE
// TABLESPACE needs one), or no tmpfs. The tablespace is dropped after the
// schema when t ends.
func URLOnSmallDisk(t testing.TB, size string) (connString, dir string) {
	t.Helper()
	server := ServerURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Fatalf("pgtest: connect to %s: %v", EnvURL, err)
	}
	defer conn.Close(context.Background())
	var super bool
	var dataDir string
	if err := conn.QueryRow(ctx, `SELECT rolsuper FROM pg_roles WHERE rolname = current_user`).Scan(&super); err != nil {
		t.Fatalf("pgtest: read the role: %v", err)
	}
	if !super {
		t.Skip("full-disk test on PostgreSQL skipped: CREATE TABLESPACE needs a superuser, and the test role is none")
	}
	if err := conn.QueryRow(ctx, `SHOW data_directory`).Scan(&dataDir); err != nil {
		t.Fatalf("pgtest: read data_directory: %v", err)
	}
	info, err := os.Stat(dataDir)
	if err != nil {
		t.Skipf("full-disk test on PostgreSQL skipped: the server's data directory %s is not on this machine (%v), so a tmpfs mounted here is out of its reach", dataDir, err)
	}
	owner, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		t.Skipf("full-disk test on PostgreSQL skipped: cannot tell who owns %s on %s", dataDir, runtime.GOOS)
	}

	dir = smallfs.Mount(t, size)
	location := filepath.Join(dir, "tablespace")
	if err := os.Mkdir(location, 0o700); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	if err := os.Chown(location, int(owner.Uid), int(owner.Gid)); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	name := "samspill_test_" + randomHex(6)
	if _, err := conn.Exec(ctx, `CREATE TABLESPACE `+name+` LOCATION '`+location+`'`); err != nil {
		t.Fatalf("pgtest: create tablespace on %s: %v", location, err)
	}
	t.Cleanup(func() {
		// After the schema (URL's cleanup, registered later, runs first)
		// and before the tmpfs goes (registered earlier).
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if err := exec(ctx, server, "DROP TABLESPACE "+name); err != nil {
			t.Errorf("pgtest: drop tablespace %s: %v", name, err)
		}
	})
	connString = URL(t)
	if strings.HasPrefix(connString, "postgres://") || strings.HasPrefix(connString, "postgresql://") {
		return connString + "&default_tablespace=" + name, dir // URL's query holds search_path
	}
	return connString + " default_tablespace=" + name, dir
}

// WithSearchPath returns connString with its search_path set to schema.
// It takes both forms pgx accepts: a URL, or key=value pairs.
func WithSearchPath(connString, schema string) (string, error) {
	if strings.HasPrefix(connString, "postgres://") || strings.HasPrefix(connString, "postgresql://") {
		u, err := url.Parse(connString)
		if err != nil {
			return "", fmt.Errorf("parse %s: %w", EnvURL, err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String(), nil
	}
	return connString + " search_path=" + schema, nil
}

func exec(ctx context.Context, connString, stmt string) error {
	conn, err := pgx.Connect(ctx, connString)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, stmt)
	return err
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
