package demo

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/samspill/samspill/app"
	"github.com/samspill/samspill/eventstore"
)

// importEntered loads the data set with each event's recording time, when
// the store holds nothing but the demo's events at the places this import
// gives them (a beginning of the order of entry). It reports false, having
// written nothing, when the store holds anything else: Load then appends.
//
// The order of entry is every step entered by now, across partnerships,
// by recording time (ties: partnerships in the order they began, then
// versions); event n of that order is imported at position n. Since the
// order does not depend on now, the steps a run with an earlier now
// imported are its beginning, and a later run imports the rest above them.
func importEntered(ctx context.Context, svc *app.Service, store eventstore.Store, importer eventstore.Importer, ids *idSequence, all []plan, now time.Time) (Summary, bool, error) {
	type slot struct{ plan, version int }
	var order []slot
	for i, p := range all {
		for v := range p.until(now) {
			order = append(order, slot{i, v})
		}
	}
	slices.SortStableFunc(order, func(a, b slot) int {
		return all[a.plan].steps[a.version].recorded.Compare(all[b.plan].steps[b.version].recorded)
	})
	positions := make([][]uint64, len(all))
	for i, p := range all {
		positions[i] = make([]uint64, len(p.until(now)))
	}
	for n, s := range order {
		positions[s.plan][s.version] = uint64(n + 1)
	}

	head, err := store.Head(ctx)
	if err != nil {
		return Summary{}, false, fmt.Errorf("demo: read the store's head: %w", err)
	}
	var (
		sum     Summary
		held    uint64 // the demo's events the store holds
		pending []int  // partnerships (indexes in all) with events to import
		from    []int  // how many of each pending one's steps are stored
	)
	for i, p := range all {
		steps := p.until(now)
		if len(steps) == 0 {
			continue
		}
		stored, err := storedSteps(ctx, store, p, steps)
		if err != nil {
			return Summary{}, false, fmt.Errorf("demo: partnership %q (%s): %w", p.initiation().Title, p.key, err)
		}
		for v, e := range stored[:min(len(stored), len(steps))] {
			if e.Position != positions[i][v] {
				return Summary{}, false, nil // stored by appends, or by another order
			}
		}
		held += uint64(len(stored))
		sum.Partnerships++
		sum.Events += len(steps)
		if sum.Example == "" || p.key == exampleKey {
			sum.Example = p.id
		}
		if len(stored) < len(steps) {
			pending, from = append(pending, i), append(from, len(stored))
		}
	}
	if held != head {
		return Summary{}, false, nil // the store holds other events too
	}

	var events []eventstore.RecordedEvent
	meta := app.Meta{Actor: actor}
	for k, i := range pending {
		p := all[i]
		steps := p.until(now)
		entered := make([]app.Entered, len(steps))
		for v, s := range steps {
			entered[v] = s.entered()
		}
		ids.restart(p.key, 0)
		recorded, err := svc.Record(ctx, entered, uint64(from[k]), meta)
		if err != nil {
			return Summary{}, false, fmt.Errorf("demo: partnership %q (%s): %w", p.initiation().Title, p.key, err)
		}
		for j := range recorded {
			recorded[j].Position = positions[i][from[k]+j]
		}
		events = append(events, recorded...)
	}
	slices.SortFunc(events, func(a, b eventstore.RecordedEvent) int { return cmp.Compare(a.Position, b.Position) })
	for chunk := range slices.Chunk(events, importChunk) {
		n, err := importer.Import(ctx, chunk)
		sum.Appended += n
		if err != nil {
			return sum, true, fmt.Errorf("demo: import: %w", err)
		}
	}
	return sum, true, nil
}

// importChunk is how many events one Import writes. Projections that
// follow the store fold what they find in one batch and show none of it
// until the batch is done; imported in chunks, the data set reaches them
// in steps, as a partnership's append at a time did, rather than as one
// batch of every event. A run that stops between chunks leaves a beginning
// of the order of entry, which the next run imports the rest after.
const importChunk = 64
