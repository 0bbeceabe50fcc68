package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/samspill/samspill/internal/serveproc"
)

// serveBinaries are the samspill binaries this package's tests run as
// child processes, built once per process for each set of build flags:
// every build links a binary of tens of megabytes (seconds of CPU, more
// under -race), and the tests only run it. They live in one folder that
// TestMain removes.
var serveBinaries struct {
	mu    sync.Mutex
	dir   string
	built map[string]string // the flags, joined by spaces → the binary's path
}

// serveBinary returns the samspill binary built with flags (none, or
// -race), building it on first use. A failed build is not remembered: the
// next test tries again, with its own context.
func serveBinary(ctx context.Context, t *testing.T, flags ...string) string {
	t.Helper()
	serveBinaries.mu.Lock()
	defer serveBinaries.mu.Unlock()
	key := strings.Join(flags, " ")
	if bin, ok := serveBinaries.built[key]; ok {
		return bin
	}
	if serveBinaries.dir == "" {
		dir, err := os.MkdirTemp("", "samspill-serve-bin-")
		if err != nil {
			t.Fatal(err)
		}
		serveBinaries.dir, serveBinaries.built = dir, map[string]string{}
	}
	out, err := os.MkdirTemp(serveBinaries.dir, "build-")
	if err != nil {
		t.Fatal(err)
	}
	bin, err := serveproc.BuildWith(ctx, out, flags...)
	if err != nil {
		t.Fatal(fmt.Errorf("build the server: %w", err))
	}
	serveBinaries.built[key] = bin
	return bin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if serveBinaries.dir != "" {
		_ = os.RemoveAll(serveBinaries.dir)
	}
	os.Exit(code)
}
