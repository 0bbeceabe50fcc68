// Package contract runs contract suites: the rules every adapter of a port
// must pass (auth/authtest, personal/personaltest, eventstore/eventstoretest),
// each rule a parallel subtest against fresh stores the adapter's test
// makes.
package contract

import (
	"context"
	"testing"
	"time"
)

// Timeout bounds every subtest, so a store that hangs fails instead of
// stalling the run.
const Timeout = 60 * time.Second

// Opener returns a fresh, empty store of type S. It registers its own
// cleanup (t.Cleanup) to close the store and remove what it made, and
// calls t.Fatal if the store cannot be made.
type Opener[S any] func(t *testing.T) S

// Rule is one rule of a suite: its subtest's name and the test, which
// opens the stores it needs with open.
type Rule[S any] struct {
	Name string
	Test func(t *testing.T, open Opener[S])
}

// Run runs each rule as a subtest of t against stores made by open, in
// the order given; the subtests run in parallel with each other but not
// with the caller's other tests.
func Run[S any](t *testing.T, open Opener[S], rules []Rule[S]) {
	t.Helper()
	if open == nil {
		t.Fatal("contract: nil Opener")
	}
	for _, r := range rules {
		t.Run(r.Name, func(t *testing.T) {
			t.Parallel()
			r.Test(t, open)
		})
	}
}

// Context returns the context of one subtest: t's, bounded by Timeout and
// cancelled when the subtest ends.
func Context(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), Timeout)
	t.Cleanup(cancel)
	return ctx
}
