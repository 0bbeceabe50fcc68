package pubsub_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samspill/samspill/eventstore/pubsub"
)

// TestPagesMarkRead: with MarkRead every page says how far its read went,
// a read of other topics' events alone is a page of no events that says
// so too, and nothing else changes.
func TestPagesMarkRead(t *testing.T) {
	t.Parallel()
	store := openStore(t)
	// Pages of 3: [p o o] [o o o] [p].
	for _, stream := range []string{"partnership-1", "survey-1", "survey-1", "survey-1", "survey-1", "survey-1", "partnership-1"} {
		appendEvents(t, store, stream, someEvents(t, 1)...)
	}
	sub := newSubscriber(t, store, pagesConfig(pubsub.SubscriberConfig{PageSize: 3, MarkRead: true}))
	ch := subscribe(t, t.Context(), sub, "partnership")
	for i, want := range []struct {
		events []uint64
		read   uint64
	}{{[]uint64{1}, 3}, {[]uint64{}, 6}, {[]uint64{7}, 7}} {
		msg, events := receivePage(t, ch)
		assert.Equal(t, want.events, positions(events), "page %d", i)
		read, ok := pubsub.PageRead(msg)
		assert.True(t, ok, "page %d has no MetaPageRead", i)
		assert.Equal(t, want.read, read, "page %d", i)
		require.True(t, msg.Ack())
	}
	expectNothing(t, ch)
	// A read of another topic's event alone, live.
	appendEvents(t, store, "survey-2", someEvents(t, 1)...)
	msg, events := receivePage(t, ch)
	read, _ := pubsub.PageRead(msg)
	assert.Empty(t, events)
	assert.Equal(t, uint64(8), read)
}
