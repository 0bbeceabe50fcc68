//go:build unix

package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDamagedReadModelsAreSetAside damages readmodels.db in three ways and
// starts serve: it must set the file aside (kept, 0600), warn with its new
// name, rebuild the read models from the events and serve them. projections
// rebuild does the same; a read-model file that fails for another reason
// stays an error.
func TestDamagedReadModelsAreSetAside(t *testing.T) {
	// The subtests run side by side, each on a data folder of its own,
	// after this function returns: the context lasts until they are done.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	bin := buildServe(ctx, t)

	garbage := []byte(strings.Repeat("not a read model at all. ", 400))
	for _, tc := range []struct {
		name   string
		damage func(real []byte) []byte
	}{
		{"garbage", func([]byte) []byte { return garbage }},
		{"a valid header, then garbage", func(real []byte) []byte { return append(append([]byte{}, real[:100]...), garbage...) }},
		{"truncated", func(real []byte) []byte { return real[:len(real)/2] }},
		// Page 2 is the root of the catalog's first table, made first in a
		// fresh file: the file opens, and reading the catalog fails.
		{"the catalog overwritten", func(real []byte) []byte {
			b := bytes.Clone(real)
			copy(b[4096:8192], bytes.Repeat([]byte{0xa5}, 4096))
			return b
		}},
	} {
		t.Run("serve/"+tc.name, func(t *testing.T) {
			t.Parallel()
			dir := operatorFolder(t)
			if code, _, stderr := cli("demo", "--data", dir); code != 0 {
				t.Fatal(stderr)
			}
			if code, _, stderr := cli("projections", "rebuild", "--data", dir); code != 0 {
				t.Fatal(stderr)
			}
			path := filepath.Join(dir, "readmodels.db")
			real, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			damaged := tc.damage(real)
			if err := os.WriteFile(path, damaged, 0o600); err != nil {
				t.Fatal(err)
			}
			p := startServe(t, bin, dir)
			awaitProjectionsLive(t, p.URL, p.Token)
			var list struct{ Items []struct{ ID string } }
			if status := getJSON(t, p.URL, p.Token, "/api/v1/partnerships?municipality=4203", &list); status != http.StatusOK || len(list.Items) == 0 {
				t.Fatalf("the list after the rebuild: %d, %d items", status, len(list.Items))
			}
			if status := getJSON(t, p.URL, "", "/readyz", nil); status != http.StatusOK {
				t.Errorf("/readyz: %d", status)
			}
			moved := setAside(t, dir, damaged)
			if !strings.Contains(p.Output(), "level=WARN") || !strings.Contains(p.Output(), moved) {
				t.Errorf("no warning naming %s:\n%s", moved, p.Output())
			}
		})
	}

	t.Run("projections rebuild", func(t *testing.T) {
		t.Parallel()
		dir := operatorFolder(t)
		if code, _, stderr := cli("demo", "--data", dir); code != 0 {
			t.Fatal(stderr)
		}
		if err := os.WriteFile(filepath.Join(dir, "readmodels.db"), garbage, 0o600); err != nil {
			t.Fatal(err)
		}
		code, stdout, stderr := cli("projections", "rebuild", "--data", dir)
		if code != 0 || !strings.Contains(stdout, "partnership_summaries rebuilt") {
			t.Fatalf("rebuild: exit %d\n%s%s", code, stdout, stderr)
		}
		moved := setAside(t, dir, garbage)
		if !strings.Contains(stderr, "level=WARN") || !strings.Contains(stderr, moved) {
			t.Errorf("no warning naming %s: %s", moved, stderr)
		}
	})

	t.Run("other failures stay errors", func(t *testing.T) {
		t.Parallel()
		dir := operatorFolder(t)
		if code, _, stderr := cli("demo", "--data", dir); code != 0 {
			t.Fatal(stderr)
		}
		// A folder where the file should be: SQLite cannot open it.
		if err := os.Mkdir(filepath.Join(dir, "readmodels.db"), 0o700); err != nil {
			t.Fatal(err)
		}
		code, stderr := serveOnce(ctx, t, bin, dir)
		wantOneLineRefusal(t, "serve", code, stderr, "readmodels.db", "unable to open database file")
		code, _, stderr = cli("projections", "rebuild", "--data", dir)
		wantOneLineRefusal(t, "projections rebuild", code, stderr, "readmodels.db", "unable to open database file")
		if matches, _ := filepath.Glob(filepath.Join(dir, "readmodels.db.corrupt-*")); len(matches) > 0 {
			t.Errorf("set aside although not damaged: %v", matches)
		}
	})
}

// setAside checks that exactly one damaged read-model file was set aside
// in dir, holding content and owner-only, and returns its path.
func setAside(t *testing.T, dir string, content []byte) string {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(dir, "readmodels.db.corrupt-*"))
	if err != nil {
		t.Fatal(err)
	}
	var moved []string
	for _, m := range matches {
		if !strings.HasSuffix(m, "-wal") && !strings.HasSuffix(m, "-shm") {
			moved = append(moved, m)
		}
	}
	if len(moved) != 1 {
		t.Fatalf("set aside: %v, want one readmodels.db.corrupt-<time>", matches)
	}
	b, err := os.ReadFile(moved[0])
	if err != nil || !bytes.Equal(b, content) {
		t.Errorf("%s does not hold the damaged file (%d bytes, want %d): %v", moved[0], len(b), len(content), err)
	}
	if info, err := os.Stat(moved[0]); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("%s: mode %v, want 0600 (%v)", moved[0], info.Mode(), err)
	}
	return moved[0]
}
