// Package pubsub offers the event store as a Watermill Pub/Sub: a
// message.Subscriber that delivers the store's global log, in position
// order, to Watermill handlers (projections), and a message.Publisher that
// appends Watermill messages to the store.
//
// It depends only on the port, eventstore.Store, so it is written once for
// every adapter.
//
// # Topics
//
// An event belongs to topic T when its stream id is T or starts with T+"-":
// topic "partnership" covers every "partnership-<uuid>" stream, and not
// "partnerships-1" or "partnershipX". The Publisher appends to the stream
// whose id is the topic itself.
//
// # Delivery
//
// A subscription reads the log page by page and delivers the events of its
// topic one at a time: message n+1 is sent only after message n was acked.
// A nacked message is delivered again (a fresh copy, same UUID) after
// SubscriberConfig.NackDelay; nothing is ever skipped. Delivery is
// at least once: a subscription of a consumer group starts after the
// position its Checkpoints last saved, and an ack whose checkpoint was not
// saved (the subscription ended first) is delivered again next time.
//
// Every message carries the envelope of its event in metadata (MetaType,
// MetaStreamID, MetaPosition, ...); EventFrom turns it back into an
// eventstore.RecordedEvent.
//
// # Pages
//
// With SubscriberConfig.Delivery set to DeliverPages a subscription sends
// one message per page it read instead: the topic's events of the page, in
// position order, the same rules of order, acks, nacks and checkpoints
// applied to the page as a whole (its ack saves the position of its last
// event). The payload holds the events (EncodePage, a compact binary form;
// PageFrom and DecodePage read it). This is the mode for projections,
// which apply a page in one transaction anyway; the default mode is the one
// Watermill's universal suite checks.
package pubsub
