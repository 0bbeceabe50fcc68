package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/samspill/samspill/eventstore"
)

// Names of the workloads and of the sides, as the report and -only use
// them.
const (
	workSingle = "1 writer"
	workMany   = "writers"
	workScan   = "scan"
	workLoads  = "stream loads"

	sideSamspill = "samspill"
	sideHallgren = "hallgren"
	sideRaw      = "raw"
)

// writer is a store that the append workloads write to. appendOne appends
// one event to stream, whose current version is version (0: no stream),
// and returns once the store acknowledges it.
type writer interface {
	appendOne(ctx context.Context, stream string, version uint64, e eventstore.NewEvent) error
	close() error
}

// reader is a filled store that the read workloads read: scan reads the
// whole log in global order and returns how many events it saw; load reads
// one stream whole.
type reader interface {
	scan(ctx context.Context) (int, error)
	load(ctx context.Context, stream string) (int, error)
	close() error
}

// backend is one database and the sides measured on it.
type backend struct {
	name string
	// writers opens a fresh store of each side for the append workloads.
	writers map[string]func(ctx context.Context) (writer, error)
	// readers opens fresh stores of samspill and the peer filled with the
	// same log (streams × perStream events) and the raw reader of
	// samspill's table, all open at once so that the reads interleave.
	readers func(ctx context.Context, c config, streams []string) (map[string]reader, error)
}

// sides is the order of the sides in round 0; later rounds rotate it.
var sides = []string{sideSamspill, sideHallgren, sideRaw}

func rotated(round int) []string {
	n := len(sides)
	out := make([]string, n)
	for i := range sides {
		out[i] = sides[(i+round)%n]
	}
	return out
}

// runRound runs every workload of b once for every side.
func runRound(ctx context.Context, c config, b backend, round int, res *results) error {
	order := rotated(round)
	for _, w := range []struct {
		name string
		n    int
		run  func(context.Context, writer, int, int) error
	}{
		{workSingle, c.single, func(ctx context.Context, w writer, n, _ int) error { return appendSerial(ctx, w, n) }},
		{workMany, c.concurrent, appendConcurrent},
	} {
		for _, side := range order {
			key := measureKey(b.name, w.name, side)
			if !c.only.MatchString(key) {
				continue
			}
			st, err := b.writers[side](ctx)
			if err != nil {
				return fmt.Errorf("%s: open: %w", key, err)
			}
			start := time.Now()
			err = w.run(ctx, st, w.n, c.writers)
			took := time.Since(start)
			if cerr := st.close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("%s: %w", key, err)
			}
			res.add(key, round, float64(w.n)/took.Seconds())
		}
	}

	wantScan := false
	for _, side := range sides {
		wantScan = wantScan || c.only.MatchString(measureKey(b.name, workScan, side)) ||
			c.only.MatchString(measureKey(b.name, workLoads, side))
	}
	if !wantScan {
		return nil
	}
	streams := make([]string, c.streams)
	for i := range streams {
		streams[i] = "partnership-" + uuid.NewString()
	}
	readers, err := b.readers(ctx, c, streams)
	if err != nil {
		return fmt.Errorf("fill the logs: %w", err)
	}
	defer func() {
		for _, r := range readers {
			_ = r.close()
		}
	}()
	total := c.streams * c.perStream
	for _, side := range order {
		key := measureKey(b.name, workScan, side)
		if !c.only.MatchString(key) {
			continue
		}
		start := time.Now()
		n, err := readers[side].scan(ctx)
		took := time.Since(start)
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		if n != total {
			return fmt.Errorf("%s: read %d events, the log holds %d", key, n, total)
		}
		res.add(key, round, float64(n)/took.Seconds())
	}
	rng := rand.New(rand.NewPCG(uint64(round), 7))
	picks := make([]string, c.loads)
	for i := range picks {
		picks[i] = streams[rng.IntN(len(streams))]
	}
	for _, side := range order {
		key := measureKey(b.name, workLoads, side)
		if !c.only.MatchString(key) {
			continue
		}
		start := time.Now()
		for _, id := range picks {
			n, err := readers[side].load(ctx, id)
			if err != nil {
				return fmt.Errorf("%s: %w", key, err)
			}
			if n != c.perStream {
				return fmt.Errorf("%s: stream %s has %d events, want %d", key, id, n, c.perStream)
			}
		}
		res.add(key, round, float64(c.loads*c.perStream)/time.Since(start).Seconds())
	}
	return nil
}

func measureKey(backend, workload, side string) string {
	return backend + "/" + workload + "/" + side
}

// appendSerial appends n events one by one to one stream.
func appendSerial(ctx context.Context, w writer, n int) error {
	events := newEvents(n)
	stream := "partnership-" + uuid.NewString()
	for i := range n {
		if err := w.appendOne(ctx, stream, uint64(i), events[i]); err != nil {
			return fmt.Errorf("append %d: %w", i, err)
		}
	}
	return nil
}

// appendConcurrent appends n events, one per append, from writers
// goroutines, each on a stream of its own.
func appendConcurrent(ctx context.Context, w writer, n, writers int) error {
	events := newEvents(n)
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Value
	for range writers {
		wg.Go(func() {
			stream := "partnership-" + uuid.NewString()
			for version := uint64(0); ; version++ {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := w.appendOne(ctx, stream, version, events[i]); err != nil {
					failed.CompareAndSwap(nil, fmt.Errorf("append %d: %w", i, err))
					return
				}
			}
		})
	}
	wg.Wait()
	if err, ok := failed.Load().(error); ok {
		return err
	}
	return nil
}

// payload is a ~400-byte JSON event body, as in samspill's own benchmarks.
var payload = func() json.RawMessage {
	var b strings.Builder
	b.WriteString(`{"partner":{"partner_id":"7f1d2c3e-9a4b-4c1d-8e2f-0a1b2c3d4e5f","name":"Frivilligsentralen i Ålesund",`)
	b.WriteString(`"kind":"voluntary_organisation","org_no":"974760673"},"note":"`)
	for b.Len() < 390 {
		b.WriteString("x")
	}
	b.WriteString(`"}`)
	return json.RawMessage(b.String())
}()

// metadata is every event's metadata; metadataJSON is what both stores
// keep of it.
var (
	metadata     = eventstore.Metadata{Actor: eventstore.Actor{Subject: "bench", Role: "coordinator"}, CorrelationID: "c"}
	metadataJSON = func() []byte {
		b, err := json.Marshal(metadata)
		if err != nil {
			panic(err)
		}
		return b
	}()
)

// eventType is every event's type, and aggregateType the peer's aggregate
// type of every stream.
const (
	eventType     = "PartnerJoined"
	aggregateType = "partnership"
)

// newEvents makes n events with time-ordered ids, as a server makes them.
func newEvents(n int) []eventstore.NewEvent {
	events := make([]eventstore.NewEvent, n)
	now := time.Now()
	for i := range events {
		events[i] = eventstore.NewEvent{
			EventID:       uuid.Must(uuid.NewV7()).String(),
			Type:          eventType,
			SchemaVersion: 1,
			OccurredAt:    now,
			Metadata:      metadata,
			Data:          payload,
		}
	}
	return events
}

// fillParallel calls fill(stream) for every stream from up to 8
// goroutines: how the read workloads' logs are written (not measured).
func fillParallel(ctx context.Context, streams []string, fill func(ctx context.Context, stream string) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Value
	for range 8 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(streams) || ctx.Err() != nil {
					return
				}
				if err := fill(ctx, streams[i]); err != nil {
					failed.CompareAndSwap(nil, fmt.Errorf("fill %s: %w", streams[i], err))
					return
				}
			}
		})
	}
	wg.Wait()
	if err, ok := failed.Load().(error); ok {
		return err
	}
	return ctx.Err()
}
