package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/internal/smallfs"
)

// TestFullDiskStillAuthenticates: every request authenticates and records
// when its token was last used; on a full disk that record cannot be
// written, and the request must not fail for it.
func TestFullDiskStillAuthenticates(t *testing.T) {
	ctx := context.Background()
	dir := smallfs.Mount(t, "1m")
	tokens := openAt(t, filepath.Join(dir, "tokens.db"))
	now := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	tokens.now = func() time.Time { return now }
	token, err := tokens.Create(ctx, auth.Spec{Name: "reader", Role: auth.RoleViewer})
	if err != nil {
		t.Fatal(err)
	}
	lastUsed := func() *time.Time {
		t.Helper()
		list, err := tokens.List(ctx)
		if err != nil || len(list) != 1 {
			t.Fatalf("List = %v, %v", list, err)
		}
		return list[0].LastUsedAt
	}

	filler := smallfs.Fill(t, dir)
	if p, err := tokens.Authenticate(ctx, token); err != nil || p.Subject != "reader" {
		t.Fatalf("Authenticate on a full disk = %+v, %v; want the principal", p, err)
	}
	if at := lastUsed(); at != nil {
		t.Fatalf("last used %v recorded on a full disk: the test did not make the write fail", at)
	}

	smallfs.Free(t, filler)
	now = now.Add(2 * auth.LastUsedEvery)
	if _, err := tokens.Authenticate(ctx, token); err != nil {
		t.Fatal(err)
	}
	if at := lastUsed(); at == nil || !at.Equal(now) {
		t.Fatalf("last used %v once space is back; want %v", at, now)
	}
}
