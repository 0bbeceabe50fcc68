package http

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/samspill/samspill/app"
	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/eventstore"
)

// credentialEnds is how long a long-lived response may outlive its
// credential in these tests: the server checks every second; the slack is
// for a loaded machine.
const credentialEnds = 5 * time.Second

// ownToken makes a token of the shared fixture store that only this test
// revokes or changes.
func ownToken(t *testing.T, role string, municipalities ...string) (name, token string) {
	t.Helper()
	name = "own-" + uuid.NewString()[:8]
	token, err := testTokens().store.Create(context.Background(), auth.Spec{Name: name, Role: role, Municipalities: municipalities})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = testTokens().store.Revoke(context.Background(), name) })
	return name, token
}

// changeToken changes a token's row in the token store's file behind the
// store's back, as an administrator's change of role or municipalities
// does.
func changeToken(t *testing.T, name, column, value string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(tokenDir, "tokens.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE tokens SET `+column+` = ? WHERE name = ?`, value, name); err != nil {
		t.Fatal(err)
	}
}

// openStream opens the event stream with the token and reads until the
// first event has arrived; it returns the rest of the stream.
func openStream(t *testing.T, a *testAPI, token string) *bufio.Reader {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, a.srv.URL+"/api/v1/events/stream?after=0", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	if res.StatusCode != http.StatusOK {
		t.Fatalf("open the stream: %d", res.StatusCode)
	}
	r := bufio.NewReader(res.Body)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("read the stream: %v", err)
		}
		if strings.HasPrefix(line, "data: ") {
			return r
		}
	}
}

// waitEnd reads the stream until it ends and returns how long that took.
func waitEnd(t *testing.T, r *bufio.Reader) time.Duration {
	t.Helper()
	start := time.Now()
	ended := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.Discard, r)
		ended <- err
	}()
	select {
	case <-ended:
		return time.Since(start)
	case <-time.After(credentialEnds):
		t.Fatalf("the stream was still open %s after its credential changed", credentialEnds)
		return 0
	}
}

// TestEventStreamEndsWhenItsCredentialChanges opens event streams and then
// revokes the token, lowers its role, or moves a coordinator's
// municipalities: each stream ends within about a second, and the client
// that reconnects gets what the credential now allows.
func TestEventStreamEndsWhenItsCredentialChanges(t *testing.T) {
	a := newTestAPI(t)
	a.newPartnership()
	for _, c := range []struct {
		name           string
		role           string
		municipalities []string
		change         func(name string)
		reconnect      int
	}{
		{"revoked", auth.RoleResearcher, nil, func(name string) {
			if err := testTokens().store.Revoke(context.Background(), name); err != nil {
				t.Fatal(err)
			}
		}, http.StatusUnauthorized},
		{"role lowered", auth.RoleAdmin, nil, func(name string) { changeToken(t, name, "role", auth.RoleViewer) }, http.StatusOK},
		{"municipalities moved", auth.RoleCoordinator, []string{"0301"}, func(name string) { changeToken(t, name, "municipalities", "5006") }, http.StatusOK},
	} {
		t.Run(c.name, func(t *testing.T) {
			name, token := ownToken(t, c.role, c.municipalities...)
			r := openStream(t, a, token)
			c.change(name)
			took := waitEnd(t, r)
			t.Logf("the stream ended %s after the change", took.Round(time.Millisecond))
			res := a.do("GET", "/api/v1/events?after=0", nil, "Authorization", "Bearer "+token)
			if res.Status != c.reconnect {
				t.Fatalf("after the change the token gets %d, want %d", res.Status, c.reconnect)
			}
		})
	}
}

// TestResearchExportEndsWhenItsTokenIsRevoked starts a large events export
// with a client that reads slowly, revokes the token, and checks that the
// export is cut off (the client sees a truncated, failed transfer) instead
// of running to its end.
func TestResearchExportEndsWhenItsTokenIsRevoked(t *testing.T) {
	a := newTestAPI(t)
	ctx := context.Background()
	for i := range 200 {
		rest := make([]partnership.Command, 99)
		for j := range rest {
			rest[j] = partnership.Command{Event: partnership.MilestoneLogged{Kind: "meeting", Title: fmt.Sprintf("Møte %d med en lang nok tittel til at eksporten blir stor", j), Note: strings.Repeat("notat ", 20)}, OccurredAt: &testNow}
		}
		initiation := partnership.PartnershipInitiated{
			PartnershipID: uuid.NewString(), Municipality: "0301", Title: fmt.Sprintf("Samarbeid %d", i), ServiceArea: "culture", CollaborationModel: "network",
			Partners: []partnership.Partner{{PartnerID: "lag", Name: "Lag", Kind: "voluntary_organisation"}}, Goals: []string{"Mål"},
		}
		if _, err := a.cfg.Service.Load(ctx, initiation, testNow.Add(-time.Hour), rest, app.Meta{Actor: eventstore.Actor{Subject: "test", Role: "admin"}}); err != nil {
			t.Fatal(err)
		}
	}
	full := a.do("GET", "/api/v1/research/events.ndjson", nil)
	wantStatus(t, full, http.StatusOK)

	name, token := ownToken(t, auth.RoleResearcher)
	req, _ := http.NewRequest(http.MethodGet, a.srv.URL+"/api/v1/research/events.ndjson", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept-Encoding", "identity") // no gzip: the sizes compare
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	head := make([]byte, 4096)
	if _, err := io.ReadFull(res.Body, head); err != nil {
		t.Fatal(err)
	}
	if err := testTokens().store.Revoke(context.Background(), name); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * principalRecheck) // the client stops reading; the server must not wait for it
	rest, err := io.ReadAll(res.Body)
	if err == nil || len(head)+len(rest) >= len(full.Body) {
		t.Fatalf("after the revocation the export went on: read %d of %d bytes, error %v", len(head)+len(rest), len(full.Body), err)
	}
	if r := a.do("GET", "/api/v1/research/events.ndjson?"+url.Values{"at_position": {"1"}}.Encode(), nil, "Authorization", "Bearer "+token); r.Status != http.StatusUnauthorized {
		t.Fatalf("the revoked token then gets %d", r.Status)
	}
}
