package research

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/domain/survey"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/history"
)

// ErrMalformed means a line of an events file is not an event samspill
// exported; *LineError says which line and why.
var ErrMalformed = errors.New("malformed events file")

// LineError is a malformed line of an events file.
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

// Is makes every LineError an ErrMalformed.
func (e *LineError) Is(target error) bool { return target == ErrMalformed }

func (e *LineError) Unwrap() error { return e.Err }

// maxLine bounds one line of an events file: an event's data came in a
// command body of at most 1 MiB (docs/api.md), its envelope is much less.
const maxLine = 4 << 20

// importBatch is how many events one Import transaction writes.
const importBatch = 5000

// ImportProgress reports an import: Done of Total events handled.
type ImportProgress struct {
	Done, Total int
}

// ImportResult says what an import did.
type ImportResult struct {
	// Events is the number of events in the file, Written those that were
	// not already stored.
	Events, Written int
}

// Import appends the events of an events export (WriteEvents) to store,
// keeping event ids, occurred_at, recorded_at, versions and positions.
//
// It reads the file twice. The first pass checks every line (a JSON
// envelope with exactly the export's fields, a partnership stream, a known
// event type whose data decodes, positions rising, each stream's versions
// counting up from 1) and fails on the first bad one, naming it, before
// anything is written. The second pass writes in transactions of
// importBatch events. Events already stored at their place are skipped, so
// running the same import again, or after an interruption, completes it and
// changes nothing more; a store holding other events refuses it
// (eventstore.ErrImportConflict).
func Import(ctx context.Context, store eventstore.Importer, file io.ReadSeeker, progress func(ImportProgress)) (ImportResult, error) {
	total, err := scanEvents(file, nil)
	if err != nil {
		return ImportResult{}, err
	}
	if _, err := file.Seek(0, io.SeekStart); err != nil {
		return ImportResult{}, fmt.Errorf("import: rewind: %w", err)
	}
	res := ImportResult{Events: total}
	batch := make([]eventstore.RecordedEvent, 0, importBatch)
	flush := func() error {
		n, err := store.Import(ctx, batch)
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		res.Written += n
		batch = batch[:0]
		return nil
	}
	done := 0
	_, err = scanEvents(file, func(e eventstore.RecordedEvent) error {
		batch = append(batch, e)
		if len(batch) < importBatch {
			return nil
		}
		if err := flush(); err != nil {
			return err
		}
		done += importBatch
		if progress != nil {
			progress(ImportProgress{Done: done, Total: total})
		}
		return nil
	})
	if err == nil && len(batch) > 0 {
		err = flush()
	}
	if err != nil {
		return res, err
	}
	if progress != nil {
		progress(ImportProgress{Done: total, Total: total})
	}
	return res, nil
}

// scanEvents checks every line of r as Import's first pass does, calling
// fn (if not nil) with each event, and returns how many there are.
func scanEvents(r io.Reader, fn func(eventstore.RecordedEvent) error) (int, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	versions := map[string]uint64{}
	var last uint64
	line := 0
	for sc.Scan() {
		line++
		e, err := parseEvent(sc.Bytes())
		if err == nil && e.Position <= last {
			err = fmt.Errorf("position %d does not follow %d", e.Position, last)
		}
		if err == nil && e.Version != versions[e.StreamID]+1 {
			err = fmt.Errorf("%s version %d does not follow version %d", e.StreamID, e.Version, versions[e.StreamID])
		}
		if err != nil {
			return 0, &LineError{Line: line, Err: err}
		}
		last, versions[e.StreamID] = e.Position, e.Version
		if fn != nil {
			if err := fn(e); err != nil {
				return 0, err
			}
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return 0, &LineError{Line: line + 1, Err: fmt.Errorf("longer than %d bytes", maxLine)}
		}
		return 0, fmt.Errorf("import: read: %w", err)
	}
	return line, nil
}

// parseEvent reads one line: an envelope with exactly the fields of
// eventstore.RecordedEvent, of a partnership stream, whose data decodes as
// its type.
func parseEvent(line []byte) (eventstore.RecordedEvent, error) {
	var e eventstore.RecordedEvent
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return e, fmt.Errorf("not an event envelope: %w", err)
	}
	if dec.More() {
		return e, errors.New("more than one JSON value")
	}
	id, ok := history.ID(e.StreamID)
	switch {
	case strings.HasPrefix(e.StreamID, survey.StreamPrefix):
		return e, fmt.Errorf("stream_id %q is a survey's stream: an events export never holds survey events (the responses have their own export), so this file was not made by samspill export events", e.StreamID)
	case !ok || !history.ValidID(id):
		return e, fmt.Errorf("stream_id %q is not a partnership stream", e.StreamID)
	case e.EventID == "":
		return e, errors.New("event_id is missing")
	case e.Version == 0 || e.Position == 0:
		return e, errors.New("version and position must be positive")
	case e.OccurredAt.IsZero() || e.RecordedAt.IsZero():
		return e, errors.New("occurred_at and recorded_at are required")
	}
	if _, err := partnership.Decode(e.Type, e.SchemaVersion, e.Data); err != nil {
		return e, fmt.Errorf("event %s: %w", e.EventID, err)
	}
	return e, nil
}
