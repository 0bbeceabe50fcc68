package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/samspill/samspill/internal/serveproc"
	"github.com/samspill/samspill/internal/smallfs"
)

// TestFullDiskLosesNothingAndRecoversByItself runs the real server with its
// data folder on a small filesystem of its own (a tmpfs; skipped with the
// reason where none can be mounted) and fills that filesystem while
// commands arrive. Once a command answers 503 with the storage-unavailable
// problem and Retry-After, /readyz must be 503 too, and reads must go on
// (with a token used for the first time, whose last-used record cannot be
// written). Then the filler is deleted: with no write from any client,
// /readyz must turn ready by itself, and writes succeed again. Every
// acknowledged command (2xx) is in the history exactly once, and every
// refused one is not, also after the server restarts on the same folder.
func TestFullDiskLosesNothingAndRecoversByItself(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary on a tmpfs; skipped with -short")
	}
	dir := smallfs.Mount(t, "8m")
	data := filepath.Join(dir, "data")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bin := serveBinary(ctx, t)
	args := []string{"serve", "--addr", "127.0.0.1:0", "--data", data, "--log-level", "warn"}
	proc, err := serveproc.Start(ctx, bin, args, nil, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = proc.Kill() }()
	admin := bearerClient(proc.Token)
	viewerOut := runOK(t, "token", "create", "--role", "viewer", "--name", "late-reader", "--data", data)
	viewer := bearerClient(strings.TrimSpace(viewerOut[strings.LastIndex(strings.TrimSpace(viewerOut), "\n")+1:]))

	type answer struct {
		status int
		header http.Header
		body   []byte
	}
	call := func(c *http.Client, method, base, path, body string, headers ...string) answer {
		t.Helper()
		var r io.Reader
		if body != "" {
			r = strings.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, base+path, r)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", method, path, err, proc.Output())
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return answer{resp.StatusCode, resp.Header, b}
	}
	var problem struct{ Type, Detail string }
	wantStorageUnavailable := func(what string, a answer) {
		t.Helper()
		if a.status != http.StatusServiceUnavailable || json.Unmarshal(a.body, &problem) != nil ||
			problem.Type != "urn:samspill:problem:storage-unavailable" || a.header.Get("Retry-After") == "" {
			t.Fatalf("%s: %d %q (Retry-After %q); want 503 urn:samspill:problem:storage-unavailable with Retry-After",
				what, a.status, a.body, a.header.Get("Retry-After"))
		}
	}

	// Commands: partnerships, and milestones on the first one, each with
	// an Idempotency-Key of its own.
	var first string
	acked, refused := map[string]bool{}, map[string]string{} // key → true; key → path of a refused command
	seq := 0
	send := func(base string) (answer, string, string) {
		t.Helper()
		seq++
		key := fmt.Sprintf("full-%d", seq)
		path, body := "/api/v1/partnerships", initiateBody
		if first != "" && seq%2 == 0 {
			path, body = "/api/v1/partnerships/"+first+"/milestones",
				`{"kind":"meeting","title":"Møte","note":"`+strings.Repeat("n", 800)+`","occurred_at":"2024-04-01"}`
		}
		a := call(admin, http.MethodPost, base, path, body, "Idempotency-Key", key)
		switch a.status {
		case http.StatusOK, http.StatusCreated:
			acked[key] = true
			if first == "" {
				var s struct{ ID string }
				_ = json.Unmarshal(a.body, &s)
				first = s.ID
			}
		case http.StatusServiceUnavailable:
			refused[key] = path
		default:
			t.Fatalf("POST %s: %d %s\n%s", path, a.status, a.body, proc.Output())
		}
		return a, key, path
	}
	for range 4 {
		if a, _, _ := send(proc.URL); a.status >= 300 {
			t.Fatalf("a command before the disk is full: %d %s", a.status, a.body)
		}
	}

	filler := smallfs.Fill(t, dir)
	var full answer
	var fullKey, fullPath string
	for range 500 {
		a, key, path := send(proc.URL)
		if a.status == http.StatusServiceUnavailable {
			full, fullKey, fullPath = a, key, path
			break
		}
	}
	if full.status == 0 {
		t.Fatal("500 commands on a full disk and none was refused")
	}
	wantStorageUnavailable("a command on a full disk", full)
	if !strings.Contains(problem.Detail, "nothing") {
		t.Errorf("the problem does not say that nothing was saved: %s", full.body)
	}
	for range 3 {
		wantStorageUnavailable("/readyz on a full disk", call(admin, http.MethodGet, proc.URL, "/readyz", ""))
		if !strings.Contains(problem.Detail, "storage full") {
			t.Fatalf("/readyz does not give the reason: %s", problem.Detail)
		}
	}
	if a := call(viewer, http.MethodGet, proc.URL, "/api/v1/partnerships/"+first, ""); a.status != http.StatusOK {
		t.Fatalf("a read on a full disk, with a token used for the first time: %d %s", a.status, a.body)
	}

	smallfs.Free(t, filler)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		a := call(admin, http.MethodGet, proc.URL, "/readyz", "")
		if a.status == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz not ready 30 s after space was freed: %d %s\n%s", a.status, a.body, proc.Output())
		}
	}
	// The refused command, sent again with its key, is applied once; new
	// commands go through.
	body := initiateBody
	if strings.HasSuffix(fullPath, "/milestones") {
		body = `{"kind":"meeting","title":"Møte","note":"` + strings.Repeat("n", 800) + `","occurred_at":"2024-04-01"}`
	}
	if a := call(admin, http.MethodPost, proc.URL, fullPath, body, "Idempotency-Key", fullKey); a.status >= 300 {
		t.Fatalf("the refused command sent again once space is back: %d %s", a.status, a.body)
	}
	acked[fullKey] = true
	delete(refused, fullKey)
	for range 4 {
		if a, _, _ := send(proc.URL); a.status >= 300 {
			t.Fatalf("a command once space is back: %d %s", a.status, a.body)
		}
	}

	verify := func(base string) {
		t.Helper()
		seen := map[string]int{}
		for after := uint64(0); ; {
			a := call(admin, http.MethodGet, base, fmt.Sprintf("/api/v1/events?after=%d&limit=500", after), "")
			var page struct {
				Items []struct {
					Position uint64 `json:"position"`
					Metadata struct {
						IdempotencyKey string `json:"idempotency_key"`
					} `json:"metadata"`
				} `json:"items"`
			}
			if a.status != http.StatusOK || json.Unmarshal(a.body, &page) != nil {
				t.Fatalf("GET /events: %d %s", a.status, a.body)
			}
			if len(page.Items) == 0 {
				break
			}
			for _, e := range page.Items {
				seen[e.Metadata.IdempotencyKey]++
				after = e.Position
			}
		}
		for key := range acked {
			if seen[key] != 1 {
				t.Errorf("acknowledged command %s is in the history %d times; want once", key, seen[key])
			}
		}
		for key, path := range refused {
			if seen[key] != 0 {
				t.Errorf("refused command %s (%s) is in the history %d times; want none", key, path, seen[key])
			}
		}
	}
	verify(proc.URL)
	if err := proc.Stop(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	if out := proc.Output(); strings.Contains(out, "panic") || strings.Contains(out, "DATA RACE") {
		t.Fatalf("the server's output:\n%s", out)
	}
	again, err := serveproc.Start(ctx, bin, args, nil, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = again.Stop(30 * time.Second) }()
	verify(again.URL)
	t.Logf("%d commands acknowledged, %d refused for lack of space; each acknowledged one is stored once, also after a restart",
		len(acked), len(refused))
}
