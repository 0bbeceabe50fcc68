package kurrent

import (
	"context"

	"github.com/samspill/samspill/internal/backoff"
)

// HeadMoved returns a channel that is closed as soon as an event of the
// store's streams with a position above the newest one the store knows of
// is committed (by this store or any other writer), or the store closes.
//
// The store learns of events from its own appends and from a catch-up
// subscription to $all, filtered to its streams, that runs from Open to
// Close. When the subscription drops (connection lost, leader change,
// server restart) it is re-established with backoff from the last event it
// saw, so no event is missed and none wakes a channel twice.
func (s *Store) HeadMoved() <-chan struct{} { return s.moved.HeadMoved() }

// watch runs the $all subscription behind HeadMoved until ctx ends. from is
// the position after which it starts: the end of $all when the store was
// opened.
func (s *Store) watch(ctx context.Context, from uint64) {
	wait := backoff.New(s.backoff[0], s.backoff[1])
	for ctx.Err() == nil {
		c, err := s.current()
		if err != nil {
			return
		}
		sub, err := c.SubscribeToAll(ctx, s.subscribeOptions(from))
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			s.log.Warn("subscribe to $all failed; retrying", "host", s.host, "after", from, "retry_in", wait.Next(), "err", oneLine(err))
			s.recover(c, err)
			if !wait.Sleep(ctx) {
				return
			}
			continue
		}
		s.log.Debug("subscribed to $all", "host", s.host, "after", from)
		for dropped := false; !dropped; {
			ev := sub.Recv()
			switch {
			case ev.EventAppeared != nil:
				e := ev.EventAppeared.OriginalEvent()
				if e == nil || e.Position.Commit <= from {
					continue
				}
				from = e.Position.Commit
				wait.Reset()
				s.sawEvent(from)
				s.moved.Notify(from)
			case ev.SubscriptionDropped != nil:
				_ = sub.Close()
				dropped = true
				if ctx.Err() != nil {
					return
				}
				err := ev.SubscriptionDropped.Error
				s.log.Warn("$all subscription dropped; resubscribing", "host", s.host, "after", from, "retry_in", wait.Next(), "err", oneLine(err))
				s.recover(c, err)
				if !wait.Sleep(ctx) {
					return
				}
			default:
				// Checkpoints, caught-up and fell-behind messages say
				// the connection works.
				wait.Reset()
			}
		}
	}
}
