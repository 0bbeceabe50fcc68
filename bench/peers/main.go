// Command peers measures samspill's event stores side by side with a
// peer's, hallgren/eventsourcing's SQL event store (eventstore/sql
// v0.7.0), and with raw database/sql baselines, on the same machine in the
// same run: four workloads (one writer, 64 writers, a scan of the log in
// global order, loads of whole streams), on SQLite and, when a server is
// given, on PostgreSQL.
//
// Every round runs every workload once for every side, in an order that
// rotates from round to round, each on a fresh store (a new SQLite file, a
// new PostgreSQL schema). The report gives each side's min, median and max
// over the rounds and the ratio of samspill to each other side within a
// round (min, median, max of those ratios), which is the figure to trust
// on a shared machine.
//
// It is a module of its own (bench/peers/go.mod), so that the product's
// go.mod never depends on the peer. Run it from the repository's root:
//
//	make bench-peers
//	cd bench/peers && go run . -rounds 5 -postgres 'postgres://root@127.0.0.1:5432/test?sslmode=disable'
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"runtime/pprof"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "peers:", err)
		os.Exit(1)
	}
}

// config is what the flags set.
type config struct {
	rounds     int
	single     int // appends of the one writer
	concurrent int // appends of the 64 writers together
	writers    int
	streams    int // streams of the log that scan and loads read
	perStream  int // events per stream
	page       int // samspill's ReadAll page
	loads      int // stream loads per side and round
	postgres   string
	dir        string
	only       *regexp.Regexp
	cpuprofile string
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("peers", flag.ContinueOnError)
	var c config
	var only string
	fs.IntVar(&c.rounds, "rounds", 5, "rounds; each runs every workload once for every side, on fresh stores")
	fs.IntVar(&c.single, "single", 2000, "appends of one event by the one writer")
	fs.IntVar(&c.concurrent, "concurrent", 10000, "appends of one event by the concurrent writers, together")
	fs.IntVar(&c.writers, "writers", 64, "concurrent writers, each on a stream of its own")
	fs.IntVar(&c.streams, "streams", 2000, "streams in the log that the scan and the stream loads read")
	fs.IntVar(&c.perStream, "per-stream", 100, "events per stream of that log")
	fs.IntVar(&c.page, "page", 2000, "events per ReadAll page of samspill's scan")
	fs.IntVar(&c.loads, "loads", 1000, "whole-stream loads per side and round")
	fs.StringVar(&c.postgres, "postgres", os.Getenv("SAMSPILL_TEST_POSTGRES_URL"),
		"PostgreSQL connection string (each store gets a fresh schema in its database); empty: SQLite only")
	fs.StringVar(&c.dir, "dir", "", "folder for the SQLite files (default: a new temporary folder)")
	fs.StringVar(&only, "only", "", "run only the measurements whose \"backend/workload/side\" matches this regular expression")
	fs.StringVar(&c.cpuprofile, "cpuprofile", "", "write a CPU profile of the whole run to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if c.rounds < 1 || c.single < 1 || c.concurrent < 1 || c.writers < 1 || c.streams < 1 || c.perStream < 1 || c.page < 1 || c.loads < 1 {
		return errors.New("every count must be at least 1")
	}
	var err error
	if c.only, err = regexp.Compile(only); err != nil {
		return fmt.Errorf("-only: %w", err)
	}
	if c.dir == "" {
		if c.dir, err = os.MkdirTemp("", "samspill-peers-"); err != nil {
			return err
		}
		defer os.RemoveAll(c.dir)
	}
	if c.cpuprofile != "" {
		f, err := os.Create(c.cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}

	backends := []backend{sqliteBackend(c.dir)}
	if c.postgres != "" {
		backends = append(backends, postgresBackend(c.postgres))
	} else {
		fmt.Fprintln(out, "PostgreSQL skipped: give -postgres or set SAMSPILL_TEST_POSTGRES_URL")
	}
	results := newResults()
	start := time.Now()
	for round := range c.rounds {
		for _, b := range backends {
			if err := runRound(ctx, c, b, round, results); err != nil {
				return fmt.Errorf("round %d, %s: %w", round+1, b.name, err)
			}
		}
		fmt.Fprintf(out, "round %d of %d done (%s)\n", round+1, c.rounds, time.Since(start).Round(time.Second))
	}
	fmt.Fprintln(out)
	results.print(out, c, backends)
	return nil
}
