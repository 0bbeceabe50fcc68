package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/samspill/samspill/internal/serveproc"
)

// TestServeLogsJSON: with SAMSPILL_LOG_FORMAT=json serve writes its log as
// one JSON object per line, the access log's line per request included;
// no line is slog's text format.
func TestServeLogsJSON(t *testing.T) {
	ctx := context.Background()
	bin := buildServe(ctx, t)
	p, err := serveproc.Start(ctx, bin, []string{"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--log-level", "info"},
		[]string{"SAMSPILL_LOG_FORMAT=json"}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Kill() })
	res, err := http.Get(p.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if err := p.Stop(30 * time.Second); err != nil {
		t.Fatalf("stop: %v\n%s", err, p.Output())
	}
	var objects, requests int
	for line := range strings.Lines(p.Output()) {
		if strings.Contains(line, "level=") {
			t.Errorf("a text log line: %q", line)
		}
		if !strings.HasPrefix(line, "{") {
			continue // what serve prints on stdout: where it listens, the first token
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		objects++
		if m["msg"] == "request" && m["route"] == "/healthz" && m["status"] == float64(200) {
			requests++
		}
	}
	if objects == 0 || requests != 1 {
		t.Fatalf("%d JSON log lines, %d access lines for /healthz (want 1):\n%s", objects, requests, p.Output())
	}
}
