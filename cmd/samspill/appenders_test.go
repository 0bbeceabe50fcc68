//go:build unix

package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAppendersRefusedBesideServe runs serve on a data folder with the
// embedded store, whose head watch sees only its own process's appends:
// every other command that appends to that store (demo, import) or owns
// the read models (projections rebuild) must be refused with one line
// saying the folder is in use, and work once serve has stopped. Reading
// beside it (export) is allowed.
func TestAppendersRefusedBesideServe(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bin := buildServe(ctx, t)
	dir := operatorFolder(t)

	p := startServe(t, bin, dir)
	exported := filepath.Join(t.TempDir(), "events.ndjson")
	if code, _, stderr := cli("export", "events", "--data", dir, "--out", exported); code != 0 {
		t.Fatalf("export beside serve: %s", stderr)
	}
	for _, args := range [][]string{{"demo"}, {"import", exported}, {"projections", "rebuild"}} {
		code, stdout, stderr := cli(append(args, "--data", dir)...)
		wantOneLineRefusal(t, strings.Join(args, " ")+" beside serve", code, stderr, "data folder "+dir, "in use by another samspill process")
		if strings.Contains(stdout, "demo:") || strings.Contains(stdout, "imported") {
			t.Errorf("%v beside serve wrote: %s", args, stdout)
		}
	}
	if err := p.Stop(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := cli("demo", "--data", dir)
	if code != 0 || !strings.Contains(stdout, "newly written") || strings.Contains(stdout, "(0 newly written)") {
		t.Fatalf("demo once serve stopped: exit %d\n%s%s", code, stdout, stderr)
	}
}
