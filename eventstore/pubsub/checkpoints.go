package pubsub

import (
	"context"
	"sync"
)

// Checkpoints remembers how far each consumer group has acknowledged the
// events of a topic. Implementations must be safe for concurrent use.
//
// The Subscriber names a group's subscription to a topic with
// CheckpointKey(group, topic), so one group may follow several topics
// without one topic's acks moving the other's position.
type Checkpoints interface {
	// Load returns the position up to which the subscription named key has
	// acknowledged everything, 0 when it has saved nothing.
	Load(ctx context.Context, key string) (uint64, error)
	// Save records that the subscription named key acknowledged everything
	// up to position. The Subscriber calls it after each Ack, in position
	// order, and retries it until it succeeds or the subscription ends.
	Save(ctx context.Context, key string, position uint64) error
}

// CheckpointKey is the key under which the Subscriber loads and saves the
// checkpoint of consumer group group on topic topic: group + "/" + topic.
// SubscriberConfig.Validate refuses a group containing "/", so the key is
// unambiguous.
func CheckpointKey(group, topic string) string { return group + "/" + topic }

// MemoryCheckpoints is a Checkpoints held in memory: for tests and for a
// single process that may start over from position 0 after a restart. It is
// safe for concurrent use. The zero value is not usable; call
// NewMemoryCheckpoints.
type MemoryCheckpoints struct {
	mu        sync.Mutex
	positions map[string]uint64
}

var _ Checkpoints = (*MemoryCheckpoints)(nil)

// NewMemoryCheckpoints returns an empty MemoryCheckpoints.
func NewMemoryCheckpoints() *MemoryCheckpoints {
	return &MemoryCheckpoints{positions: make(map[string]uint64)}
}

// Load returns the position last saved under key, 0 if none. It never
// fails.
func (m *MemoryCheckpoints) Load(_ context.Context, key string) (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.positions[key], nil
}

// Save stores position under key, replacing what was there (a lower
// position too, so a checkpoint can be reset). It never fails.
func (m *MemoryCheckpoints) Save(_ context.Context, key string, position uint64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.positions[key] = position
	return nil
}
