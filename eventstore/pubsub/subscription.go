package pubsub

import (
	"context"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/internal/backoff"
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
	delivery  Delivery
	pageSize  int
	markRead  bool
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
	if s.delivery == DeliverPages {
		s.runPages(ctx, after)
		return
	}
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
				if !s.deliverEvent(ctx, e, i == last) {
					return
				}
			}
			after = e.Position
		}
	}
}

// runPages delivers the topic's events after position after a page at a
// time until ctx is done. It reads one page ahead: the next page is read,
// and its payload encoded, while the current one is out, so a consumer
// that is slower than the store never waits for a read, and one that is
// faster waits for one read at a time, as without read-ahead. Delivery
// order and acks are those of run.
func (s *subscription) runPages(ctx context.Context, after uint64) {
	readCtx, stop := context.WithCancel(ctx)
	pages := make(chan topicPage)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stop()
	wg.Go(func() {
		defer close(pages)
		for {
			// Take the channel before reading: an append committed after
			// the read closes it, so no wake-up is lost.
			moved := s.store.HeadMoved()
			page, ok := s.read(readCtx, after)
			if !ok {
				return
			}
			if len(page) == 0 {
				select {
				case <-moved:
					continue
				case <-readCtx.Done():
					return
				}
			}
			after = page[len(page)-1].Position
			events := s.topicEvents(page)
			if len(events) == 0 && !s.markRead {
				continue
			}
			select {
			case pages <- topicPage{events: events, payload: EncodePage(events), read: after}:
			case <-readCtx.Done():
				return
			}
		}
	})
	for p := range pages {
		if !s.deliverPage(ctx, p) {
			return
		}
	}
}

// topicPage is a page's events of the topic and their first payload, and
// the position of the last event read (of any topic).
type topicPage struct {
	events  []eventstore.RecordedEvent
	payload []byte
	read    uint64
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
		if !backoff.Sleep(ctx, wait) {
			return nil, false
		}
		wait = min(2*wait, maxBackoff)
	}
}

// deliverEvent sends e until it is acked and its checkpoint saved; false
// when ctx ended first.
func (s *subscription) deliverEvent(ctx context.Context, e eventstore.RecordedEvent, pageEnd bool) bool {
	d, err := newDelivery(e, pageEnd)
	if err != nil {
		s.log.Error("event delivered raw", err, watermill.LogFields{"position": e.Position})
	}
	return s.deliver(ctx, e.Position, d.message)
}

// topicEvents returns the events of page in the topic, the page itself
// when all are.
func (s *subscription) topicEvents(page []eventstore.RecordedEvent) []eventstore.RecordedEvent {
	for i, e := range page {
		if !InTopic(e.StreamID, s.topic) {
			// Copy the topic's events, the page's own slice stays whole.
			events := append(make([]eventstore.RecordedEvent, 0, len(page)), page[:i]...)
			for _, e := range page[i+1:] {
				if InTopic(e.StreamID, s.topic) {
					events = append(events, e)
				}
			}
			return events
		}
	}
	return page
}

// deliverPage sends p in one message until it is acked and its checkpoint
// saved; false when ctx ended first. The first message gets p's payload,
// a redelivery a payload of its own.
func (s *subscription) deliverPage(ctx context.Context, p topicPage) bool {
	checkpoint := p.read
	if !s.markRead {
		checkpoint = p.events[len(p.events)-1].Position
	}
	return s.deliver(ctx, checkpoint, func() *message.Message {
		payload := p.payload
		if payload == nil {
			payload = EncodePage(p.events)
		}
		p.payload = nil
		if s.markRead {
			return newMarkedPageMessage(s.topic, p.events, payload, p.read)
		}
		return newPageMessage(s.topic, p.events, payload)
	})
}

// deliver sends a fresh message from next, its context derived from ctx,
// until one is acked and position saved as the checkpoint; false when ctx
// ended first.
func (s *subscription) deliver(ctx context.Context, position uint64, next func() *message.Message) bool {
	for {
		msg := next()
		msgCtx, cancel := context.WithCancel(ctx)
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
			return s.commit(ctx, position)
		case <-msg.Nacked():
			cancel()
			s.log.Trace("message nacked, redelivering", watermill.LogFields{"position": position, "uuid": msg.UUID})
			if !backoff.Sleep(ctx, s.nackDelay) {
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
		if !backoff.Sleep(ctx, wait) {
			return false
		}
		wait = min(2*wait, maxBackoff)
	}
}
