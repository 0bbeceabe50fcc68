package research_test

import (
	"encoding/json"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/samspill/samspill/domain/calendar"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/research"
)

// step is one event of a hand-built history: the day it occurred (noon,
// Europe/Oslo) and the day it was recorded ("" for the day it occurred).
type step struct {
	on, recorded string
	ev           partnership.Event
}

// historyOf builds a history from steps in version order: event ids e1, e2,
// ..., recorded at noon of their recording day plus the version in
// seconds, so that the order of recording follows the versions.
func historyOf(t *testing.T, steps ...step) []partnership.Entry {
	t.Helper()
	noon := func(d string) time.Time {
		at, err := time.ParseInLocation(time.DateOnly, d, calendar.Oslo)
		if err != nil {
			t.Fatal(err)
		}
		return at.Add(12 * time.Hour)
	}
	var out []partnership.Entry
	for i, s := range steps {
		v := uint64(i + 1)
		recorded := s.recorded
		if recorded == "" {
			recorded = s.on
		}
		out = append(out, partnership.Entry{
			EventID: "e" + strconv.Itoa(i+1), Version: v,
			OccurredAt: noon(s.on), RecordedAt: noon(recorded).Add(time.Duration(v) * time.Second),
			Event: s.ev,
		})
	}
	return out
}

var (
	mixed = partnership.PartnershipInitiated{
		PartnershipID: "p", Municipality: "4203", Title: "Leksehjelp", ServiceArea: "education", CollaborationModel: "network", Goals: []string{"Mål"},
		Partners: []partnership.Partner{
			{PartnerID: "a", Name: "Røde Kors", Kind: "voluntary_organisation"},
			{PartnerID: "s", Name: "Gründerhuset", Kind: "social_entrepreneur"},
			{PartnerID: "m", Name: "Skoleetaten", Kind: "municipal_unit"},
		},
	}
	lead = func(ids ...string) partnership.RolesAgreed {
		var r partnership.RolesAgreed
		for _, id := range ids {
			r.Roles = append(r.Roles, partnership.Role{PartnerID: id, Role: "lead"})
		}
		return r
	}
)

// spellsOf derives the rows, failing the test on an error.
func spellsOf(t *testing.T, h []partnership.Entry, asOf string, knownAt *time.Time) []research.Spell {
	t.Helper()
	rows, err := research.Spells(h, asOf, knownAt)
	if err != nil {
		t.Fatal(err)
	}
	for _, sp := range rows {
		if sp.TStart >= sp.TStop {
			t.Fatalf("row %+v: tstart ≥ tstop", sp)
		}
	}
	return rows
}

// column picks one field of every row.
func column[T any](rows []research.Spell, f func(research.Spell) T) []T {
	out := make([]T, len(rows))
	for i, sp := range rows {
		out[i] = f(sp)
	}
	return out
}

func bounds(rows []research.Spell) [][2]int {
	return column(rows, func(sp research.Spell) [2]int { return [2]int{sp.TStart, sp.TStop} })
}

func TestSpellsLeadKind(t *testing.T) {
	rows := spellsOf(t, historyOf(t,
		step{on: "2020-03-01", ev: mixed},
		step{on: "2020-03-11", ev: lead("a")},
		step{on: "2020-03-21", ev: lead("a", "s")},
		step{on: "2020-03-31", ev: lead("s", "s2")}, // s2 is no partner: it counts for nothing
		step{on: "2020-04-10", ev: partnership.PartnerLeft{PartnerID: "s", Reason: "flyttet"}},
		step{on: "2020-04-20", ev: lead("m")},
		step{on: "2020-04-20", ev: joined},
	), "2020-05-01", nil)
	wantBounds := [][2]int{{0, 10}, {10, 20}, {20, 30}, {30, 40}, {40, 50}, {50, 61}}
	wantLead := []string{"none", "voluntary_organisation", "shared", "social_entrepreneur", "none", "municipal_unit"}
	if got := bounds(rows); !reflect.DeepEqual(got, wantBounds) {
		t.Fatalf("intervals %v, want %v", got, wantBounds)
	}
	if got := column(rows, func(sp research.Spell) string { return sp.LeadKind }); !reflect.DeepEqual(got, wantLead) {
		t.Errorf("lead_kind %v, want %v", got, wantLead)
	}
	wantKinds := []research.KindCounts{
		{MunicipalUnit: 1, VoluntaryOrganisation: 1, SocialEntrepreneur: 1},
		{MunicipalUnit: 1, VoluntaryOrganisation: 1, SocialEntrepreneur: 1},
		{MunicipalUnit: 1, VoluntaryOrganisation: 1, SocialEntrepreneur: 1},
		{MunicipalUnit: 1, VoluntaryOrganisation: 1, SocialEntrepreneur: 1},
		{MunicipalUnit: 1, VoluntaryOrganisation: 1},
		{MunicipalUnit: 1, VoluntaryOrganisation: 2},
	}
	if got := column(rows, func(sp research.Spell) research.KindCounts { return sp.PartnersByKind }); !reflect.DeepEqual(got, wantKinds) {
		t.Errorf("partners by kind %v, want %v", got, wantKinds)
	}
	wantClosed := []string{"RolesAgreed", "RolesAgreed", "RolesAgreed", "PartnerLeft", "RolesAgreed", "censored"}
	if got := column(rows, func(sp research.Spell) string { return sp.ClosedBy }); !reflect.DeepEqual(got, wantClosed) {
		t.Errorf("closed_by %v, want %v", got, wantClosed)
	}
}

// agreement signs an agreement of a kind valid from..until ("" open).
func agreement(kind, from, until string) partnership.AgreementSigned {
	return partnership.AgreementSigned{AgreementType: kind, ValidFrom: from, ValidUntil: until, Reference: "ref"}
}

func TestSpellsAgreementsSplitOnTheCalendar(t *testing.T) {
	type row struct {
		tstart, tstop int
		inForce       bool
		kind, closed  string
	}
	for _, tc := range []struct {
		name  string
		steps []step
		asOf  string
		want  []row
	}{
		{"takes effect and expires mid-history", []step{
			{on: "2020-03-01", ev: initiated},
			{on: "2020-03-10", ev: agreement("cooperation_agreement", "2020-04-01", "2020-06-30")}, // day 9, in force days 31..121
		}, "2020-08-01", []row{
			{0, 9, false, "none", "AgreementSigned"},
			{9, 31, false, "none", "agreement_in_force"},
			{31, 122, true, "cooperation_agreement", "agreement_expired"},
			{122, 153, false, "none", "censored"},
		}},
		{"signed after its valid_from: in force from the signing; the latest valid_from names the kind", []step{
			{on: "2020-03-01", ev: initiated},
			{on: "2020-03-10", ev: agreement("cooperation_agreement", "2020-04-01", "2020-06-30")},
			{on: "2020-05-10", ev: agreement("letter_of_intent", "2020-01-01", "")}, // day 70, open-ended
		}, "2020-08-01", []row{
			{0, 9, false, "none", "AgreementSigned"},
			{9, 31, false, "none", "agreement_in_force"},
			{31, 70, true, "cooperation_agreement", "AgreementSigned"},
			{70, 122, true, "cooperation_agreement", "agreement_expired"},
			{122, 153, true, "letter_of_intent", "censored"},
		}},
		{"a calendar split on the day of an event closes the row first; expiry after the end starts nothing", []step{
			{on: "2020-03-01", ev: initiated},
			{on: "2020-03-02", ev: agreement("grant_agreement", "2020-03-11", "2021-12-31")},
			{on: "2020-03-11", ev: joined},
			{on: "2020-04-01", ev: ended},
		}, "2022-08-01", []row{
			{0, 1, false, "none", "AgreementSigned"},
			{1, 10, false, "none", "agreement_in_force"},
			{10, 31, true, "grant_agreement", "PartnershipEnded"},
		}},
		{"an agreement that expired before it was signed is never in force", []step{
			{on: "2020-03-01", ev: initiated},
			{on: "2020-03-10", ev: agreement("other", "2019-01-01", "2019-12-31")},
		}, "2020-03-20", []row{
			{0, 9, false, "none", "AgreementSigned"},
			{9, 19, false, "none", "censored"},
		}},
		{"a retracted agreement counts for nothing, a corrected one with its new dates", []step{
			{on: "2020-03-01", ev: initiated},
			{on: "2020-03-10", ev: agreement("cooperation_agreement", "2020-03-10", "")},
			{on: "2020-03-12", ev: agreement("operating_agreement", "2020-03-12", "")},
			{on: "2020-03-20", ev: partnership.EntryCorrected{CorrectedEventID: "e2", Reason: "feil"}},
			{on: "2020-03-20", ev: partnership.EntryCorrected{CorrectedEventID: "e3", Reason: "dato", Replacement: mustRaw(t, agreement("operating_agreement", "2020-03-12", "2020-03-15"))}},
		}, "2020-03-31", []row{
			{0, 11, false, "none", "AgreementSigned"},
			{11, 15, true, "operating_agreement", "agreement_expired"},
			{15, 30, false, "none", "censored"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows := spellsOf(t, historyOf(t, tc.steps...), tc.asOf, nil)
			got := column(rows, func(sp research.Spell) row {
				return row{sp.TStart, sp.TStop, sp.AgreementInForce, sp.AgreementKind, sp.ClosedBy}
			})
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("rows\n got %v\nwant %v", got, tc.want)
			}
		})
	}
}

func mustRaw(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSpellsFundingAndModel(t *testing.T) {
	funding := func(amount int64, source string) partnership.FundingRecorded {
		return partnership.FundingRecorded{AmountNOK: amount, Source: source, PeriodFrom: "2020-01-01", PeriodUntil: "2020-12-31"}
	}
	rows := spellsOf(t, historyOf(t,
		step{on: "2020-03-01", ev: initiated},
		step{on: "2020-03-11", ev: funding(100_000, "SpareBank 1 Stiftelsen")},
		step{on: "2020-03-21", ev: funding(50_000, "  sparebank 1   stiftelsen ")},
		step{on: "2020-03-31", ev: partnership.CollaborationModelChanged{CollaborationModel: "grant", Reason: "tilskudd"}},
		step{on: "2020-03-31", ev: funding(20_000, "Kommunen")}, // same day: one row
		step{on: "2020-04-10", ev: meeting},                     // starts nothing
	), "2020-04-20", nil)
	type row struct {
		tstart, tstop  int
		nok            int64
		sources        int
		funded         bool
		model, closedB string
	}
	got := column(rows, func(sp research.Spell) row {
		return row{sp.TStart, sp.TStop, sp.FundingNOK, sp.FundingSources, sp.Funded(), sp.CollaborationModel, sp.ClosedBy}
	})
	want := []row{
		{0, 10, 0, 0, false, "network", "FundingRecorded"},
		{10, 20, 100_000, 1, true, "network", "FundingRecorded"},
		{20, 30, 150_000, 1, true, "network", "CollaborationModelChanged"},
		{30, 50, 170_000, 2, true, "grant", "censored"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("rows\n got %v\nwant %v", got, want)
	}
}

func TestSpellsEntryDayForLeftTruncation(t *testing.T) {
	for _, tc := range []struct {
		name     string
		recorded string // the initiation's
		want     []int  // entry_day per row, -1 missing
		first    string
	}{
		{"recorded the day it began", "2020-03-01", []int{0, 10, 20}, "2020-03-01"},
		{"recorded mid-row", "2020-03-16", []int{-1, 15, 20}, "2020-03-16"},
		{"recorded on a row's tstop: that row is wholly before", "2020-03-11", []int{-1, 10, 20}, "2020-03-11"},
		{"recorded after the last change", "2020-04-05", []int{-1, -1, 35}, "2020-04-05"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows := spellsOf(t, historyOf(t,
				step{on: "2020-03-01", recorded: tc.recorded, ev: initiated},
				step{on: "2020-03-11", recorded: "2020-04-06", ev: joined},
				step{on: "2020-03-21", recorded: "2020-04-06", ev: goals},
			), "2020-04-30", nil)
			if got := column(rows, func(sp research.Spell) int { return sp.EntryDay }); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("entry_day %v, want %v (rows %v)", got, tc.want, bounds(rows))
			}
			for _, sp := range rows {
				if sp.FirstRecorded != tc.first {
					t.Fatalf("first_recorded %s, want %s", sp.FirstRecorded, tc.first)
				}
				if sp.EntryDay >= sp.TStop {
					t.Fatalf("entry_day %d ≥ tstop %d", sp.EntryDay, sp.TStop)
				}
			}
		})
	}
}

func TestSpellsClosedBy(t *testing.T) {
	for _, tc := range []struct {
		name  string
		steps []step
		asOf  string
		want  []string
	}{
		{"several events on a day: the first in the day's order", []step{
			{on: "2020-03-01", ev: initiated}, {on: "2020-03-05", ev: meeting}, {on: "2020-03-05", ev: joined}, {on: "2020-03-05", ev: goals},
		}, "2020-03-30", []string{"PartnerJoined", "censored"}},
		{"ended", []step{
			{on: "2020-03-01", ev: initiated}, {on: "2020-03-05", ev: paused}, {on: "2020-03-08", ev: ended},
		}, "2020-03-30", []string{"PartnershipPaused", "PartnershipEnded"}},
		{"ended on its first day", []step{{on: "2020-03-01", ev: initiated}, {on: "2020-03-01", ev: ended}}, "2020-03-30", []string{"PartnershipEnded"}},
		{"censored under a day", []step{{on: "2020-03-01", ev: initiated}}, "2020-03-01", []string{"censored"}},
		{"expiry and taking effect on one day: the expiry", []step{
			{on: "2020-03-01", ev: initiated},
			{on: "2020-03-02", ev: agreement("letter_of_intent", "2020-03-02", "2020-03-09")},
			{on: "2020-03-03", ev: agreement("cooperation_agreement", "2020-03-10", "")},
		}, "2020-03-30", []string{"AgreementSigned", "AgreementSigned", "agreement_expired", "censored"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows := spellsOf(t, historyOf(t, tc.steps...), tc.asOf, nil)
			if got := column(rows, func(sp research.Spell) string { return sp.ClosedBy }); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("closed_by %v, want %v (rows %v)", got, tc.want, bounds(rows))
			}
		})
	}
}

func TestSpellsFlagASplitMunicipality(t *testing.T) {
	alesund := initiated
	alesund.Municipality = "1507"
	rows := spellsOf(t, historyOf(t, step{on: "2021-06-01", ev: alesund}), "2024-06-01", nil)
	if sp := rows[0]; sp.Municipality != "1508" || !sp.MunicipalitySplit || sp.SplitCodes != "1507>1508+1580" {
		t.Errorf("1507: municipality %s, split %v %q; want 1508, 1507>1508+1580", sp.Municipality, sp.MunicipalitySplit, sp.SplitCodes)
	}
	rows = spellsOf(t, historyOf(t, step{on: "2020-03-01", ev: initiated}), "2024-06-01", nil) // 0906 Arendal → 4203: a merger
	if sp := rows[0]; sp.Municipality != "4203" || sp.MunicipalitySplit || sp.SplitCodes != "" {
		t.Errorf("0906: municipality %s, split %v %q; want 4203 and no split", sp.Municipality, sp.MunicipalitySplit, sp.SplitCodes)
	}
}

// TestSpellsKnownAt takes the history as known on a day: an event and a
// correction recorded later are not seen.
func TestSpellsKnownAt(t *testing.T) {
	h := historyOf(t,
		step{on: "2020-03-01", ev: initiated},
		step{on: "2020-03-11", ev: joined},
		step{on: "2020-03-21", ev: goals},
		step{on: "2020-03-15", recorded: "2020-04-02", ev: anchor}, // logged late
		step{on: "2020-04-05", ev: partnership.EntryCorrected{CorrectedEventID: "e2", Reason: "ble ikke med"}},                             // retracts the join
		step{on: "2020-04-06", ev: partnership.EntryCorrected{CorrectedEventID: "e3", Reason: "feil", Replacement: nil}},                   // retracts the goals
		step{on: "2020-04-07", ev: partnership.EntryCorrected{CorrectedEventID: "e2", Reason: "likevel", Replacement: mustRaw(t, joined)}}, // and back
	)
	at := func(d string) *time.Time {
		v, err := time.ParseInLocation(time.DateOnly, d, calendar.Oslo)
		if err != nil {
			t.Fatal(err)
		}
		v = v.Add(23 * time.Hour)
		return &v
	}
	type row struct {
		tstart, tstop, partners, goals int
		anchoring                      string
	}
	for _, tc := range []struct {
		knownAt *time.Time
		want    []row
	}{
		{at("2020-03-25"), []row{{0, 10, 1, 0, "none"}, {10, 20, 2, 0, "none"}, {20, 30, 2, 1, "none"}}},
		{at("2020-04-03"), []row{{0, 10, 1, 0, "none"}, {10, 14, 2, 0, "none"}, {14, 20, 2, 0, "political"}, {20, 30, 2, 1, "political"}}},
		{at("2020-04-05"), []row{{0, 14, 1, 0, "none"}, {14, 20, 1, 0, "political"}, {20, 30, 1, 1, "political"}}},
		{at("2020-04-06"), []row{{0, 14, 1, 0, "none"}, {14, 30, 1, 0, "political"}}},
		{nil, []row{{0, 10, 1, 0, "none"}, {10, 14, 2, 0, "none"}, {14, 30, 2, 0, "political"}}},
	} {
		rows := spellsOf(t, h, "2020-03-31", tc.knownAt)
		got := column(rows, func(sp research.Spell) row {
			return row{sp.TStart, sp.TStop, sp.Partners, sp.GoalChanges, sp.AnchoringLevel}
		})
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("known at %v:\n got %v\nwant %v", tc.knownAt, got, tc.want)
		}
	}
}
