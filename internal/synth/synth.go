// Package synth generates large, valid, deterministic partnership histories
// straight into an event store, for benchmarks and load tests: many
// partnerships, their events interleaved in the global log as real use
// interleaves them, every event type, a few late-logged events and
// corrections, and one municipality with as many partnerships as a big
// city would have.
package synth

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/history"
)

// Config sizes a data set. The zero values of the optional fields pick
// sensible defaults.
type Config struct {
	// Partnerships is how many partnerships to make.
	Partnerships int
	// Events is how many events each partnership gets (at least 1: the
	// initiation); a partnership that ends stops early.
	Events int
	// Seed makes the data set reproducible.
	Seed uint64
	// Focus is a municipality (today's code) that gets FocusPartnerships of
	// the partnerships, those from before a merger under the old code
	// (4203: 0906 before 2020; 5006: 1702 before 2018, 5004 before 2020).
	Focus             string
	FocusPartnerships int
	// Writers append concurrently (default 16), each EventsPerAppend events
	// of one partnership at a time (default 10).
	Writers         int
	EventsPerAppend int
}

// Validate reports every problem with the configuration.
func (c Config) Validate() error {
	var errs []error
	if c.Partnerships < 1 {
		errs = append(errs, errors.New("partnerships must be at least 1"))
	}
	if c.Events < 1 {
		errs = append(errs, errors.New("events per partnership must be at least 1"))
	}
	if c.FocusPartnerships > c.Partnerships {
		errs = append(errs, errors.New("focus partnerships exceed partnerships"))
	}
	if c.FocusPartnerships > 0 {
		if _, err := kommune.Parse(c.Focus); err != nil {
			errs = append(errs, fmt.Errorf("focus municipality: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Summary reports what Fill wrote.
type Summary struct {
	Partnerships int
	Events       int
	// FocusIDs are the partnership ids in the focus municipality.
	FocusIDs []string
}

// namespace makes the data set's UUIDs (version 5, from the seed).
var namespace = uuid.MustParse("6f1d3f5e-3c1b-4b8e-9a55-2f4f6a1f7c10")

// Fill appends the data set to store: round by round, each round appending
// the next EventsPerAppend events of every partnership in a shuffled
// order, so that streams interleave in the global log.
func Fill(ctx context.Context, store eventstore.Store, cfg Config) (Summary, error) {
	if err := cfg.Validate(); err != nil {
		return Summary{}, fmt.Errorf("synth: %w", err)
	}
	cfg.Writers = cmpOr(cfg.Writers, 16)
	cfg.EventsPerAppend = cmpOr(cfg.EventsPerAppend, 10)
	r := rand.New(rand.NewPCG(cfg.Seed, 1))
	hs := make([]*generated, cfg.Partnerships)
	var sum Summary
	for i := range hs {
		hs[i] = newHistory(cfg, i)
		if i < cfg.FocusPartnerships {
			sum.FocusIDs = append(sum.FocusIDs, hs[i].id)
		}
	}
	sum.Partnerships = len(hs)
	for round := 0; round*cfg.EventsPerAppend < cfg.Events; round++ {
		order := r.Perm(len(hs))
		work := make(chan *generated)
		var mu sync.Mutex
		var errs []error
		var wg sync.WaitGroup
		for range cfg.Writers {
			wg.Go(func() {
				for h := range work {
					n := min(cfg.EventsPerAppend, cfg.Events-int(h.version))
					events, err := h.next(n, cfg.Events)
					if err == nil && len(events) == 0 {
						continue
					}
					if err == nil {
						_, err = store.Append(ctx, eventstore.AppendRequest{StreamID: history.StreamID(h.id), Expected: eventstore.Exactly(h.version - uint64(len(events))), Events: events})
					}
					mu.Lock()
					if err != nil {
						errs = append(errs, fmt.Errorf("append to %s: %w", h.id, err))
					}
					sum.Events += len(events)
					mu.Unlock()
				}
			})
		}
		for _, i := range order {
			if ctx.Err() != nil {
				break
			}
			work <- hs[i]
		}
		close(work)
		wg.Wait()
		if err := errors.Join(append(errs, ctx.Err())...); err != nil {
			return sum, fmt.Errorf("synth: %w", err)
		}
	}
	return sum, nil
}

func cmpOr(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

// history is the little a generator needs to know of one partnership to
// keep its events valid.
type generated struct {
	id        string
	code      string
	seed      uint64
	r         *rand.Rand
	version   uint64
	start     time.Time
	last      time.Time
	goals     int
	anchoring string
	model     string // the collaboration model in force
	paused    bool
	ended     bool
	// external counts active partners outside the municipality; joined
	// holds the ids of partners that joined later (they may leave).
	external  int
	joined    []string
	nextID    int
	milestone string // a milestone that may be retracted
}

var (
	epoch = time.Date(2015, 1, 1, 9, 0, 0, 0, time.UTC)
	merge = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	// modern: every current code is valid from then on.
	modern = time.Date(2024, 1, 2, 9, 0, 0, 0, time.UTC)
)

func newHistory(cfg Config, i int) *generated {
	h := &generated{
		id:   uuid.NewSHA1(namespace, fmt.Appendf(nil, "%d/partnership/%d", cfg.Seed, i)).String(),
		seed: cfg.Seed,
		r:    rand.New(rand.NewPCG(cfg.Seed, uint64(i)+2)),
	}
	h.start = epoch.Add(time.Duration(h.r.IntN(9*365)) * 24 * time.Hour)
	h.code = h.municipality(cfg, i)
	return h
}

// municipality picks the partnership's code, valid on its start date.
func (h *generated) municipality(cfg Config, i int) string {
	if i < cfg.FocusPartnerships {
		switch {
		case cfg.Focus == "4203" && h.start.Before(merge):
			return "0906"
		case cfg.Focus == "5006" && h.start.Before(time.Date(2018, 1, 1, 0, 0, 0, 0, time.UTC)):
			return "1702"
		case cfg.Focus == "5006" && h.start.Before(merge):
			return "5004"
		}
		if !kommune.Code(cfg.Focus).ValidOn(h.start) {
			h.start = modern.Add(time.Duration(h.r.IntN(300)) * 24 * time.Hour)
		}
		return cfg.Focus
	}
	list := kommune.CurrentList()
	code := list[h.r.IntN(len(list))].Code
	if !code.ValidOn(h.start) {
		h.start = modern.Add(time.Duration(h.r.IntN(300)) * 24 * time.Hour)
	}
	return string(code)
}

func (h *generated) newEventID() string {
	return uuid.NewSHA1(namespace, fmt.Appendf(nil, "%d/%s/%d", h.seed, h.id, h.version+1)).String()
}

// next returns the partnership's next n events (fewer once it has ended).
func (h *generated) next(n, total int) ([]eventstore.NewEvent, error) {
	var out []eventstore.NewEvent
	for range n {
		if h.ended {
			break
		}
		ev, at := h.step(int(h.version)+1 == total)
		data, err := partnership.Encode(ev)
		if err != nil {
			return nil, err
		}
		out = append(out, eventstore.NewEvent{
			EventID:       h.newEventID(),
			Type:          ev.EventType(),
			SchemaVersion: partnership.SchemaVersion,
			OccurredAt:    at,
			Metadata:      eventstore.Metadata{Actor: eventstore.Actor{Subject: "synth", Role: "admin"}, CorrelationID: h.id},
			Data:          data,
		})
		h.version++
	}
	return out, nil
}
