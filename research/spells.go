package research

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"time"

	"github.com/samspill/samspill/domain/calendar"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/history"
)

// SpellsHeader is the header row of spells.csv, in the order docs/api.md
// (Research exports) gives.
var SpellsHeader = []string{
	"partnership_key", "municipality", "service_area", "collaboration_model", "start_date",
	"tstart", "tstop", "ended", "end_reason", "n_partners", "n_goal_changes", "anchoring_level", "paused",
}

// Spell is one row of spells.csv: an interval (TStart, TStop] in whole days
// since the partnership's initiation in which its covariates are constant.
type Spell struct {
	Municipality       string // today's code
	ServiceArea        string
	CollaborationModel string
	StartDate          string // YYYY-MM-DD, Europe/Oslo
	TStart, TStop      int
	Ended              bool
	EndReason          string
	Partners           int
	GoalChanges        int
	AnchoringLevel     string // "none" until one is recorded
	Paused             bool
}

// startsSpell lists the events that begin a new interval (docs/api.md,
// Research exports).
var startsSpell = map[string]bool{
	partnership.TypeGoalChanged:        true,
	partnership.TypeRolesAgreed:        true,
	partnership.TypeAnchoringChanged:   true,
	partnership.TypePartnerJoined:      true,
	partnership.TypePartnerLeft:        true,
	partnership.TypePartnershipPaused:  true,
	partnership.TypePartnershipResumed: true,
}

// Spells turns one partnership's history (in version order) into its
// episodes as of the end of the day asOf (YYYY-MM-DD, Europe/Oslo):
//
//   - day 0 is the day of the initiation; a new interval starts on the day
//     of every event in startsSpell, with the covariates as they stand after
//     all of that day's events (same-day changes merge forward);
//   - an ended partnership's last row ends on the day it ended, with
//     Ended set; a change on that same day starts no row of zero length;
//   - an ongoing one is right-censored at asOf;
//   - a partnership observed for less than a day gets TStop = 1.
//
// It returns nil when the partnership did not exist by asOf.
func Spells(history []partnership.Entry, asOf string) ([]Spell, error) {
	cutoff, err := calendar.ParseCutoff(asOf)
	if err != nil {
		return nil, err
	}
	censor, err := dayNumberOf(asOf)
	if err != nil {
		return nil, err
	}
	var (
		spells    []Spell
		cur       Spell // the open interval, from cur.TStart on
		before    Spell // the covariates in force before the current event
		day0      int
		initiated bool
		ended     bool
	)
	// closed returns the open interval ending on day t with the covariates
	// in force over it: those after all events up to the day before t.
	closed := func(t int) Spell {
		sp := cur
		sp.Municipality, sp.ServiceArea, sp.CollaborationModel = before.Municipality, before.ServiceArea, before.CollaborationModel
		sp.Partners, sp.GoalChanges, sp.AnchoringLevel, sp.Paused = before.Partners, before.GoalChanges, before.AnchoringLevel, before.Paused
		sp.TStop = t
		return sp
	}
	err = partnership.Steps(history, partnership.View{AsOf: &cutoff}, func(e partnership.Entry, s partnership.State) {
		switch ev := e.Event.(type) {
		case partnership.PartnershipInitiated:
			day0, initiated = dayNumber(e.OccurredAt), true
			cur = Spell{StartDate: calendar.Day(e.OccurredAt)}
		case partnership.PartnershipEnded:
			t := dayNumber(e.OccurredAt) - day0
			last := closed(t)
			switch {
			case t > cur.TStart:
			case cur.TStart == 0:
				last.TStop = 1 // observed for less than a day
			default:
				// Ended on the day a new interval began: that interval has
				// no length and merges into the one before it.
				last = spells[len(spells)-1]
				spells = spells[:len(spells)-1]
			}
			last.Ended, last.EndReason = true, ev.Reason
			spells = append(spells, last)
			ended = true
		default:
			if t := dayNumber(e.OccurredAt) - day0; startsSpell[e.Event.EventType()] && t > cur.TStart {
				spells = append(spells, closed(t))
				cur = Spell{StartDate: cur.StartDate, TStart: t}
			}
		}
		before = covariates(s)
	})
	if err != nil || !initiated || ended {
		return spells, err
	}
	t := censor - day0
	switch {
	case t > cur.TStart:
		return append(spells, closed(t)), nil
	case cur.TStart == 0:
		return append(spells, closed(1)), nil // observed for less than a day
	default:
		return spells, nil // changed on the censoring day: nothing observed after
	}
}

// covariates reads a spell's covariates from the state in force over it.
func covariates(s partnership.State) Spell {
	sp := Spell{
		Municipality:       s.CurrentMunicipality,
		ServiceArea:        s.ServiceArea,
		CollaborationModel: s.CollaborationModel,
		Partners:           len(s.Partners),
		GoalChanges:        s.GoalChanges,
		AnchoringLevel:     s.AnchoringLevel,
		Paused:             s.Status == partnership.StatusPaused,
	}
	if sp.AnchoringLevel == "" {
		sp.AnchoringLevel = "none"
	}
	return sp
}

// dayNumber numbers the calendar day of t in Europe/Oslo.
func dayNumber(t time.Time) int {
	y, m, d := t.In(calendar.Oslo).Date()
	return int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

func dayNumberOf(date string) (int, error) {
	d, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return 0, fmt.Errorf("as_of %q is not a date YYYY-MM-DD", date)
	}
	return int(d.Unix() / 86400), nil
}

// SpellsOptions are the parameters of a spells export.
type SpellsOptions struct {
	// Position is the last event read (resolved by Position).
	Position uint64
	// AsOf is the censoring date, YYYY-MM-DD.
	AsOf string
	// Secret is the installation's key for partnership_key.
	Secret []byte
}

// WriteSpells writes spells.csv for every partnership initiated up to the
// position, one partnership after the other in the order they were
// recorded. partnership_key is an HMAC-SHA-256, under the installation's
// secret, of the export's parameters and the stream id: the same in every
// row of a partnership and in a repeated export, unrelated between exports
// with other parameters, and never the id itself.
func WriteSpells(ctx context.Context, store eventstore.Store, w io.Writer, o SpellsOptions) (Summary, error) {
	if _, err := dayNumberOf(o.AsOf); err != nil {
		return Summary{}, err
	}
	if len(o.Secret) < 16 {
		return Summary{}, fmt.Errorf("export spells: the installation secret is missing or shorter than 16 bytes")
	}
	streams, err := eventstore.Streams(ctx, store, history.StreamPrefix, o.Position)
	if err != nil {
		return Summary{}, fmt.Errorf("export spells: %w", err)
	}
	d := newDigest(w)
	bw := bufio.NewWriterSize(d, 64<<10)
	cw := csv.NewWriter(bw)
	if err := cw.Write(SpellsHeader); err != nil {
		return Summary{}, fmt.Errorf("export spells: %w", err)
	}
	keys := partnershipKeys(o)
	rows := 0
	record := make([]string, len(SpellsHeader))
	err = deriveInOrder(ctx, streams, func(stream string) ([]Spell, error) {
		return streamSpells(ctx, store, stream, o)
	}, func(stream string, spells []Spell) error {
		key := keys(stream)
		for _, sp := range spells {
			sp.fill(record, key)
			if err := cw.Write(record); err != nil {
				return err
			}
			rows++
		}
		return nil
	})
	if err != nil {
		return Summary{}, fmt.Errorf("export spells: %w", err)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return Summary{}, fmt.Errorf("export spells: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return Summary{}, fmt.Errorf("export spells: %w", err)
	}
	return Summary{Kind: KindSpells, Position: o.Position, AsOf: o.AsOf, Rows: rows, Bytes: d.bytes, SHA256: d.sum()}, nil
}

// deriveInOrder runs derive on every stream, on as many goroutines as
// there are cores, and hands the results to emit in the order of streams.
// At most a small window of results waits for its turn, so memory stays
// flat however many streams there are.
func deriveInOrder[T any](ctx context.Context, streams []string, derive func(string) (T, error), emit func(string, T) error) error {
	type result struct {
		t   T
		err error
	}
	type job struct {
		stream string
		out    chan result
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers := runtime.GOMAXPROCS(0)
	jobs := make(chan job)
	queue := make(chan job, 8*workers) // in stream order
	go func() {
		defer close(jobs)
		defer close(queue)
		for _, s := range streams {
			j := job{stream: s, out: make(chan result, 1)}
			select {
			case queue <- j:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- j:
			case <-ctx.Done():
				return
			}
		}
	}()
	for range workers {
		go func() {
			for j := range jobs {
				t, err := derive(j.stream)
				j.out <- result{t, err}
			}
		}()
	}
	for j := range queue {
		var r result
		select {
		case r = <-j.out:
		case <-ctx.Done():
			return ctx.Err()
		}
		if r.err != nil {
			return r.err
		}
		if err := emit(j.stream, r.t); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// streamSpells reads one stream up to the export's position and derives
// its spells.
func streamSpells(ctx context.Context, store eventstore.Store, stream string, o SpellsOptions) ([]Spell, error) {
	recorded, err := store.ReadStream(ctx, stream)
	if err != nil {
		return nil, err
	}
	// Positions grow with versions: the events up to the position are a
	// prefix of the stream.
	n := len(recorded)
	for n > 0 && recorded[n-1].Position > o.Position {
		n--
	}
	history, err := history.Entries(recorded[:n])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", stream, err)
	}
	spells, err := Spells(history, o.AsOf)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", stream, err)
	}
	return spells, nil
}

// partnershipKeys returns the key maker of one export.
func partnershipKeys(o SpellsOptions) func(stream string) string {
	prefix := fmt.Sprintf("samspill spells.csv v1\x00position=%d\x00as_of=%s\x00", o.Position, o.AsOf)
	return func(stream string) string {
		m := hmac.New(sha256.New, o.Secret)
		m.Write([]byte(prefix))
		m.Write([]byte(stream))
		return hex.EncodeToString(m.Sum(nil)[:16])
	}
}

// fill writes the spell into record in SpellsHeader's order.
func (sp Spell) fill(record []string, key string) {
	record[0] = key
	record[1] = sp.Municipality
	record[2] = sp.ServiceArea
	record[3] = sp.CollaborationModel
	record[4] = sp.StartDate
	record[5] = strconv.Itoa(sp.TStart)
	record[6] = strconv.Itoa(sp.TStop)
	record[7] = flag(sp.Ended)
	record[8] = sp.EndReason
	record[9] = strconv.Itoa(sp.Partners)
	record[10] = strconv.Itoa(sp.GoalChanges)
	record[11] = sp.AnchoringLevel
	record[12] = flag(sp.Paused)
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
