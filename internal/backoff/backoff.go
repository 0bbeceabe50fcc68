// Package backoff paces retries: waits that double from a shortest to a
// longest, and a wait that ends early when its context does.
package backoff

import (
	"context"
	"time"
)

// Backoff paces the attempts to re-establish something that failed (a
// subscription, a connection):
// the first wait is the shortest, each next one twice the one before, up
// to the longest, until Reset. It is not safe for concurrent use.
type Backoff struct {
	shortest, longest time.Duration
	wait              time.Duration
}

// New returns a Backoff whose waits run from shortest to longest.
func New(shortest, longest time.Duration) Backoff {
	return Backoff{shortest: shortest, longest: longest, wait: shortest}
}

// Next is how long the next Sleep waits.
func (b *Backoff) Next() time.Duration { return b.wait }

// Reset makes the next wait the shortest again: it works again.
func (b *Backoff) Reset() { b.wait = b.shortest }

// Sleep waits Next, then doubles the wait, up to the longest. It returns
// false, at once, when ctx ends first.
func (b *Backoff) Sleep(ctx context.Context) bool {
	t := time.NewTimer(b.wait)
	defer t.Stop()
	select {
	case <-t.C:
		b.wait = min(2*b.wait, b.longest)
		return true
	case <-ctx.Done():
		return false
	}
}

// Sleep waits d; false, at once, when ctx ends first.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
