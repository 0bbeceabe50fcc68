// Package headwatch is what every event store adapter needs behind
// eventstore.Store.HeadMoved: a broadcaster that hands out one channel and
// closes it when the log's head moves past what it knew, and the backoff
// with which an adapter re-establishes whatever tells it of other
// writers' commits (a LISTEN connection, a subscription).
package headwatch

import (
	"sync"
)

// Broadcaster hands out the channels of HeadMoved. Its methods are safe
// for concurrent use. The zero value is ready and knows of no event; it
// must not be copied after first use.
type Broadcaster struct {
	mu sync.Mutex
	// ch is the channel handed out, nil until someone asks for one: a
	// store that nobody watches makes no channel per commit.
	ch chan struct{}
	// head is the highest position Notify was told of.
	head   uint64
	closed bool
}

// HeadMoved returns a channel that is closed as soon as Notify is called
// with a position above the highest one it was called with before this
// call, or when Close is called.
func (b *Broadcaster) HeadMoved() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ch == nil {
		b.ch = make(chan struct{})
	}
	return b.ch
}

// Ahead returns how many positions above after the highest one Notify was
// told of is, at most limit (0 when it is not above after): as many events
// as a read above after can find, as far as b knows. Stores size a page's
// result by it. It may fall short of the log (another process's commits,
// a notification on its way) but never counts what was not committed.
func (b *Broadcaster) Ahead(after uint64, limit int) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.head <= after || limit <= 0 {
		return 0
	}
	return int(min(b.head-after, uint64(limit)))
}

// Notify tells b that the event at position pos is committed: if pos is
// above every position notified before, the channel handed out is closed,
// and the next HeadMoved hands out a new one. Positions at or below that
// (an event learnt of twice, or late) change nothing; so does every call
// after Close.
func (b *Broadcaster) Notify(pos uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed || pos <= b.head {
		return
	}
	b.head = pos
	if b.ch != nil {
		close(b.ch)
		b.ch = nil
	}
}

// Close closes the channel handed out; every later HeadMoved returns a
// closed channel. A second Close does nothing.
func (b *Broadcaster) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	b.closed = true
	if b.ch == nil {
		b.ch = make(chan struct{})
	}
	close(b.ch)
}
