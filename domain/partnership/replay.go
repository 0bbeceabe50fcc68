package partnership

import (
	"fmt"
	"slices"
	"time"

	"github.com/samspill/samspill/domain/calendar"
)

// View selects the bitemporal slice of a history to replay. The zero View
// is the current state with everything known. A bound is a pointer so that
// every instant, the zero time.Time included, is a bound like any other.
type View struct {
	// AsOf keeps events that occurred at or before it (nil: no bound).
	AsOf *time.Time
	// KnownAt keeps events, corrections included, recorded at or before it
	// (nil: no bound).
	KnownAt *time.Time
}

func (v View) known(e Entry) bool { return v.knownAt(e.RecordedAt) }

func (v View) knownAt(recordedAt time.Time) bool {
	return v.KnownAt == nil || !recordedAt.After(*v.KnownAt)
}

func (v View) occurred(t time.Time) bool { return v.AsOf == nil || !t.After(*v.AsOf) }

// Includes reports whether an event that occurred and was recorded at these
// times is part of the view.
func (v View) Includes(occurredAt, recordedAt time.Time) bool {
	return v.occurred(occurredAt) && v.knownAt(recordedAt)
}

// Correction marks an event that a later EntryCorrected retracted or
// replaced, as known under a view.
type Correction struct {
	// EventID and RecordedAt identify the correcting event.
	EventID    string    `json:"event_id"`
	RecordedAt time.Time `json:"recorded_at"`
	Retracted  bool      `json:"retracted"`
}

// Corrections returns, for each corrected event id, the correction in force
// under the view (the latest one recorded).
func Corrections(history []Entry, v View) map[string]Correction {
	marks := map[string]Correction{}
	for _, e := range history {
		c, ok := e.Event.(EntryCorrected)
		if !ok || !v.known(e) {
			continue
		}
		marks[c.CorrectedEventID] = Correction{EventID: e.EventID, RecordedAt: e.RecordedAt, Retracted: len(c.Replacement) == 0}
	}
	return marks
}

// Effective returns the events that count under the view, corrections
// resolved (retracted ones dropped, replaced ones carrying their new data),
// in the order they occurred (ties by version; a day that mixes dated and
// timed entries as arrange settles it). Corrections themselves are not
// part of the result. history is in version order, as stored.
func Effective(history []Entry, v View) ([]Entry, error) {
	replacements := map[string]EntryCorrected{}
	for _, e := range history {
		if c, ok := e.Event.(EntryCorrected); ok && v.known(e) {
			replacements[c.CorrectedEventID] = c
		}
	}
	out := make([]Entry, 0, len(history))
	for _, e := range history {
		if _, ok := e.Event.(EntryCorrected); ok || !v.known(e) || !v.occurred(e.OccurredAt) {
			continue
		}
		if c, ok := replacements[e.EventID]; ok {
			if len(c.Replacement) == 0 {
				continue
			}
			replaced, err := Decode(e.Event.EventType(), SchemaVersion, c.Replacement)
			if err != nil {
				return nil, fmt.Errorf("replacement of %s: %w", e.EventID, err)
			}
			e.Event = replaced
		}
		out = append(out, e)
	}
	slices.SortStableFunc(out, func(a, b Entry) int {
		if c := a.OccurredAt.Compare(b.OccurredAt); c != 0 {
			return c
		}
		return compareUint(a.Version, b.Version)
	})
	return arrange(out), nil
}

// arrange settles the order of every day that has both entries dated with
// a day only (00:00 Europe/Oslo: "that day", calendar.DateOnly) and entries
// with a time of day. By their instants the dated ones come first, and
// where the rules hold in that order it stands, so every history accepted
// before this rule replays as it always did. Where they do not (a
// partnership ended "today" after a meeting logged at 14:00 today), the
// day is taken in the order it was recorded instead (recordedOrder), if
// the rules hold in that order. events are in occurrence order; arrange
// reorders them in place and returns them.
func arrange(events []Entry) []Entry {
	if !mixesDatedAndTimed(events) {
		return events
	}
	var s State
	for i := 0; i < len(events); {
		j := i + 1
		for j < len(events) && calendar.SameDay(events[j].OccurredAt, events[i].OccurredAt) {
			j++
		}
		day := events[i:j]
		if mixesDatedAndTimed(day) && !holds(s, day) {
			if recorded := recordedOrder(day); holds(s, recorded) {
				copy(day, recorded)
			}
		}
		for _, e := range day {
			s.apply(e)
		}
		i = j
	}
	return events
}

// mixesDatedAndTimed reports whether some day of events (in occurrence
// order) has a dated entry followed by a timed one: dated entries, at
// 00:00, come first on their day.
func mixesDatedAndTimed(events []Entry) bool {
	for k := 0; k+1 < len(events); k++ {
		a, b := events[k].OccurredAt, events[k+1].OccurredAt
		if calendar.DateOnly(a) && !calendar.DateOnly(b) && calendar.SameDay(a, b) {
			return true
		}
	}
	return false
}

// holds reports whether every entry of day passes the rules, in order,
// from the state s before the day.
func holds(s State, day []Entry) bool {
	s = s.clone()
	for _, e := range day {
		if s.check(e) != nil {
			return false
		}
		s.apply(e)
	}
	return true
}

// recordedOrder returns a day's entries in the order they were recorded,
// as far as their times allow: the timed entries keep the order of their
// times, and each dated entry comes right after the timed entries recorded
// before it (those of a lower version), dated entries in version order.
func recordedOrder(day []Entry) []Entry {
	var timed, dated []Entry
	for _, e := range day {
		if calendar.DateOnly(e.OccurredAt) {
			dated = append(dated, e)
		} else {
			timed = append(timed, e)
		}
	}
	slices.SortStableFunc(dated, func(a, b Entry) int { return compareUint(a.Version, b.Version) })
	// after is the index of the last timed entry (in time order) recorded
	// before e, -1 for none; it grows with e's version.
	after := func(e Entry) int {
		last := -1
		for i, t := range timed {
			if t.Version < e.Version {
				last = i
			}
		}
		return last
	}
	out := make([]Entry, 0, len(day))
	k := 0
	for i := -1; i < len(timed); i++ {
		if i >= 0 {
			out = append(out, timed[i])
		}
		for k < len(dated) && after(dated[k]) == i {
			out = append(out, dated[k])
			k++
		}
	}
	return out
}

func compareUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Replay folds a history (in version order, as stored) into the state under
// the view: events ordered by when they occurred, corrections applied from
// their own recorded_at on. It returns ErrNotFound when the partnership did
// not exist under the view.
func Replay(history []Entry, v View) (State, error) {
	events, err := Effective(history, v)
	if err != nil {
		return State{}, err
	}
	var s State
	for _, e := range events {
		s.apply(e)
	}
	if !s.initiated() {
		return State{}, ErrNotFound
	}
	s.normalize()
	// The version counts every event known under the view, corrections
	// included, so that it equals the stream version when nothing is cut.
	for _, e := range history {
		if v.known(e) && v.occurred(e.OccurredAt) {
			s.Version = max(s.Version, e.Version)
		}
	}
	return s, nil
}

// Steps replays the history under the view as Replay does and calls step
// with every event in force, in the order it occurred, and the state right
// after it: the walk through time that event-history exports need. The
// state shares memory with the replay, so step must copy what it keeps. A
// history that is empty under the view calls step never.
func Steps(history []Entry, v View, step func(Entry, State)) error {
	events, err := Effective(history, v)
	if err != nil {
		return err
	}
	var s State
	for _, e := range events {
		s.apply(e)
		step(e, s)
	}
	return nil
}

// validate replays the whole history in the order things occurred and checks
// every event against the state just before it. It returns the first entry
// that breaks a rule, with the rule's error.
func validate(history []Entry) (Entry, error) {
	_, bad, err := validated(history)
	return bad, err
}

// validated is validate that also returns the state the history replays
// to when every rule holds (normalized; its Version that of the last event
// in force, not counting corrections).
func validated(history []Entry) (State, Entry, error) {
	events, err := Effective(history, View{})
	if err != nil {
		return State{}, Entry{}, err
	}
	var s State
	for _, e := range events {
		if err := s.check(e); err != nil {
			return State{}, e, err
		}
		s.apply(e)
	}
	s.normalize()
	return s, Entry{}, nil
}

// Next returns the state after e, computed from s alone, and true when that
// equals replaying the whole history with e added: s is the current state
// (zero before the initiation) and e is the stream's next event, not a
// correction, and either not earlier than anything s has seen or an event
// whose effect does not depend on order (commutes). Otherwise it returns
// false and the caller must Replay; a correction or a late-logged event can
// change what came after it. Projections use Next to fold the global log
// without reading each stream again. s is not modified.
func (s State) Next(e Entry) (State, bool) {
	if _, ok := e.Event.(EntryCorrected); ok {
		return State{}, false
	}
	_, initiation := e.Event.(PartnershipInitiated)
	if initiation == s.initiated() || e.Version != s.Version+1 {
		return State{}, false
	}
	if e.OccurredAt.Before(s.LastOccurredAt) && !commutes(e.Event) {
		return State{}, false
	}
	// A day that mixes dated and timed entries is ordered by arrange,
	// which Replay runs: a dated entry before the last one, or a timed one
	// on the latest day with a dated entry, may not simply go last.
	dated := calendar.DateOnly(e.OccurredAt)
	if dated && e.OccurredAt.Before(s.LastOccurredAt) || !dated && calendar.SameDay(e.OccurredAt, s.datedOn) {
		return State{}, false
	}
	next := s.clone()
	next.apply(e)
	next.normalize()
	return next, true
}

// commutes reports whether applying ev gives the same state wherever it
// falls in the order of events: true for the events that change no
// order-dependent field (a late-logged milestone is the common case).
func commutes(ev Event) bool {
	switch ev.(type) {
	case MilestoneLogged, ContactPersonAssigned, FundingRecorded:
		return true
	}
	return false
}

// clone copies s deeply enough that apply on the copy leaves s unchanged.
func (s State) clone() State {
	s.Partners = slices.Clone(s.Partners)
	s.Roles = slices.Clone(s.Roles)
	s.Goals = slices.Clone(s.Goals)
	s.Agreements = slices.Clone(s.Agreements)
	return s
}
