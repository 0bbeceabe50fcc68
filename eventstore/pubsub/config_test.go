package pubsub_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samspill/samspill/eventstore/pubsub"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	assert.NoError(t, pubsub.SubscriberConfig{}.Validate())
	assert.NoError(t, pubsub.SubscriberConfig{ConsumerGroup: "g", Checkpoints: pubsub.NewMemoryCheckpoints()}.Validate())

	assert.NoError(t, pubsub.SubscriberConfig{Delivery: pubsub.DeliverPages}.Validate())

	err := pubsub.SubscriberConfig{ConsumerGroup: "a/b", PageSize: -1, NackDelay: -1, Delivery: 7}.Validate()
	require.Error(t, err)
	for _, want := range []string{"needs checkpoints", `must not contain "/"`, "page size -1", "nack delay -1ns", "unknown delivery Delivery(7)"} {
		assert.ErrorContains(t, err, want)
	}
	assert.ErrorContains(t, pubsub.SubscriberConfig{Checkpoints: pubsub.NewMemoryCheckpoints()}.Validate(), "without a consumer group")

	_, err = pubsub.NewSubscriber(nil, pubsub.SubscriberConfig{PageSize: -1})
	assert.ErrorContains(t, err, "nil store")
	assert.ErrorContains(t, err, "page size")
}

func TestMemoryCheckpoints(t *testing.T) {
	t.Parallel()
	c := pubsub.NewMemoryCheckpoints()
	p, err := c.Load(t.Context(), "nothing")
	require.NoError(t, err)
	assert.Zero(t, p)

	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			key := pubsub.CheckpointKey(fmt.Sprint("g", i), "partnership")
			for pos := range uint64(200) {
				assert.NoError(t, c.Save(t.Context(), key, pos+1))
				got, err := c.Load(t.Context(), key)
				assert.NoError(t, err)
				assert.Equal(t, pos+1, got)
			}
		})
	}
	wg.Wait()
	require.NoError(t, c.Save(t.Context(), "k", 0), "a reset")
	p, _ = c.Load(t.Context(), "k")
	assert.Zero(t, p)
	assert.Equal(t, "g/partnership", pubsub.CheckpointKey("g", "partnership"))
}
