// Package publish forwards samspill's event log to NATS JetStream, for other
// systems (other municipal systems, data platforms) that want to follow it
// without access to samspill: a Watermill router takes the log from the
// event store (eventstore/pubsub's Subscriber, any adapter), turns each
// event into the message outsiders may see, and hands it to Watermill's
// NATS JetStream publisher (watermill-nats). docs/publishing.md is the
// subscribers' side of this contract.
//
// # Messages
//
// One message per event of the forwarded topic, in position order, on
// subject <prefix>.<topic>.<type> (samspill.partnership.MilestoneLogged).
// The body is the event's envelope as docs/events.md and the feed spell it,
// without personal data: contact persons' fields are removed
// (personal.Redact) and the recorder's subject and the request ids replaced
// by the installation's pseudonyms (personal.Pseudonyms), as in the research
// export. Headers: Nats-Msg-Id (the event id, JetStream's de-duplication
// key) and the Samspill-* headers (HeaderEventID and the others).
//
// # Checkpoint and at-least-once
//
// The forwarder keeps no checkpoint of its own: the JetStream stream is the
// checkpoint. On start it reads the stream's last message and resumes after
// the position it carries. Each event is published with two conditions
// JetStream checks atomically with storing it: Nats-Msg-Id (a message id
// seen within the stream's duplicate window is acknowledged and not stored
// again) and Nats-Expected-Last-Sequence (the stream's last sequence must be
// the one the forwarder last saw, or the message is refused). A publish
// whose outcome is unknown (a kill -9, a timeout, a lost acknowledgement) is
// therefore published again and stored once, and an event can never be
// stored after a later one or twice: the stream holds the log's events in
// position order, each once, with no gap. When JetStream refuses the
// expected sequence (another instance published first, or the stream was
// changed), the forwarder reads the stream's last message again and goes on
// after it. A stream whose last messages are gone (purged, deleted,
// expired) is filled again after the last one left, once its duplicate
// window has passed: within it, JetStream would acknowledge the events whose
// ids it remembers without storing them.
//
// Every instance started with the option forwards: the conditional publish
// lets exactly one of them store each event, and the others find it there
// and go on; there is no lease to lose and no instance to elect.
//
// # Failures
//
// NATS being down never stops samspill: the forwarder connects in the
// background, retries a failed publish with exponential backoff (up to
// Config.MaxBackoff) for as long as it takes, never skipping an event, and
// reports its state as Prometheus metrics (Forwarder is a
// prometheus.Collector) and in the log.
package publish
