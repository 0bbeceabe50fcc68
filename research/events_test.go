package research_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/samspill/samspill/app"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/personal"
	"github.com/samspill/samspill/research"
)

// contacts returns the personal data the store holds, read from its events.
func contacts(t *testing.T, s eventstore.Store) []string {
	t.Helper()
	all, err := s.ReadAll(context.Background(), 0, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range all {
		if e.Type != partnership.TypeContactPersonAssigned {
			continue
		}
		var c partnership.ContactPersonAssigned
		if err := json.Unmarshal(e.Data, &c); err != nil {
			t.Fatal(err)
		}
		for _, v := range []string{c.Name, c.Email, c.Phone} {
			if v != "" {
				out = append(out, v)
			}
		}
	}
	return out
}

func TestEventsExportHasEveryEventWithoutPersonalData(t *testing.T) {
	store := demoStore(t)
	body, sum := exportEvents(t, store, 0)
	personalData := contacts(t, store)
	if len(personalData) < 5 {
		t.Fatalf("the demo data holds only %d personal values; the test needs contacts", len(personalData))
	}
	for _, v := range personalData {
		if bytes.Contains(body, []byte(v)) {
			t.Fatalf("the export contains personal data %q", v)
		}
	}
	all, _ := store.ReadAll(context.Background(), 0, 1_000_000)
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<20)
	i, corrections, redacted := 0, 0, 0
	for sc.Scan() {
		var e eventstore.RecordedEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		want := all[i]
		// The export writes envelopes with an encoder of its own: every
		// member the feed's JSON has must be there, and no other.
		if got, feed := members(t, sc.Bytes()), members(t, mustJSON(t, want)); !slices.Equal(got, feed) {
			t.Fatalf("line %d has members %v, the envelope %v", i+1, got, feed)
		}
		if e.EventID != want.EventID || e.Position != want.Position || e.Version != want.Version ||
			!e.OccurredAt.Equal(want.OccurredAt) || !e.RecordedAt.Equal(want.RecordedAt) || e.Metadata.Actor.Role != want.Metadata.Actor.Role ||
			!personal.IsPseudonym(e.Metadata.Actor.Subject) {
			t.Fatalf("line %d: envelope %+v, stored %+v", i+1, e, want)
		}
		switch e.Type {
		case partnership.TypeEntryCorrected:
			corrections++
		case partnership.TypeContactPersonAssigned:
			redacted++
			if string(e.Data) == string(want.Data) {
				t.Fatalf("line %d: contact not redacted", i+1)
			}
		default:
			var a, b any
			_ = json.Unmarshal(e.Data, &a)
			_ = json.Unmarshal(want.Data, &b)
			if !jsonEqual(a, b) {
				t.Fatalf("line %d: data %s, stored %s", i+1, e.Data, want.Data)
			}
		}
		i++
	}
	if i != len(all) || sum.Rows != i || corrections == 0 || redacted == 0 {
		t.Fatalf("%d lines (%d corrections, %d contacts) of %d events; summary %+v", i, corrections, redacted, len(all), sum)
	}
	h := sha256.Sum256(body)
	if sum.SHA256 != hex.EncodeToString(h[:]) || sum.Bytes != int64(len(body)) || sum.Position != all[len(all)-1].Position {
		t.Fatalf("summary %+v does not describe the body", sum)
	}
}

// members returns the sorted member names of a JSON object.
func members(t *testing.T, object []byte) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(object, &m); err != nil {
		t.Fatal(err)
	}
	return slices.Sorted(maps.Keys(m))
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

func TestCorrectionOfAContactIsRedactedToo(t *testing.T) {
	store := openStore(t)
	svc := app.New(store)
	ctx := context.Background()
	res, err := svc.Initiate(ctx, partnership.Command{Event: initiated, OccurredAt: &in2019}, app.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	id := res.State.ID
	partner := res.State.Partners[0].PartnerID
	if _, err := svc.Execute(ctx, id, partnership.Command{Event: partnership.ContactPersonAssigned{PartnerID: partner, Name: "Kari Nordmann", Email: "kari@example.no"}}, app.Meta{}); err != nil {
		t.Fatal(err)
	}
	history, _, _ := svc.History().Events(ctx, id, partnership.View{})
	contact := history[len(history)-1]
	replacement, _ := json.Marshal(partnership.ContactPersonAssigned{PartnerID: partner, Name: "Kari Nordfjell", Phone: "+47 400 00 001"})
	if _, err := svc.Execute(ctx, id, partnership.Command{Event: partnership.EntryCorrected{CorrectedEventID: contact.EventID, Reason: "feil navn", Replacement: replacement}}, app.Meta{}); err != nil {
		t.Fatal(err)
	}
	body, _ := exportEvents(t, store, 0)
	for _, v := range []string{"Kari", "example.no", "400 00"} {
		if bytes.Contains(body, []byte(v)) {
			t.Fatalf("export contains %q:\n%s", v, body)
		}
	}
	if !bytes.Contains(body, []byte(`"replacement":{"contact_id"`)) {
		t.Fatalf("the correction lost its replacement:\n%s", body)
	}
}

func TestExportsAreReproducibleByPosition(t *testing.T) {
	store := demoStore(t)
	pos := head(t, store)
	events, eventsSum := exportEvents(t, store, 0)
	spells, spellsSum := exportSpells(t, store, 0, "2026-11-26")

	// Later writes, a correction among them, change nothing at pos.
	svc := app.New(store)
	ctx := context.Background()
	res, err := svc.Initiate(ctx, partnership.Command{Event: initiated, OccurredAt: &in2019}, app.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Execute(ctx, res.State.ID, partnership.Command{Event: goals}, app.Meta{}); err != nil {
		t.Fatal(err)
	}
	if head(t, store) <= pos {
		t.Fatal("nothing was appended")
	}
	events2, eventsSum2 := exportEvents(t, store, pos)
	spells2, spellsSum2 := exportSpells(t, store, pos, "2026-11-26")
	if !bytes.Equal(events, events2) || eventsSum != eventsSum2 {
		t.Error("events export at the same position differs")
	}
	if !bytes.Equal(spells, spells2) || spellsSum != spellsSum2 {
		t.Error("spells export at the same position differs")
	}
	// At the head, the new partnership is in both.
	if now, _ := exportEvents(t, store, 0); bytes.Equal(now, events) {
		t.Error("export at the head misses the new events")
	}
	if _, err := research.Position(ctx, store, head(t, store)+1); !errors.Is(err, research.ErrPositionAhead) {
		t.Errorf("a position beyond the head: %v, want ErrPositionAhead", err)
	}
}

func TestImportRoundTripIsByteIdentical(t *testing.T) {
	src := demoStore(t)
	body, sum := exportEvents(t, src, 0)
	path := filepath.Join(t.TempDir(), "events.ndjson")
	if err := os.WriteFile(path, body, 0o600); err != nil {
		t.Fatal(err)
	}
	dst := openStore(t)
	var progress []research.ImportProgress
	res := importFile(t, dst, path, func(p research.ImportProgress) { progress = append(progress, p) })
	if res.Events != sum.Rows || res.Written != sum.Rows {
		t.Fatalf("import %+v, export had %d events", res, sum.Rows)
	}
	if len(progress) == 0 || progress[len(progress)-1] != (research.ImportProgress{Done: sum.Rows, Total: sum.Rows}) {
		t.Fatalf("progress %v", progress)
	}
	again, sum2 := exportEvents(t, dst, 0)
	if !bytes.Equal(body, again) || sum != sum2 {
		t.Fatal("export → import → export is not byte-identical")
	}
	if res := importFile(t, dst, path, nil); res.Written != 0 {
		t.Fatalf("a second import wrote %d events", res.Written)
	}
	// The imported store replays: the spells agree with the source's.
	a, _ := exportSpells(t, src, 0, "2026-11-26")
	b, _ := exportSpells(t, dst, 0, "2026-11-26")
	if !bytes.Equal(a, b) {
		t.Fatal("spells of the imported store differ")
	}
}

func importFile(t *testing.T, s eventstore.Importer, path string, progress func(research.ImportProgress)) research.ImportResult {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := research.Import(context.Background(), s, f, progress)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestMalformedImportNamesTheLineAndWritesNothing(t *testing.T) {
	src := demoStore(t)
	body, _ := exportEvents(t, src, 0)
	lines := strings.Split(strings.TrimSuffix(string(body), "\n"), "\n")
	with := func(i int, line string) string {
		l := append([]string{}, lines...)
		l[i] = line
		return strings.Join(l, "\n") + "\n"
	}
	edit := func(i int, from, to string) string { return with(i, strings.Replace(lines[i], from, to, 1)) }
	last := len(lines) - 1
	for _, tc := range []struct {
		name, file string
		line       int
	}{
		{"not JSON", with(last, "{oops"), last + 1},
		{"empty line", with(3, ""), 4},
		{"unknown field", edit(5, `"event_id"`, `"extra":1,"event_id"`), 6},
		{"unknown type", edit(7, `"type":"`, `"type":"X`), 8},
		{"data of another shape", edit(0, `"goals":[`, `"goals":"one","old":[`), 1},
		{"not a partnership stream", edit(9, `"stream_id":"partnership-`, `"stream_id":"other-`), 10},
		{"positions out of order", with(11, lines[10]), 12},
		{"missing recorded_at", edit(12, `"recorded_at"`, `"recorded"`), 13},
		{"a line too long", with(14, strings.Repeat("x", 5<<20)), 15},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "events.ndjson")
			if err := os.WriteFile(path, []byte(tc.file), 0o600); err != nil {
				t.Fatal(err)
			}
			dst := openStore(t)
			f, _ := os.Open(path)
			defer f.Close()
			_, err := research.Import(context.Background(), dst, f, nil)
			var le *research.LineError
			if !errors.As(err, &le) || le.Line != tc.line || !errors.Is(err, research.ErrMalformed) {
				t.Fatalf("Import: %v, want an error at line %d", err, tc.line)
			}
			if h := head(t, dst); h != 0 {
				t.Fatalf("a malformed file wrote %d events", h)
			}
		})
	}
}

// TestEventsExportNamesNoStaff writes events as named staff with request
// and idempotency ids a client chose, and checks that the export carries
// none of them: actors by role and a pseudonym, one per person in every
// export of the installation, ids as pseudonyms too.
func TestEventsExportNamesNoStaff(t *testing.T) {
	store := openStore(t)
	svc := app.New(store)
	ctx := context.Background()
	meta := func(subject, request, key string) app.Meta {
		return app.Meta{Actor: eventstore.Actor{Subject: subject, Role: "coordinator"}, CorrelationID: request, CausationID: request, IdempotencyKey: key}
	}
	res, err := svc.Initiate(ctx, partnership.Command{Event: initiated, OccurredAt: &in2019}, meta("arendal-kari", "kari-request-1", "kari-key-1"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Execute(ctx, res.State.ID, partnership.Command{Event: goals}, meta("arendal-ola", "ola-request-1", "")); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Execute(ctx, res.State.ID, partnership.Command{Event: partnership.MilestoneLogged{Kind: "meeting", Title: "Møte"}}, meta("arendal-kari", "kari-request-2", "")); err != nil {
		t.Fatal(err)
	}
	body, _ := exportEvents(t, store, 0)
	for _, name := range []string{"kari", "ola"} {
		if bytes.Contains(body, []byte(name)) {
			t.Fatalf("the export names %q:\n%s", name, body)
		}
	}
	var actors []string
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		var e eventstore.RecordedEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		m := e.Metadata
		if m.Actor.Role != "coordinator" || !personal.IsPseudonym(m.Actor.Subject) || !personal.IsPseudonym(m.CorrelationID) || m.CausationID != m.CorrelationID {
			t.Fatalf("metadata %+v, want the role and pseudonyms", m)
		}
		actors = append(actors, m.Actor.Subject)
	}
	if len(actors) != 3 || actors[0] != actors[2] || actors[0] == actors[1] {
		t.Fatalf("actors %v: want Kari's pseudonym on events 1 and 3 and Ola's, another, on 2", actors)
	}
	again, _ := exportEvents(t, store, 0)
	if !bytes.Equal(body, again) {
		t.Fatal("two exports at the same position differ")
	}
}
