package pubsub_test

import (
	"testing"

	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/eventstore/pubsub/pubsubtest"
)

// TestUniversal runs Watermill's universal suite over the SQLite store,
// each test of the suite on a database file of its own.
func TestUniversal(t *testing.T) {
	t.Cleanup(func() { expectNoLeak(t, 1<<30) }) // every subscriber of the suite closed
	pubsubtest.Universal(t, func(t *testing.T) eventstore.Store { return openStore(t) }, false)
}
