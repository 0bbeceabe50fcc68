// Package demo loads samspill's demo data set: over sixty synthetic but
// realistic partnerships between the municipalities of Arendal, Steinkjer
// and Ålesund and voluntary organisations, from 2015 to mid-2026, with
// every event type, former municipality codes (0906, 1702, 5004, and 1507
// of the Ålesund that split in 2024) on early partnerships, changes of
// collaboration model, leads of every kind, corrections, and several
// kinds of ending. Each event is recorded when it was entered: on its day
// or a few days later, or, for what happened before a municipality took
// samspill into use, on its go-live day.
//
// The history is fixed: it is generated from a small table of hand-written
// templates (templates.go) with generators seeded by a constant, and never
// depends on the clock, except that Load leaves out whatever lies after its
// now. The organisations' numbers are valid but synthetic, the contact
// persons obviously fictional.
//
// Everything is written through app.Service, so the demo passes the same
// domain decisions as every command.
package demo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/samspill/samspill/app"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/history"
)

// Summary reports what Load did.
type Summary struct {
	// Partnerships and Events count the demo partnerships and their events
	// as they stand in the store after Load (as far as the data set
	// reaches by now).
	Partnerships int
	Events       int
	// Appended counts the events newly written by this run; 0 when the data
	// set was there already.
	Appended int
	// Example is the id of one partnership worth showing users: it has
	// most event types, corrections included.
	Example string
}

// exampleKey names the partnership Summary.Example points at.
const exampleKey = "ferietilbud/arendal/2016"

// actor is who the demo's events are written by.
var actor = eventstore.Actor{Subject: "demo", Role: "system"}

// Load loads the demo data set into the store, with the same domain
// decisions as every command: the events entered by now (none after now,
// and none occurring after now).
//
// A store that can import (eventstore.Importer, the embedded and the
// PostgreSQL stores) and holds nothing but the demo's events gets them with
// their recording times: each event decided by app.Service.Record with the
// clock at its recorded_at, then imported in the order entered (positions
// 1, 2, ... across all partnerships), so a partnership entered after the
// fact looks so under known_at. Any other store (KurrentDB, or one holding
// other events) gets them through app.Service.Load and Execute with the
// clock at now: recorded now, corrections occurring now.
//
// Load is idempotent: every id (partnership, partner, event, contact) is
// derived from a fixed UUID namespace and a counter, and the order of
// entry does not depend on now, so running it again appends nothing, and
// a run with a later now appends the rest, as a direct run would have.
// A partnership already in the store is compared with the data set by
// event ids; if the store holds something else under a demo partnership's
// id, Load fails. On the append path it stops at the first error; what
// was appended before stays, and a new run goes on from there.
//
// opts configure the service it writes through (app.WithPersonalData, so
// that the demo's contact persons are sealed like any other).
//
// Load must not run concurrently with another Load on the same store.
func Load(ctx context.Context, store eventstore.Store, now time.Time, opts ...app.Option) (Summary, error) {
	all, err := plans()
	if err != nil {
		return Summary{}, err
	}
	ids := &idSequence{}
	svc := app.New(store, append([]app.Option{app.WithIDs(ids.next), app.WithClock(func() time.Time { return now })}, opts...)...)
	if importer, ok := store.(eventstore.Importer); ok {
		sum, imported, err := importEntered(ctx, svc, store, importer, ids, all, now)
		if err != nil || imported {
			return sum, err
		}
	}
	var sum Summary
	for _, p := range all {
		steps := p.until(now)
		if len(steps) == 0 {
			continue // initiated after now
		}
		n, err := load(ctx, svc, store, ids, p, steps)
		sum.Appended += n
		if err != nil {
			return sum, fmt.Errorf("demo: partnership %q (%s): %w", p.initiation().Title, p.key, err)
		}
		sum.Partnerships++
		sum.Events += len(steps)
		if sum.Example == "" || p.key == exampleKey {
			sum.Example = p.id
		}
	}
	return sum, nil
}

// storedSteps reads what the store holds of the plan and checks that it
// is a beginning of the demo's steps (or all of them and more, from a
// later now).
func storedSteps(ctx context.Context, store eventstore.Store, p plan, steps []step) ([]eventstore.RecordedEvent, error) {
	stored, err := store.ReadStream(ctx, history.StreamID(p.id))
	if err != nil && !errors.Is(err, eventstore.ErrStreamNotFound) {
		return nil, fmt.Errorf("read %s: %w", history.StreamID(p.id), err)
	}
	for i, e := range stored[:min(len(stored), len(steps))] {
		if e.EventID != steps[i].eventID {
			return nil, fmt.Errorf("the store holds event %s at version %d where the demo has %s (%s): not the demo's data",
				e.EventID, e.Version, steps[i].eventID, steps[i].event.EventType())
		}
	}
	return stored, nil
}

// load brings one partnership in the store up to steps and returns how
// many events it appended.
func load(ctx context.Context, svc *app.Service, store eventstore.Store, ids *idSequence, p plan, steps []step) (int, error) {
	stored, err := storedSteps(ctx, store, p, steps)
	if err != nil {
		return 0, err
	}
	meta := app.Meta{Actor: actor}
	if len(stored) == 0 {
		ids.restart(p.key, 0)
		rest := make([]partnership.Command, 0, len(steps)-1)
		for _, s := range steps[1:] {
			rest = append(rest, s.command())
		}
		res, err := svc.Load(ctx, p.initiation(), steps[0].at, rest, meta)
		if err != nil || res.Deduplicated {
			return 0, err
		}
		return len(res.Positions), nil
	}
	appended := 0
	for _, s := range steps[min(len(stored), len(steps)):] {
		ids.restart(p.key, s.firstID)
		if _, err := svc.Execute(ctx, p.id, s.command(), meta); err != nil {
			return appended, err
		}
		appended++
	}
	return appended, nil
}

// idSequence makes the ids app.Service asks for: the n-th id while storing
// the partnership key is counterID(key, n). It is used by one goroutine at
// a time.
type idSequence struct {
	key string
	n   int
}

// restart continues the sequence of key at n.
func (s *idSequence) restart(key string, n int) { s.key, s.n = key, n }

func (s *idSequence) next() string {
	id := counterID(s.key, s.n)
	s.n++
	return id
}
