package research

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/personal"
)

// WriteEvents writes every event up to position (resolved by Position) to w
// as NDJSON: one envelope per line, in position order, corrections
// included, personal data removed (personal.Redact).
func WriteEvents(ctx context.Context, store eventstore.Store, w io.Writer, position uint64) (Summary, error) {
	d := newDigest(w)
	bw := bufio.NewWriterSize(d, 64<<10)
	rows := 0
	err := readUpTo(ctx, store, position, func(e eventstore.RecordedEvent) error {
		e, err := personal.Redact(e)
		if err != nil {
			return err
		}
		line, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("encode event %s: %w", e.EventID, err)
		}
		bw.Write(line)
		if err := bw.WriteByte('\n'); err != nil {
			return fmt.Errorf("write events: %w", err)
		}
		rows++
		return nil
	})
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return Summary{}, fmt.Errorf("export events: %w", err)
	}
	return Summary{Kind: KindEvents, Position: position, Rows: rows, Bytes: d.bytes, SHA256: d.sum()}, nil
}
