package partnership

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/samspill/samspill/domain/calendar"
)

// fixture builds histories through Decide, as the service does.
type fixture struct {
	t       *testing.T
	history []Entry
	now     time.Time
	ids     int
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return &fixture{t: t, now: time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)}
}

func (f *fixture) env() Env {
	return Env{Now: f.now, NewID: func() string { f.ids++; return fmt.Sprintf("id-%03d", f.ids) }}
}

func (f *fixture) try(e Event, occurred string) error {
	f.t.Helper()
	var at *time.Time
	if occurred != "" {
		t, err := calendar.ParseTime(occurred)
		if err != nil {
			f.t.Fatalf("bad test time %q: %v", occurred, err)
		}
		at = &t
	}
	h, err := NewHistory(f.history)
	if err != nil {
		f.t.Fatalf("replay: %v", err)
	}
	// Known only by its state, the partnership decides the same, or asks
	// for its events.
	if len(f.history) > 0 {
		ids := f.ids
		partial, perr := Decide(StateOnly(h.Current()), Command{Event: e, OccurredAt: at}, f.env())
		f.ids = ids
		full, ferr := Decide(h, Command{Event: e, OccurredAt: at}, f.env())
		f.ids = ids
		switch {
		case errors.Is(perr, ErrNeedEntries):
		case (perr == nil) != (ferr == nil) || perr != nil && perr.Error() != ferr.Error():
			f.t.Fatalf("%s: from the state alone: %v; from the history: %v", e.EventType(), perr, ferr)
		case perr == nil && !reflect.DeepEqual(partial, full):
			f.t.Fatalf("%s: from the state alone:\n %+v\nfrom the history:\n %+v", e.EventType(), partial, full)
		}
	}
	d, err := Decide(h, Command{Event: e, OccurredAt: at}, f.env())
	if err != nil {
		return err
	}
	f.history = append(f.history, Entry{
		EventID:    fmt.Sprintf("ev-%d", len(f.history)+1),
		Version:    uint64(len(f.history) + 1),
		OccurredAt: d.OccurredAt,
		RecordedAt: f.now,
		Event:      d.Event,
	})
	// The state a decision gives is the state Replay gives.
	if replayed, err := Replay(f.history, View{}); err != nil || !reflect.DeepEqual(replayed, d.State) {
		f.t.Fatalf("%s: the decision's state\n %+v\nis not the replayed one\n %+v (%v)", e.EventType(), d.State, replayed, err)
	}
	f.now = f.now.Add(time.Hour)
	return nil
}

func (f *fixture) must(e Event, occurred string) {
	f.t.Helper()
	if err := f.try(e, occurred); err != nil {
		f.t.Fatalf("%s at %s: %v", e.EventType(), occurred, err)
	}
}

func (f *fixture) state(v View) State {
	f.t.Helper()
	s, err := Replay(f.history, v)
	if err != nil {
		f.t.Fatalf("replay: %v", err)
	}
	return s
}

func initiation() PartnershipInitiated {
	return PartnershipInitiated{
		PartnershipID:      "0190a5c4-0000-7000-8000-000000000001",
		Municipality:       "4203",
		Title:              "Leksehjelp på biblioteket",
		ServiceArea:        "childhood_and_youth",
		CollaborationModel: "co_governance",
		Partners: []Partner{
			{Name: "Arendal frivilligsentral", Kind: "voluntary_organisation", OrgNo: "974760673"},
			{Name: "Arendal bibliotek", Kind: KindMunicipalUnit},
		},
		Goals: []string{"Flere barn fullfører grunnskolen"},
	}
}

func started(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t)
	f.must(initiation(), "2021-03-01")
	return f
}

func (f *fixture) partnerID(name string) string {
	f.t.Helper()
	for _, p := range f.state(View{}).Partners {
		if p.Name == name {
			return p.PartnerID
		}
	}
	f.t.Fatalf("no partner %q", name)
	return ""
}

func wantRule(t *testing.T, err, sentinel error) {
	t.Helper()
	var rule *RuleError
	if !errors.As(err, &rule) || !errors.Is(err, sentinel) {
		t.Fatalf("got %v, want a RuleError wrapping %v", err, sentinel)
	}
}

func wantFields(t *testing.T, err error, fields ...string) {
	t.Helper()
	var v *ValidationError
	if !errors.As(err, &v) {
		t.Fatalf("got %v, want a ValidationError on %v", err, fields)
	}
	var got []string
	for _, f := range v.Fields {
		got = append(got, f.Field)
	}
	for _, want := range fields {
		if !slices.Contains(got, want) {
			t.Fatalf("fields %v lack %q (%v)", got, want, err)
		}
	}
}

func TestInitiateFillsServerIDsAndState(t *testing.T) {
	f := started(t)
	s := f.state(View{})
	if s.Status != StatusActive || s.Version != 1 || s.AnchoringLevel != AnchoringNone {
		t.Fatalf("state %+v", s)
	}
	if s.CurrentMunicipality != "4203" || s.Municipality != "4203" {
		t.Fatalf("municipality %q → %q", s.Municipality, s.CurrentMunicipality)
	}
	for _, p := range s.Partners {
		if p.PartnerID == "" {
			t.Fatalf("partner without id: %+v", p)
		}
	}
	if got := s.StartedAt.Format(time.RFC3339); got != "2021-02-28T23:00:00Z" {
		t.Fatalf("started_at %s, want Oslo midnight", got)
	}
}

func TestInitiateValidation(t *testing.T) {
	cases := map[string]struct {
		mutate   func(*PartnershipInitiated)
		occurred string
		fields   []string
	}{
		"old code after reform":   {func(p *PartnershipInitiated) { p.Municipality = "0906" }, "2021-03-01", []string{"municipality"}},
		"new code before reform":  {func(p *PartnershipInitiated) { p.Municipality = "5006" }, "2016-05-01", []string{"municipality"}},
		"unknown code":            {func(p *PartnershipInitiated) { p.Municipality = "9999" }, "", []string{"municipality"}},
		"malformed code":          {func(p *PartnershipInitiated) { p.Municipality = "12a4" }, "", []string{"municipality"}},
		"bad org number":          {func(p *PartnershipInitiated) { p.Partners[0].OrgNo = "123456786" }, "", []string{"partners[0].org_no"}},
		"only municipal partners": {func(p *PartnershipInitiated) { p.Partners = p.Partners[1:] }, "", []string{"partners"}},
		"no goals":                {func(p *PartnershipInitiated) { p.Goals = nil }, "", []string{"goals"}},
		"21 goals": {func(p *PartnershipInitiated) {
			p.Goals = nil
			for i := range 21 {
				p.Goals = append(p.Goals, fmt.Sprint("mål ", i))
			}
		}, "", []string{"goals"}},
		"blank title":       {func(p *PartnershipInitiated) { p.Title = "   " }, "", []string{"title"}},
		"long goal":         {func(p *PartnershipInitiated) { p.Goals = []string{string(make([]rune, 501))} }, "", []string{"goals[0]"}},
		"bad vocabularies":  {func(p *PartnershipInitiated) { p.ServiceArea = "sports"; p.CollaborationModel = "x" }, "", []string{"service_area", "collaboration_model"}},
		"bad partner kind":  {func(p *PartnershipInitiated) { p.Partners[0].Kind = "ngo" }, "", []string{"partners[0].kind"}},
		"far future":        {func(*PartnershipInitiated) {}, "2024-06-03", []string{"occurred_at"}},
		"duplicate org no.": {func(p *PartnershipInitiated) { p.Partners[1].OrgNo = "974 760 673" }, "", []string{"partners[1].org_no"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			p := initiation()
			c.mutate(&p)
			wantFields(t, f.try(p, c.occurred), c.fields...)
		})
	}
}

func TestOldCodesMapToToday(t *testing.T) {
	f := newFixture(t)
	p := initiation()
	p.Municipality = "1702"
	f.must(p, "2016-05-01")
	if s := f.state(View{}); s.Municipality != "1702" || s.CurrentMunicipality != "5006" {
		t.Fatalf("got %s → %s", s.Municipality, s.CurrentMunicipality)
	}
}

func TestRulesRefuse(t *testing.T) {
	f := started(t)
	volunteers := f.partnerID("Arendal frivilligsentral")
	library := f.partnerID("Arendal bibliotek")

	wantRule(t, f.try(initiation(), ""), ErrAlreadyInitiated)
	wantRule(t, f.try(PartnershipResumed{Reason: "x"}, ""), ErrNotPaused)
	wantRule(t, f.try(PartnerJoined{Partner: Partner{Name: "Dobbel", Kind: "other", OrgNo: "974760673"}}, ""), ErrPartnerAlreadyActive)
	wantRule(t, f.try(PartnerLeft{PartnerID: volunteers, Reason: "flytter"}, ""), ErrLastExternalPartner)
	wantRule(t, f.try(PartnerLeft{PartnerID: "nobody", Reason: "x"}, ""), ErrPartnerNotActive)
	wantRule(t, f.try(GoalChanged{Goals: initiation().Goals, Reason: "same"}, ""), ErrGoalsUnchanged)
	wantRule(t, f.try(AnchoringChanged{Level: AnchoringNone}, ""), ErrAnchoringUnchanged)
	wantRule(t, f.try(RolesAgreed{Roles: []Role{{PartnerID: "nobody", Role: "lead"}}}, ""), ErrPartnerNotActive)
	wantRule(t, f.try(ContactPersonAssigned{PartnerID: "nobody", Name: "Kari", Email: "kari@example.no"}, ""), ErrPartnerNotActive)

	f.must(PartnershipPaused{Reason: "sommer"}, "2022-06-01")
	wantRule(t, f.try(PartnershipPaused{Reason: "igjen"}, "2022-07-01"), ErrNotActive)
	f.must(PartnershipResumed{Reason: "høst"}, "2022-08-15")
	f.must(PartnerLeft{PartnerID: library, Reason: "omorganisering"}, "2022-09-01")
	f.must(PartnershipEnded{Reason: "completed", Outcome: "Mål nådd"}, "2023-12-31")
	wantRule(t, f.try(MilestoneLogged{Kind: "meeting", Title: "Etterpå"}, "2024-01-05"), ErrEnded)
	wantRule(t, f.try(MilestoneLogged{Kind: "meeting", Title: "Glemt møte"}, "2022-01-05"), ErrEnded)

	s := f.state(View{})
	if s.Status != StatusEnded || s.EndReason == nil || *s.EndReason != "completed" || len(s.Partners) != 1 {
		t.Fatalf("state %+v", s)
	}
}

func TestOccurredAtBounds(t *testing.T) {
	f := started(t)
	wantFields(t, f.try(MilestoneLogged{Kind: "meeting", Title: "Før start"}, "2021-02-28"), "occurred_at")
	wantFields(t, f.try(MilestoneLogged{Kind: "meeting", Title: "Neste uke"}, f.now.Add(25*time.Hour).Format(time.RFC3339)), "occurred_at")
	f.must(MilestoneLogged{Kind: "meeting", Title: "I morgen"}, f.now.Add(23*time.Hour).Format(time.RFC3339))
	f.must(MilestoneLogged{Kind: "meeting", Title: "Samme dag"}, "2021-03-01")
}

// A late-logged event is checked at its own date, against the history as it
// was then, and must not invalidate what was recorded after it.
func TestLateLoggedEventsAreCheckedInOccurrenceOrder(t *testing.T) {
	f := started(t)
	f.must(PartnershipPaused{Reason: "vinter"}, "2022-01-01")
	f.must(PartnershipResumed{Reason: "vår"}, "2022-04-01")
	wantRule(t, f.try(PartnershipPaused{Reason: "feil"}, "2022-02-01"), ErrNotActive)
	// Fine at its own date, but the 2022 pause would then pause a paused
	// partnership.
	wantRule(t, f.try(PartnershipPaused{Reason: "høst"}, "2021-10-01"), ErrInvalidHistory)
	f.must(MilestoneLogged{Kind: "meeting", Title: "Glemt møte"}, "2021-11-01")

	f.must(PartnerJoined{Partner: Partner{Name: "Røde Kors", Kind: "voluntary_organisation", OrgNo: "889640782"}}, "2022-05-01")
	redCross := f.partnerID("Røde Kors")
	f.must(RolesAgreed{Roles: []Role{{PartnerID: redCross, Role: "host", Responsibilities: []string{"lokaler"}}}}, "2023-01-01")
	wantRule(t, f.try(PartnerLeft{PartnerID: redCross, Reason: "feil dato"}, "2022-06-01"), ErrInvalidHistory)
}

func TestReplayAsOfUsesOccurrenceOrder(t *testing.T) {
	f := started(t)
	f.must(GoalChanged{Goals: []string{"Mål B"}, Reason: "ny plan"}, "2023-01-10")
	f.must(GoalChanged{Goals: []string{"Mål A"}, Reason: "glemt"}, "2022-01-10") // logged late
	if s := f.state(View{}); !slices.Equal(s.Goals, []string{"Mål B"}) || s.GoalChanges != 2 || s.Version != 3 {
		t.Fatalf("current goals %v changes %d version %d", s.Goals, s.GoalChanges, s.Version)
	}
	asOf := func(s string) View {
		c, err := calendar.ParseCutoff(s)
		if err != nil {
			t.Fatal(err)
		}
		return View{AsOf: &c}
	}
	if s := f.state(asOf("2022-06-01")); !slices.Equal(s.Goals, []string{"Mål A"}) || s.Version != 3 {
		t.Fatalf("as of 2022-06-01: %v v%d", s.Goals, s.Version)
	}
	if s := f.state(asOf("2023-01-10")); !slices.Equal(s.Goals, []string{"Mål B"}) {
		t.Fatalf("a date includes the whole day: %v", s.Goals)
	}
	if s := f.state(asOf("2023-01-09T22:59:59Z")); !slices.Equal(s.Goals, []string{"Mål A"}) {
		t.Fatalf("a timestamp is exact: %v", s.Goals)
	}
	if _, err := Replay(f.history, asOf("2021-02-27")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("before initiation: %v", err)
	}
}

func TestBitemporalCorrections(t *testing.T) {
	f := started(t)
	f.must(FundingRecorded{AmountNOK: 50000, Source: "Tilskudd", PeriodFrom: "2021-01-01", PeriodUntil: "2021-12-31"}, "2021-04-01")
	funding := f.history[1].EventID
	f.must(MilestoneLogged{Kind: "media", Title: "Avisoppslag"}, "2021-05-01")
	milestone := f.history[2].EventID
	beforeCorrections := f.now.Add(-time.Minute)

	replacement, _ := json.Marshal(FundingRecorded{AmountNOK: 75000, Source: "Tilskudd", PeriodFrom: "2021-01-01", PeriodUntil: "2021-12-31"})
	f.must(EntryCorrected{CorrectedEventID: funding, Reason: "feil beløp", Replacement: replacement}, "")
	f.must(EntryCorrected{CorrectedEventID: milestone, Reason: "feilregistrert"}, "")

	if s := f.state(View{}); s.FundingTotalNOK != 75000 || s.Version != 5 {
		t.Fatalf("corrected state: funding %d version %d", s.FundingTotalNOK, s.Version)
	}
	if s := f.state(View{KnownAt: &beforeCorrections}); s.FundingTotalNOK != 50000 || s.Version != 3 {
		t.Fatalf("as known before: funding %d version %d", s.FundingTotalNOK, s.Version)
	}
	marks := Corrections(f.history, View{})
	if m := marks[milestone]; !m.Retracted || m.EventID != f.history[4].EventID {
		t.Fatalf("milestone mark %+v", m)
	}
	if m := marks[funding]; m.Retracted || m.EventID != f.history[3].EventID {
		t.Fatalf("funding mark %+v", m)
	}
	if len(Corrections(f.history, View{KnownAt: &beforeCorrections})) != 0 {
		t.Fatal("corrections visible before they were recorded")
	}
}

func TestCorrectionsAreChecked(t *testing.T) {
	f := started(t)
	f.must(PartnerJoined{Partner: Partner{Name: "Røde Kors", Kind: "voluntary_organisation"}}, "2021-05-01")
	joined := f.history[1].EventID
	f.must(RolesAgreed{Roles: []Role{{PartnerID: f.partnerID("Røde Kors"), Role: "host"}}}, "2021-06-01")

	wantRule(t, f.try(EntryCorrected{CorrectedEventID: joined, Reason: "aldri med"}, ""), ErrInvalidHistory)
	wantRule(t, f.try(EntryCorrected{CorrectedEventID: f.history[0].EventID, Reason: "slett"}, ""), ErrInvalidHistory)
	wantRule(t, f.try(EntryCorrected{CorrectedEventID: "nope", Reason: "x"}, ""), ErrUnknownEntry)
	wantFields(t, f.try(EntryCorrected{CorrectedEventID: joined, Reason: "x", Replacement: json.RawMessage(`{"amount_nok": 5}`)}, ""), "replacement")
	wantFields(t, f.try(EntryCorrected{CorrectedEventID: joined, Reason: "x", Replacement: json.RawMessage(`{"partner": {"name": "", "kind": "other"}}`)}, ""), "replacement.partner.name")

	// Replacing the initiation keeps its id and re-checks the code on its date.
	bad, _ := json.Marshal(PartnershipInitiated{Municipality: "0906", Title: "Ny tittel", ServiceArea: "culture", CollaborationModel: "network", Partners: initiation().Partners, Goals: []string{"x"}})
	wantFields(t, f.try(EntryCorrected{CorrectedEventID: f.history[0].EventID, Reason: "x", Replacement: bad}, ""), "replacement.municipality")
	f.must(EntryCorrected{CorrectedEventID: f.history[0].EventID, Reason: "tittel", Replacement: mustJSON(t, func() PartnershipInitiated {
		p := initiation()
		p.Title = "Ny tittel"
		p.Partners = f.state(View{}).Partners[:2]
		return p
	}())}, "")
	if s := f.state(View{}); s.Title != "Ny tittel" || s.ID != initiation().PartnershipID {
		t.Fatalf("replaced initiation: %+v", s)
	}
	// After the end, corrections remain possible.
	f.must(PartnershipEnded{Reason: "dissolved"}, "2022-01-01")
	f.must(EntryCorrected{CorrectedEventID: f.history[1].EventID, Reason: "annet navn", Replacement: json.RawMessage(`{"partner": {"name": "Røde Kors Arendal", "kind": "voluntary_organisation"}}`)}, "")
}

// TestReplacementsKeepServerIDs corrects entries without the ids the
// server made: a contact keeps its contact id (its personal data stays
// under its key), a replaced initiation's partners keep theirs (matched by
// org number, else name), so later entries that name them still hold.
func TestReplacementsKeepServerIDs(t *testing.T) {
	f := started(t)
	lag, bibliotek := f.partnerID("Arendal frivilligsentral"), f.partnerID("Arendal bibliotek")
	f.must(RolesAgreed{Roles: []Role{{PartnerID: lag, Role: "lead"}, {PartnerID: bibliotek, Role: "host"}}}, "2021-04-01")
	f.must(ContactPersonAssigned{PartnerID: lag, Name: "Kari", Email: "kari@example.no"}, "2021-04-02")
	contact := f.history[2].Event.(ContactPersonAssigned).ContactID

	replacement := initiation()
	replacement.Title = "Leksehjelp og lesestund"
	replacement.Partners[0].Name = "Frivilligsentralen i Arendal" // same org number
	f.must(EntryCorrected{CorrectedEventID: f.history[0].EventID, Reason: "ny tittel", Replacement: mustJSON(t, replacement)}, "")
	if s := f.state(View{}); s.Title != replacement.Title || s.Partners[0].PartnerID != lag || s.Partners[1].PartnerID != bibliotek {
		t.Fatalf("replaced initiation: %+v", s)
	}

	f.must(EntryCorrected{CorrectedEventID: f.history[2].EventID, Reason: "e-post", Replacement: mustJSON(t, ContactPersonAssigned{ContactID: "chosen-by-client", PartnerID: lag, Name: "Kari", Email: "kari.n@example.no"})}, "")
	var got ContactPersonAssigned
	if err := json.Unmarshal(f.history[len(f.history)-1].Event.(EntryCorrected).Replacement, &got); err != nil || got.ContactID != contact {
		t.Fatalf("the corrected contact has id %q, want %q (%v)", got.ContactID, contact, err)
	}
	// A new assignment always gets a new id, whatever the command says.
	f.must(ContactPersonAssigned{ContactID: contact, PartnerID: lag, Name: "Ola", Phone: "+47 400 00 000"}, "2021-05-01")
	if id := f.history[len(f.history)-1].Event.(ContactPersonAssigned).ContactID; id == contact || id == "" {
		t.Fatalf("a new contact got id %q", id)
	}
}

func mustJSON(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCodecRoundTripsEveryType(t *testing.T) {
	samples := []Event{
		initiation(), PartnerJoined{Partner: Partner{PartnerID: "p", Name: "n", Kind: "other"}}, PartnerLeft{PartnerID: "p", Reason: "r"},
		RolesAgreed{Roles: []Role{{PartnerID: "p", Role: "lead", Responsibilities: []string{"a"}}}}, GoalChanged{Goals: []string{"g"}, Reason: "r"},
		AgreementSigned{AgreementType: "other", ValidFrom: "2020-01-01", Reference: "ref"}, FundingRecorded{AmountNOK: 1, Source: "s", PeriodFrom: "2020-01-01", PeriodUntil: "2020-02-01"},
		AnchoringChanged{Level: "political"}, CollaborationModelChanged{CollaborationModel: "network", Reason: "r"}, MilestoneLogged{Kind: "media", Title: "t"}, ContactPersonAssigned{ContactID: "c", PartnerID: "p", Name: "n"},
		PartnershipPaused{Reason: "r"}, PartnershipResumed{Reason: "r"}, PartnershipEnded{Reason: "merged"}, EntryCorrected{CorrectedEventID: "e", Reason: "r"},
	}
	var types []string
	for _, e := range samples {
		data, err := Encode(e)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Decode(e.EventType(), SchemaVersion, data)
		if err != nil {
			t.Fatalf("%s: %v", e.EventType(), err)
		}
		if !reflect.DeepEqual(back, e) {
			t.Fatalf("%s: %#v != %#v", e.EventType(), back, e)
		}
		types = append(types, e.EventType())
	}
	if !slices.Equal(types, EventTypes()) {
		t.Fatalf("samples %v do not cover the catalogue %v", types, EventTypes())
	}
	if _, err := Decode("GoalsChanged", 1, []byte(`{}`)); !errors.Is(err, ErrUnknownEventType) {
		t.Fatalf("unknown type: %v", err)
	}
	if _, err := Decode(TypeGoalChanged, 2, []byte(`{}`)); err == nil {
		t.Fatal("a future schema version must be refused")
	}
}
