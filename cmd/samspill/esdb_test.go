package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/samspill/samspill/eventstore/kurrent/kurrenttest"
)

// TestServeOnKurrentDB runs serve --store esdb against the in-process
// KurrentDB protocol server over real gRPC: commands, live reads, the
// projections and the feed work as on the embedded store.
func TestServeOnKurrentDB(t *testing.T) {
	server, err := kurrenttest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(server.Stop)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--store", "esdb", "--esdb", server.URL(), "--data", t.TempDir(), "--addr", "127.0.0.1:0", "--log-level", "warn"}, &out, io.Discard, noEnv)
	}()
	base := waitForURL(t, &out)
	if !strings.Contains(out.String(), "events in KurrentDB") {
		t.Errorf("serve does not say where the events are: %s", out.String())
	}
	client := bearerClient(adminToken.FindStringSubmatch(out.String())[1])

	resp, err := client.Post(base+"/api/v1/partnerships", "application/json", strings.NewReader(initiateBody))
	if err != nil {
		t.Fatal(err)
	}
	var created struct{ ID string }
	_ = json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST: %d", resp.StatusCode)
	}
	resp, err = client.Post(base+"/api/v1/partnerships/"+created.ID+"/milestones", "application/json",
		strings.NewReader(`{"kind":"meeting","title":"Oppstart","note":""}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("milestone: %d", resp.StatusCode)
	}
	position := resp.Header.Get("X-Samspill-Position")

	for path, want := range map[string]string{
		"/api/v1/partnerships/" + created.ID:                              `"version":2`,
		"/api/v1/partnerships?municipality=4203&min_position=" + position: created.ID,
		"/api/v1/municipalities/4203/timeline?min_position=" + position:   "Oppstart",
		"/api/v1/events?after=0":                                          `"type":"MilestoneLogged"`,
	} {
		resp, err := client.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(want)) {
			t.Errorf("GET %s: %d, want %s in %s", path, resp.StatusCode, want, body)
		}
	}
	// Both read models have reached the milestone: the server is ready.
	resp, err = client.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`"status":"ready"`)) {
		t.Errorf("GET /readyz: %d %s", resp.StatusCode, body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
}

func TestServeOnUnreachableKurrentDBIsOneLineError(t *testing.T) {
	t.Parallel()
	var errOut bytes.Buffer
	start := time.Now()
	err := run(context.Background(), []string{"serve", "--store", "esdb", "--esdb", "esdb://127.0.0.1:1?tls=false", "--data", t.TempDir(), "--addr", "127.0.0.1:0"}, io.Discard, io.Discard, noEnv)
	if code := exitCode(err, &errOut); code != 1 || strings.Count(errOut.String(), "\n") != 1 || !strings.Contains(errOut.String(), "127.0.0.1:1") {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
	t.Logf("failed after %s: %s", time.Since(start).Round(time.Millisecond), strings.TrimSpace(errOut.String()))
	for _, args := range [][]string{{"serve", "--store", "esdb"}, {"serve", "--store", "mongo"}, {"serve", "--esdb", "esdb://x:1"}} {
		errOut.Reset()
		if code := exitCode(run(context.Background(), args, io.Discard, io.Discard, noEnv), &errOut); code != 2 {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut.String())
		}
	}
}
