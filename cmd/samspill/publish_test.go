//go:build unix

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/internal/natstest"
	"github.com/samspill/samspill/personal"
	"github.com/samspill/samspill/publish"
)

// TestServePublishesToNATS runs the real binary with --publish against the
// NATS server of SAMSPILL_TEST_NATS_URL: the demo data set and what the API
// writes reach the stream in order, once each, without personal data;
// /metrics reports the forwarder; serve stops cleanly with it; and a
// restart, after SIGTERM and after SIGKILL in the middle of writes,
// resumes with nothing missing and nothing twice.
func TestServePublishesToNATS(t *testing.T) {
	s := natstest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	bin := buildServe(ctx, t)
	dir := t.TempDir()
	flags := []string{"--publish", s.URL, "--publish-stream", s.Name, "--publish-prefix", s.Prefix}
	p := startServe(t, bin, dir, append([]string{"--demo"}, flags...)...)
	token := p.Token
	positions := awaitPublished(t, s, p.URL, token)
	if len(positions) < 100 {
		t.Fatalf("the demo data set has %d partnership events", len(positions))
	}
	// The demo's survey answers end the log: they are never published, and
	// the lag counts them as behind nothing.
	metrics := scrape(t, p.URL)
	if head := uint64(metrics["samspill_eventstore_head_position"]); head <= positions[len(positions)-1] {
		t.Fatalf("the log's head %d is the last partnership event's %d: the demo's survey events should end it", head, positions[len(positions)-1])
	}
	for name, want := range map[string]float64{"samspill_publish_position": float64(positions[len(positions)-1]), "samspill_publish_lag": 0, "samspill_publish_connected": 1} {
		if got, ok := metrics[name]; !ok || got != want {
			t.Errorf("/metrics: %s = %v (present %v), want %v", name, got, ok, want)
		}
	}

	// A partnership with a contact person, written through the API by the
	// token named "admin".
	id, partner := initiate(t, p.URL, token)
	post(t, p.URL, token, "/api/v1/partnerships/"+id+"/contacts", `{"partner_id":"`+partner+`","name":"Kari Nordmann","email":"kari@example.no","phone":"+47 400 00 001"}`)
	post(t, p.URL, token, "/api/v1/partnerships/"+id+"/milestones", `{"kind":"meeting","title":"Oppstart","note":""}`)
	checkPublished(t, s, awaitPublished(t, s, p.URL, token))
	if err := p.Stop(15 * time.Second); err != nil {
		t.Fatalf("serve with --publish did not stop cleanly: %v", err)
	}

	// Restart, then SIGKILL while writes are being published.
	p = startServe(t, bin, dir, flags...)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 10 {
				if status := postStatus(p.URL, token, "/api/v1/partnerships/"+id+"/milestones", `{"kind":"meeting","title":"Møte","note":""}`); status != http.StatusOK && status != http.StatusConflict {
					t.Errorf("milestone: %d", status)
				}
			}
		})
	}
	wg.Wait()
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	p = startServe(t, bin, dir, flags...)
	post(t, p.URL, token, "/api/v1/partnerships/"+id+"/milestones", `{"kind":"meeting","title":"Etter omstart","note":""}`)
	checkPublished(t, s, awaitPublished(t, s, p.URL, token))
	if strings.Contains(p.Output(), "level=ERROR") {
		t.Errorf("serve logged errors:\n%s", p.Output())
	}
}

// awaitPublished waits until the stream holds a message for every
// partnership event of the log (the global feed's events: survey streams
// are never published) and returns their positions.
func awaitPublished(t *testing.T, s *natstest.Stream, base, token string) []uint64 {
	t.Helper()
	var positions []uint64
	for after := uint64(0); ; {
		var page struct {
			Items []struct {
				Position uint64 `json:"position"`
			} `json:"items"`
			NextAfter uint64 `json:"next_after"`
		}
		if status := getJSON(t, base, token, fmt.Sprintf("/api/v1/events?after=%d&limit=500", after), &page); status != http.StatusOK {
			t.Fatalf("GET /api/v1/events: %d", status)
		}
		for _, e := range page.Items {
			positions = append(positions, e.Position)
		}
		if page.NextAfter == after {
			break
		}
		after = page.NextAfter
	}
	s.WaitForCount(t, uint64(len(positions)), time.Minute)
	return positions
}

// checkPublished fails t unless the stream holds the events at positions,
// in order, once each, with bodies that carry no personal data.
func checkPublished(t *testing.T, s *natstest.Stream, positions []uint64) {
	t.Helper()
	msgs := s.Messages(t)
	if len(msgs) != len(positions) {
		t.Fatalf("the stream holds %d messages for %d partnership events", len(msgs), len(positions))
	}
	contacts := 0
	for i, m := range msgs {
		var e eventstore.RecordedEvent
		if err := json.Unmarshal(m.Data, &e); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if e.Position != positions[i] || m.Header.Get(publish.HeaderPosition) != strconv.FormatUint(positions[i], 10) || m.Subject != s.Prefix+".partnership."+e.Type {
			t.Fatalf("message %d: position %d (header %s), subject %s", i, e.Position, m.Header.Get(publish.HeaderPosition), m.Subject)
		}
		if !personal.IsPseudonym(e.Metadata.Actor.Subject) {
			t.Fatalf("message %d names its recorder %q", i, e.Metadata.Actor.Subject)
		}
		if e.Type == "ContactPersonAssigned" {
			contacts++
			var data map[string]any
			_ = json.Unmarshal(e.Data, &data)
			if keys := slices.Sorted(maps.Keys(data)); !slices.Equal(keys, []string{"contact_id", "partner_id"}) {
				t.Fatalf("message %d: a contact person with %v", i, keys)
			}
		}
		if bytes.Contains(m.Data, []byte("Kari")) || bytes.Contains(m.Data, []byte("example.no")) {
			t.Fatalf("message %d carries personal data: %s", i, m.Data)
		}
	}
	if contacts == 0 {
		t.Fatal("no contact person in the stream: the test checks nothing")
	}
}

// scrape returns the samples of /metrics without labels, by name.
func scrape(t *testing.T, base string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok || strings.HasPrefix(name, "#") || strings.Contains(name, "{") {
			continue
		}
		if v, err := strconv.ParseFloat(value, 64); err == nil {
			out[name] = v
		}
	}
	return out
}

// initiate makes a partnership through the API and returns its id and its
// partner's id.
func initiate(t *testing.T, base, token string) (id, partner string) {
	t.Helper()
	body := post(t, base, token, "/api/v1/partnerships", initiateBody)
	var created struct {
		ID       string `json:"id"`
		Partners []struct {
			PartnerID string `json:"partner_id"`
		} `json:"partners"`
	}
	if err := json.Unmarshal(body, &created); err != nil || len(created.Partners) == 0 {
		t.Fatalf("initiate: %v: %s", err, body)
	}
	return created.ID, created.Partners[0].PartnerID
}

// post sends a command and returns the answer's body; anything but 200
// or 201 fails t.
func post(t *testing.T, base, token, path, body string) []byte {
	t.Helper()
	resp, err := bearerClient(token).Post(base+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST %s: %d %s", path, resp.StatusCode, out)
	}
	return out
}

// postStatus sends a command from any goroutine and returns the status, 0
// when the request failed.
func postStatus(base, token, path, body string) int {
	resp, err := bearerClient(token).Post(base+path, "application/json", strings.NewReader(body))
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func TestServeRefusesABadPublishURL(t *testing.T) {
	code, _, stderr := cli("serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--publish", "http://nats.example:4222")
	if code != 2 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, `NATS URL "http://nats.example:4222"`) || !strings.Contains(stderr, "serve --help") {
		t.Errorf("exit %d, stderr %q; want 2 and one line naming the URL", code, stderr)
	}
}
