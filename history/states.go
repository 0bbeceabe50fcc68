package history

import (
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/samspill/samspill/domain/partnership"
)

// DefaultStates is how many partnerships' states a States keeps by
// default: a state is a kilobyte or two, so a few megabytes in all.
const DefaultStates = 4096

// States keeps the newest known state of the partnerships used last, by
// partnership id, in a least-recently-used cache. Events are immutable and
// streams only grow, so a state at version v is the same for every reader
// that folds the stream to v: the command side keeps the state each
// command leads to, the projections the state they fold, and each takes a
// kept state where its version is the one it needs. Safe for concurrent
// use; a state handed out is never modified.
type States struct {
	cache *lru.Cache[string, partnership.State]
}

// NewStates returns a cache of at most size states (DefaultStates if size
// is not positive).
func NewStates(size int) *States {
	if size <= 0 {
		size = DefaultStates
	}
	cache, _ := lru.New[string, partnership.State](size) // fails only for size <= 0
	return &States{cache: cache}
}

// Get returns the newest kept state of the partnership.
func (c *States) Get(id string) (partnership.State, bool) { return c.cache.Get(id) }

// At returns the kept state of the partnership if it is the state at
// version v.
func (c *States) At(id string, v uint64) (partnership.State, bool) {
	s, ok := c.cache.Get(id)
	if !ok || s.Version != v {
		return partnership.State{}, false
	}
	return s, true
}

// Keep remembers the partnership's state, unless a newer one is kept.
func (c *States) Keep(s partnership.State) {
	if s.ID == "" {
		return
	}
	if old, ok := c.cache.Peek(s.ID); ok && old.Version >= s.Version {
		return
	}
	c.cache.Add(s.ID, s)
}
