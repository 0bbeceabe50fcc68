package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func noEnv(string) string { return "" }

func TestHelpAndUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"help"}, {"serve", "--help"}, {"demo", "-h"}, {"version", "--help"}} {
		var out, errOut bytes.Buffer
		err := run(context.Background(), args, &out, &errOut, noEnv)
		if code := exitCode(err, &errOut); code != 0 || out.Len() == 0 {
			t.Errorf("%v: exit %d, stdout %q", args, code, out.String())
		}
	}
	var out bytes.Buffer
	_ = run(context.Background(), []string{"serve", "--help"}, &out, io.Discard, noEnv)
	for _, want := range []string{"--addr", "SAMSPILL_ADDR", "--data", "SAMSPILL_DATA", "--demo"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("serve --help lacks %q:\n%s", want, out.String())
		}
	}
	for _, args := range [][]string{{}, {"frobnicate"}, {"serve", "--nope"}, {"serve", "extra"}} {
		var errOut bytes.Buffer
		err := run(context.Background(), args, io.Discard, io.Discard, noEnv)
		code := exitCode(err, &errOut)
		if code != 2 || strings.Count(errOut.String(), "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line", args, code, errOut.String())
		}
	}
}

func TestBadEnvironmentValueIsOneLineError(t *testing.T) {
	env := func(k string) string {
		if k == "SAMSPILL_DEMO" {
			return "perhaps"
		}
		return ""
	}
	var errOut bytes.Buffer
	err := run(context.Background(), []string{"serve", "--data", t.TempDir()}, io.Discard, io.Discard, env)
	if code := exitCode(err, &errOut); code != 2 || !strings.Contains(errOut.String(), "SAMSPILL_DEMO") {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
}

func TestVersion(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, &out, io.Discard, noEnv); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "samspill ") || !strings.Contains(out.String(), "go1.") {
		t.Fatalf("version output %q", out.String())
	}
}

func TestUnusableDataFolderIsOneLineError(t *testing.T) {
	file := filepath.Join(t.TempDir(), "not-a-folder")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	var errOut bytes.Buffer
	err := run(context.Background(), []string{"demo", "--data", file}, io.Discard, io.Discard, noEnv)
	if code := exitCode(err, &errOut); code != 1 || strings.Count(errOut.String(), "\n") != 1 {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a server.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var (
	listening  = regexp.MustCompile(`listening on (http://\S+)`)
	adminToken = regexp.MustCompile(`(?m)^(ssp_[A-Za-z0-9_-]{43})$`)
)

// bearerClient sends every request with the token.
func bearerClient(token string) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: bearerTransport(token)}
}

type bearerTransport string

func (t bearerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set("Authorization", "Bearer "+string(t))
	return http.DefaultTransport.RoundTrip(req)
}

// waitForURL waits until the output names the address the server listens on.
func waitForURL(t *testing.T, out interface{ String() string }) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if m := listening.FindStringSubmatch(out.String()); m != nil {
			return m[1]
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("server did not start; output:\n%s", out.String())
	return ""
}

const initiateBody = `{"municipality":"4203","title":"Besøksvenn på sykehjem","description":"","service_area":"health_and_care",
"collaboration_model":"network","partners":[{"name":"Røde Kors Arendal","kind":"voluntary_organisation","org_no":"974760673"}],
"goals":["Færre ensomme eldre"],"occurred_at":"2024-03-01"}`

func TestServeDemoAndGracefulShutdown(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuffer
	env := func(k string) string {
		if k == "SAMSPILL_ADDR" {
			return "127.0.0.1:0"
		}
		return ""
	}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--data", data, "--demo", "--log-level", "warn"}, &out, io.Discard, env)
	}()
	base := waitForURL(t, &out)
	token := adminToken.FindStringSubmatch(out.String())
	if token == nil {
		t.Fatalf("serve on a fresh folder printed no admin token:\n%s", out.String())
	}
	client := bearerClient(token[1])
	if resp, err := http.Get(base + "/api/v1/partnerships"); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a read without a token: %v %v", resp, err)
	}

	example := regexp.MustCompile(`/api/v1/partnerships/([0-9a-f-]{36})`).FindStringSubmatch(out.String())
	if example == nil {
		t.Fatalf("serve --demo printed no example partnership:\n%s", out.String())
	}
	resp, err := client.Get(base + "/api/v1/partnerships/" + example[1])
	if err != nil {
		t.Fatal(err)
	}
	var state struct{ ID, Status string }
	if err := json.NewDecoder(resp.Body).Decode(&state); err != nil || resp.StatusCode != 200 || state.ID != example[1] {
		t.Fatalf("GET demo partnership: %d %+v %v", resp.StatusCode, state, err)
	}
	resp.Body.Close()

	resp, err = client.Post(base+"/api/v1/partnerships", "application/json", strings.NewReader(initiateBody))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST: %d", resp.StatusCode)
	}

	// The projections run: the list reflects the write once they reach its
	// position, and their metrics are exported.
	resp, err = client.Get(base + "/api/v1/partnerships?municipality=4203&q=besøksvenn&min_position=" + resp.Header.Get("X-Samspill-Position"))
	if err != nil {
		t.Fatal(err)
	}
	var list struct{ Items []struct{ Title string } }
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil || resp.StatusCode != 200 || len(list.Items) == 0 {
		t.Fatalf("GET list: %d %+v %v", resp.StatusCode, list, err)
	}
	resp.Body.Close()
	resp, err = http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`samspill_projection_position{projection="partnership_summaries"}`, "samspill_projection_lag", "samspill_projection_handler_execution_time_seconds", "samspill_http_requests_total", "samspill_eventstore_head_position"} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	// A second process on the same data folder is refused.
	var errOut bytes.Buffer
	err = run(context.Background(), []string{"serve", "--data", data, "--addr", "127.0.0.1:0"}, io.Discard, io.Discard, noEnv)
	if code := exitCode(err, &errOut); code != 1 || !strings.Contains(errOut.String(), "in use") {
		t.Errorf("second serve: exit %d, stderr %q", code, errOut.String())
	}

	// An open event stream does not hold up the shutdown.
	stream, err := (&http.Client{Transport: bearerTransport(token[1])}).Get(base + "/api/v1/events/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not shut down")
	}

	// The demo is idempotent and the data survived the restart.
	var demoOut bytes.Buffer
	if err := run(context.Background(), []string{"demo", "--data", data}, &demoOut, io.Discard, noEnv); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(demoOut.String(), "(0 newly written)") {
		t.Fatalf("second demo load wrote events: %s", demoOut.String())
	}
}

// TestKill9KeepsAcknowledgedWrites runs the real binary, kills it with
// SIGKILL while writers are busy, restarts it on the same data folder and
// checks that every acknowledged partnership is there.
func TestKill9KeepsAcknowledgedWrites(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and kills the binary; skipped with -short")
	}
	// The binary the other tests run (go build of this package, built
	// once per process).
	bin := serveBinary(context.Background(), t)
	data := t.TempDir()

	var token string // printed by the first start
	start := func() (*exec.Cmd, string) {
		cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--data", data, "--log-level", "error")
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		r := bufio.NewReader(stdout)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("no address from serve: %q %v", line, err)
			}
			if m := adminToken.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
				token = m[1]
			}
			if m := listening.FindStringSubmatch(line); m != nil {
				go io.Copy(io.Discard, stdout)
				return cmd, m[1]
			}
		}
	}

	cmd, base := start()
	var (
		mu    sync.Mutex
		acked []string
		wg    sync.WaitGroup
	)
	client := bearerClient(token)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				resp, err := client.Post(base+"/api/v1/partnerships", "application/json", strings.NewReader(initiateBody))
				if err != nil {
					return // the server is gone
				}
				var s struct{ ID string }
				err = json.NewDecoder(resp.Body).Decode(&s)
				resp.Body.Close()
				if resp.StatusCode == http.StatusCreated && err == nil {
					mu.Lock()
					acked = append(acked, s.ID)
					mu.Unlock()
				}
			}
		}()
	}
	time.Sleep(1500 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	wg.Wait()
	if len(acked) == 0 {
		t.Fatal("no write was acknowledged before the kill")
	}

	cmd, base = start()
	defer func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() }()
	for _, id := range acked {
		resp, err := client.Get(base + "/api/v1/partnerships/" + id)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("acknowledged partnership %s lost after kill -9: %d", id, resp.StatusCode)
		}
	}
	t.Logf("%d acknowledged writes survived kill -9", len(acked))
}
