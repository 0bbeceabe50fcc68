//go:build unix

package main

// The data folder's safety through the real binary and the real CLI: the
// files are the owner's alone (this file), a second process that appends
// is refused while serve runs (appenders_test.go), and a damaged
// readmodels.db is set aside and rebuilt (readmodels_test.go).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/samspill/samspill/internal/serveproc"
)

// buildServe builds the binary for a test that runs it, under a common
// umask (022), which the servers it starts inherit: files that samspill
// does not make owner-only come out 0644 there. The umask is the
// process's, so a test that calls buildServe must not run in parallel
// with other top-level tests (its own subtests may: they run while it
// holds the umask); the umask then reaches no other test.
func buildServe(ctx context.Context, t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	old := syscall.Umask(0o022)
	t.Cleanup(func() { syscall.Umask(old) })
	return serveBinary(ctx, t)
}

// cli runs samspill's command line in this process as main does and
// returns its exit code, stdout and stderr.
func cli(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, &out, &errOut, noEnv)
	code = exitCode(err, &errOut)
	return code, out.String(), errOut.String()
}

// wantOneLineRefusal fails the test unless a command exited 1 with one
// line on stderr holding every one of want.
func wantOneLineRefusal(t *testing.T, what string, code int, stderr string, want ...string) {
	t.Helper()
	ok := code == 1 && strings.Count(stderr, "\n") == 1
	for _, w := range want {
		ok = ok && strings.Contains(stderr, w)
	}
	if !ok {
		t.Errorf("%s: exit %d, stderr %q; want 1 and one line with %q", what, code, stderr, want)
	}
}

// startServe runs the binary's serve on dir and kills it when the test
// ends, if it still runs then.
func startServe(t *testing.T, bin, dir string, extra ...string) *serveproc.Process {
	t.Helper()
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data", dir, "--log-level", "warn"}, extra...)
	p, err := serveproc.Start(context.Background(), bin, args, nil, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Kill() })
	return p
}

// serveOnce runs the binary's serve on dir, as an operator starts it, for
// a start that must fail; it returns the exit code and stderr. A server
// that starts instead is stopped after a while and fails the test.
func serveOnce(ctx context.Context, t *testing.T, bin, dir string) (code int, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	var errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "serve", "--addr", "127.0.0.1:0", "--data", dir)
	cmd.Stderr = &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || ctx.Err() != nil {
		t.Fatalf("serve on %s: %v, want a failed start\n%s", dir, err, errOut.String())
	}
	return exit.ExitCode(), errOut.String()
}

// getJSON GETs path with the token and decodes a 200's body into v; it
// returns the status.
func getJSON(t *testing.T, base, token, path string, v any) int {
	t.Helper()
	resp, err := bearerClient(token).Get(base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if v != nil && resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("GET %s: %v: %s", path, err, body)
		}
	}
	return resp.StatusCode
}

// awaitProjectionsLive polls /api/v1/admin/projections until every
// projection is live at the head with events behind it.
func awaitProjectionsLive(t *testing.T, base, token string) {
	t.Helper()
	var body struct {
		Items []struct {
			Name     string `json:"name"`
			Position uint64 `json:"position"`
			Status   string `json:"status"`
			Error    string `json:"error"`
		} `json:"items"`
	}
	deadline := time.Now().Add(time.Minute)
	for {
		live := getJSON(t, base, token, "/api/v1/admin/projections", &body) == http.StatusOK && len(body.Items) > 0
		for _, it := range body.Items {
			live = live && it.Status == "live" && it.Position > 0
		}
		if live {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the projections did not become live: %+v", body.Items)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// operatorFolder makes a data folder as an operator would: mode 0755, open
// to every local user.
func operatorFolder(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// filesNotOwnerOnly returns the files of dir, with their modes, that are
// not mode 0600; it fails the test when a file of want is missing.
func filesNotOwnerOnly(t *testing.T, dir string, want ...string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var loose []string
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		seen[e.Name()] = true
		if info.Mode().Perm() != 0o600 {
			loose = append(loose, e.Name()+" "+modeOctal(info.Mode()))
		}
	}
	for _, name := range want {
		if !seen[name] {
			t.Errorf("%s is not in the data folder (%d files)", name, len(entries))
		}
	}
	return loose
}

// modeOctal is a permission in octal, as chmod takes it: 0644.
func modeOctal(m os.FileMode) string { return fmt.Sprintf("%04o", m.Perm()) }

// TestDataFolderFilesAreOwnerOnly runs serve and the commands beside it on
// a folder open to every local user: every file they make there must be
// mode 0600, and a file that group or others may read or write must be
// refused by every command that opens it, naming the file, its mode and
// the chmod that fixes it, and left as it is.
func TestDataFolderFilesAreOwnerOnly(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bin := buildServe(ctx, t)
	dir := operatorFolder(t)

	p := startServe(t, bin, dir, "--demo")
	resp, err := bearerClient(p.Token).Post(p.URL+"/api/v1/partnerships", "application/json", strings.NewReader(initiateBody))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST: %d", resp.StatusCode)
	}
	awaitProjectionsLive(t, p.URL, p.Token)
	// Commands that run beside a server write into the folder too.
	if code, _, stderr := cli("token", "create", "--role", "viewer", "--data", dir); code != 0 {
		t.Fatalf("token create: %s", stderr)
	}
	if code, _, stderr := cli("export", "spells", "--data", dir, "--out", filepath.Join(t.TempDir(), "spells.csv")); code != 0 {
		t.Fatalf("export spells: %s", stderr)
	}
	running := []string{"events.db", "events.db-wal", "events.db-shm", "readmodels.db", "readmodels.db-wal", "readmodels.db-shm",
		"keys.db", "keys.db-wal", "keys.db-shm", "tokens.db", "tokens.db-wal", "tokens.db-shm", "installation.key", ".lock"}
	if loose := filesNotOwnerOnly(t, dir, running...); len(loose) > 0 {
		t.Errorf("while serve runs, files not 0600: %v", loose)
	}
	if err := p.Stop(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	if loose := filesNotOwnerOnly(t, dir, "events.db", "readmodels.db", "keys.db", "tokens.db", "installation.key", ".lock"); len(loose) > 0 {
		t.Errorf("after serve stopped, files not 0600: %v", loose)
	}
	if info, err := os.Stat(dir); err != nil || info.Mode().Perm() != 0o755 {
		t.Errorf("the operator's folder changed its mode: %v %v", info.Mode(), err)
	}

	for _, tc := range []struct {
		file string
		mode os.FileMode
		args []string // a command besides serve that opens the file
	}{
		{"keys.db", 0o644, []string{"demo"}},
		{"tokens.db", 0o640, []string{"token", "list"}},
		{"installation.key", 0o604, []string{"export", "spells"}},
		{"events.db", 0o644, []string{"projections", "rebuild"}},
		{"readmodels.db", 0o660, []string{"projections", "rebuild"}},
		{"events.db-wal", 0o644, []string{"import", "/dev/null"}}, // a log left by an older version's crash
	} {
		path := filepath.Join(dir, tc.file)
		if tc.file == "events.db-wal" {
			if err := os.WriteFile(path, nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Chmod(path, tc.mode); err != nil {
			t.Fatal(err)
		}
		want := []string{path + " (mode " + modeOctal(tc.mode) + ")", "chmod 600 " + path}
		code, _, stderr := cli(append(tc.args, "--data", dir)...)
		wantOneLineRefusal(t, strings.Join(tc.args, " ")+" with "+tc.file+" "+modeOctal(tc.mode), code, stderr, want...)
		code, stderr = serveOnce(ctx, t, bin, dir)
		wantOneLineRefusal(t, "serve with "+tc.file+" "+modeOctal(tc.mode), code, stderr, want...)
		if info, err := os.Stat(path); err != nil || info.Mode().Perm() != tc.mode {
			t.Errorf("%s was changed: %v %v", tc.file, info.Mode(), err)
		}
		if tc.file == "events.db-wal" {
			err = os.Remove(path)
		} else {
			err = os.Chmod(path, 0o600)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if code, _, stderr := cli("token", "list", "--data", dir); code != 0 {
		t.Fatalf("token list once fixed: %s", stderr)
	}
}
