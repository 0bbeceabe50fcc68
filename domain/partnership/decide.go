package partnership

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/samspill/samspill/domain/calendar"
	"github.com/samspill/samspill/domain/orgnr"
)

// maxFuture is how far ahead of the clock an event may be dated. Coordinators
// plan meetings for tomorrow; anything later is a typo.
const maxFuture = 24 * time.Hour

// Dates samspill takes are plausible ones: no public–voluntary partnership
// it records began before 1900, and no agreement or funding period runs
// past 2200. Outside, a date is a typo (or a zero value sent as one).
var (
	earliestDate = time.Date(1900, 1, 1, 0, 0, 0, 0, calendar.Oslo)
	latestDate   = time.Date(2200, 12, 31, 0, 0, 0, 0, calendar.Oslo)
)

// Env is what a decision needs from outside: the clock and a maker of new
// ids (UUIDs). Both are injected so decisions stay pure and testable.
type Env struct {
	Now   time.Time
	NewID func() string
}

// Command asks for one new event. OccurredAt nil means now (any instant
// given, the zero time included, is judged as given); it is ignored for
// corrections, which occur when they are recorded.
type Command struct {
	Event      Event
	OccurredAt *time.Time
}

// Decision is the event a command produced, ready to be stored, and the
// partnership's state once it is.
type Decision struct {
	Event      Event
	OccurredAt time.Time
	// State is the partnership right after the event: what Replay of the
	// history with the event added gives (its Version is the new one).
	State State
}

// History is a partnership's stored events as the domain sees them, in
// version order, with the state they replay to now. A command decides on
// it without replaying the stream again: make one with NewHistory (one
// replay) or, when the current state is known (a cache, the last
// decision), with HistoryOf; or, without the events, with StateOnly.
type History struct {
	entries []Entry
	current State
	// partial is set when entries are not held (StateOnly).
	partial bool
}

// ErrNeedEntries means Decide was given a StateOnly history and the
// command needs the stored events: a correction, or an event that does not
// go last in the order things occurred. Decide again with them.
var ErrNeedEntries = errors.New("decide: the command needs the partnership's stored events")

// StateOnly returns the History of a partnership known only by its current
// state (whose Version counts its events): enough to decide an event that
// goes last in the order things occurred, which is checked against the
// current state alone. For anything else Decide answers ErrNeedEntries.
func StateOnly(current State) History {
	return History{current: current, partial: true}
}

// NewHistory replays entries (in version order, as stored) into the
// current state. No entries is a partnership that does not exist yet.
func NewHistory(entries []Entry) (History, error) {
	if len(entries) == 0 {
		return History{}, nil
	}
	current, err := Replay(entries, View{})
	if err != nil {
		return History{}, err
	}
	return History{entries: entries, current: current}, nil
}

// HistoryOf returns the History of entries whose current state is current
// (Replay of entries, as NewHistory or a Decision gave it). It trusts the
// caller: a state of another version is a defect.
func HistoryOf(entries []Entry, current State) History {
	return History{entries: entries, current: current}
}

// Entries returns the stored events (shared: do not modify); nil for a
// StateOnly history.
func (h History) Entries() []Entry { return h.entries }

// Current returns the partnership's state now; the zero State (ID "")
// before its initiation.
func (h History) Current() State { return h.current }

// Version is the stream's version: the number of stored events.
func (h History) Version() uint64 {
	if h.partial {
		return h.current.Version
	}
	return uint64(len(h.entries))
}

// With returns the History with the decided event stored as entry
// (its EventID, Version and RecordedAt as stored).
func (h History) With(entry Entry, d Decision) History {
	return History{entries: append(h.entries[:len(h.entries):len(h.entries)], entry), current: d.State}
}

// Decide checks a command against a partnership's history and returns the
// event to append with the state it leads to. Errors: *ValidationError for
// invalid input, *RuleError (wrapping ErrEnded, ErrNotActive, ...) when a
// rule refuses, ErrNotFound when the partnership does not exist.
//
// The rules are checked on the history as it would be with the new event,
// replayed in the order things occurred, so a late-logged event can neither
// break a rule at its own date nor invalidate what was recorded after it.
// An event that goes last in that order (the usual case: something
// happened now, or after everything recorded) is checked against the
// current state alone.
func Decide(h History, cmd Command, env Env) (Decision, error) {
	if cmd.Event == nil {
		return Decision{}, errors.New("decide: command without event")
	}
	history, current := h.entries, h.current
	exists := current.initiated()
	var err error
	_, initiating := cmd.Event.(PartnershipInitiated)
	switch {
	case initiating && (exists || len(history) > 0):
		return Decision{}, refuse(ErrAlreadyInitiated, RuleError{Code: RuleAlreadyInitiated}, "a partnership is initiated once")
	case !initiating && !exists:
		return Decision{}, ErrNotFound
	}

	ev := withNewIDs(normalized(cmd.Event, env), env)
	occurredAt := env.Now
	if cmd.OccurredAt != nil {
		occurredAt = *cmd.OccurredAt
	}
	fields := newFieldErrors()
	if correction, ok := ev.(EntryCorrected); ok {
		if h.partial {
			return Decision{}, ErrNeedEntries
		}
		occurredAt = env.Now
		ev, err = prepareCorrection(history, correction, env, fields)
		if err != nil {
			return Decision{}, err
		}
	} else {
		switch {
		case occurredAt.After(env.Now.Add(maxFuture)):
			fields.add("occurred_at", FieldError{Code: FieldFuture}, "must not be more than 24 hours in the future")
		case occurredAt.Before(earliestDate):
			fields.add("occurred_at", FieldError{Code: FieldDateOutOfRange, Min: int64(earliestDate.Year()), Max: int64(latestDate.Year())}, "must not be before %s", calendar.Day(earliestDate))
		}
		if exists && occurredAt.Before(current.StartedAt) && !(calendar.DateOnly(occurredAt) && calendar.SameDay(occurredAt, current.StartedAt)) {
			fields.add("occurred_at", FieldError{Code: FieldBeforeStart, Date: current.StartedAt}, "must not be before the partnership was initiated (%s)", current.StartedAt.Format(time.RFC3339))
		}
	}
	ev.validate(fields, occurredAt)
	if err := fields.err(); err != nil {
		return Decision{}, err
	}
	if exists && current.Status == StatusEnded && !isCorrection(ev) {
		return Decision{}, refuse(ErrEnded, RuleError{Code: RuleEnded, Date: *current.EndedAt}, "it ended on %s; only corrections are possible", calendar.Day(*current.EndedAt))
	}

	candidate := Entry{
		EventID:    "proposed",
		Version:    h.Version() + 1,
		OccurredAt: occurredAt.UTC(),
		RecordedAt: env.Now,
		Event:      ev,
	}
	if next, ok := current.Next(candidate); ok && !candidate.OccurredAt.Before(current.LastOccurredAt) {
		// Last in the order things occurred: every earlier event keeps
		// the state it was checked against.
		if err := current.check(candidate); err != nil {
			return Decision{}, err
		}
		return Decision{Event: ev, OccurredAt: candidate.OccurredAt, State: next}, nil
	}
	if h.partial {
		return Decision{}, ErrNeedEntries
	}
	after, bad, err := validated(append(history[:len(history):len(history)], candidate))
	if err != nil {
		if bad.EventID == candidate.EventID && !isCorrection(ev) {
			return Decision{}, err
		}
		return Decision{}, refuse(ErrInvalidHistory, RuleError{Code: RuleLaterEntryBreaks, Value: bad.Event.EventType(), Date: bad.OccurredAt, Cause: asRule(err)}, "%s of %s would no longer hold: %v", bad.Event.EventType(), calendar.Day(bad.OccurredAt), err)
	}
	after.Version = candidate.Version
	return Decision{Event: ev, OccurredAt: candidate.OccurredAt, State: after}, nil
}

// asRule returns the rule error err is, nil if it is none.
func asRule(err error) *RuleError {
	var r *RuleError
	if errors.As(err, &r) {
		return r
	}
	return nil
}

func isCorrection(e Event) bool {
	_, ok := e.(EntryCorrected)
	return ok
}

// withNewIDs gives a new event the ids only the server makes: a contact
// person's id. A replacement keeps its original's instead (keepServerIDs).
func withNewIDs(e Event, env Env) Event {
	if c, ok := e.(ContactPersonAssigned); ok {
		c.ContactID = env.NewID()
		return c
	}
	return e
}

// normalized fills the partner ids the server makes where they are absent
// and stores values in one canonical form: org numbers as nine digits,
// absent lists as empty ones, a null replacement as none.
func normalized(e Event, env Env) Event {
	switch ev := e.(type) {
	case PartnershipInitiated:
		ev.Partners = normalizedPartners(ev.Partners, env)
		return ev
	case PartnerJoined:
		ev.Partner = normalizedPartners([]Partner{ev.Partner}, env)[0]
		return ev
	case RolesAgreed:
		roles := slices.Clone(ev.Roles)
		for i := range roles {
			roles[i].Responsibilities = nonNil(roles[i].Responsibilities)
		}
		ev.Roles = roles
		return ev
	case EntryCorrected:
		if string(ev.Replacement) == "null" {
			ev.Replacement = nil
		}
		return ev
	}
	return e
}

func normalizedPartners(partners []Partner, env Env) []Partner {
	out := make([]Partner, len(partners))
	for i, p := range partners {
		if p.PartnerID == "" {
			p.PartnerID = env.NewID()
		}
		if n, err := orgnr.Parse(p.OrgNo); err == nil {
			p.OrgNo = string(n)
		}
		out[i] = p
	}
	return out
}

// prepareCorrection checks that a correction points at an earlier event of
// the stream and that a replacement is a valid payload of the same type,
// keeping the server-made ids of the original.
func prepareCorrection(history []Entry, c EntryCorrected, env Env, fields fieldErrors) (Event, error) {
	var target *Entry
	for i := range history {
		if history[i].EventID == c.CorrectedEventID {
			target = &history[i]
		}
	}
	switch {
	case c.CorrectedEventID == "":
		return c, nil // reported by validate
	case target == nil:
		return nil, refuse(ErrUnknownEntry, RuleError{Code: RuleUnknownEntry, Value: c.CorrectedEventID}, "no event %s in this partnership", c.CorrectedEventID)
	case isCorrection(target.Event):
		return nil, refuse(ErrUnknownEntry, RuleError{Code: RuleCorrectACorrection, Value: c.CorrectedEventID}, "event %s is a correction; correct the original entry instead", c.CorrectedEventID)
	}
	if len(c.Replacement) == 0 {
		if _, ok := target.Event.(PartnershipInitiated); ok {
			return nil, refuse(ErrInvalidHistory, RuleError{Code: RuleRetractInitiation}, "the initiation cannot be retracted; replace its data instead")
		}
		return c, nil
	}
	replacement, err := decodeStrict(target.Event.EventType(), c.Replacement)
	if err != nil {
		fields.add("replacement", FieldError{Code: FieldReplacementType, Value: target.Event.EventType()}, "must be a %s payload: %v", target.Event.EventType(), err)
		return c, nil
	}
	replacement = normalized(keepServerIDs(target.Event, replacement), env)
	replacement.validate(fields.at("replacement"), target.OccurredAt)
	data, err := Encode(replacement)
	if err != nil {
		return nil, err
	}
	c.Replacement = data
	return c, nil
}

// keepServerIDs carries the ids the server made for the original event into
// its replacement, so that later events that name them still match.
func keepServerIDs(original, replacement Event) Event {
	switch r := replacement.(type) {
	case PartnershipInitiated:
		o := original.(PartnershipInitiated)
		r.PartnershipID = o.PartnershipID
		r.Partners = slices.Clone(r.Partners)
		for i, p := range r.Partners {
			if p.PartnerID == "" {
				r.Partners[i].PartnerID = samePartner(o.Partners, p).PartnerID
			}
		}
		return r
	case PartnerJoined:
		if r.Partner.PartnerID == "" {
			r.Partner.PartnerID = original.(PartnerJoined).Partner.PartnerID
		}
		return r
	case ContactPersonAssigned:
		r.ContactID = original.(ContactPersonAssigned).ContactID
		return r
	}
	return replacement
}

// samePartner returns the partner of the original list that p stands for
// in a replacement: the one with p's org number, else the one with p's
// name; the zero Partner if none (p then gets a new id).
func samePartner(original []Partner, p Partner) Partner {
	n, _ := orgnr.Parse(p.OrgNo)
	for _, o := range original {
		if n != "" && o.OrgNo == string(n) {
			return o
		}
	}
	for _, o := range original {
		if o.Name == p.Name {
			return o
		}
	}
	return Partner{}
}

// String names a command for logs.
func (c Command) String() string {
	if c.OccurredAt == nil {
		return c.Event.EventType() + " now"
	}
	return fmt.Sprintf("%s at %s", c.Event.EventType(), c.OccurredAt.Format(time.RFC3339))
}
