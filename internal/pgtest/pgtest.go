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
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
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
