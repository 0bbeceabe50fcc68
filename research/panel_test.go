package research_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/samspill/samspill/domain/calendar"
	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/eventstore/sqlite"
	"github.com/samspill/samspill/history"
	"github.com/samspill/samspill/research"
)

// clockStore is a SQLite store whose recorded_at is *clock, so a test can
// record events at the times it chooses (for known_at).
func clockStore(t *testing.T, clock *time.Time) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "events.db"), sqlite.WithClock(func() time.Time { return *clock }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// record appends (date, event) pairs to a partnership's stream: a date
// alone is noon in Oslo. It returns the event ids in order (made of the
// stream, the date and the type: unique within a test's histories).
func record(t *testing.T, s eventstore.Store, id string, steps ...any) []string {
	t.Helper()
	var ids []string
	for i := 0; i < len(steps); i += 2 {
		at, err := time.ParseInLocation(time.DateOnly, steps[i].(string), calendar.Oslo)
		if err != nil {
			t.Fatal(err)
		}
		ev := steps[i+1].(partnership.Event)
		data, err := partnership.Encode(ev)
		if err != nil {
			t.Fatal(err)
		}
		eid := id + "-" + steps[i].(string) + "-" + ev.EventType()
		_, err = s.Append(context.Background(), eventstore.AppendRequest{StreamID: history.StreamID(id), Events: []eventstore.NewEvent{{
			EventID: eid, Type: ev.EventType(), SchemaVersion: partnership.SchemaVersion, OccurredAt: at.Add(12 * time.Hour),
			Metadata: eventstore.Metadata{Actor: eventstore.Actor{Subject: "tester", Role: "coordinator"}}, Data: data,
		}}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, eid)
	}
	return ids
}

// exportRows runs a table export under o (with one-off test keys) and returns its rows keyed by the
// named columns.
func exportRows(t *testing.T, s eventstore.Store, name string, o research.Options) []map[string]string {
	t.Helper()
	e, ok := research.Lookup(name)
	if !ok {
		t.Fatalf("no export %q", name)
	}
	if o.Position == 0 {
		o.Position = head(t, s)
	}
	o.Keys = research.OneOffKeys(secret, "test")
	var out []map[string]string
	err := e.Rows(context.Background(), s, o)(context.Background(), func(row []string) error {
		if len(row) != len(e.Table.Columns) {
			t.Fatalf("%d cells for %d columns", len(row), len(e.Table.Columns))
		}
		m := map[string]string{}
		for i, c := range e.Table.Columns {
			m[c.Name] = row[i]
			if c.Required && row[i] == "" {
				t.Errorf("required %s is empty in %v", c.Name, row)
			}
		}
		out = append(out, m)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// check compares the named cells of a row.
func check(t *testing.T, what string, row map[string]string, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if row[k] != v {
			t.Errorf("%s: %s = %q, want %q", what, k, row[k], v)
		}
	}
}

var (
	orgA      = partnership.Partner{PartnerID: "a", Name: "Røde Kors", Kind: "voluntary_organisation", OrgNo: "974 760 673"}
	unitB     = partnership.Partner{PartnerID: "b", Name: "Bydel Frogner", Kind: "municipal_unit"}
	orgC      = partnership.Partner{PartnerID: "c", Name: "Idrettslaget", Kind: "voluntary_organisation"}
	initiateA = partnership.PartnershipInitiated{PartnershipID: "a1", Municipality: "0301", Title: "Leksehjelp", ServiceArea: "education",
		CollaborationModel: "network", Goals: []string{"Mål"}, Partners: []partnership.Partner{orgA, unitB}}
)

// historyA is a partnership in Oslo across three years: roles, funding, a
// pause, an agreement, a partner who comes and goes, and its end.
func historyA(t *testing.T, s eventstore.Store) {
	record(t, s, "a1",
		"2020-03-01", initiateA,
		"2020-06-01", partnership.RolesAgreed{Roles: []partnership.Role{{PartnerID: "a", Role: "lead", Responsibilities: []string{"drift"}}}},
		"2020-07-01", partnership.FundingRecorded{AmountNOK: 1000, Source: "kommunen", PeriodFrom: "2020-07-01", PeriodUntil: "2020-12-31"},
		"2020-08-01", partnership.PartnerJoined{Partner: orgC},
		"2021-01-10", partnership.PartnerLeft{PartnerID: "c", Reason: "flyttet"},
		"2021-02-01", partnership.FundingRecorded{AmountNOK: 500, Source: "staten", PeriodFrom: "2021-01-01", PeriodUntil: "2021-12-31"},
		"2021-03-01", partnership.PartnershipPaused{Reason: "ferie"},
		"2021-03-11", partnership.PartnershipResumed{Reason: "videre"},
		"2021-05-01", partnership.AgreementSigned{AgreementType: "cooperation_agreement", ValidFrom: "2021-05-01", ValidUntil: "2021-12-31", Reference: "sak 1"},
		"2022-04-10", partnership.PartnershipEnded{Reason: "completed", Outcome: "ferdig"},
	)
}

// TestPanelHasOneRowPerPartnershipYear checks every column of a
// partnership followed over three years, a partnership whose funding was
// retracted (and how it looked before, with known_at), one initiated after
// as_of and the municipality filter.
func TestPanelHasOneRowPerPartnershipYear(t *testing.T) {
	clock := time.Date(2022, 12, 1, 12, 0, 0, 0, time.UTC)
	s := clockStore(t, &clock)
	historyA(t, s)
	ids := record(t, s, "b1",
		"2022-11-01", partnership.PartnershipInitiated{PartnershipID: "b1", Municipality: "0906", Title: "Turlag", ServiceArea: "sport_and_outdoor",
			CollaborationModel: "grant", Goals: []string{"Tur"}, Partners: []partnership.Partner{orgC}},
		"2022-11-20", partnership.MilestoneLogged{Kind: "meeting", Title: "Møte"},
		"2022-12-01", partnership.FundingRecorded{AmountNOK: 300, Source: "kommunen", PeriodFrom: "2022-12-01", PeriodUntil: "2023-06-30"},
	)
	beforeCorrection := clock
	clock = clock.Add(24 * time.Hour)
	record(t, s, "b1", "2022-12-02", partnership.EntryCorrected{CorrectedEventID: ids[2], Reason: "feil"})
	record(t, s, "c1", "2023-02-01", partnership.PartnershipInitiated{PartnershipID: "c1", Municipality: "0301", Title: "Senere", ServiceArea: "culture",
		CollaborationModel: "informal", Goals: []string{"Mål"}, Partners: []partnership.Partner{orgC}})

	rows := exportRows(t, s, "panel", research.Options{AsOf: "2023-01-15"})
	if len(rows) != 5 {
		t.Fatalf("%d rows, want 3 for a1 and 2 for b1 (c1 began after as_of): %v", len(rows), rows)
	}
	keyA := research.OneOffKeys(secret, "test").Partnership(history.StreamID("a1"))
	check(t, "a1 2020", rows[0], map[string]string{
		"partnership_key": keyA, "municipality": "0301", "year": "2020", "status": "active", "collaboration_model": "network",
		"service_area": "education", "anchoring_level": "none", "lead_kind": "voluntary_organisation", "n_partners": "3",
		"n_voluntary_organisation": "2", "n_municipal_unit": "1", "n_other_partner": "0",
		"agreement_in_force": "0", "funding_nok_year": "1000", "funding_nok_cum": "1000",
		"n_roles_agreed": "1", "n_funding_recorded": "1", "n_partner_joined": "1", "n_partner_left": "0", "n_paused": "0",
		"days_active": "306", "days_paused": "0", "started_in_year": "1", "ended_in_year": "0", "end_reason": "",
	})
	check(t, "a1 2021", rows[1], map[string]string{
		"year": "2021", "status": "active", "n_partners": "2", "agreement_in_force": "1", "funding_nok_year": "500", "funding_nok_cum": "1500",
		"n_partner_left": "1", "n_paused": "1", "n_resumed": "1", "n_agreement_signed": "1", "n_roles_agreed": "0",
		"days_active": "355", "days_paused": "10", "started_in_year": "0", "ended_in_year": "0",
	})
	check(t, "a1 2022", rows[2], map[string]string{
		"year": "2022", "status": "ended", "agreement_in_force": "0", "funding_nok_year": "0", "funding_nok_cum": "1500",
		"days_active": "99", "days_paused": "0", "ended_in_year": "1", "end_reason": "completed",
	})
	// b1's funding was retracted: neither counted nor summed; the
	// correction itself is not an event of the year.
	check(t, "b1 2022", rows[3], map[string]string{
		"municipality": "4203", "year": "2022", "collaboration_model": "grant", "lead_kind": "none",
		"funding_nok_year": "0", "n_funding_recorded": "0", "n_milestone_logged": "1", "days_active": "61", "started_in_year": "1",
	})
	check(t, "b1 2023", rows[4], map[string]string{"year": "2023", "status": "active", "days_active": "15", "n_milestone_logged": "0"})

	// As known before the correction, the funding was there.
	known := exportRows(t, s, "panel", research.Options{AsOf: "2023-01-15", KnownAt: &beforeCorrection})
	check(t, "b1 2022 known before the correction", known[3], map[string]string{"funding_nok_year": "300", "funding_nok_cum": "300", "n_funding_recorded": "1"})

	// A project of 4203 (Arendal, recorded under its former code 0906)
	// sees only b1.
	only := exportRows(t, s, "panel", research.Options{AsOf: "2023-01-15", Municipalities: []kommune.Code{"4203"}})
	if len(only) != 2 || only[0]["municipality"] != "4203" {
		t.Errorf("municipality filter: %v", only)
	}
	// Before a1 ended, its last year ends at as_of.
	early := exportRows(t, s, "panel", research.Options{AsOf: "2021-03-05"})
	if len(early) != 2 {
		t.Fatalf("as_of 2021-03-05: %d rows, want 2", len(early))
	}
	check(t, "a1 2021 as of 5 March", early[1], map[string]string{"status": "paused", "days_active": "59", "days_paused": "5", "n_resumed": "0", "funding_nok_cum": "1500"})
}

// TestExportTablesDescribeEveryColumn: every column of every export has a
// type, labels in both languages, and coded columns have labels in all
// three languages taken from the catalogues (not the code itself).
func TestExportTablesDescribeEveryColumn(t *testing.T) {
	for _, e := range research.Exports() {
		seen := map[string]bool{}
		for _, c := range e.Table.Columns {
			if c.Label == "" || c.LabelNB == "" || c.Type == "" || seen[c.Name] {
				t.Errorf("%s.%s: label %q/%q, type %q, duplicate %v", e.Table.Name, c.Name, c.Label, c.LabelNB, c.Type, seen[c.Name])
			}
			seen[c.Name] = true
			if c.Unit != "" && !slices.Contains(research.Units, c.Unit) {
				t.Errorf("%s.%s: unit %q is not one of research.Units, which the pages translate", e.Table.Name, c.Name, c.Unit)
			}
			for _, v := range c.Values {
				if v.Label == "" || v.LabelNB == "" || v.LabelNN == "" || v.LabelNB == v.Code {
					t.Errorf("%s.%s value %q is not labelled: %+v", e.Table.Name, c.Name, v.Code, v)
				}
			}
		}
		for _, k := range e.Table.PrimaryKey {
			if !seen[k] {
				t.Errorf("%s: primary key %s is no column", e.Table.Name, k)
			}
		}
	}
	var p map[string]any
	if b, err := json.Marshal(research.PanelTable()); err != nil || json.Unmarshal(b, &p) != nil {
		t.Fatal("panel table does not marshal")
	}
	if !reflect.DeepEqual(research.PanelTable(), research.PanelTable()) {
		t.Error("panel table differs between calls")
	}
}
