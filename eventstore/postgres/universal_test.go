package postgres

import (
	"os"
	"testing"

	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/eventstore/pubsub/pubsubtest"
	"github.com/samspill/samspill/internal/pgtest"
)

// TestUniversal runs Watermill's universal Pub/Sub suite against the
// unchanged eventstore/pubsub over this adapter, each test of the suite on
// a schema of its own, with the features pubsubtest.Universal declares for
// every adapter. Under the race detector it runs the suite's short message
// counts unless SAMSPILL_TEST_UNIVERSAL_FULL is set (as the kurrent
// adapter's does); -short always runs the short counts.
func TestUniversal(t *testing.T) {
	pgtest.ServerURL(t)
	forceShort := raceEnabled && os.Getenv("SAMSPILL_TEST_UNIVERSAL_FULL") == ""
	pubsubtest.Universal(t, func(t *testing.T) eventstore.Store { return openAt(t, pgtest.URL(t)) }, forceShort)
}
