package research

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/samspill/samspill/domain/calendar"
	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/history"
)

// Options are the parameters every research export of partnerships takes.
type Options struct {
	// Position is the last event read (resolved by Position).
	Position uint64
	// AsOf is the censoring date, YYYY-MM-DD (Europe/Oslo); CheckAsOf
	// refuses one after today.
	AsOf string
	// KnownAt, if set, keeps only what had been recorded by then,
	// corrections included (partnership.View.KnownAt): the data as they
	// were known on that day.
	KnownAt *time.Time
	// Keys make the pseudonyms: a project's (ProjectKeys) or one-off.
	Keys Keys
	// Municipalities, if any, keep only partnerships whose municipality
	// is, today, one of these codes (a research project's).
	Municipalities []kommune.Code
}

// view is the bitemporal view of the export: events that occurred by the
// end of AsOf and were recorded by KnownAt.
func (o Options) view() (partnership.View, error) {
	cutoff, err := calendar.ParseCutoff(o.AsOf)
	if err != nil {
		return partnership.View{}, err
	}
	return partnership.View{AsOf: &cutoff, KnownAt: o.KnownAt}, nil
}

// eachHistory calls derive with the history of every partnership recorded
// up to the position (events past o.Position and, with KnownAt, recorded
// after it left out), on as many goroutines as there are cores, and hands
// the results to emit in the order the partnerships were recorded.
// Partnerships outside o.Municipalities are skipped.
func eachHistory[T any](ctx context.Context, store eventstore.Store, o Options, derive func(stream string, h []partnership.Entry) (T, error), emit func(stream string, t T) error) error {
	streams, err := eventstore.Streams(ctx, store, history.StreamPrefix, o.Position)
	if err != nil {
		return err
	}
	type result struct {
		t    T
		skip bool
	}
	return deriveInOrder(ctx, streams, func(stream string) (result, error) {
		h, err := historyAt(ctx, store, stream, o.Position)
		if err != nil {
			return result{}, err
		}
		if len(o.Municipalities) > 0 && !inMunicipalities(h, o.Municipalities) {
			return result{skip: true}, nil
		}
		t, err := derive(stream, h)
		if err != nil {
			return result{}, fmt.Errorf("%s: %w", stream, err)
		}
		return result{t: t}, nil
	}, func(stream string, r result) error {
		if r.skip {
			return nil
		}
		return emit(stream, r.t)
	})
}

// inMunicipalities reports whether the partnership's municipality is, by
// today's code, one of codes.
func inMunicipalities(h []partnership.Entry, codes []kommune.Code) bool {
	if len(h) == 0 {
		return false
	}
	init, ok := h[0].Event.(partnership.PartnershipInitiated)
	if !ok {
		return false
	}
	return slices.Contains(codes, kommune.Code(init.Municipality).Current())
}

// historyAt reads a partnership's history as recorded up to the position.
func historyAt(ctx context.Context, store eventstore.Store, stream string, position uint64) ([]partnership.Entry, error) {
	recorded, err := store.ReadStream(ctx, stream)
	if err != nil {
		return nil, err
	}
	// Positions grow with versions: the events up to the position are a
	// prefix of the stream.
	n := len(recorded)
	for n > 0 && recorded[n-1].Position > position {
		n--
	}
	h, err := history.Entries(recorded[:n])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", stream, err)
	}
	return h, nil
}
