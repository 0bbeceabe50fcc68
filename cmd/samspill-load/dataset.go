package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/samspill/samspill/eventstore/sqlite"
	"github.com/samspill/samspill/history"
	"github.com/samspill/samspill/internal/synth"
)

// Shape of the generated log: the http package's benchmarks use 2,500
// partnerships × 20 events with 2,000 in Arendal; the harness keeps 20
// events per partnership and 2,000 partnerships in Arendal at any size, so
// the timeline scenario reads the same large municipality whatever --events
// says, and more events mean more partnerships elsewhere.
const (
	eventsPerPartnership = 20
	focusMunicipality    = "4203"
	focusPartnerships    = 2_000
	datasetSeed          = 2
)

// dataset describes the log written before serve starts.
type dataset struct {
	Events       int           `json:"events"`
	Partnerships int           `json:"partnerships"`
	Focus        int           `json:"focus_partnerships"`
	Head         uint64        `json:"head"`
	Took         time.Duration `json:"took_ns"`
	// From is the events.db copied instead of generating one.
	From string `json:"from,omitempty"`
}

// synthConfig sizes the generated log for about events events.
func synthConfig(events int) synth.Config {
	n := max(1, events/eventsPerPartnership)
	return synth.Config{
		Partnerships:      n,
		Events:            eventsPerPartnership,
		Seed:              datasetSeed,
		Focus:             focusMunicipality,
		FocusPartnerships: min(focusPartnerships, n*4/5),
	}
}

// generate writes the log into dir/events.db through the embedded store,
// as serve would find it, and closes the store again.
func generate(ctx context.Context, dir string, events int) (dataset, error) {
	start := time.Now()
	store, err := sqlite.Open(ctx, filepath.Join(dir, "events.db"))
	if err != nil {
		return dataset{}, fmt.Errorf("open the event store: %w", err)
	}
	defer store.Close()
	cfg := synthConfig(events)
	sum, err := synth.Fill(ctx, store, cfg)
	if err != nil {
		return dataset{}, fmt.Errorf("generate the log: %w", err)
	}
	head, err := store.Head(ctx)
	if err != nil {
		return dataset{}, fmt.Errorf("read the head: %w", err)
	}
	if err := store.Close(); err != nil {
		return dataset{}, fmt.Errorf("close the event store: %w", err)
	}
	return dataset{Events: sum.Events, Partnerships: sum.Partnerships, Focus: len(sum.FocusIDs), Head: head, Took: time.Since(start)}, nil
}

// copyLog copies an existing event store file (and its write-ahead log,
// if there is one) to dir/events.db instead of generating a log, and
// reports what it holds. The focus municipality's share is not known then
// (Focus is -1).
func copyLog(ctx context.Context, dir, from string) (dataset, error) {
	start := time.Now()
	dst := filepath.Join(dir, "events.db")
	for _, suffix := range []string{"", "-wal"} {
		err := copyFile(from+suffix, dst+suffix)
		if suffix != "" && errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return dataset{}, fmt.Errorf("--from: %w", err)
		}
	}
	store, err := sqlite.Open(ctx, dst)
	if err != nil {
		return dataset{}, fmt.Errorf("open the copied event store: %w", err)
	}
	defer store.Close()
	head, err := store.Head(ctx)
	if err != nil {
		return dataset{}, fmt.Errorf("read the head: %w", err)
	}
	streams, err := store.StreamsUpTo(ctx, history.StreamPrefix, head)
	if err != nil {
		return dataset{}, fmt.Errorf("list the partnerships: %w", err)
	}
	if err := store.Close(); err != nil {
		return dataset{}, fmt.Errorf("close the event store: %w", err)
	}
	return dataset{Events: int(head), Partnerships: len(streams), Focus: -1, Head: head, Took: time.Since(start), From: from}, nil
}

func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}
