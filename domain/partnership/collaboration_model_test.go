package partnership

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/samspill/samspill/domain/calendar"
)

// TestCollaborationModelChanges: the model in the state follows the
// changes in the order they occurred, so a replay as of a day gives the
// model in force that day (what research reads as a time-varying
// covariate).
func TestCollaborationModelChanges(t *testing.T) {
	f := started(t) // co_governance from 2021-03-01
	f.must(CollaborationModelChanged{CollaborationModel: "grant", Reason: "Tilskudd fra kommunen"}, "2022-01-10")
	f.must(CollaborationModelChanged{CollaborationModel: "service_contract", Reason: "Anbud vunnet"}, "2023-05-01")

	if s := f.state(View{}); s.CollaborationModel != "service_contract" || s.Version != 3 {
		t.Fatalf("current model %q version %d, want service_contract at 3", s.CollaborationModel, s.Version)
	}
	for day, want := range map[string]string{"2021-12-31": "co_governance", "2022-01-10": "grant", "2023-04-30": "grant", "2023-05-01": "service_contract"} {
		c, err := calendar.ParseCutoff(day)
		if err != nil {
			t.Fatal(err)
		}
		if s := f.state(View{AsOf: &c}); s.CollaborationModel != want {
			t.Errorf("as of %s: model %q, want %q", day, s.CollaborationModel, want)
		}
	}
	// Logged late, a change is checked against the model in force at its
	// own date, and a later change then still changes something.
	f.must(CollaborationModelChanged{CollaborationModel: "network", Reason: "Glemt å registrere"}, "2021-06-01")
	if s := f.state(View{}); s.CollaborationModel != "service_contract" {
		t.Fatalf("a late-logged change moved the current model to %q", s.CollaborationModel)
	}
}

func TestCollaborationModelChangeValidation(t *testing.T) {
	cases := map[string]struct {
		event  CollaborationModelChanged
		fields []string
	}{
		"unknown model":  {CollaborationModelChanged{CollaborationModel: "partnership", Reason: "x"}, []string{"collaboration_model"}},
		"empty model":    {CollaborationModelChanged{Reason: "x"}, []string{"collaboration_model"}},
		"no reason":      {CollaborationModelChanged{CollaborationModel: "grant"}, []string{"reason"}},
		"blank reason":   {CollaborationModelChanged{CollaborationModel: "grant", Reason: "  \t"}, []string{"reason"}},
		"too long":       {CollaborationModelChanged{CollaborationModel: "grant", Reason: strings.Repeat("å", maxText+1)}, []string{"reason"}},
		"both missing":   {CollaborationModelChanged{}, []string{"collaboration_model", "reason"}},
		"model in caps":  {CollaborationModelChanged{CollaborationModel: "GRANT", Reason: "x"}, []string{"collaboration_model"}},
		"not valid utf8": {CollaborationModelChanged{CollaborationModel: "grant", Reason: "\xff"}, []string{"reason"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			f := started(t)
			err := f.try(c.event, "")
			wantFields(t, err, c.fields...)
			var v *ValidationError
			errors.As(err, &v)
			for _, fe := range v.Fields {
				if fe.Field == "collaboration_model" && (fe.Code != FieldNotInList || len(fe.Allowed) != len(CollaborationModels)) {
					t.Errorf("collaboration_model: %+v, want not_in_list with the models", fe)
				}
			}
		})
	}
}

func TestCollaborationModelChangeRefused(t *testing.T) {
	f := started(t)
	err := f.try(CollaborationModelChanged{CollaborationModel: "co_governance", Reason: "samme"}, "")
	wantRule(t, err, ErrCollaborationModelUnchanged)
	var rule *RuleError
	if errors.As(err, &rule); rule.Code != RuleCollaborationModelUnchanged || rule.Name != "co_governance" {
		t.Errorf("rule %+v, want collaboration_model_unchanged naming co_governance", rule)
	}
	// The same model as the one in force at its date, logged late, is
	// refused too, although it differs from the current one.
	f.must(CollaborationModelChanged{CollaborationModel: "grant", Reason: "tilskudd"}, "2022-01-10")
	wantRule(t, f.try(CollaborationModelChanged{CollaborationModel: "co_governance", Reason: "glemt"}, "2021-06-01"), ErrCollaborationModelUnchanged)
	// A late-logged change that makes a later one a no-op breaks history.
	wantRule(t, f.try(CollaborationModelChanged{CollaborationModel: "grant", Reason: "glemt"}, "2021-06-01"), ErrInvalidHistory)

	f.must(PartnershipEnded{Reason: "completed"}, "2023-01-01")
	wantRule(t, f.try(CollaborationModelChanged{CollaborationModel: "network", Reason: "etterpå"}, "2023-02-01"), ErrEnded)
	wantRule(t, f.try(CollaborationModelChanged{CollaborationModel: "network", Reason: "før slutten"}, "2022-06-01"), ErrEnded)
}

// TestCollaborationModelCorrections: a change can be replaced by another
// model or retracted, like any entry, and the state follows; a
// replacement is validated and checked like the original.
func TestCollaborationModelCorrections(t *testing.T) {
	f := started(t)
	f.must(CollaborationModelChanged{CollaborationModel: "grant", Reason: "tilskudd"}, "2022-01-10")
	change := f.history[1].EventID
	known := f.now.Add(-time.Minute)

	wantFields(t, f.try(EntryCorrected{CorrectedEventID: change, Reason: "feil", Replacement: mustJSON(t, CollaborationModelChanged{CollaborationModel: "contract", Reason: "x"})}, ""), "replacement.collaboration_model")
	wantFields(t, f.try(EntryCorrected{CorrectedEventID: change, Reason: "feil", Replacement: json.RawMessage(`{"collaboration_model": "grant", "reason": "x", "level": "political"}`)}, ""), "replacement")
	// Replaced by the model already in force, the change would be no change.
	wantRule(t, f.try(EntryCorrected{CorrectedEventID: change, Reason: "feil", Replacement: mustJSON(t, CollaborationModelChanged{CollaborationModel: "co_governance", Reason: "x"})}, ""), ErrInvalidHistory)

	f.must(EntryCorrected{CorrectedEventID: change, Reason: "feil modell", Replacement: mustJSON(t, CollaborationModelChanged{CollaborationModel: "service_contract", Reason: "kontrakt"})}, "")
	if s := f.state(View{}); s.CollaborationModel != "service_contract" {
		t.Fatalf("replaced: model %q, want service_contract", s.CollaborationModel)
	}
	if s := f.state(View{KnownAt: &known}); s.CollaborationModel != "grant" {
		t.Fatalf("as known before the correction: model %q, want grant", s.CollaborationModel)
	}
	f.must(EntryCorrected{CorrectedEventID: change, Reason: "aldri skjedd"}, "")
	if s := f.state(View{}); s.CollaborationModel != "co_governance" {
		t.Fatalf("retracted: model %q, want the initiation's co_governance", s.CollaborationModel)
	}
}
