package sqlite_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/samspill/samspill/personal"
	"github.com/samspill/samspill/personal/personaltest"
	"github.com/samspill/samspill/personal/sqlite"
)

func open(t *testing.T, dir string) *sqlite.Keys {
	t.Helper()
	keys, err := sqlite.Open(context.Background(), filepath.Join(dir, "keys.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = keys.Close() })
	return keys
}

func TestContract(t *testing.T) {
	personaltest.Run(t, func(t *testing.T) personal.KeyStore { return open(t, t.TempDir()) })
}

// TestErasedKeyIsInNoFile: after an erasure the key is in no file of the
// folder (secure_delete and the truncated WAL), while the other contacts'
// keys still are.
func TestErasedKeyIsInNoFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	keys := open(t, dir)
	erased, err := keys.EnsureKey(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	kept, err := keys.EnsureKey(ctx, "c2")
	if err != nil {
		t.Fatal(err)
	}
	inFiles := func(key []byte) []string {
		t.Helper()
		files, _ := filepath.Glob(filepath.Join(dir, "*"))
		var holding []string
		for _, f := range files {
			b, _ := os.ReadFile(f)
			if bytes.Contains(b, key) {
				holding = append(holding, filepath.Base(f))
			}
		}
		return holding
	}
	if len(inFiles(erased)) == 0 {
		t.Fatal("the key is in no file before the erasure: the check cannot see it")
	}
	if err := keys.Erase(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	if files := inFiles(erased); len(files) > 0 {
		t.Fatalf("%v still hold the erased key", files)
	}
	if len(inFiles(kept)) == 0 {
		t.Fatal("the erasure took the other contact's key from the files too")
	}
}
