package kurrent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/kurrent-io/KurrentDB-Client-Go/kurrentdb"

	"github.com/samspill/samspill/eventstore"
)

// streamPage is how many events one ReadStream call asks for.
const streamPage = 1024

// ReadStream returns the stream's events in version order, or
// eventstore.ErrStreamNotFound.
func (s *Store) ReadStream(ctx context.Context, streamID string) ([]eventstore.RecordedEvent, error) {
	op := "read stream " + streamID
	c, err := s.current()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	raw, err := s.readStream(ctx, c, s.name(streamID))
	if err != nil {
		s.recover(c, err)
		return nil, fail(ctx, op, err)
	}
	out := make([]eventstore.RecordedEvent, len(raw))
	for i := range raw {
		out[i] = s.toRecorded(&raw[i])
	}
	return out, nil
}

// readStream reads a whole KurrentDB stream forwards, page by page.
func (s *Store) readStream(ctx context.Context, c *kurrentdb.Client, name string) ([]kurrentdb.RecordedEvent, error) {
	var out []kurrentdb.RecordedEvent
	var from kurrentdb.StreamPosition = kurrentdb.Start{}
	for {
		page, err := readN(ctx, func() (*kurrentdb.ReadStream, error) {
			return c.ReadStream(ctx, name, kurrentdb.ReadStreamOptions{From: from}, streamPage)
		})
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if len(page) < streamPage {
			return out, nil
		}
		from = kurrentdb.Revision(page[len(page)-1].EventNumber + 1)
	}
}

// readN drains one read call.
func readN(ctx context.Context, open func() (*kurrentdb.ReadStream, error)) ([]kurrentdb.RecordedEvent, error) {
	rs, err := open()
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []kurrentdb.RecordedEvent
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if e := ev.OriginalEvent(); e != nil {
			out = append(out, *e)
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
}

// endPosition returns the commit position of the last event of $all, in any
// stream, 0 for an empty database.
func (s *Store) endPosition(ctx context.Context, c *kurrentdb.Client) (uint64, error) {
	last, err := readN(ctx, func() (*kurrentdb.ReadStream, error) {
		return c.ReadAll(ctx, kurrentdb.ReadAllOptions{Direction: kurrentdb.Backwards, From: kurrentdb.End{}}, 1)
	})
	if err != nil || len(last) == 0 {
		return 0, err
	}
	return last[0].Position.Commit, nil
}

// allFrom is the $all position after which a read or subscription starts.
func allFrom(after uint64) kurrentdb.AllPosition {
	if after == 0 {
		return kurrentdb.Start{}
	}
	return kurrentdb.Position{Commit: after, Prepare: after}
}

// subscribeOptions are the options of every $all subscription of the
// store: filtered by stream-name prefix on the server.
func (s *Store) subscribeOptions(after uint64) kurrentdb.SubscribeToAllOptions {
	return kurrentdb.SubscribeToAllOptions{
		From: allFrom(after),
		Filter: &kurrentdb.SubscriptionFilter{
			Type:     kurrentdb.StreamFilterType,
			Prefixes: s.filter,
		},
		MaxSearchWindow:    256,
		CheckpointInterval: 1,
	}
}

// ReadAll returns up to limit events of the store's streams with position >
// after, in position order. after must be 0 or a position the store
// returned.
//
// It is a catch-up subscription to $all filtered by the server, from after
// to the end of $all as it was when the call began: it stops at limit
// events, at the server's caught-up message, or at the first event or
// checkpoint at or past that end.
func (s *Store) ReadAll(ctx context.Context, after uint64, limit int) ([]eventstore.RecordedEvent, error) {
	op := fmt.Sprintf("read all after %d", after)
	c, err := s.current()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if limit <= 0 {
		return nil, fmt.Errorf("%s: limit %d is not positive", op, limit)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	end, err := s.endPosition(ctx, c)
	if err != nil {
		s.recover(c, err)
		return nil, fail(ctx, op, err)
	}
	if after >= end {
		return nil, nil
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sub, err := c.SubscribeToAll(sctx, s.subscribeOptions(after))
	if err != nil {
		s.recover(c, err)
		return nil, fail(ctx, op, err)
	}
	defer func() { _ = sub.Close() }()
	var out []eventstore.RecordedEvent
	for {
		ev := sub.Recv()
		switch {
		case ev.EventAppeared != nil:
			e := ev.EventAppeared.OriginalEvent()
			if e == nil || e.Position.Commit <= after {
				continue
			}
			out = append(out, s.toRecorded(e))
			if len(out) >= limit || e.Position.Commit >= end {
				s.sawEvent(e.Position.Commit)
				return out, nil
			}
		case ev.CheckPointReached != nil:
			if ev.CheckPointReached.Commit >= end {
				return s.page(out), nil
			}
		case ev.SubscriptionDropped != nil:
			err := ev.SubscriptionDropped.Error
			s.recover(c, err)
			return nil, fail(ctx, op, err)
		case ev.FellBehind != nil:
		default:
			// Caught up (the client hands over a caught-up message
			// without timestamp as an empty event).
			return s.page(out), nil
		}
	}
}

// page records what a ReadAll page tells about the head and returns it.
func (s *Store) page(out []eventstore.RecordedEvent) []eventstore.RecordedEvent {
	if len(out) > 0 {
		s.sawEvent(out[len(out)-1].Position)
	}
	return out
}

// sawEvent records that an event of the store's streams is at pos.
func (s *Store) sawEvent(pos uint64) { s.learnHead(pos, pos) }

// learnHead records that the newest event of the store's streams at or
// below through is at pos (0: none).
func (s *Store) learnHead(pos, through uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if through > s.head.through {
		s.head = headCache{pos: pos, through: through}
	}
}

// Head returns the position of the newest event of the store's streams, 0
// when there is none.
//
// It reads $all backwards from its end until it meets an event of the
// store's streams or the point up to which the head is already known (from
// appends, ReadAll and the HeadMoved subscription), so it usually costs
// one small read.
func (s *Store) Head(ctx context.Context) (uint64, error) {
	const op = "read head"
	c, err := s.current()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	s.mu.Lock()
	known := s.head
	s.mu.Unlock()

	var (
		from  kurrentdb.AllPosition = kurrentdb.End{}
		end   uint64
		below = ^uint64(0) // positions already scanned are >= below
		count = uint64(32)
	)
	for {
		page, err := readN(ctx, func() (*kurrentdb.ReadStream, error) {
			return c.ReadAll(ctx, kurrentdb.ReadAllOptions{Direction: kurrentdb.Backwards, From: from}, count)
		})
		if err != nil {
			s.recover(c, err)
			return 0, fail(ctx, op, err)
		}
		for _, e := range page {
			p := e.Position.Commit
			if p >= below {
				continue // a server whose backward reads include their start
			}
			below = p
			if end == 0 {
				end = p
			}
			if p <= known.through {
				s.learnHead(known.pos, end)
				return known.pos, nil
			}
			if s.inFilter(e.StreamID) {
				s.learnHead(p, end)
				return p, nil
			}
		}
		if uint64(len(page)) < count {
			s.learnHead(0, end)
			return 0, nil
		}
		from = kurrentdb.Position{Commit: below, Prepare: below}
		count = min(count*4, 4096)
	}
}

// inFilter reports whether a KurrentDB stream name passes the store's
// server-side filter.
func (s *Store) inFilter(name string) bool {
	for _, p := range s.filter {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}
