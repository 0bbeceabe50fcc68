package publish_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The subscriber of docs/publishing.md, as another municipal system would
// write it with nats.go alone. The document shows the code between the
// markers; TestDocumentedSubscriber checks that it is this code, and runs
// it.

// --- begin subscriber ---

// Event is one of samspill's events as published: the envelope of
// docs/events.md, without personal data.
type Event struct {
	EventID       string          `json:"event_id"`
	Type          string          `json:"type"`
	SchemaVersion int             `json:"schema_version"`
	StreamID      string          `json:"stream_id"`
	Version       uint64          `json:"version"`
	Position      uint64          `json:"position"`
	OccurredAt    time.Time       `json:"occurred_at"`
	RecordedAt    time.Time       `json:"recorded_at"`
	Metadata      json.RawMessage `json:"metadata"`
	Data          json.RawMessage `json:"data"`
}

// Follow calls handle for each of samspill's events after position done
// (the last one the caller has processed and saved, 0 at first), in
// order, once each, through a durable consumer of its own. It returns
// when ctx ends or handle fails; the caller saves the position of each
// event it handled and passes the last one to the next call.
func Follow(ctx context.Context, url, stream, consumer, subjects string, done uint64, handle func(Event) error) error {
	nc, err := nats.Connect(url)
	if err != nil {
		return err
	}
	defer nc.Drain() // sends the last ack or nak before closing
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	c, err := js.CreateOrUpdateConsumer(ctx, stream, jetstream.ConsumerConfig{
		Durable:       consumer,
		FilterSubject: subjects, // e.g. samspill.partnership.>
		AckPolicy:     jetstream.AckExplicitPolicy,
		MaxAckPending: 1, // one message at a time: redeliveries come in order
	})
	if err != nil {
		return err
	}
	// While a message waits for its ack (or its redelivery), the server
	// sends no heartbeats: keep waiting instead of failing.
	msgs, err := c.Messages(jetstream.WithMessagesErrOnMissingHeartbeat(false))
	if err != nil {
		return err
	}
	defer msgs.Stop()
	for {
		msg, err := msgs.Next(jetstream.NextContext(ctx))
		if err != nil {
			return err
		}
		var e Event
		if err := json.Unmarshal(msg.Data(), &e); err != nil {
			return err
		}
		// Delivery is at least once: a message whose ack was lost comes
		// again. Positions only grow, so one already handled is skipped.
		if e.Position > done {
			if err := handle(e); err != nil {
				_ = msg.Nak() // delivered again, to this or the next Follow
				return err
			}
			done = e.Position
		}
		if err := msg.Ack(); err != nil {
			return err
		}
	}
}

// --- end subscriber ---

func Example_subscriber() {
	ctx, stop := context.WithTimeout(context.Background(), time.Minute)
	defer stop()
	err := Follow(ctx, "nats://127.0.0.1:4222", "SAMSPILL", "kommune-4203", "samspill.partnership.>", 0, func(e Event) error {
		fmt.Println(e.Position, e.Type, e.StreamID)
		return nil
	})
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		log.Fatal(err)
	}
}
