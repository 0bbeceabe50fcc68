package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/samspill/samspill/internal/serveproc"
)

const (
	startTimeout = 2 * time.Minute
	stopTimeout  = 30 * time.Second
)

// binary returns the samspill binary to run: the given one, or one built
// into tmp with the go command.
func binary(ctx context.Context, given, tmp string, stderr io.Writer) (string, error) {
	if given != "" {
		if _, err := os.Stat(given); err != nil {
			return "", fmt.Errorf("--samspill: %w", err)
		}
		return given, nil
	}
	fmt.Fprintln(stderr, "building samspill")
	return serveproc.Build(ctx, tmp)
}

// startServe runs serve on dir, listening on addr, with its read models in
// the data folder or, when readModelPostgres is set, in that PostgreSQL,
// and checks that it listens on loopback and printed the admin token of a
// fresh installation.
func startServe(ctx context.Context, bin, dir, addr, readModelPostgres string) (*serveproc.Process, error) {
	args := []string{"serve", "--addr", addr, "--data", dir, "--log-level", "warn"}
	if readModelPostgres != "" {
		args = append(args, "--readmodel", "postgres", "--postgres", readModelPostgres)
	}
	p, err := serveproc.Start(ctx, bin, args, nil, startTimeout)
	if err != nil {
		return nil, err
	}
	if err := checkLoopbackURL(p.URL); err != nil {
		_ = p.Kill()
		return nil, err
	}
	if p.Token == "" {
		_ = p.Kill()
		fresh := "is " + dir + " a fresh data folder?"
		if readModelPostgres != "" {
			fresh = "is --readmodel-postgres an empty database or schema?"
		}
		return nil, fmt.Errorf("serve printed no admin token (%s)\n%s", fresh, p.Output())
	}
	return p, nil
}

// waitCaughtUp polls the projections' status until every one is live at
// head or beyond, reporting progress to stderr every few seconds. A failed
// projection, an exited server or timeout end the wait with an error.
func waitCaughtUp(ctx context.Context, api *apiClient, p *serveproc.Process, head uint64, timeout time.Duration, stderr io.Writer) (time.Duration, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	lastReport := start
	for {
		items, err := api.projections(ctx)
		if err == nil {
			done := len(items) > 0
			least := head
			for _, it := range items {
				if it.Status == "failed" {
					return 0, fmt.Errorf("projection %s failed: %s", it.Name, it.Error)
				}
				if it.Status != "live" || it.Position < head {
					done = false
				}
				least = min(least, it.Position)
			}
			if done {
				return time.Since(start), nil
			}
			if time.Since(lastReport) >= 5*time.Second {
				lastReport = time.Now()
				fmt.Fprintf(stderr, "  projections at %d of %d (%.0f s)\n", least, head, time.Since(start).Seconds())
			}
		}
		select {
		case <-tick.C:
		case <-p.Exited():
			return 0, fmt.Errorf("serve exited while the projections caught up\n%s", p.Output())
		case <-ctx.Done():
			return 0, fmt.Errorf("projections not caught up with %d after %s: %w (last error: %v)", head, time.Since(start).Round(time.Second), ctx.Err(), err)
		}
	}
}
