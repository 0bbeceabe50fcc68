package partnership

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/samspill/samspill/domain/calendar"
)

// TestFieldErrorsCarryCodes: every invalid field comes with a stable code
// and the values its message needs, beside the English message of the
// API, so a page can say it in its reader's language.
func TestFieldErrorsCarryCodes(t *testing.T) {
	t.Parallel()
	bad := initiation()
	bad.Municipality = "1702" // Steinkjer until 2018, not on 2021-03-01
	bad.Title = ""
	bad.ServiceArea = "sailing"
	bad.Partners = []Partner{
		{Name: "Røde Kors", Kind: "voluntary_organisation", OrgNo: "123456786"},
		{Name: "Frivilligsentralen", Kind: "voluntary_organisation", OrgNo: "12345"},
	}
	bad.Goals = nil
	err := newFixture(t).try(bad, "2021-03-01")
	var v *ValidationError
	if !errors.As(err, &v) {
		t.Fatalf("got %v, want a ValidationError", err)
	}
	want := map[string]FieldError{
		"municipality":       {Code: FieldKommuneNotValid, Value: "1702", Other: "5006"},
		"title":              {Code: FieldRequired},
		"service_area":       {Code: FieldNotInList, Allowed: ServiceAreas},
		"partners[0].org_no": {Code: "orgnr_check_digit", Other: "5"},
		"partners[1].org_no": {Code: "orgnr_digit_count", Min: 5},
		"goals":              {Code: FieldCount, Min: 1, Max: maxGoals},
	}
	got := map[string]FieldError{}
	for _, fe := range v.Fields {
		if fe.Code == "" || fe.Message == "" {
			t.Errorf("%s: code %q, message %q: want both", fe.Field, fe.Code, fe.Message)
		}
		got[fe.Field] = fe
	}
	for field, w := range want {
		g, ok := got[field]
		if !ok {
			t.Errorf("no error for %s (got %v)", field, v.Fields)
			continue
		}
		if g.Code != w.Code || g.Min != w.Min || g.Max != w.Max || g.Value != w.Value || g.Other != w.Other || !slices.Equal(g.Allowed, w.Allowed) {
			t.Errorf("%s: %+v, want %+v", field, g, w)
		}
	}
	if d := got["municipality"].Date; calendar.Day(d) != "2021-03-01" {
		t.Errorf("municipality: the day not valid is %v, want 2021-03-01", d)
	}

	f := started(t)
	err = f.try(MilestoneLogged{Kind: "meeting", Title: "Møte"}, "2021-02-01")
	if !errors.As(err, &v) || v.Fields[0].Code != FieldBeforeStart || calendar.Day(v.Fields[0].Date) != "2021-03-01" {
		t.Errorf("a milestone before the start: %v, want before_start naming 2021-03-01", err)
	}
	err = f.try(MilestoneLogged{Kind: "meeting", Title: "Møte"}, f.now.Add(48*time.Hour).Format(time.RFC3339))
	if !errors.As(err, &v) || v.Fields[0].Code != FieldFuture {
		t.Errorf("a milestone two days ahead: %v, want future", err)
	}
}

// TestRuleErrorsCarryCodes: a refused command names its rule in a code,
// with the values the words need (a date, a name), the sentinel unchanged.
func TestRuleErrorsCarryCodes(t *testing.T) {
	t.Parallel()
	f := started(t)
	rule := func(err error) *RuleError {
		t.Helper()
		var r *RuleError
		if !errors.As(err, &r) {
			t.Fatalf("got %v, want a RuleError", err)
		}
		return r
	}
	r := rule(f.try(PartnerLeft{PartnerID: f.partnerID("Arendal frivilligsentral"), Reason: "Flytter"}, ""))
	if r.Code != RuleLastExternalPartner || r.Name != "Arendal frivilligsentral" || !errors.Is(r, ErrLastExternalPartner) {
		t.Errorf("last external partner: %+v", r)
	}
	r = rule(f.try(PartnershipResumed{Reason: "Videre"}, "2021-04-01"))
	if r.Code != RuleNotPaused || r.Name != StatusActive || calendar.Day(r.Date) != "2021-04-01" {
		t.Errorf("resume an active partnership: %+v", r)
	}
	// Retracting a pause breaks the resume recorded after it.
	f.must(PartnershipPaused{Reason: "Sommer"}, "2021-04-10")
	pause := f.history[len(f.history)-1].EventID
	f.must(PartnershipResumed{Reason: "Høst"}, "2021-04-20")
	r = rule(f.try(EntryCorrected{CorrectedEventID: pause, Reason: "Feil"}, ""))
	if r.Code != RuleLaterEntryBreaks || r.Value != TypePartnershipResumed || calendar.Day(r.Date) != "2021-04-20" ||
		r.Cause == nil || r.Cause.Code != RuleNotPaused || !errors.Is(r, ErrInvalidHistory) {
		t.Errorf("a retraction that breaks a later entry: %+v (cause %+v)", r, r.Cause)
	}
	f.must(PartnershipEnded{Reason: "completed"}, "2021-05-01")
	r = rule(f.try(MilestoneLogged{Kind: "meeting", Title: "Etterpå"}, ""))
	if r.Code != RuleEnded || calendar.Day(r.Date) != "2021-05-01" || !errors.Is(r, ErrEnded) {
		t.Errorf("a milestone after the end: %+v", r)
	}
	r = rule(f.try(EntryCorrected{CorrectedEventID: "no-such-event", Reason: "Feil"}, ""))
	if r.Code != RuleUnknownEntry || r.Value != "no-such-event" {
		t.Errorf("a correction of an unknown entry: %+v", r)
	}
}
