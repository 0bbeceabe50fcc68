package research_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/samspill/samspill/domain/calendar"
	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/research"
)

// entries builds a history from (date, event) pairs; a date alone means
// noon in Oslo, and versions and recording times follow the order given.
func entries(t *testing.T, steps ...any) []partnership.Entry {
	t.Helper()
	var out []partnership.Entry
	for i := 0; i < len(steps); i += 2 {
		at, err := time.ParseInLocation(time.DateOnly, steps[i].(string), calendar.Oslo)
		if err != nil {
			t.Fatal(err)
		}
		v := uint64(len(out) + 1)
		out = append(out, partnership.Entry{
			EventID: "e" + strconv.Itoa(int(v)), Version: v,
			OccurredAt: at.Add(12 * time.Hour), RecordedAt: now.Add(time.Duration(v) * time.Second),
			Event: steps[i+1].(partnership.Event),
		})
	}
	return out
}

var (
	initiated = partnership.PartnershipInitiated{
		PartnershipID: "p", Municipality: "0906", Title: "Leksehjelp", ServiceArea: "education",
		CollaborationModel: "network", Goals: []string{"Mål"},
		Partners: []partnership.Partner{{PartnerID: "a", Name: "Røde Kors", Kind: "voluntary_organisation"}},
	}
	joined  = partnership.PartnerJoined{Partner: partnership.Partner{PartnerID: "b", Name: "Idrettslaget", Kind: "voluntary_organisation"}}
	goals   = partnership.GoalChanged{Goals: []string{"Nytt mål"}, Reason: "revisjon"}
	anchor  = partnership.AnchoringChanged{Level: "political"}
	paused  = partnership.PartnershipPaused{Reason: "ferie"}
	resumed = partnership.PartnershipResumed{Reason: "videre"}
	ended   = partnership.PartnershipEnded{Reason: "completed"}
	meeting = partnership.MilestoneLogged{Kind: "meeting", Title: "Møte"}

	in2019 = time.Date(2019, time.May, 2, 10, 0, 0, 0, time.UTC)
)

func TestSpellsFollowTheCountingProcessRules(t *testing.T) {
	base := research.Spell{Municipality: "4203", ServiceArea: "education", CollaborationModel: "network", StartDate: "2020-03-01", Partners: 1, AnchoringLevel: "none",
		LeadKind: "none", PartnersByKind: research.KindCounts{VoluntaryOrganisation: 1}, AgreementKind: "none", FirstRecorded: "2026-11-26", EntryDay: -1}
	row := func(tstart, tstop int, change func(*research.Spell)) research.Spell {
		sp := base
		sp.TStart, sp.TStop = tstart, tstop
		if change != nil {
			change(&sp)
		}
		return sp
	}
	two := func(sp *research.Spell) { sp.Partners, sp.PartnersByKind.VoluntaryOrganisation = 2, 2 }
	for _, tc := range []struct {
		name    string
		history []any
		asOf    string
		want    []research.Spell
	}{
		{"ongoing, censored at as_of, old code harmonised", []any{"2020-03-01", initiated}, "2020-03-11",
			[]research.Spell{row(0, 10, nil)}},
		{"observed for less than a day", []any{"2020-03-01", initiated}, "2020-03-01",
			[]research.Spell{row(0, 1, nil)}},
		{"initiated and ended the same day", []any{"2020-03-01", initiated, "2020-03-01", ended}, "2021-01-01",
			[]research.Spell{row(0, 1, func(sp *research.Spell) { sp.Ended, sp.EndReason = true, "completed" })}},
		{"a change on day 0 merges into the first row", []any{"2020-03-01", initiated, "2020-03-01", joined}, "2020-03-05",
			[]research.Spell{row(0, 4, two)}},
		{"same-day changes merge forward; milestones start nothing", []any{
			"2020-03-01", initiated, "2020-03-03", meeting, "2020-03-06", joined, "2020-03-06", goals, "2020-03-06", anchor,
		}, "2020-03-10", []research.Spell{
			row(0, 5, nil),
			row(5, 9, func(sp *research.Spell) { two(sp); sp.GoalChanges, sp.AnchoringLevel = 1, "political" }),
		}},
		{"pause and resume are intervals; ended only on the last row", []any{
			"2020-03-01", initiated, "2020-03-11", paused, "2020-03-21", resumed, "2020-04-01", ended,
		}, "2021-01-01", []research.Spell{
			row(0, 10, nil),
			row(10, 20, func(sp *research.Spell) { sp.Paused = true }),
			row(20, 31, func(sp *research.Spell) { sp.Ended, sp.EndReason = true, "completed" }),
		}},
		{"a change on the day it ended starts no row", []any{
			"2020-03-01", initiated, "2020-03-11", joined, "2020-03-11", ended,
		}, "2021-01-01", []research.Spell{
			row(0, 10, func(sp *research.Spell) { sp.Ended, sp.EndReason = true, "completed" }),
		}},
		{"a change on the censoring day starts no row", []any{
			"2020-03-01", initiated, "2020-03-11", joined,
		}, "2020-03-11", []research.Spell{row(0, 10, nil)}},
		{"events after as_of are not seen", []any{
			"2020-03-01", initiated, "2020-03-11", joined, "2020-05-01", ended,
		}, "2020-04-01", []research.Spell{row(0, 10, nil), row(10, 31, two)}},
		{"not yet initiated at as_of", []any{"2020-03-01", initiated}, "2020-02-29", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := research.Spells(entries(t, tc.history...), tc.asOf, nil)
			if err != nil {
				t.Fatal(err)
			}
			for i := range got {
				got[i].ClosedBy = "" // closed_by has a test of its own
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("spells:\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// TestSpellsMatchAnIndependentDerivation re-derives every row of the demo
// data set's export from the raw events with code of its own (generic
// JSON, corrections resolved by hand, covariates read at the end of each
// day) and compares, partnership by partnership.
func TestSpellsMatchAnIndependentDerivation(t *testing.T) {
	store := demoStore(t)
	for _, asOf := range []string{"2018-06-30", "2022-12-31", "2026-11-26"} {
		body, sum := exportSpells(t, store, 0, asOf)
		got := groupRows(t, body)
		want := deriveSpells(t, store, asOf)
		if len(got) != len(want) {
			t.Fatalf("as_of %s: %d partnerships exported, %d derived", asOf, len(got), len(want))
		}
		rows := 0
		for i := range want {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Fatalf("as_of %s, partnership %d:\n got %v\nwant %v", asOf, i, got[i], want[i])
			}
			rows += len(want[i])
		}
		if sum.Rows != rows || sum.AsOf != asOf || sum.Position != head(t, store) {
			t.Errorf("summary %+v, want %d rows as of %s", sum, rows, asOf)
		}
		if asOf == "2026-11-26" && rows < 100 {
			t.Errorf("only %d rows: the demo data should give many", rows)
		}
	}
}

// groupRows splits the CSV into each partnership's rows (without the key),
// checking the header and that a key never returns once left.
func groupRows(t *testing.T, body []byte) [][][]string {
	t.Helper()
	records, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(records[0], research.SpellsHeader) {
		t.Fatalf("header %v", records[0])
	}
	var groups [][][]string
	seen := map[string]bool{}
	last := ""
	for _, r := range records[1:] {
		if r[0] != last {
			if seen[r[0]] {
				t.Fatalf("key %s appears in two places", r[0])
			}
			seen[r[0]], last = true, r[0]
			groups = append(groups, nil)
		}
		groups[len(groups)-1] = append(groups[len(groups)-1], r[1:])
	}
	return groups
}

// deriveSpells is the independent derivation, in the order partnerships
// were initiated.
func deriveSpells(t *testing.T, store eventstore.Store, asOf string) [][][]string {
	t.Helper()
	ctx := context.Background()
	cutoff, err := calendar.ParseCutoff(asOf)
	if err != nil {
		t.Fatal(err)
	}
	all, err := store.ReadAll(ctx, 0, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	var out [][][]string
	for _, first := range all {
		if first.Version != 1 {
			continue
		}
		stream, err := store.ReadStream(ctx, first.StreamID)
		if err != nil {
			t.Fatal(err)
		}
		if rows := deriveOne(t, stream, cutoff, asOf); rows != nil {
			out = append(out, rows)
		}
	}
	return out
}

type raw struct {
	version  uint64
	typ      string
	occurred time.Time
	recorded time.Time
	data     map[string]any
}

func day(t time.Time) int {
	y, m, d := t.In(calendar.Oslo).Date()
	return int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// dateDay numbers a YYYY-MM-DD as day does.
func dateDay(t *testing.T, s string) int {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		t.Fatal(err)
	}
	return int(d.Unix() / 86400)
}

func deriveOne(t *testing.T, stream []eventstore.RecordedEvent, cutoff time.Time, asOf string) [][]string {
	// Corrections: the latest one recorded for an event wins.
	events := map[string]*raw{}
	var order []*raw
	for _, e := range stream {
		var data map[string]any
		if err := json.Unmarshal(e.Data, &data); err != nil {
			t.Fatal(err)
		}
		if e.Type == partnership.TypeEntryCorrected {
			target := events[data["corrected_event_id"].(string)]
			if r, ok := data["replacement"].(map[string]any); ok {
				target.data = r
			} else {
				target.typ = "retracted"
			}
			continue
		}
		r := &raw{version: e.Version, typ: e.Type, occurred: e.OccurredAt, recorded: e.RecordedAt, data: data}
		events[e.EventID] = r
		order = append(order, r)
	}
	var kept []*raw
	for _, r := range order {
		if r.typ != "retracted" && !r.occurred.After(cutoff) {
			kept = append(kept, r)
		}
	}
	if len(kept) == 0 {
		return nil
	}
	slices.SortStableFunc(kept, func(a, b *raw) int {
		if c := a.occurred.Compare(b.occurred); c != 0 {
			return c
		}
		return int(a.version) - int(b.version)
	})
	init := kept[0]
	day0 := day(init.occurred)
	stop, endReason := dateDay(t, asOf)-day0, ""
	changes := map[string]bool{"GoalChanged": true, "RolesAgreed": true, "AnchoringChanged": true,
		"PartnerJoined": true, "PartnerLeft": true, "PartnershipPaused": true, "PartnershipResumed": true,
		"AgreementSigned": true, "FundingRecorded": true, "CollaborationModelChanged": true}
	// Agreements in days since day 0: signed, valid from, last day valid.
	type term struct {
		signed, from, until int
		kind                string
	}
	var terms []term
	closedBy := map[int]string{}
	for _, r := range kept {
		d := day(r.occurred) - day0
		switch {
		case r.typ == "PartnershipEnded":
			stop, endReason = d, r.data["reason"].(string)
		case changes[r.typ] && closedBy[d] == "":
			closedBy[d] = r.typ
		}
		if r.typ == "AgreementSigned" {
			a := term{signed: d, from: dateDay(t, r.data["valid_from"].(string)) - day0, until: 1 << 40, kind: r.data["agreement_type"].(string)}
			if u, _ := r.data["valid_until"].(string); u != "" {
				a.until = dateDay(t, u) - day0
			}
			terms = append(terms, a)
		}
	}
	// Calendar splits happen at midnight, before the day's events: an
	// expiry first.
	for _, a := range terms {
		if a.from > a.signed {
			closedBy[a.from] = "agreement_in_force"
		}
	}
	for _, a := range terms {
		if a.until < 1<<40 && a.until >= max(a.signed, a.from) {
			closedBy[a.until+1] = "agreement_expired"
		}
	}
	bounds := []int{0}
	for b := range closedBy {
		if b > 0 && b < stop {
			bounds = append(bounds, b)
		}
	}
	slices.Sort(bounds)
	// atEndOf reads the covariates after every event up to day b.
	atEndOf := func(b int) []string {
		partners := map[string]string{} // id → kind
		var leads []string              // partner ids holding the lead
		goalChanges, level, paused, model := 0, "none", "0", init.data["collaboration_model"].(string)
		funding, sources := int64(0), map[string]bool{}
		for _, r := range kept {
			if day(r.occurred)-day0 > b || r.typ == "PartnershipEnded" {
				continue
			}
			switch r.typ {
			case "PartnershipInitiated":
				for _, p := range r.data["partners"].([]any) {
					p := p.(map[string]any)
					partners[p["partner_id"].(string)] = p["kind"].(string)
				}
			case "PartnerJoined":
				p := r.data["partner"].(map[string]any)
				partners[p["partner_id"].(string)] = p["kind"].(string)
			case "PartnerLeft":
				delete(partners, r.data["partner_id"].(string))
			case "RolesAgreed":
				leads = nil
				for _, role := range r.data["roles"].([]any) {
					if role := role.(map[string]any); role["role"] == "lead" {
						leads = append(leads, role["partner_id"].(string))
					}
				}
			case "GoalChanged":
				goalChanges++
			case "AnchoringChanged":
				level = r.data["level"].(string)
			case "PartnershipPaused":
				paused = "1"
			case "PartnershipResumed":
				paused = "0"
			case "FundingRecorded":
				funding += int64(r.data["amount_nok"].(float64))
				sources[strings.Join(strings.Fields(strings.ToLower(r.data["source"].(string))), " ")] = true
			case "CollaborationModelChanged":
				model = r.data["collaboration_model"].(string)
			}
		}
		lead := "none"
		for _, id := range leads {
			switch kind, active := partners[id]; {
			case !active:
			case lead == "none" || lead == kind:
				lead = kind
			default:
				lead = "shared"
			}
		}
		counts := make([]string, 0, 6)
		for _, kind := range partnership.PartnerKinds {
			n := 0
			for _, k := range partners {
				if k == kind {
					n++
				}
			}
			counts = append(counts, strconv.Itoa(n))
		}
		inForce, kind, latest := "0", "none", -1<<40
		for _, a := range terms {
			if a.signed <= b && a.from <= b && b <= a.until && a.from >= latest {
				inForce, kind, latest = "1", a.kind, a.from
			}
		}
		funded := "0"
		if funding > 0 {
			funded = "1"
		}
		return append(append([]string{model, strconv.Itoa(len(partners)), strconv.Itoa(goalChanges), level, paused, lead}, counts...),
			inForce, kind, strconv.FormatInt(funding, 10), strconv.Itoa(len(sources)), funded)
	}
	code, err := kommune.Parse(init.data["municipality"].(string))
	if err != nil {
		t.Fatal(err)
	}
	var splits []string
	for _, c := range kommune.SplitsOf(code) {
		splits = append(splits, string(c.From)+">"+string(c.To))
	}
	splitCodes, split := "", "0"
	if len(splits) > 0 {
		split = "1"
		splitCodes = splits[0]
		for _, s := range splits[1:] {
			splitCodes += "+" + strings.Split(s, ">")[1]
		}
	}
	r := max(0, day(init.recorded)-day0)
	var rows [][]string
	for i, b := range bounds {
		tstop, ended, reason, closed := stop, "0", "", "censored"
		if i+1 < len(bounds) {
			tstop, closed = bounds[i+1], closedBy[bounds[i+1]]
		} else if endReason != "" {
			ended, reason, closed = "1", endReason, "PartnershipEnded"
		}
		if tstop == 0 {
			tstop = 1
		}
		entry := ""
		if tstop > r {
			entry = strconv.Itoa(max(b, r))
		}
		c := atEndOf(b)
		row := []string{string(code.Current()), init.data["service_area"].(string), c[0], calendar.Day(init.occurred),
			strconv.Itoa(b), strconv.Itoa(tstop), ended, reason}
		row = append(row, c[1:5]...) // n_partners .. paused
		row = append(row, c[5:]...)  // lead_kind .. funded
		row = append(row, entry, calendar.Day(init.recorded), closed, split, splitCodes)
		rows = append(rows, row)
	}
	return rows
}

func TestSpellsKeysArePseudonymousAndReproducible(t *testing.T) {
	store := demoStore(t)
	pos := head(t, store)
	first, sum := exportSpells(t, store, 0, "2026-11-26")
	again, sum2 := exportSpells(t, store, pos, "2026-11-26")
	if !bytes.Equal(first, again) || sum != sum2 {
		t.Fatal("the same export twice differs")
	}
	all, _ := store.ReadAll(context.Background(), 0, 100000)
	for _, e := range all {
		id := strings.TrimPrefix(e.StreamID, "partnership-")
		if bytes.Contains(first, []byte(id)) {
			t.Fatalf("the export contains the partnership id %s", id)
		}
	}
	// Other parameters, other keys: no key of one export is in the other.
	other, _ := exportSpells(t, store, 0, "2026-11-25")
	keys := func(body []byte) map[string]bool {
		m := map[string]bool{}
		records, _ := csv.NewReader(bytes.NewReader(body)).ReadAll()
		for _, r := range records[1:] {
			m[r[0]] = true
		}
		return m
	}
	a, b := keys(first), keys(other)
	if len(a) < 40 {
		t.Fatalf("only %d keys", len(a))
	}
	for k := range a {
		if b[k] {
			t.Fatalf("key %s is in exports with different as_of", k)
		}
	}
}
