package contract_test

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/samspill/samspill/internal/contract"
)

// TestRun: every rule runs once, as a subtest of its name, with stores of
// the opener; Context bounds each by Timeout.
func TestRun(t *testing.T) {
	var (
		mu  sync.Mutex
		ran []string
	)
	record := func(t *testing.T, open contract.Opener[string]) {
		if store := open(t); store != "store of "+t.Name() {
			t.Errorf("opened %q", store)
		}
		deadline, ok := contract.Context(t).Deadline()
		if !ok || time.Until(deadline) > contract.Timeout {
			t.Errorf("Context deadline %v, %v; want within %v", deadline, ok, contract.Timeout)
		}
		mu.Lock()
		ran = append(ran, t.Name())
		mu.Unlock()
	}
	t.Run("suite", func(t *testing.T) {
		contract.Run(t, func(t *testing.T) string { return "store of " + t.Name() }, []contract.Rule[string]{
			{Name: "First", Test: record},
			{Name: "Second", Test: record},
		})
	})
	slices.Sort(ran)
	if want := []string{"TestRun/suite/First", "TestRun/suite/Second"}; !slices.Equal(ran, want) {
		t.Fatalf("ran %v, want %v", ran, want)
	}
}
