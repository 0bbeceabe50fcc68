package app

import (
	"context"
	"sync"

	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/eventstore"
)

// stateCacheSize bounds the current states a Service keeps (a state is a
// kilobyte or two).
const stateCacheSize = 4096

// states keeps the current state of the partnerships read last, by
// stream. Events are immutable and streams only grow, so a kept state is
// brought up to date by reading what its stream got after the state's
// version (usually nothing) and folding that in with State.Next; when Next
// cannot (a correction, a late-logged event) the stream is replayed as
// without the cache. It serves only the current, unbounded view: states
// as of a date or as known at a time are replayed every time. Safe for
// concurrent use; a state handed out is never modified.
type states struct {
	tail eventstore.StreamTailReader

	mu   sync.Mutex
	kept map[string]partnership.State
}

func newStates(store eventstore.Store) *states {
	tail, ok := store.(eventstore.StreamTailReader)
	if !ok {
		return nil // the store cannot read a stream's end: replay every time
	}
	return &states{tail: tail, kept: map[string]partnership.State{}}
}

// current returns the stream's current state and version, and false when
// it knows no state of the stream that it could bring up to date.
func (c *states) current(ctx context.Context, stream string) (partnership.State, bool, error) {
	c.mu.Lock()
	s, ok := c.kept[stream]
	c.mu.Unlock()
	if !ok {
		return partnership.State{}, false, nil
	}
	more, err := c.tail.ReadStreamAfter(ctx, stream, s.Version)
	if err != nil {
		return partnership.State{}, false, err
	}
	if len(more) == 0 {
		return s, true, nil
	}
	entries, err := Entries(more)
	if err != nil {
		return partnership.State{}, false, err
	}
	for _, e := range entries {
		if s, ok = s.Next(e); !ok {
			return partnership.State{}, false, nil
		}
	}
	c.keep(stream, s)
	return s, true, nil
}

// keep remembers a stream's current state, unless a newer one is kept.
func (c *states) keep(stream string, s partnership.State) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.kept[stream]; ok && old.Version >= s.Version {
		return
	}
	if _, ok := c.kept[stream]; !ok && len(c.kept) >= stateCacheSize {
		for k := range c.kept { // an arbitrary victim: map order is random
			delete(c.kept, k)
			break
		}
	}
	c.kept[stream] = s
}
