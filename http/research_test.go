package http

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/samspill/samspill/research"
)

// export is a research export as a client receives it, trailer included.
type export struct {
	status  int
	header  http.Header
	trailer http.Header
	body    []byte
}

func (a *testAPI) export(path string, headers ...string) export {
	a.t.Helper()
	req, err := http.NewRequest(http.MethodGet, a.srv.URL+path, nil)
	if err != nil {
		a.t.Fatal(err)
	}
	authorize(req)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	// A transport of its own, so that it neither asks for gzip nor
	// decompresses behind the test's back.
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	res, err := client.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		a.t.Fatalf("read %s: %v", path, err)
	}
	return export{status: res.StatusCode, header: res.Header, trailer: res.Trailer, body: body}
}

// checked asserts a complete export and returns its uncompressed body.
func (e export) checked(t *testing.T) []byte {
	t.Helper()
	if e.status != http.StatusOK {
		t.Fatalf("status %d: %s", e.status, e.body)
	}
	body := e.body
	if e.header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if body, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	sum := sha256.Sum256(body)
	if got := e.trailer.Get("X-Samspill-Sha256"); got != hex.EncodeToString(sum[:]) {
		t.Fatalf("trailer X-Samspill-Sha256 %q, body hashes to %x", got, sum)
	}
	if e.header.Get("X-Samspill-Version") != "test-version" {
		t.Fatalf("X-Samspill-Version %q", e.header.Get("X-Samspill-Version"))
	}
	return body
}

func newResearchAPI(t *testing.T) *testAPI {
	return startTestAPI(t, func(c *Config) {
		c.Version = "test-version"
		c.ResearchSecret = []byte("a research secret for the tests")
		c.Now = func() time.Time { return testNow }
	}, nil)
}

func TestResearchExportsOverHTTP(t *testing.T) {
	a := newResearchAPI(t)
	pos := a.loadDemo()

	events := a.export("/api/v1/research/events.ndjson")
	plain := events.checked(t)
	if got := events.header.Get("X-Samspill-Position"); got != strconv.FormatUint(pos, 10) {
		t.Fatalf("X-Samspill-Position %s, head %d", got, pos)
	}
	if ct := events.header.Get("Content-Type"); ct != "application/x-ndjson" {
		t.Fatalf("Content-Type %q", ct)
	}
	if n := bytes.Count(plain, []byte("\n")); uint64(n) != pos {
		t.Fatalf("%d lines for %d events", n, pos)
	}

	zipped := a.export("/api/v1/research/events.ndjson", "Accept-Encoding", "gzip")
	if zipped.header.Get("Content-Encoding") != "gzip" || len(zipped.body) >= len(plain) {
		t.Fatalf("gzip asked: Content-Encoding %q, %d bytes of %d", zipped.header.Get("Content-Encoding"), len(zipped.body), len(plain))
	}
	if !bytes.Equal(zipped.checked(t), plain) {
		t.Fatal("the gzip body differs from the plain one")
	}

	spells := a.export("/api/v1/research/spells.csv?as_of=2024-05-31")
	csv := spells.checked(t)
	if !strings.HasPrefix(string(csv), strings.Join(research.SpellsHeader, ",")+"\n") || spells.header.Get("X-Samspill-As-Of") != "2024-05-31" {
		t.Fatalf("spells: as_of %q, body starts %.200s", spells.header.Get("X-Samspill-As-Of"), csv)
	}
	if today := a.export("/api/v1/research/spells.csv"); today.header.Get("X-Samspill-As-Of") != "2024-06-01" {
		t.Fatalf("default as_of %q, want the clock's day 2024-06-01", today.header.Get("X-Samspill-As-Of"))
	}

	// Writes after pos change nothing at pos.
	p := a.newPartnership()
	a.post(p, "/milestones", obj{"kind": "meeting", "title": "Oppstart"}, http.StatusOK)
	again := a.export("/api/v1/research/events.ndjson?at_position=" + strconv.FormatUint(pos, 10))
	if !bytes.Equal(again.checked(t), plain) || again.trailer.Get("X-Samspill-Sha256") != events.trailer.Get("X-Samspill-Sha256") {
		t.Fatal("events at the same position differ after later writes")
	}
	spellsAgain := a.export("/api/v1/research/spells.csv?as_of=2024-05-31&at_position=" + strconv.FormatUint(pos, 10))
	if !bytes.Equal(spellsAgain.checked(t), csv) {
		t.Fatal("spells at the same position differ after later writes")
	}
	if now := a.export("/api/v1/research/events.ndjson"); bytes.Equal(now.checked(t), plain) {
		t.Fatal("an export at the head misses the later writes")
	}
}

func TestResearchExportsRefuseBadParameters(t *testing.T) {
	a := newResearchAPI(t)
	a.newPartnership()
	for _, tc := range []struct{ path, field string }{
		{"/api/v1/research/events.ndjson?at_position=99", "at_position"},
		{"/api/v1/research/events.ndjson?at_position=-1", "at_position"},
		{"/api/v1/research/spells.csv?at_position=x", "at_position"},
		{"/api/v1/research/spells.csv?as_of=2024-13-01", "as_of"},
		{"/api/v1/research/spells.csv?as_of=2024-06-01T10:00:00Z", "as_of"},
	} {
		r := a.do(http.MethodGet, tc.path, nil)
		if p := wantProblem(t, r, http.StatusBadRequest, "urn:samspill:problem:validation"); !p.hasField(tc.field, false) {
			t.Errorf("%s: problem %+v does not name %s", tc.path, p, tc.field)
		}
	}
}
