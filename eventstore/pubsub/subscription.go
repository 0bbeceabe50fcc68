package pubsub

import (
	"context"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/samspill/samspill/eventstore"
)

// Backoff bounds for retrying a failed ReadAll or Checkpoints.Save: the
// first retry waits minBackoff, each next one twice as long, up to
// maxBackoff.
const (
	minBackoff = 50 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// subscription is one Subscribe call: a goroutine running run, which alone
// uses the fields.
type subscription struct {
	store     eventstore.Store
	topic     string
	pageSize  int
	nackDelay time.Duration
	log       watermill.LoggerAdapter
	out       chan *message.Message

	checkpoints Checkpoints // nil without a consumer group
	key         string
}

// run delivers the topic's events after position after until ctx is done,
// then closes out.
func (s *subscription) run(ctx context.Context, after uint64) {
	defer close(s.out)
	defer s.log.Debug("subscription ended", nil)
	for {
		// Take the channel before reading: an append committed after the
		// read closes it, so no wake-up is lost.
		moved := s.store.HeadMoved()
		page, ok := s.read(ctx, after)
		if !ok {
			return
		}
		if len(page) == 0 {
			select {
			case <-moved:
				continue
			case <-ctx.Done():
				return
			}
		}
		last := -1
		for i, e := range page {
			if InTopic(e.StreamID, s.topic) {
				last = i
			}
		}
		for i, e := range page {
			if i <= last && InTopic(e.StreamID, s.topic) {
				if !s.deliver(ctx, e, i == last) {
					return
				}
			}
			after = e.Position
		}
	}
}

// read returns the page after position after, retrying failures with
// backoff; false when ctx ended first.
func (s *subscription) read(ctx context.Context, after uint64) ([]eventstore.RecordedEvent, bool) {
	wait := minBackoff
	for {
		page, err := s.store.ReadAll(ctx, after, s.pageSize)
		if err == nil {
			return page, true
		}
		if ctx.Err() != nil {
			return nil, false
		}
		s.log.Error("read events failed, retrying", err, watermill.LogFields{"after": after, "retry_in": wait})
		if !sleep(ctx, wait) {
			return nil, false
		}
		wait = min(2*wait, maxBackoff)
	}
}

// deliver sends e until it is acked and its checkpoint saved; false when
// ctx ended first.
func (s *subscription) deliver(ctx context.Context, e eventstore.RecordedEvent, pageEnd bool) bool {
	d, err := newDelivery(e, pageEnd)
	if err != nil {
		s.log.Error("event delivered raw", err, watermill.LogFields{"position": e.Position})
	}
	for {
		msg := d.message()
		msgCtx, cancel := context.WithCancel(context.WithValue(ctx, envelopeKey{}, &e))
		msg.SetContext(msgCtx)
		select {
		case s.out <- msg:
		case <-ctx.Done():
			cancel()
			return false
		}
		select {
		case <-msg.Acked():
			cancel()
			return s.commit(ctx, e.Position)
		case <-msg.Nacked():
			cancel()
			s.log.Trace("message nacked, redelivering", watermill.LogFields{"position": e.Position, "uuid": msg.UUID})
			if !sleep(ctx, s.nackDelay) {
				return false
			}
		case <-ctx.Done():
			cancel()
			return false
		}
	}
}

// commit saves position as the group's checkpoint, retrying failures with
// backoff; false when ctx ended first (the message is then delivered again
// by the next subscription of the group).
func (s *subscription) commit(ctx context.Context, position uint64) bool {
	if s.checkpoints == nil {
		return true
	}
	wait := minBackoff
	for {
		err := s.checkpoints.Save(ctx, s.key, position)
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		s.log.Error("save checkpoint failed, retrying", err, watermill.LogFields{"position": position, "retry_in": wait})
		if !sleep(ctx, wait) {
			return false
		}
		wait = min(2*wait, maxBackoff)
	}
}

// sleep waits for d; false when ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
