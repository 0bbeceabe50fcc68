package research

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"

	"github.com/samspill/samspill/eventstore"
)

// ErrPositionAhead means an export was asked for a position the store has
// not reached: its bytes could still change, so it is refused.
var ErrPositionAhead = errors.New("position is beyond the store's head")

// ErrAsOfAhead means a spells export was asked to censor at a day after
// today: the days until then have not been observed, and counting them as
// survival would bias every estimate, so it is refused.
var ErrAsOfAhead = errors.New("as_of is after today")

// CheckAsOf refuses a censoring date (YYYY-MM-DD) after today (YYYY-MM-DD,
// Europe/Oslo) with ErrAsOfAhead.
func CheckAsOf(asOf, today string) error {
	if asOf > today {
		return fmt.Errorf("%w: %s is after %s", ErrAsOfAhead, asOf, today)
	}
	return nil
}

// Kinds of export, as named in manifests.
const (
	KindEvents = "events"
	KindSpells = "spells"
)

// Summary describes an export that was written: what it holds and the
// SHA-256 of its bytes (uncompressed).
type Summary struct {
	Kind     string `json:"export"`
	Position uint64 `json:"position"`
	// AsOf is the censoring date of a spells export (YYYY-MM-DD).
	AsOf   string `json:"as_of,omitempty"`
	Rows   int    `json:"rows"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// Position returns the position an export reads up to: at, or the head
// when at is zero. A position beyond the head is ErrPositionAhead.
func Position(ctx context.Context, store eventstore.Store, at uint64) (uint64, error) {
	head, err := store.Head(ctx)
	if err != nil {
		return 0, fmt.Errorf("read the head: %w", err)
	}
	if at == 0 {
		return head, nil
	}
	if at > head {
		return 0, fmt.Errorf("%w: %d > %d", ErrPositionAhead, at, head)
	}
	return at, nil
}

// digest counts and hashes what passes through it to w.
type digest struct {
	w     io.Writer
	h     hash.Hash
	bytes int64
}

func newDigest(w io.Writer) *digest { return &digest{w: w, h: sha256.New()} }

func (d *digest) Write(p []byte) (int, error) {
	n, err := d.w.Write(p)
	d.h.Write(p[:n])
	d.bytes += int64(n)
	return n, err
}

func (d *digest) sum() string { return hex.EncodeToString(d.h.Sum(nil)) }

// readUpTo calls fn with every event of the log up to position upTo, in
// position order. A goroutine reads the next page while fn works through
// the current one, so reading and writing an export use two cores.
func readUpTo(ctx context.Context, store eventstore.Store, upTo uint64, fn func(eventstore.RecordedEvent) error) error {
	const page = 2000
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		events []eventstore.RecordedEvent
		err    error
	}
	pages := make(chan result, 2)
	go func() {
		defer close(pages)
		for after := uint64(0); after < upTo; {
			events, err := store.ReadAll(ctx, after, page)
			if err != nil {
				err = fmt.Errorf("read the log after %d: %w", after, err)
			}
			select {
			case pages <- result{events, err}:
			case <-ctx.Done():
				return
			}
			if err != nil || len(events) == 0 {
				return
			}
			after = events[len(events)-1].Position
		}
	}()
	for p := range pages {
		if p.err != nil {
			return p.err
		}
		for _, e := range p.events {
			if e.Position > upTo {
				return nil
			}
			if err := fn(e); err != nil {
				return err
			}
		}
	}
	return ctx.Err()
}
