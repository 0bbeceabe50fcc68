package main

import (
	"context"
	"fmt"

	"github.com/hallgren/eventsourcing/core"

	"github.com/samspill/samspill/eventstore"
)

// samspillSide is one of samspill's stores, through the port.
type samspillSide struct {
	store eventstore.Store
	page  int
}

func (s *samspillSide) appendOne(ctx context.Context, stream string, version uint64, e eventstore.NewEvent) error {
	_, err := s.store.Append(ctx, eventstore.AppendRequest{
		StreamID: stream, Expected: eventstore.Exactly(version), Events: []eventstore.NewEvent{e},
	})
	return err
}

// fill appends a stream's events in one append.
func (s *samspillSide) fill(ctx context.Context, stream string, perStream int) error {
	_, err := s.store.Append(ctx, eventstore.AppendRequest{
		StreamID: stream, Expected: eventstore.NoStream(), Events: newEvents(perStream),
	})
	return err
}

func (s *samspillSide) scan(ctx context.Context) (int, error) {
	n := 0
	for after := uint64(0); ; {
		page, err := s.store.ReadAll(ctx, after, s.page)
		if err != nil {
			return n, err
		}
		if len(page) == 0 {
			return n, nil
		}
		n += len(page)
		after = page[len(page)-1].Position
	}
}

func (s *samspillSide) load(ctx context.Context, stream string) (int, error) {
	events, err := s.store.ReadStream(ctx, stream)
	return len(events), err
}

func (s *samspillSide) close() error { return s.store.Close() }

// hallgrenStore is what hallgren/eventsourcing's SQLite and Postgres
// stores both have.
type hallgrenStore interface {
	Save(events []core.Event) error
	Get(ctx context.Context, id, aggregateType string, afterVersion core.Version) (core.Iterator, error)
	All(start core.Version) core.Fetcher
	Close()
}

// hallgrenSide is one of hallgren/eventsourcing's SQL stores, used as its
// event repository uses it: Save with the next version, Get to load an
// aggregate's events, All to read the log in global order.
type hallgrenSide struct {
	store hallgrenStore
	// drop removes what the side made (its PostgreSQL schema).
	drop func() error
}

func hallgrenEvent(stream string, version uint64, e eventstore.NewEvent) core.Event {
	return core.Event{
		AggregateID:   stream,
		Version:       core.Version(version),
		AggregateType: aggregateType,
		Timestamp:     e.OccurredAt,
		Reason:        e.Type,
		Data:          e.Data,
		Metadata:      metadataJSON,
	}
}

func (h *hallgrenSide) appendOne(_ context.Context, stream string, version uint64, e eventstore.NewEvent) error {
	return h.store.Save([]core.Event{hallgrenEvent(stream, version+1, e)})
}

// fill saves a stream's events in one Save.
func (h *hallgrenSide) fill(_ context.Context, stream string, perStream int) error {
	events := newEvents(perStream)
	batch := make([]core.Event, len(events))
	for i, e := range events {
		batch[i] = hallgrenEvent(stream, uint64(i+1), e)
	}
	return h.store.Save(batch)
}

func (h *hallgrenSide) scan(context.Context) (int, error) {
	iter, err := h.store.All(0)()
	if err != nil {
		return 0, err
	}
	defer iter.Close()
	return drain(iter)
}

func (h *hallgrenSide) load(ctx context.Context, stream string) (int, error) {
	iter, err := h.store.Get(ctx, stream, aggregateType, 0)
	if err != nil {
		return 0, err
	}
	defer iter.Close()
	return drain(iter)
}

// drain reads every event of iter, as the peer's repository does.
func drain(iter core.Iterator) (int, error) {
	n := 0
	for iter.Next() {
		if _, err := iter.Value(); err != nil {
			return n, fmt.Errorf("event %d: %w", n, err)
		}
		n++
	}
	return n, nil
}

func (h *hallgrenSide) close() error {
	h.store.Close()
	if h.drop != nil {
		return h.drop()
	}
	return nil
}
