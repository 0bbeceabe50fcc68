package postgres

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/internal/pgtest"
	"github.com/samspill/samspill/internal/smallfs"
)

// TestTranslateInsufficientResources reads SQLSTATE class 53 as the
// server hands it to pgx: only disk_full is a lack of space.
func TestTranslateInsufficientResources(t *testing.T) {
	for code, want := range map[string]error{
		"53100": eventstore.ErrStorageFull, // disk_full
		"53000": ErrUnavailable,            // insufficient_resources
		"53200": ErrUnavailable,            // out_of_memory
		"53300": ErrUnavailable,            // too_many_connections
		"53400": ErrUnavailable,            // configuration_limit_exceeded
	} {
		cause := &pgconn.PgError{Severity: "ERROR", SeverityUnlocalized: "ERROR", Code: code,
			Message: `could not extend file "base/16384/16390": No space left on device`}
		err := translate("db.example:5432", fmt.Errorf("write: %w", cause))
		other := map[error]error{eventstore.ErrStorageFull: ErrUnavailable, ErrUnavailable: eventstore.ErrStorageFull}[want]
		if !errors.Is(err, want) || errors.Is(err, other) || !errors.Is(err, cause) {
			t.Errorf("translate(SQLSTATE %s) = %v; want %v, keeping the cause", code, err, want)
		}
	}
}

// noteEvent is an event whose data does not compress: each takes its own
// room in the table.
func noteEvent(typ string) eventstore.NewEvent {
	e := event(typ)
	b := make([]byte, 700)
	_, _ = rand.Read(b)
	e.Data = json.RawMessage(`{"note":"` + hex.EncodeToString(b) + `"}`)
	return e
}

func TestFullTablespaceFailsAppendsUntilSpaceIsBack(t *testing.T) {
	url, dir := pgtest.URLOnSmallDisk(t, "2m")
	s := openAt(t, url)
	ctx := t.Context()
	var acked []string // event ids of acknowledged appends
	mustAppend(t, s, eventstore.AppendRequest{StreamID: streamID(), Events: []eventstore.NewEvent{noteEvent("PartnershipInitiated")}})
	acked = append(acked, "")
	if err := s.ProbeStorage(ctx); err != nil {
		t.Fatalf("ProbeStorage with space = %v; want nil", err)
	}

	filler := smallfs.Fill(t, dir)
	// The pages the tables have may hold a few more events; then a table
	// must grow, and cannot.
	var full error
	for i := 0; i < 2000 && full == nil; i++ {
		e := noteEvent("PartnershipInitiated")
		_, err := s.Append(ctx, eventstore.AppendRequest{StreamID: streamID(), Events: []eventstore.NewEvent{e}})
		switch {
		case err == nil:
			acked = append(acked, e.EventID)
		case errors.Is(err, eventstore.ErrStorageFull):
			full = err
		default:
			t.Fatalf("append %d on a full tablespace: %v; want success or ErrStorageFull", i, err)
		}
	}
	if full == nil {
		t.Fatal("2000 appends went through on a full tablespace")
	}
	if !strings.Contains(full.Error(), "53100") && !strings.Contains(full.Error(), "No space left") {
		t.Fatalf("the error does not keep the server's cause: %v", full)
	}
	t.Logf("%d appends went through on the full tablespace, then: %v", len(acked)-1, full)

	var batch []*request
	for range 3 {
		batch = append(batch, queued(t, ctx, eventstore.AppendRequest{StreamID: streamID(),
			Events: []eventstore.NewEvent{noteEvent("PartnershipInitiated"), noteEvent("PartnerJoined")}}))
	}
	retries := s.stats.Retries.Load()
	s.queue.Commit(batch)
	for i, r := range batch {
		<-r.Done()
		if !errors.Is(r.Err, eventstore.ErrStorageFull) {
			t.Fatalf("request %d of a batch on a full tablespace: %v; want ErrStorageFull", i, r.Err)
		}
	}
	if got := s.stats.Retries.Load() - retries; got != 0 {
		t.Fatalf("%d retries of the batch; want none: lack of space fails it at once", got)
	}
	if err := s.ProbeStorage(ctx); !errors.Is(err, eventstore.ErrStorageFull) {
		t.Fatalf("ProbeStorage on a full tablespace = %v; want ErrStorageFull", err)
	}

	smallfs.Free(t, filler)
	if err := s.ProbeStorage(ctx); err != nil {
		t.Fatalf("ProbeStorage once space is back = %v; want nil", err)
	}
	for i, r := range batch {
		if res, err := s.Append(ctx, r.req); err != nil || res.Deduplicated {
			t.Fatalf("retry of request %d once space is back = %+v, %v; want a fresh append", i, res, err)
		}
		for _, e := range r.req.Events {
			acked = append(acked, e.EventID)
		}
	}

	all := readAll(t, openAt(t, url))
	if len(all) != len(acked) {
		t.Fatalf("the log holds %d events; %d were acknowledged", len(all), len(acked))
	}
	stored := map[string]int{}
	for _, e := range all {
		stored[e.EventID]++
	}
	for _, id := range acked[1:] {
		if stored[id] != 1 {
			t.Fatalf("acknowledged event %s is stored %d times", id, stored[id])
		}
	}
}
