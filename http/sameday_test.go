package http

import (
	"net/http"
	"testing"
)

// TestEndOnTheDayOfATimedMilestone ends a partnership with a date (today)
// after a meeting logged today at 14:00: the date means "that day", so the
// end counts after the meeting and is accepted.
func TestEndOnTheDayOfATimedMilestone(t *testing.T) {
	a := newTestAPI(t)
	p := a.newPartnership()
	a.post(p, "/milestones", obj{"kind": "meeting", "title": "Avslutningsmøte", "note": "", "occurred_at": "2024-06-01T14:00:00+02:00"}, http.StatusOK)
	a.post(p, "/end", obj{"reason": "completed", "outcome": "Vel gjennomført", "occurred_at": "2024-06-01"}, http.StatusOK)
	s := a.state(p, "")
	if s.Status != "ended" || s.EndedAt == nil || *s.EndedAt != "2024-05-31T22:00:00Z" {
		t.Fatalf("after the end: status %s, ended_at %v", s.Status, s.EndedAt)
	}
	if s := a.state(p, "?as_of=2024-06-01T13:00:00%2B02:00"); s.Status != "ended" {
		t.Fatalf("as of 13:00 that day: %s", s.Status)
	}
}
