package postgres

import (
	"context"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/auth/authtest"
	"github.com/samspill/samspill/internal/pgtest"
)

// openAt opens a store on the schema of url and closes it when the test
// ends.
func openAt(t *testing.T, url string) *Tokens {
	t.Helper()
	s, err := Open(t.Context(), url)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestContract(t *testing.T) {
	authtest.Run(t, func(t *testing.T) auth.SessionStore { return openAt(t, pgtest.URL(t)) })
}

// query runs a statement of the test's own on the schema of url and scans
// its one row.
func query(t *testing.T, url, stmt string, dest ...any) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if err := conn.QueryRow(t.Context(), stmt).Scan(dest...); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
}

// TestOnlyTheHashIsStored: no column of any row holds the token.
func TestOnlyTheHashIsStored(t *testing.T) {
	ctx := t.Context()
	url := pgtest.URL(t)
	s := openAt(t, url)
	tok, err := s.Create(ctx, auth.Spec{Name: "steinkjer", Role: auth.RoleCoordinator, Municipalities: []string{"1702"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, tok); err != nil {
		t.Fatal(err)
	}
	var rows string
	query(t, url, `SELECT string_agg(t::text, ' ') FROM auth_tokens t`, &rows)
	if strings.Contains(rows, tok) || strings.Contains(rows, strings.TrimPrefix(tok, "ssp_")) {
		t.Fatalf("the table holds the token: %s", rows)
	}
	if hash := auth.HashToken(tok); !strings.Contains(rows, hex.EncodeToString(hash[:])) {
		t.Fatalf("the table does not hold the token's hash: %s", rows)
	}
	now := time.Now()
	id, _, err := s.StartSession(ctx, tok, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, id, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	query(t, url, `SELECT string_agg(s::text, ' ') FROM auth_sessions s`, &rows)
	if strings.Contains(rows, id) || strings.Contains(rows, tok) {
		t.Fatalf("the sessions table holds the session id or the token: %s", rows)
	}
	if hash := auth.HashSessionID(id); !strings.Contains(rows, hex.EncodeToString(hash[:])) {
		t.Fatalf("the sessions table does not hold the session's hash: %s", rows)
	}
}

// TestSessionReadsTheTokenRow: a session's principal is the token's row as
// it is at each use, not as it was at sign-in.
func TestSessionReadsTheTokenRow(t *testing.T) {
	ctx := t.Context()
	s := openAt(t, pgtest.URL(t))
	tok, err := s.Create(ctx, auth.Spec{Name: "arendal", Role: auth.RoleCoordinator, Municipalities: []string{"4203"}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	id, _, err := s.StartSession(ctx, tok, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, `UPDATE auth_tokens SET role = 'viewer', municipalities = '{}' WHERE name = 'arendal'`); err != nil {
		t.Fatal(err)
	}
	if p, err := s.Session(ctx, id, now.Add(time.Second)); err != nil || p.Role != auth.RoleViewer || p.Municipalities != nil {
		t.Fatalf("after the row changed: %+v, %v; want a viewer without municipalities", p, err)
	}
}

// TestTwoInstancesShareSessions: a session started on one instance works
// on another, and signing out or revoking on either ends it on both.
func TestTwoInstancesShareSessions(t *testing.T) {
	ctx := t.Context()
	url := pgtest.URL(t)
	a, b := openAt(t, url), openAt(t, url)
	tok, err := a.Create(ctx, auth.Spec{Name: "arendal", Role: auth.RoleCoordinator, Municipalities: []string{"0906"}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	out, _, err := a.StartSession(ctx, tok, now)
	if err != nil {
		t.Fatal(err)
	}
	revoked, _, err := b.StartSession(ctx, tok, now)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{out, revoked} {
		for _, s := range []*Tokens{a, b} {
			if p, err := s.Session(ctx, id, now.Add(time.Minute)); err != nil || p.Subject != "arendal" {
				t.Fatalf("a session on either instance: %+v, %v", p, err)
			}
		}
	}
	if err := b.EndSession(ctx, out); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Session(ctx, out, now.Add(2*time.Minute)); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("signed out on the other instance: %v, want ErrUnauthenticated", err)
	}
	if _, err := a.Session(ctx, revoked, now.Add(2*time.Minute)); err != nil {
		t.Fatalf("the other session: %v", err)
	}
	if err := b.Revoke(ctx, "arendal"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Session(ctx, revoked, now.Add(3*time.Minute)); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("revoked on the other instance: %v, want ErrUnauthenticated", err)
	}
	var left int
	query(t, url, `SELECT count(*) FROM auth_sessions`, &left)
	if left != 0 {
		t.Fatalf("%d sessions left after the sign-out and the revocation", left)
	}
}

// TestTwoInstances: two stores on one schema (two samspill instances) see
// each other's tokens, revocations and names.
func TestTwoInstances(t *testing.T) {
	ctx := t.Context()
	url := pgtest.URL(t)
	a, b := openAt(t, url), openAt(t, url)
	tok, err := a.Create(ctx, auth.Spec{Name: "arendal", Role: auth.RoleCoordinator, Municipalities: []string{"0906"}})
	if err != nil {
		t.Fatal(err)
	}
	if p, err := b.Authenticate(ctx, tok); err != nil || p.Subject != "arendal" || len(p.Municipalities) != 1 || p.Municipalities[0] != "4203" {
		t.Fatalf("the other instance: %+v, %v", p, err)
	}
	if _, err := b.Create(ctx, auth.Spec{Name: "arendal", Role: auth.RoleViewer}); !errors.Is(err, auth.ErrTokenExists) {
		t.Fatalf("the name on the other instance: %v, want ErrTokenExists", err)
	}
	if err := b.Revoke(ctx, "arendal"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(ctx, tok); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("revoked on the other instance: %v, want ErrUnauthenticated", err)
	}

	// Instances racing for one name: exactly one wins.
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		won  int
		errs []error
	)
	for i := range 8 {
		s := []*Tokens{a, b}[i%2]
		wg.Go(func() {
			_, err := s.Create(ctx, auth.Spec{Name: "race", Role: auth.RoleViewer})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won++
			case !errors.Is(err, auth.ErrTokenExists):
				errs = append(errs, err)
			}
		})
	}
	wg.Wait()
	if won != 1 || len(errs) > 0 {
		t.Fatalf("%d instances made the token; other errors: %v", won, errs)
	}
}

// TestConcurrentOpen: instances starting at once on an empty schema all
// open it (the schema is made under the advisory lock), and opening a
// made schema again changes nothing.
func TestConcurrentOpen(t *testing.T) {
	url := pgtest.URL(t)
	const instances = 8
	stores := make([]*Tokens, instances)
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
	tok, err := stores[0].Create(t.Context(), auth.Spec{Name: "admin", Role: auth.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	again := openAt(t, url)
	if p, err := again.Authenticate(t.Context(), tok); err != nil || p.Subject != "admin" {
		t.Fatalf("after opening again: %+v, %v", p, err)
	}
}

// TestLastUsedAtMostOncePerMinute: last_used_at is written at most once a
// minute per token, also by two instances together.
func TestLastUsedAtMostOncePerMinute(t *testing.T) {
	ctx := t.Context()
	url := pgtest.URL(t)
	a, b := openAt(t, url), openAt(t, url)
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	clock := func(s *Tokens, at time.Time) { s.now = func() time.Time { return at } }
	clock(a, t0)
	tok, err := a.Create(ctx, auth.Spec{Name: "admin", Role: auth.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	lastUsed := func() time.Time {
		t.Helper()
		list, err := a.List(ctx)
		if err != nil || len(list) != 1 || list[0].LastUsedAt == nil {
			t.Fatalf("List = %+v, %v", list, err)
		}
		return *list[0].LastUsedAt
	}
	use := func(s *Tokens, at time.Time) {
		t.Helper()
		clock(s, at)
		if _, err := s.Authenticate(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	use(a, t0.Add(time.Second))
	if got := lastUsed(); !got.Equal(t0.Add(time.Second)) {
		t.Fatalf("first use: last used %v", got)
	}
	use(a, t0.Add(30*time.Second)) // this instance wrote less than a minute ago
	use(b, t0.Add(40*time.Second)) // another instance did
	if got := lastUsed(); !got.Equal(t0.Add(time.Second)) {
		t.Fatalf("within the minute: last used %v, want %v", got, t0.Add(time.Second))
	}
	use(b, t0.Add(2*time.Minute))
	if got := lastUsed(); !got.Equal(t0.Add(2 * time.Minute)) {
		t.Fatalf("a minute later: last used %v, want %v", got, t0.Add(2*time.Minute))
	}
	if list, _ := a.List(ctx); !list[0].CreatedAt.Equal(t0) || list[0].CreatedAt.Location() != time.UTC {
		t.Fatalf("CreatedAt %v, want %v in UTC", list[0].CreatedAt, t0)
	}
}

// TestOpenWithoutSchema: a search_path that names no existing schema is a
// clear error, not a table in some other schema.
func TestOpenWithoutSchema(t *testing.T) {
	url, err := pgtest.WithSearchPath(pgtest.ServerURL(t), "samspill_test_no_such_schema")
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(t.Context(), url)
	if err == nil {
		_ = s.Close()
		t.Fatal("Open succeeded without a schema")
	}
	if !strings.Contains(err.Error(), "search_path") {
		t.Fatalf("Open: %v, want an error that names the search_path", err)
	}
}
