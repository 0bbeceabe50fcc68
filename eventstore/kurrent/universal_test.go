package kurrent

import (
	"os"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/tests"

	"github.com/samspill/samspill/eventstore/pubsub"
)

// universalEnv is what the Pub/Subs made for one test of Watermill's
// universal suite share: one store (its own namespace on the shared
// server, over real gRPC) and one checkpoint store, because the suite
// expects the publishers and subscribers of a test to see one broker.
type universalEnv struct {
	store       *Store
	checkpoints *pubsub.MemoryCheckpoints
}

type universalEnvs struct {
	mu   sync.Mutex
	envs map[*testing.T]*universalEnv
}

func (u *universalEnvs) get(t *testing.T) *universalEnv {
	u.mu.Lock()
	defer u.mu.Unlock()
	if env, ok := u.envs[t]; ok {
		return env
	}
	// The suite publishes to topics "topic-<uuid>" (and "topic-<uuid>-1"),
	// which pubsub stores in streams of that name.
	// Each test gets a server of its own (unless the suite runs against
	// a real KurrentDB): on one shared in-memory server, every append
	// would wake the live subscriptions of every parallel test.
	url := realURL
	if url == "" {
		url = startServer(t).URL()
	}
	env := &universalEnv{
		store:       openStore(t, url, WithStreamPrefixes("topic-")),
		checkpoints: pubsub.NewMemoryCheckpoints(),
	}
	u.envs[t] = env
	t.Cleanup(func() {
		u.mu.Lock()
		delete(u.envs, t)
		u.mu.Unlock()
	})
	return env
}

// TestUniversal runs Watermill's universal Pub/Sub suite against the
// unchanged eventstore/pubsub over this adapter, with the features the
// SQLite run declares (eventstore/pubsub/universal_test.go).
//
// The full suite (10,000 messages in one test, 50 subscribers of 5,000 in
// another) takes about 15 s here, but over three minutes under the race
// detector, where every gRPC call costs twenty times more; with -race it
// runs the suite's short message counts unless
// SAMSPILL_TEST_UNIVERSAL_FULL is set, so that go test -race ./... stays
// within a minute. -short always runs the short counts.
func TestUniversal(t *testing.T) {
	forceShort := raceEnabled && os.Getenv("SAMSPILL_TEST_UNIVERSAL_FULL") == ""
	envs := &universalEnvs{envs: make(map[*testing.T]*universalEnv)}
	constructor := func(t *testing.T, group string) (message.Publisher, message.Subscriber) {
		env := envs.get(t)
		cfg := pubsub.SubscriberConfig{NackDelay: time.Millisecond}
		if group != "" {
			cfg.ConsumerGroup = group
			cfg.Checkpoints = env.checkpoints
		}
		sub, err := pubsub.NewSubscriber(env.store, cfg)
		if err != nil {
			t.Fatalf("NewSubscriber: %v", err)
		}
		// Some tests of the suite never close what they make; close it
		// before the store closes (cleanups run last in, first out).
		t.Cleanup(func() { _ = sub.Close() })
		return pubsub.NewPublisher(env.store), sub
	}
	tests.TestPubSub(t,
		tests.Features{
			ConsumerGroups:                   true,
			GuaranteedOrder:                  true,
			Persistent:                       true,
			NewSubscriberReceivesOldMessages: true,
			ForceShort:                       forceShort,
		},
		func(t *testing.T) (message.Publisher, message.Subscriber) { return constructor(t, "") },
		constructor,
	)
}
