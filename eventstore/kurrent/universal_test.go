package kurrent

import (
	"os"
	"testing"

	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/eventstore/pubsub/pubsubtest"
)

// TestUniversal runs Watermill's universal Pub/Sub suite against the
// unchanged eventstore/pubsub over this adapter, with the features
// pubsubtest.Universal declares for every adapter.
//
// The full suite (10,000 messages in one test, 50 subscribers of 5,000 in
// another) takes about 15 s here, but over three minutes under the race
// detector, where every gRPC call costs twenty times more; with -race it
// runs the suite's short message counts unless
// SAMSPILL_TEST_UNIVERSAL_FULL is set, so that go test -race ./... stays
// within a minute. -short always runs the short counts.
func TestUniversal(t *testing.T) {
	forceShort := raceEnabled && os.Getenv("SAMSPILL_TEST_UNIVERSAL_FULL") == ""
	// The suite publishes to topics "topic-<uuid>" (and "topic-<uuid>-1"),
	// which pubsub stores in streams of that name. Each test gets a server
	// of its own (unless the suite runs against a real KurrentDB): on one
	// shared in-memory server, every append would wake the live
	// subscriptions of every parallel test.
	pubsubtest.Universal(t, func(t *testing.T) eventstore.Store {
		url := realURL
		if url == "" {
			url = startServer(t).URL()
		}
		return openStore(t, url, WithStreamPrefixes("topic-"))
	}, forceShort)
}
