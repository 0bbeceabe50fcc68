package pubsub_test

import (
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/tests"

	"github.com/samspill/samspill/eventstore/pubsub"
	"github.com/samspill/samspill/eventstore/sqlite"
)

// suiteEnv is what the Pub/Subs made for one test of the universal suite
// share: the suite makes several publishers and subscribers per test and
// expects them to see one broker (a message published through one is read
// through another; a consumer group's progress survives its subscriber).
// So each test gets one store and one checkpoint store; tests run in
// parallel, each on its own database file.
type suiteEnv struct {
	store       *sqlite.Store
	checkpoints *pubsub.MemoryCheckpoints
}

// suiteEnvs hands out one suiteEnv per test. The suite calls the
// constructors from several goroutines of one test.
type suiteEnvs struct {
	mu   sync.Mutex
	envs map[*testing.T]*suiteEnv
}

func (s *suiteEnvs) get(t *testing.T) *suiteEnv {
	s.mu.Lock()
	defer s.mu.Unlock()
	if env, ok := s.envs[t]; ok {
		return env
	}
	env := &suiteEnv{store: openStore(t), checkpoints: pubsub.NewMemoryCheckpoints()}
	s.envs[t] = env
	t.Cleanup(func() {
		s.mu.Lock()
		delete(s.envs, t)
		s.mu.Unlock()
	})
	return env
}

// suiteNackDelay keeps TestContinueAfterErrors (300 nacks in a row without
// -short) quick; the delay itself is tested in TestNackRedeliversSameMessage.
const suiteNackDelay = time.Millisecond

func TestUniversal(t *testing.T) {
	t.Cleanup(func() { expectNoLeak(t, 1<<30) }) // every subscriber of the suite closed

	envs := &suiteEnvs{envs: make(map[*testing.T]*suiteEnv)}
	constructor := func(t *testing.T, group string) (message.Publisher, message.Subscriber) {
		env := envs.get(t)
		cfg := pubsub.SubscriberConfig{NackDelay: suiteNackDelay}
		if group != "" {
			cfg.ConsumerGroup = group
			cfg.Checkpoints = env.checkpoints
		}
		// Some tests of the suite never close what they make; the cleanup
		// does, before the store closes.
		return pubsub.NewPublisher(env.store), newSubscriber(t, env.store, cfg)
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
		},
		func(t *testing.T) (message.Publisher, message.Subscriber) { return constructor(t, "") },
		constructor,
	)
}
