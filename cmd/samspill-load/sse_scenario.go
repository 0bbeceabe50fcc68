package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// sseGrace is how long after the last acknowledgement plus sseDeadline
// the harness still waits for stragglers before it counts them missing.
const sseGrace = 4 * time.Second

// sseRow connects the stream clients at the head, posts milestones at
// --sse-rate for --duration, waits until every client has the last
// acknowledged write (or the deadline and a grace period have passed) and
// compares every client's receipts with the acknowledgements.
func (h *harness) sseRow(ctx context.Context) (row, error) {
	name := fmt.Sprintf("SSE `/api/v1/events/stream`: %d clients, delivery of milestones written at %d/s", h.cfg.sseClients, h.cfg.sseWriteRate)
	fmt.Fprintf(h.stderr, "%s\n", name)
	head, err := h.api.head(ctx)
	if err != nil {
		return row{}, err
	}
	streams, err := connectStreams(ctx, h.api.base, h.api.token, head, h.cfg.sseClients)
	if err != nil {
		return row{}, err
	}
	acks := map[uint64]time.Time{}
	var lastAck time.Time
	var newest uint64
	noPosition := 0
	record := func(r *vegeta.Result) {
		if r.Error != "" {
			return
		}
		pos, err := strconv.ParseUint(r.Headers.Get("X-Samspill-Position"), 10, 64)
		if err != nil {
			noPosition++
			return
		}
		acks[pos] = r.End()
		lastAck = later(lastAck, r.End())
		newest = max(newest, pos)
	}
	before, err := scrapeMetrics(ctx, h.api)
	if err != nil {
		_, _ = streams.stop()
		return row{}, err
	}
	load := loadAverage()
	writes := milestoneWrites(h.api.base, h.api.token, h.run+"-s", h.ids)
	res, err := attack(ctx, h.client, writes, h.cfg.sseWriteRate, h.cfg.duration, "sse", record)
	if err != nil {
		_, _ = streams.stop()
		return row{}, err
	}
	giveUp := lastAck.Add(sseDeadline + sseGrace)
	for !streams.caughtUp(newest) && time.Now().Before(giveUp) && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	after, err := scrapeMetrics(ctx, h.api)
	if err != nil {
		_, _ = streams.stop()
		return row{}, err
	}
	got, streamErr := streams.stop()
	stats := tally(acks, got, sseDeadline)

	r := rowOf(name, h.cfg.sseWriteRate, h.cfg.duration, res)
	r.WriteP99 = r.P99
	r.Errors = uint64(stats.Missing+stats.Late+stats.Duplicates+stats.OutOfOrder) + res.errors + uint64(noPosition)
	r.P50, r.P90, r.P99, r.Max = stats.P50, stats.P90, stats.P99, stats.Max
	r.Target = "every client sees every write within 1 s of its ack"
	ok := stats.ok() && res.errors == 0 && noPosition == 0 && streamErr == nil
	r.Met = &ok
	r.SSE = &stats
	r.WriteErrors = res.errors
	if streamErr != nil {
		r.Notes = append(r.Notes, streamErr.Error())
	}
	if noPosition > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d acknowledged writes had no X-Samspill-Position", noPosition))
	}
	r.Server = viewOf(before, after, milestoneRoute, res.wall)
	r.LoadAverage = (load + loadAverage()) / 2
	return r, nil
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
