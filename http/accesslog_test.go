package http

import (
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// accessLines returns the access log's lines ("request") of a JSON log.
func accessLines(t *testing.T, log string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(log) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q: %v", line, err)
		}
		if m["msg"] == "request" {
			m["line"] = strings.TrimSpace(line)
			out = append(out, m)
		}
	}
	return out
}

// TestAccessLog: one info line per request with the method, the route
// template, the status, the duration, the bytes written and the request
// id; never the Authorization header, the raw path or anything of the
// query.
func TestAccessLog(t *testing.T) {
	// The server's goroutines log to a file: each record is one write,
	// and an *os.File takes concurrent writes.
	log, err := os.Create(filepath.Join(t.TempDir(), "log.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	a := startTestAPI(t, func(c *Config) {
		c.Logger = slog.New(slog.NewJSONHandler(log, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}, nil)
	p := a.newPartnership()
	res := a.do("GET", p.path+"?as_of=2031-01-01&name=Kari+Nordmann", nil, "X-Request-ID", "req-4711")
	if res.Status != 200 {
		t.Fatalf("GET: %d %s", res.Status, res.Body)
	}
	a.do("GET", "/no/such/"+p.ID, nil)

	written, err := os.ReadFile(log.Name())
	if err != nil {
		t.Fatal(err)
	}
	lines := accessLines(t, string(written))
	var got, unmatched map[string]any
	for _, l := range lines {
		switch {
		case l["request_id"] == "req-4711":
			got = l
		case l["route"] == "unmatched":
			unmatched = l
		}
	}
	if got == nil || unmatched == nil {
		t.Fatalf("no access line for the GET or the unmatched request in %v", lines)
	}
	if got["level"] != "INFO" || got["method"] != "GET" || got["route"] != "/api/v1/partnerships/:id" ||
		got["status"] != float64(200) || got["bytes"] != float64(len(res.Body)) || got["duration"] == nil {
		t.Fatalf("access line %s", got["line"])
	}
	if unmatched["status"] != float64(404) {
		t.Fatalf("unmatched access line %s", unmatched["line"])
	}
	for _, l := range lines {
		for _, secret := range []string{p.ID, "Kari", "as_of", bearer("admin"), "Bearer"} {
			if strings.Contains(l["line"].(string), secret) {
				t.Errorf("access line %s contains %q", l["line"], secret)
			}
		}
	}
}
