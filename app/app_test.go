package app_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/samspill/samspill/app"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/eventstore/sqlite"
)

func newService(t *testing.T) *app.Service {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	return app.New(store)
}

func initiate(t *testing.T, svc *app.Service) string {
	t.Helper()
	res, err := svc.Initiate(context.Background(), partnership.Command{Event: partnership.PartnershipInitiated{
		Municipality: "5006", Title: "Turløyper i Byparken", ServiceArea: "sport_and_outdoor", CollaborationModel: "network",
		Partners: []partnership.Partner{{Name: "Steinkjer idrettslag", Kind: "voluntary_organisation"}},
		Goals:    []string{"Flere går tur"},
	}, OccurredAt: new(time.Now().Add(-48 * time.Hour))}, app.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	return res.State.ID
}

// Commands without If-Match are re-decided when a concurrent writer wins, so
// all of them land, each exactly once.
func TestConcurrentCommandsWithoutIfMatchAllLand(t *testing.T) {
	svc := newService(t)
	id := initiate(t, svc)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := svc.Execute(context.Background(), id, partnership.Command{Event: partnership.MilestoneLogged{Kind: "meeting", Title: "Møte"}}, app.Meta{})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	history, version, err := svc.History().Events(context.Background(), id, partnership.View{})
	if err != nil || version != 17 || len(history) != 17 {
		t.Fatalf("history %d events, version %d, %v", len(history), version, err)
	}
}

// With If-Match, exactly one of many concurrent writers at the same version
// wins; the others are told the precondition failed and write nothing.
func TestConcurrentCommandsWithIfMatchOneWins(t *testing.T) {
	svc := newService(t)
	id := initiate(t, svc)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		won, pre int
	)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v := uint64(1)
			_, err := svc.Execute(context.Background(), id, partnership.Command{Event: partnership.PartnershipPaused{Reason: "sommer"}}, app.Meta{IfMatch: &v})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won++
			case errors.Is(err, app.ErrPreconditionFailed):
				pre++
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if won != 1 || pre != 15 {
		t.Fatalf("won %d, precondition failed %d", won, pre)
	}
	if _, version, _ := svc.History().State(context.Background(), id, partnership.View{}); version != 2 {
		t.Fatalf("version %d, want 2", version)
	}
}

func TestInvalidIDsAreNotFound(t *testing.T) {
	svc := newService(t)
	for _, id := range []string{"", "nope", "0190A5C4-0000-7000-8000-000000000001", "0190a5c4-0000-7000-8000-000000000001"} {
		if _, _, err := svc.History().State(context.Background(), id, partnership.View{}); !errors.Is(err, partnership.ErrNotFound) {
			t.Errorf("State(%q) = %v", id, err)
		}
		_, err := svc.Execute(context.Background(), id, partnership.Command{Event: partnership.MilestoneLogged{Kind: "meeting", Title: "x"}}, app.Meta{})
		if !errors.Is(err, partnership.ErrNotFound) {
			t.Errorf("Execute(%q) = %v", id, err)
		}
	}
}

// Check answers as Execute would and writes nothing: the pages preview a
// correction with it before it is saved.
func TestCheckDecidesWithoutWriting(t *testing.T) {
	svc := newService(t)
	ctx := context.Background()
	id := initiate(t, svc)
	version := func() uint64 {
		t.Helper()
		_, v, err := svc.History().Events(ctx, id, partnership.View{})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	pause := partnership.Command{Event: partnership.PartnershipPaused{Reason: "Sommer"}}
	if err := svc.Check(ctx, id, pause, app.Meta{}); err != nil {
		t.Fatalf("Check of a valid pause: %v", err)
	}
	if v := version(); v != 1 {
		t.Fatalf("Check wrote: version %d", v)
	}
	resume := partnership.Command{Event: partnership.PartnershipResumed{Reason: "Høst"}}
	checked := svc.Check(ctx, id, resume, app.Meta{})
	_, executed := svc.Execute(ctx, id, resume, app.Meta{})
	if !errors.Is(checked, partnership.ErrNotPaused) || !errors.Is(executed, partnership.ErrNotPaused) {
		t.Fatalf("resuming an active partnership: Check %v, Execute %v; want both ErrNotPaused", checked, executed)
	}
	var invalid *partnership.ValidationError
	if err := svc.Check(ctx, id, partnership.Command{Event: partnership.PartnershipPaused{}}, app.Meta{}); !errors.As(err, &invalid) {
		t.Fatalf("a pause without a reason: %v, want a ValidationError", err)
	}
	stale := uint64(7)
	if err := svc.Check(ctx, id, pause, app.Meta{IfMatch: &stale}); !errors.Is(err, app.ErrPreconditionFailed) {
		t.Fatalf("a stale If-Match: %v", err)
	}
	forbidden := errors.New("not here")
	if err := svc.Check(ctx, id, pause, app.Meta{MayWrite: func(string) error { return forbidden }}); !errors.Is(err, forbidden) {
		t.Fatalf("out of scope: %v", err)
	}
	if err := svc.Check(ctx, "0196f1a2-0000-7000-8000-000000000000", pause, app.Meta{}); !errors.Is(err, partnership.ErrNotFound) {
		t.Fatalf("no such partnership: %v", err)
	}
	if v := version(); v != 1 {
		t.Fatalf("Check wrote: version %d", v)
	}
}
