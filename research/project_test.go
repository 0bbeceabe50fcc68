package research_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/samspill/samspill/app"
	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/eventstore/sqlite"
	"github.com/samspill/samspill/research"
)

var (
	projectA = research.ProjectKeys("project-a", []byte("the pseudonymisation key of project A!"), 1)
	projectB = research.ProjectKeys("project-b", []byte("the pseudonymisation key of project B!"), 1)
)

// tableCSV writes an export's table as CSV under the options.
func tableCSV(t *testing.T, s eventstore.Store, name string, o research.Options) []byte {
	t.Helper()
	export, ok := research.Lookup(name)
	if !ok {
		t.Fatalf("no export %q", name)
	}
	var buf bytes.Buffer
	if _, err := research.WriteTable(context.Background(), &buf, research.FormatCSV, export.Table, export.Rows(context.Background(), s, o)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// projectEvents writes events.ndjson under the options.
func projectEvents(t *testing.T, s eventstore.Store, o research.EventsOptions) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := research.WriteEvents(context.Background(), s, &buf, o); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// csvColumn returns the distinct values of a CSV column.
func csvColumn(t *testing.T, body []byte, name string) map[string]bool {
	t.Helper()
	records, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := -1
	for i, h := range records[0] {
		if h == name {
			col = i
		}
	}
	if col < 0 {
		t.Fatalf("no column %s in %v", name, records[0])
	}
	out := map[string]bool{}
	for _, r := range records[1:] {
		out[r[col]] = true
	}
	return out
}

// envelopes decodes an NDJSON export.
func envelopes(t *testing.T, body []byte) []eventstore.RecordedEvent {
	t.Helper()
	var out []eventstore.RecordedEvent
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e eventstore.RecordedEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

// TestWavesOfAProjectJoin: two spells exports of one project, at different
// positions and as_of, key each partnership alike, and the project's
// events export uses the same key as stream_id and partnership_id.
func TestWavesOfAProjectJoin(t *testing.T) {
	store := demoStore(t)
	first := head(t, store)
	wave1 := tableCSV(t, store, "spells", research.Options{Position: first, AsOf: "2022-12-31", Keys: projectA})

	svc := app.New(store)
	ctx := context.Background()
	res, err := svc.Initiate(ctx, partnership.Command{Event: initiated, OccurredAt: &in2019}, app.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Execute(ctx, res.State.ID, partnership.Command{Event: goals}, app.Meta{}); err != nil {
		t.Fatal(err)
	}
	second := head(t, store)
	wave2 := tableCSV(t, store, "spells", research.Options{Position: second, AsOf: "2026-11-26", Keys: projectA})

	k1, k2 := csvColumn(t, wave1, "partnership_key"), csvColumn(t, wave2, "partnership_key")
	if len(k1) < 20 || len(k2) != len(csvColumn(t, tableCSV(t, store, "spells", research.Options{Position: second, AsOf: "2026-11-26", Keys: projectB}), "partnership_key")) {
		t.Fatalf("%d and %d keys", len(k1), len(k2))
	}
	for k := range k1 {
		if !k2[k] {
			t.Fatalf("wave 1's key %s is not in wave 2", k)
		}
	}
	if len(k2) <= len(k1) {
		t.Fatalf("wave 2 has %d partnerships, wave 1 %d: the later wave should hold more", len(k2), len(k1))
	}
	// The start date of each partnership agrees between the waves: the
	// keys join the same partnerships, not merely the same strings.
	starts := func(body []byte) map[string]string {
		records, _ := csv.NewReader(bytes.NewReader(body)).ReadAll()
		m := map[string]string{}
		for _, r := range records[1:] {
			m[r[0]] = r[4]
		}
		return m
	}
	s1, s2 := starts(wave1), starts(wave2)
	for k, d := range s1 {
		if s2[k] != d {
			t.Fatalf("partnership %s began %s in wave 1, %s in wave 2", k, d, s2[k])
		}
	}

	events := envelopes(t, projectEvents(t, store, research.EventsOptions{Position: second, Keys: projectA}))
	streams := map[string]bool{}
	for _, e := range events {
		streams[e.StreamID] = true
		if e.Type == partnership.TypePartnershipInitiated {
			var init partnership.PartnershipInitiated
			if err := json.Unmarshal(e.Data, &init); err != nil {
				t.Fatal(err)
			}
			if init.PartnershipID != e.StreamID {
				t.Fatalf("partnership_id %s, stream_id %s: want the same pseudonym", init.PartnershipID, e.StreamID)
			}
		}
	}
	for k := range k2 {
		if !streams[k] {
			t.Fatalf("the spells key %s is no stream_id of the project's events", k)
		}
	}
	if len(streams) != len(k2) {
		t.Fatalf("%d streams in the events, %d partnerships in the spells", len(streams), len(k2))
	}
	// A repeated export is the same bytes.
	if again := tableCSV(t, store, "spells", research.Options{Position: first, AsOf: "2022-12-31", Keys: projectA}); !bytes.Equal(again, wave1) {
		t.Fatal("the same project export twice differs")
	}
	if a, b := projectEvents(t, store, research.EventsOptions{Position: first, Keys: projectA}), projectEvents(t, store, research.EventsOptions{Position: first, Keys: projectA}); !bytes.Equal(a, b) {
		t.Fatal("the same project events export twice differs")
	}
}

var (
	hex32       = regexp.MustCompile(`[0-9a-f]{32}`)
	pseudonym16 = regexp.MustCompile(`(actor|req)-[0-9a-f]{16}`)
)

// idsOf collects every pseudonym in an export.
func idsOf(body []byte) map[string]bool {
	out := map[string]bool{}
	for _, re := range []*regexp.Regexp{hex32, pseudonym16} {
		for _, m := range re.FindAll(body, -1) {
			out[string(m)] = true
		}
	}
	return out
}

// TestTwoProjectsNeverShareAKey: the same data under two projects' keys
// gives files without a single pseudonym in common (partnerships,
// partners, contacts, events, actors, requests), and none of the ids the
// store holds.
func TestTwoProjectsNeverShareAKey(t *testing.T) {
	store := demoStore(t)
	meta := app.Meta{Actor: eventstore.Actor{Subject: "arendal-kari", Role: "coordinator"}, CorrelationID: "kari-request", IdempotencyKey: "kari-key"}
	svc := app.New(store)
	res, err := svc.Initiate(context.Background(), partnership.Command{Event: initiated, OccurredAt: &in2019}, meta)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Execute(context.Background(), res.State.ID, partnership.Command{Event: partnership.ContactPersonAssigned{PartnerID: "a", Name: "Kari Nordmann", Phone: "+47 400 00 001"}}, meta); err != nil {
		t.Fatal(err)
	}
	pos := head(t, store)
	files := map[string][2][]byte{}
	for name, keys := range map[string]research.Keys{"a": projectA, "b": projectB} {
		spells := tableCSV(t, store, "spells", research.Options{Position: pos, AsOf: "2026-11-26", Keys: keys})
		events := projectEvents(t, store, research.EventsOptions{Position: pos, Keys: keys})
		files[name] = [2][]byte{spells, events}
	}
	a := idsOf(append(append([]byte{}, files["a"][0]...), files["a"][1]...))
	b := idsOf(append(append([]byte{}, files["b"][0]...), files["b"][1]...))
	if len(a) < 1000 {
		t.Fatalf("only %d pseudonyms in project A's files", len(a))
	}
	for id := range a {
		if b[id] {
			t.Fatalf("pseudonym %s is in both projects' files", id)
		}
	}
	// Every id of the store is gone, and every id member of the project's
	// events is a pseudonym.
	all, err := store.ReadAll(context.Background(), 0, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	body := files["a"][1]
	for _, e := range all {
		for _, id := range []string{e.EventID, strings.TrimPrefix(e.StreamID, "partnership-"), e.Metadata.CorrelationID, e.Metadata.IdempotencyKey} {
			if id != "" && bytes.Contains(body, []byte(id)) {
				t.Fatalf("project A's events hold the stored id %s", id)
			}
		}
	}
	kinds := map[string]int{}
	for _, e := range envelopes(t, body) {
		if !hex32.MatchString(e.EventID) || len(e.EventID) != 32 || len(e.StreamID) != 32 {
			t.Fatalf("envelope ids %s, %s: want pseudonyms", e.EventID, e.StreamID)
		}
		walkMembers(t, e.Data, func(member, value string) {
			switch member {
			case "partnership_id", "partner_id", "contact_id", "corrected_event_id":
				if len(value) != 32 || !hex32.MatchString(value) {
					t.Fatalf("%s %q in %s is not a pseudonym", member, value, e.Data)
				}
				kinds[member]++
			}
		})
	}
	for _, member := range []string{"partnership_id", "partner_id", "contact_id", "corrected_event_id"} {
		if kinds[member] == 0 {
			t.Errorf("no %s in the events: the test data should have some", member)
		}
	}
}

// walkMembers calls fn with every string value of an object member in a
// JSON document, at any depth.
func walkMembers(t *testing.T, data []byte, fn func(member, value string)) {
	t.Helper()
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok {
					fn(k, s)
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(v)
}

// TestNoPersonIsNamedInAnyResearchExport records partnerships with contact
// persons (names, e-mail addresses, phones, a correction of one) as staff
// whose token names and request ids name them, and greps every research
// export, one-off and under a project's keys, for any of it.
func TestNoPersonIsNamedInAnyResearchExport(t *testing.T) {
	store := openStore(t)
	svc := app.New(store)
	ctx := context.Background()
	as := func(subject string) app.Meta {
		return app.Meta{Actor: eventstore.Actor{Subject: subject, Role: "coordinator"}, CorrelationID: subject + "-request", CausationID: subject + "-request", IdempotencyKey: subject + "-key"}
	}
	in2021 := time.Date(2021, time.May, 2, 10, 0, 0, 0, time.UTC)
	res, err := svc.Initiate(ctx, partnership.Command{Event: mixed, OccurredAt: &in2021}, as("ola.nordmann"))
	if err != nil {
		t.Fatal(err)
	}
	id := res.State.ID
	for _, cmd := range []partnership.Event{
		partnership.ContactPersonAssigned{PartnerID: "a", Name: "Kari Nordmann", Email: "kari.nordmann@example.no", Phone: "+47 400 00 001"},
		partnership.ContactPersonAssigned{PartnerID: "s", Name: "Per Hansen", Email: "per.hansen@example.no"},
		lead("a"),
		agreement("cooperation_agreement", "2021-06-01", ""),
		partnership.FundingRecorded{AmountNOK: 100_000, Source: "Kommunen", PeriodFrom: "2021-01-01", PeriodUntil: "2021-12-31"},
	} {
		if _, err := svc.Execute(ctx, id, partnership.Command{Event: cmd}, as("kari.nordmann")); err != nil {
			t.Fatal(err)
		}
	}
	h, _, err := svc.History().Events(ctx, id, partnership.View{})
	if err != nil {
		t.Fatal(err)
	}
	contact := h[1]
	replacement := mustRaw(t, partnership.ContactPersonAssigned{PartnerID: "a", Name: "Kari Nordfjell", Phone: "+47 400 00 002"})
	if _, err := svc.Execute(ctx, id, partnership.Command{Event: partnership.EntryCorrected{CorrectedEventID: contact.EventID, Reason: "nytt etternavn", Replacement: replacement}}, as("per.hansen")); err != nil {
		t.Fatal(err)
	}
	pos := head(t, store)
	exports := map[string][]byte{}
	exports["spells one-off"], _ = exportSpells(t, store, 0, "2026-11-26")
	exports["events one-off"], _ = exportEvents(t, store, 0)
	exports["spells project"] = tableCSV(t, store, "spells", research.Options{Position: pos, AsOf: "2026-11-26", Keys: projectA})
	exports["events project"] = projectEvents(t, store, research.EventsOptions{Position: pos, Keys: projectA})
	for name, body := range exports {
		if len(body) < 100 {
			t.Fatalf("%s: %d bytes", name, len(body))
		}
		lower := bytes.ToLower(body)
		for _, v := range []string{"kari", "nordmann", "nordfjell", "ola", "per.hansen", "hansen", "example.no", "400 00", "+47"} {
			if bytes.Contains(lower, []byte(v)) {
				t.Errorf("%s names %q:\n%s", name, v, body)
			}
		}
	}
}

// TestKnownAtThroughTheStore exports from a store whose events were
// recorded on different days: an export known at a day sees what had been
// recorded by then, and not a correction recorded later; the events export
// stops at the same day.
func TestKnownAtThroughTheStore(t *testing.T) {
	clock := time.Date(2020, time.March, 2, 9, 0, 0, 0, time.UTC)
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "events.db"), sqlite.WithClock(func() time.Time { return clock }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	svc := app.New(store, app.WithClock(func() time.Time { return clock }))
	ctx := context.Background()
	on := func(d string) *time.Time {
		at, err := time.ParseInLocation(time.DateOnly, d, time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		at = at.Add(10 * time.Hour)
		return &at
	}
	arendal := initiated
	arendal.Municipality = "4203"
	res, err := svc.Initiate(ctx, partnership.Command{Event: arendal, OccurredAt: on("2020-03-01")}, app.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	id := res.State.ID
	clock = time.Date(2020, time.March, 12, 9, 0, 0, 0, time.UTC)
	if _, err := svc.Execute(ctx, id, partnership.Command{Event: joined, OccurredAt: on("2020-03-11")}, app.Meta{}); err != nil {
		t.Fatal(err)
	}
	h, _, err := svc.History().Events(ctx, id, partnership.View{})
	if err != nil {
		t.Fatal(err)
	}
	clock = time.Date(2020, time.April, 2, 9, 0, 0, 0, time.UTC)
	if _, err := svc.Execute(ctx, id, partnership.Command{Event: partnership.EntryCorrected{CorrectedEventID: h[1].EventID, Reason: "ble ikke med"}}, app.Meta{}); err != nil {
		t.Fatal(err)
	}
	pos := head(t, store)
	knownAt := time.Date(2020, time.March, 20, 0, 0, 0, 0, time.UTC)
	spells := func(known *time.Time) []string {
		body := tableCSV(t, store, "spells", research.Options{Position: pos, AsOf: "2020-03-31", KnownAt: known, Keys: projectA})
		records, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		var rows []string
		for _, r := range records[1:] {
			rows = append(rows, r[5]+"-"+r[6]+":"+r[9]+":"+r[27])
		}
		return rows
	}
	if got, want := strings.Join(spells(&knownAt), " "), "0-10:1:PartnerJoined 10-30:2:censored"; got != want {
		t.Errorf("spells known at %s: %s, want %s", knownAt, got, want)
	}
	if got, want := strings.Join(spells(nil), " "), "0-30:1:censored"; got != want {
		t.Errorf("spells known now: %s, want %s", got, want)
	}
	events := envelopes(t, projectEvents(t, store, research.EventsOptions{Position: pos, Keys: projectA, KnownAt: &knownAt}))
	if len(events) != 2 || events[1].Type != partnership.TypePartnerJoined {
		t.Fatalf("events known at %s: %d, want the initiation and the join", knownAt, len(events))
	}
	// Municipalities: a project of Trondheim sees none of Arendal's.
	if n := len(envelopes(t, projectEvents(t, store, research.EventsOptions{Position: pos, Keys: projectA, Municipalities: []kommune.Code{"5001"}}))); n != 0 {
		t.Fatalf("%d events of Arendal in a Trondheim project", n)
	}
	if n := len(envelopes(t, projectEvents(t, store, research.EventsOptions{Position: pos, Keys: projectA, Municipalities: []kommune.Code{"4203"}}))); n != 3 {
		t.Fatalf("%d events in an Arendal project, want 3", n)
	}
}
