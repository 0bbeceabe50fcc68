package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/samspill/samspill/projections"
	"github.com/samspill/samspill/projections/summaries"
	"github.com/samspill/samspill/projections/timeline"
)

func projectionsCommand(fs *flag.FlagSet, env environment) func(context.Context, []string) error {
	var b backend
	b.dataFlag(fs, "the embedded event store and read models")
	b.eventFlags(fs)
	b.sharedFlags(fs)
	usageWithEnv(fs, "samspill projections rebuild [NAME] [--data ./samspill-data] [--store ...] [--readmodel ...]\n\n"+
		"Rebuilds the named read model ("+strings.Join(readModelNames(), ", ")+";\n"+
		"every one when NAME is omitted) from the events,\n"+
		"with a progress bar on a terminal and log lines otherwise. It is refused while\n"+
		"samspill serve runs on the same data folder, or on the same PostgreSQL read\n"+
		"models; a running server rebuilds online with\n"+
		"POST /api/v1/admin/projections/{name}/rebuild. A damaged readmodels.db is moved\n"+
		"aside to readmodels.db.corrupt-<UTC time> first.")
	return func(ctx context.Context, args []string) error {
		if len(args) == 0 || args[0] != "rebuild" {
			return &usageError{command: "projections ", err: fmt.Errorf("want the subcommand rebuild")}
		}
		if err := b.validate("projections "); err != nil {
			return err
		}
		return rebuildProjections(ctx, b, args[1:], env)
	}
}

// readModels are the read models samspill runs, in the order
// /admin/projections reports them: what cmd hands the projection engine.
func readModels() []projections.Definition {
	return []projections.Definition{summaries.Projection{}, timeline.Projection{}}
}

// readModelNames lists the read models' names.
func readModelNames() []string {
	var names []string
	for _, d := range readModels() {
		names = append(names, d.Name())
	}
	return names
}

// rebuildProjections rebuilds the named projections offline, together:
// the log is read and folded once for all of them.
func rebuildProjections(ctx context.Context, b backend, names []string, env environment) error {
	known := readModelNames()
	if len(names) == 0 {
		names = known
	}
	for _, name := range names {
		if !slices.Contains(known, name) {
			return &usageError{command: "projections ", err: fmt.Errorf("unknown projection %q (known: %s)", name, strings.Join(known, ", "))}
		}
	}
	log := slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	unlock, err := b.lockAll()
	if err != nil {
		return err
	}
	defer unlock()
	store, err := b.openEvents(ctx, log)
	if err != nil {
		return err
	}
	defer store.Close()
	db, err := b.openReadModels(ctx, log)
	if err != nil {
		return err
	}
	defer db.Close()
	runner := projections.New(db, store, readModels(), projections.WithLogger(log))
	defer runner.Close()
	// The projections rebuild together: one bar on a terminal, else one
	// progress line per projection.
	labels := names
	if isTerminal(env.stdout) {
		labels = []string{strings.Join(names, ", ")}
	}
	shows := make([]func(done, total uint64), len(labels))
	for i, label := range labels {
		shows[i] = newProgress(env.stdout, "rebuild "+label)
	}
	start := time.Now()
	err = runner.RebuildOffline(ctx, names, time.Second/4, func(p projections.Progress) {
		for _, show := range shows {
			show(p.Done, p.Total)
		}
	})
	if err != nil {
		return err
	}
	took := time.Since(start).Round(time.Millisecond)
	for _, name := range names {
		fmt.Fprintf(env.stdout, "%s rebuilt in %s\n", name, took)
	}
	return nil
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// newProgress returns a reporter of done out of total events: a bar with
// rate and ETA when w is a terminal, else a log line at most every few
// seconds. label names the work ("rebuild NAME", "import FILE").
func newProgress(w io.Writer, label string) func(done, total uint64) {
	if isTerminal(w) {
		var bar *progressbar.ProgressBar
		return func(done, total uint64) {
			if bar == nil {
				bar = progressbar.NewOptions64(int64(total),
					progressbar.OptionSetWriter(w),
					progressbar.OptionSetDescription(label),
					progressbar.OptionShowCount(),
					progressbar.OptionShowIts(),
					progressbar.OptionSetItsString("events"),
					progressbar.OptionSetPredictTime(true),
					progressbar.OptionThrottle(100*time.Millisecond),
					progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
				)
			}
			_ = bar.Set64(int64(done))
		}
	}
	start := time.Now()
	var last time.Time
	return func(done, total uint64) {
		now := time.Now()
		if now.Sub(last) < 2*time.Second && done < total {
			return
		}
		last = now
		elapsed := now.Sub(start).Seconds()
		rate := float64(done) / max(elapsed, 1e-3)
		eta := "-"
		if rate > 0 {
			eta = (time.Duration(float64(total-done)/rate) * time.Second).Round(time.Second).String()
		}
		pct := 100.0
		if total > 0 {
			pct = 100 * float64(done) / float64(total)
		}
		fmt.Fprintf(w, "%s: %d/%d events (%.0f%%), %.0f events/s, ETA %s\n", label, done, total, pct, rate, eta)
	}
}
