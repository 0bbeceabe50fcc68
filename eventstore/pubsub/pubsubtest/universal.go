// Package pubsubtest runs Watermill's universal Pub/Sub suite against
// eventstore/pubsub over any event store adapter, with the features the
// store-backed subscriber promises: every adapter's tests call Universal,
// so the promise is made in one place.
package pubsubtest

import (
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/tests"

	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/eventstore/pubsub"
)

// nackDelay keeps TestContinueAfterErrors (300 nacks in a row without
// -short) quick; the delay itself is tested in package pubsub.
const nackDelay = time.Millisecond

// Universal runs tests.TestPubSub. newStore makes an empty store for one
// test of the suite and registers its own cleanup: the suite makes several
// publishers and subscribers per test and expects them to see one broker
// (a message published through one is read through another; a consumer
// group's progress survives its subscriber), so they share that store and
// one checkpoint store. forceShort runs the suite's short message counts.
func Universal(t *testing.T, newStore func(t *testing.T) eventstore.Store, forceShort bool) {
	envs := &envs{byTest: map[*testing.T]*env{}, newStore: newStore}
	constructor := func(t *testing.T, group string) (message.Publisher, message.Subscriber) {
		env := envs.get(t)
		cfg := pubsub.SubscriberConfig{NackDelay: nackDelay}
		if group != "" {
			cfg.ConsumerGroup = group
			cfg.Checkpoints = env.checkpoints
		}
		sub, err := pubsub.NewSubscriber(env.store, cfg)
		if err != nil {
			t.Fatalf("NewSubscriber: %v", err)
		}
		// Some tests of the suite never close what they make; the cleanup
		// does, before the store closes (cleanups run last in, first out).
		t.Cleanup(func() { _ = sub.Close() })
		return pubsub.NewPublisher(env.store), sub
	}
	tests.TestPubSub(t,
		tests.Features{
			// Each group keeps its own checkpoint, so every group reads the
			// topic in full from where it left off. (Members of one group
			// do not share the work: the suite does not ask for that.)
			ConsumerGroups: true,
			// One subscription sends message n+1 only after n was acked,
			// in position order; a nack resends n.
			GuaranteedOrder: true,
			// Messages live in the store, not in the Pub/Sub instance: a
			// new Subscriber on the same store reads them.
			Persistent: true,
			// Without a checkpoint (no group, or a group that acked
			// nothing) a subscription starts at position 0.
			NewSubscriberReceivesOldMessages: true,
			ForceShort:                       forceShort,
		},
		func(t *testing.T) (message.Publisher, message.Subscriber) { return constructor(t, "") },
		constructor,
	)
}

// env is what the Pub/Subs of one test share.
type env struct {
	store       eventstore.Store
	checkpoints *pubsub.MemoryCheckpoints
}

// envs hands out one env per test; the suite calls the constructors from
// several goroutines of one test.
type envs struct {
	mu       sync.Mutex
	byTest   map[*testing.T]*env
	newStore func(t *testing.T) eventstore.Store
}

func (e *envs) get(t *testing.T) *env {
	e.mu.Lock()
	defer e.mu.Unlock()
	if v, ok := e.byTest[t]; ok {
		return v
	}
	v := &env{store: e.newStore(t), checkpoints: pubsub.NewMemoryCheckpoints()}
	e.byTest[t] = v
	t.Cleanup(func() {
		e.mu.Lock()
		delete(e.byTest, t)
		e.mu.Unlock()
	})
	return v
}
