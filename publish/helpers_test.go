package publish_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/samspill/samspill/app"
	"github.com/samspill/samspill/demo"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/eventstore/sqlite"
	"github.com/samspill/samspill/history"
	"github.com/samspill/samspill/internal/natstest"
	"github.com/samspill/samspill/personal"
	"github.com/samspill/samspill/publish"
)

// now pins the demo data set and the store's clock.
var now = time.Date(2026, time.November, 26, 12, 0, 0, 0, time.UTC)

var secret = []byte("installation secret of the tests")

// Personal data the tests write, which must never reach NATS: a contact
// person's fields, and a recorder's token name and request ids.
const (
	contactName  = "Kari Nordmann"
	contactEmail = "kari.nordmann@example.no"
	contactPhone = "+47 400 00 001"
	recorder     = "arendal-kari"
	requestID    = "kari-request-1"
)

// openStore opens an empty SQLite event store in a temporary folder.
func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "events.db"), sqlite.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// demoStore is a store holding the demo data set (its contacts stored in
// plain, as app.New without personal-data keys writes them) and one
// partnership recorded by a named coordinator, with a contact person and
// a correction of it.
func demoStore(t *testing.T) *sqlite.Store {
	t.Helper()
	s := openStore(t)
	if _, err := demo.Load(context.Background(), s, now); err != nil {
		t.Fatal(err)
	}
	addPartnership(t, s)
	return s
}

// addPartnership records a partnership as coordinator recorder, with a
// contact person (in plain) and a correction replacing it.
func addPartnership(t *testing.T, s eventstore.Store) {
	t.Helper()
	ctx := context.Background()
	svc := app.New(s)
	meta := app.Meta{Actor: eventstore.Actor{Subject: recorder, Role: "coordinator"}, CorrelationID: requestID, CausationID: requestID}
	in2019 := time.Date(2019, time.May, 2, 10, 0, 0, 0, time.UTC)
	res, err := svc.Initiate(ctx, partnership.Command{Event: partnership.PartnershipInitiated{
		PartnershipID: "p", Municipality: "0906", Title: "Leksehjelp", ServiceArea: "education",
		CollaborationModel: "network", Goals: []string{"Mål"},
		Partners: []partnership.Partner{{PartnerID: "a", Name: "Røde Kors", Kind: "voluntary_organisation"}},
	}, OccurredAt: &in2019}, meta)
	if err != nil {
		t.Fatal(err)
	}
	partner := res.State.Partners[0].PartnerID
	res, err = svc.Execute(ctx, res.State.ID, partnership.Command{Event: partnership.ContactPersonAssigned{PartnerID: partner, Name: contactName, Email: contactEmail}}, meta)
	if err != nil {
		t.Fatal(err)
	}
	events, _, err := svc.History().Events(ctx, res.State.ID, partnership.View{})
	if err != nil {
		t.Fatal(err)
	}
	replacement, _ := json.Marshal(partnership.ContactPersonAssigned{PartnerID: partner, Name: contactName, Phone: contactPhone})
	if _, err := svc.Execute(ctx, res.State.ID, partnership.Command{Event: partnership.EntryCorrected{
		CorrectedEventID: events[len(events)-1].EventID, Reason: "telefon", Replacement: replacement,
	}}, meta); err != nil {
		t.Fatal(err)
	}
}

// appendMilestones appends a new partnership of n events (its initiation
// and n-1 milestones). It may run in a goroutine of its own.
func appendMilestones(s eventstore.Store, n int) error {
	ctx := context.Background()
	svc := app.New(s)
	res, err := svc.Initiate(ctx, partnership.Command{Event: partnership.PartnershipInitiated{
		PartnershipID: "p", Municipality: "5006", Title: "Turgruppe", ServiceArea: "public_health",
		CollaborationModel: "network", Goals: []string{"Mål"},
		Partners: []partnership.Partner{{PartnerID: "a", Name: "Turlaget", Kind: "voluntary_organisation"}},
	}}, app.Meta{})
	if err != nil {
		return err
	}
	for i := range n - 1 {
		if _, err := svc.Execute(ctx, res.State.ID, partnership.Command{Event: partnership.MilestoneLogged{Kind: "meeting", Title: "Møte " + strconv.Itoa(i)}}, app.Meta{}); err != nil {
			return err
		}
	}
	return nil
}

// mustAppendMilestones is appendMilestones on the test's goroutine.
func mustAppendMilestones(t *testing.T, s eventstore.Store, n int) {
	t.Helper()
	if err := appendMilestones(s, n); err != nil {
		t.Fatal(err)
	}
}

// logBuffer collects a forwarder's log.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// config is the forwarder's configuration for the test's stream, with
// short waits.
func config(s *natstest.Stream, log *logBuffer) publish.Config {
	return publish.Config{
		URL:           s.URL,
		Topic:         history.Topic,
		Secret:        secret,
		Stream:        s.Name,
		SubjectPrefix: s.Prefix,
		MaxBackoff:    200 * time.Millisecond,
		Logger:        testLogger(log),
	}
}

// testLogger logs everything to log.
func testLogger(log *logBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// start starts a forwarder with cfg and closes it when the test ends.
func start(t *testing.T, store eventstore.Store, cfg publish.Config) *publish.Forwarder {
	t.Helper()
	f, err := publish.Start(context.Background(), store, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f
}

// readLog returns every event of the store.
func readLog(t *testing.T, s eventstore.Store) []eventstore.RecordedEvent {
	t.Helper()
	all, err := s.ReadAll(context.Background(), 0, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	return all
}

// checkStream fails t unless the stream holds exactly the log: one message
// per event, in position order, none twice and none missing, each with the
// documented subject, headers and body, at consecutive sequences.
func checkStream(t *testing.T, s *natstest.Stream, log []eventstore.RecordedEvent) {
	t.Helper()
	msgs := s.Messages(t)
	if len(msgs) != len(log) {
		t.Fatalf("the stream holds %d messages, the log %d events", len(msgs), len(log))
	}
	names := personal.NewPseudonyms(secret)
	for i, m := range msgs {
		want := log[i]
		if m.Sequence != msgs[0].Sequence+uint64(i) {
			t.Fatalf("message %d has sequence %d, the first %d", i, m.Sequence, msgs[0].Sequence)
		}
		if subject := s.Prefix + ".partnership." + want.Type; m.Subject != subject {
			t.Fatalf("message %d: subject %q, want %q", i, m.Subject, subject)
		}
		for key, value := range map[string]string{
			nats.MsgIdHdr:               want.EventID,
			publish.HeaderEventID:       want.EventID,
			publish.HeaderType:          want.Type,
			publish.HeaderSchemaVersion: strconv.Itoa(want.SchemaVersion),
			publish.HeaderStreamID:      want.StreamID,
			publish.HeaderPosition:      strconv.FormatUint(want.Position, 10),
			"_watermill_message_uuid":   want.EventID,
		} {
			if got := m.Header.Get(key); got != value {
				t.Fatalf("message %d (position %d): header %s is %q, want %q", i, want.Position, key, got, value)
			}
		}
		var got eventstore.RecordedEvent
		if err := json.Unmarshal(m.Data, &got); err != nil {
			t.Fatalf("message %d: body is no envelope: %v\n%s", i, err, m.Data)
		}
		redacted, err := personal.Redact(want)
		if err != nil {
			t.Fatal(err)
		}
		redacted.Metadata = names.Metadata(redacted.Metadata)
		wantBody, _ := json.Marshal(redacted)
		if !bytes.Equal(m.Data, wantBody) {
			t.Fatalf("message %d: body\n%s\nwant the redacted envelope\n%s", i, m.Data, wantBody)
		}
		if got.EventID != want.EventID || got.Position != want.Position || got.Metadata.Actor.Role != want.Metadata.Actor.Role {
			t.Fatalf("message %d: envelope %+v, stored %+v", i, got, want)
		}
	}
}

// checkNoPersonalData fails t when a message of the stream carries any
// personal data: a contact person's field of the log (stored in plain
// there), the test's recorder or request id.
func checkNoPersonalData(t *testing.T, s *natstest.Stream, log []eventstore.RecordedEvent) {
	t.Helper()
	banned := []string{"Nordmann", "example.no", "400 00", recorder, requestID}
	for _, e := range log {
		if e.Type != partnership.TypeContactPersonAssigned {
			continue
		}
		var c partnership.ContactPersonAssigned
		if err := json.Unmarshal(e.Data, &c); err != nil {
			t.Fatal(err)
		}
		for _, v := range []string{c.Name, c.Email, c.Phone} {
			if v != "" {
				banned = append(banned, v)
			}
		}
	}
	if len(banned) < 20 {
		t.Fatalf("the log holds too few contacts (%d values to look for)", len(banned))
	}
	for _, m := range s.Messages(t) {
		var all strings.Builder
		all.Write(m.Data)
		for k, v := range m.Header {
			all.WriteString(k + ": " + strings.Join(v, ",") + "\n")
		}
		for _, v := range banned {
			if strings.Contains(all.String(), v) {
				t.Fatalf("message %d carries personal data %q:\n%s", m.Sequence, v, all.String())
			}
		}
	}
}
