package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/internal/smallfs"
)

// TestFullDiskIsStorageFull: on a full disk, making a contact's key fails
// with eventstore.ErrStorageFull, and works again once space is freed.
func TestFullDiskIsStorageFull(t *testing.T) {
	ctx := context.Background()
	dir := smallfs.Mount(t, "1m")
	keys := open(t, dir)
	if _, err := keys.EnsureKey(ctx, "before"); err != nil {
		t.Fatal(err)
	}
	filler := smallfs.Fill(t, dir)
	var full error
	for i := 0; i < 5000 && full == nil; i++ {
		if _, err := keys.EnsureKey(ctx, fmt.Sprintf("contact-%d", i)); err != nil {
			full = err
		}
	}
	if !errors.Is(full, eventstore.ErrStorageFull) {
		t.Fatalf("making keys on a full disk: %v; want ErrStorageFull", full)
	}
	if _, err := keys.Key(ctx, "before"); err != nil {
		t.Fatalf("reading a key on a full disk: %v", err)
	}
	smallfs.Free(t, filler)
	if _, err := keys.EnsureKey(ctx, "after"); err != nil {
		t.Fatalf("making a key once space is back: %v", err)
	}
}
