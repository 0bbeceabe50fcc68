package pubsub

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill"
)

// Defaults applied by NewSubscriber to zero fields of SubscriberConfig.
const (
	// DefaultPageSize is the default SubscriberConfig.PageSize.
	DefaultPageSize = 500
	// DefaultNackDelay is the default SubscriberConfig.NackDelay: long
	// enough not to hammer a failing dependency, short enough not to hold
	// a projection back noticeably.
	DefaultNackDelay = 100 * time.Millisecond
)

// Delivery is what one message of a subscription carries.
type Delivery int

const (
	// DeliverEvents sends one message per event of the topic (the
	// default): its UUID, payload and metadata as the package comment
	// describes, so any Watermill handler or middleware can use it.
	DeliverEvents Delivery = iota
	// DeliverPages sends one message per ReadAll page: every event of the
	// topic the page holds, in position order, which PageFrom returns. It
	// is for handlers that fold many events at once (projections): the
	// per-message cost of Watermill (a message, its metadata, a goroutine
	// and an ack round trip) is paid once per page, not once per event.
	// The events are the message's payload (EncodePage), so a copy of the
	// message, or one forwarded elsewhere, carries them too.
	DeliverPages
)

func (d Delivery) String() string {
	switch d {
	case DeliverEvents:
		return "events"
	case DeliverPages:
		return "pages"
	}
	return fmt.Sprintf("Delivery(%d)", int(d))
}

// SubscriberConfig configures a Subscriber. The zero value is valid: no
// consumer group, one message per event, default page size, nack delay and
// logger.
type SubscriberConfig struct {
	// ConsumerGroup names a durable cursor: each Subscribe starts after the
	// position Checkpoints holds for CheckpointKey(ConsumerGroup, topic),
	// and each ack saves the message's position there. "" means no
	// checkpoint: every Subscribe starts at position 0 and acks are not
	// saved. A group is not a work queue: two subscriptions of one group
	// and topic running at once each receive every message.
	ConsumerGroup string
	// Checkpoints stores the groups' positions; required when
	// ConsumerGroup is set, and refused without it.
	Checkpoints Checkpoints
	// Delivery chooses one message per event (DeliverEvents, the zero
	// value) or one per page (DeliverPages).
	Delivery Delivery
	// PageSize is the number of events read per ReadAll, and so the most
	// one message carries with DeliverPages; 0 means DefaultPageSize.
	PageSize int
	// MarkRead, with DeliverPages, sets MetaPageRead on every page message
	// (the position of the last event read, of any topic) and sends a
	// page of no events for a read that found only other topics' events,
	// so that a consumer whose own checkpoint must reach the store's head
	// (the projections) moves past the events of other topics (the
	// surveys') that end the log. Acks then save MetaPageRead.
	MarkRead bool
	// NackDelay is the wait before a nacked message is delivered again; 0
	// means DefaultNackDelay.
	NackDelay time.Duration
	// Logger receives the subscriber's operational messages (store errors
	// it retries, checkpoint failures); nil means watermill.NopLogger.
	Logger watermill.LoggerAdapter
}

// Validate reports every problem of the configuration, joined with
// errors.Join; nil when there is none.
func (c SubscriberConfig) Validate() error {
	var problems []error
	if c.ConsumerGroup != "" && c.Checkpoints == nil {
		problems = append(problems, fmt.Errorf("consumer group %q needs checkpoints", c.ConsumerGroup))
	}
	if c.ConsumerGroup == "" && c.Checkpoints != nil {
		problems = append(problems, errors.New("checkpoints without a consumer group would never be used"))
	}
	if strings.Contains(c.ConsumerGroup, "/") {
		problems = append(problems, fmt.Errorf("consumer group %q must not contain %q", c.ConsumerGroup, "/"))
	}
	if c.Delivery != DeliverEvents && c.Delivery != DeliverPages {
		problems = append(problems, fmt.Errorf("unknown delivery %s", c.Delivery))
	}
	if c.PageSize < 0 {
		problems = append(problems, fmt.Errorf("page size %d is negative", c.PageSize))
	}
	if c.NackDelay < 0 {
		problems = append(problems, fmt.Errorf("nack delay %s is negative", c.NackDelay))
	}
	return errors.Join(problems...)
}

// withDefaults returns c with zero fields set to their defaults.
func (c SubscriberConfig) withDefaults() SubscriberConfig {
	if c.PageSize == 0 {
		c.PageSize = DefaultPageSize
	}
	if c.NackDelay == 0 {
		c.NackDelay = DefaultNackDelay
	}
	if c.Logger == nil {
		c.Logger = watermill.NopLogger{}
	}
	return c
}
