package publish

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/samspill/samspill/eventstore/pubsub"
	"github.com/samspill/samspill/internal/backoff"
)

// streamCheckpoints is the checkpoint of the forwarder's subscription: the
// JetStream stream itself. Load returns the position of the stream's last
// event, which the forwarder read just before it subscribed (syncTail);
// Save has nothing to do, because a message is acked only once JetStream
// has stored it, and that store is the checkpoint. So no crash can fall
// between publishing and checkpointing.
type streamCheckpoints struct{ f *Forwarder }

var _ pubsub.Checkpoints = streamCheckpoints{}

// Load returns the position of the stream's last event as last read. It
// never fails.
func (c streamCheckpoints) Load(context.Context, string) (uint64, error) {
	return c.f.position.Load(), nil
}

// Save does nothing: the stream holds the checkpoint (see
// streamCheckpoints).
func (streamCheckpoints) Save(context.Context, string, uint64) error { return nil }

// syncTail reads where the stream ends (readTail), retrying with backoff
// until NATS answers; false when ctx ended first. It reads before the
// router subscribes, so that a subscription never waits for NATS (a
// Watermill router whose Subscribe fails waits its whole close timeout to
// close).
//
// When the stream's last message is gone (the stream was purged, or its
// last messages deleted or expired), syncTail first waits out the stream's
// duplicate window: JetStream would otherwise acknowledge the events
// published again whose ids it still remembers, without storing them.
func (f *Forwarder) syncTail(ctx context.Context) bool {
	wait := minBackoff
	settled := false
	for {
		t, settle, err := f.readTail(ctx)
		if err == nil && settle > 0 && !settled {
			f.log.Info("the stream's last events are gone (purged or deleted?); publishing them again once its duplicate window has passed",
				"position", t.position, "sequence", t.seq, "wait", settle)
			if !backoff.Sleep(ctx, settle) {
				return false
			}
			settled = true
			continue
		}
		if err == nil {
			f.setTail(t)
			f.log.Info("resuming after the stream's last event", "position", t.position, "sequence", t.seq)
			f.warnIfAhead(ctx, t.position)
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		f.log.Warn("cannot read the JetStream stream; retrying", "err", explain(err), "retry_in", wait)
		if !backoff.Sleep(ctx, wait) {
			return false
		}
		wait = min(2*wait, f.cfg.MaxBackoff)
	}
}

// readTail returns where the stream ends, making the stream first when it
// does not exist. When the message at the stream's last sequence is gone
// (purged, deleted, expired), the position is that of the last message
// left (0 when none is), and settle is what remains of the stream's
// duplicate window after its last message, at least a millisecond (see
// syncTail); else settle is 0.
func (f *Forwarder) readTail(ctx context.Context) (t tail, settle time.Duration, err error) {
	f.mu.Lock()
	js := f.js
	f.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, f.cfg.PublishTimeout)
	defer cancel()
	info, err := js.StreamInfo(f.cfg.Stream, nats.Context(ctx))
	if errors.Is(err, nats.ErrStreamNotFound) {
		info, err = js.AddStream(&nats.StreamConfig{
			Name:        f.cfg.Stream,
			Description: "samspill's event log, without personal data (docs/publishing.md)",
			Subjects:    []string{f.cfg.SubjectPrefix + ".>"},
			Storage:     nats.FileStorage,
			Retention:   nats.LimitsPolicy,
			Discard:     nats.DiscardOld,
			Duplicates:  f.cfg.Duplicates,
		}, nats.Context(ctx))
		if err == nil {
			f.log.Info("made the JetStream stream", "subjects", f.cfg.SubjectPrefix+".>", "duplicate_window", f.cfg.Duplicates)
		}
	}
	if err != nil {
		return tail{}, 0, fmt.Errorf("stream %s: %w", f.cfg.Stream, err)
	}
	t = tail{seq: info.State.LastSeq}
	if t.seq == 0 {
		return t, 0, nil // never used
	}
	var m *nats.RawStreamMsg
	if info.State.Msgs > 0 {
		m, err = js.GetMsg(f.cfg.Stream, t.seq, nats.Context(ctx))
	}
	if info.State.Msgs == 0 || errors.Is(err, nats.ErrMsgNotFound) {
		// JetStream forgets a message id a little after the window (a
		// timer of its own): a second more.
		settle = time.Until(info.State.LastTime.Add(info.Config.Duplicates + time.Second))
		if info.State.LastTime.IsZero() || settle > info.Config.Duplicates+time.Second {
			settle = info.Config.Duplicates + time.Second
		}
		settle = max(settle, time.Millisecond)
		m, err = js.GetLastMsg(f.cfg.Stream, f.cfg.SubjectPrefix+".>", nats.Context(ctx))
		if errors.Is(err, nats.ErrMsgNotFound) {
			return t, settle, nil
		}
	}
	if err != nil {
		return tail{}, 0, fmt.Errorf("stream %s: last message: %w", f.cfg.Stream, err)
	}
	if t.position, err = positionOf(m.Header); err != nil {
		return tail{}, 0, fmt.Errorf("stream %s: the last message (sequence %d, subject %s) is not samspill's: %w; the stream must hold samspill's events alone",
			f.cfg.Stream, m.Sequence, m.Subject, err)
	}
	return t, settle, nil
}

// warnIfAhead logs when the stream holds a position beyond the store's
// head: it was filled from another installation (or a store since
// replaced), and nothing is published until this store's log passes it.
func (f *Forwarder) warnIfAhead(ctx context.Context, position uint64) {
	head, err := f.store.Head(ctx)
	if err == nil && position > head {
		f.log.Error("the stream holds a position beyond this event store's head: is it another installation's? Nothing is published until the log passes it",
			"stream_position", position, "store_head", head)
	}
}
