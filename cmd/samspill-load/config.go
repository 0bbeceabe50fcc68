package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// config is what one run measures and how.
type config struct {
	// samspill is a built samspill binary; "" builds one into a temporary
	// folder.
	samspill string
	// addr is where serve listens; a loopback address, port 0 by default.
	addr string
	// events sizes the generated log.
	events int
	// from is an events.db to copy instead of generating a log.
	from string
	// duration is how long each scenario (and each baseline) runs; warmup
	// runs before each at the same rate, its results discarded.
	duration, warmup time.Duration
	// keep leaves the data folder in place.
	keep bool
	// jsonPath receives the report as JSON too ("-": stdout).
	jsonPath string
	// scenarios are the names of the scenarios to run, in this order.
	scenarios []string
	// Rates per second.
	milestoneRate, readRate, timelineRate, sseWriteRate int
	// sseClients is how many event stream clients connect.
	sseClients int
	// catchUp bounds the wait for the projections after serve starts.
	catchUp time.Duration
	// readModelPostgres, when set, is the PostgreSQL that serve keeps its
	// read models, tokens and keys in (serve --readmodel postgres); the
	// events stay in the data folder.
	readModelPostgres string
}

// Scenario names, in the order they run by default.
const (
	scenarioMilestones  = "milestones"
	scenarioPartnership = "partnership"
	scenarioTimeline    = "timeline"
	scenarioSSE         = "sse"
)

var allScenarios = []string{scenarioMilestones, scenarioPartnership, scenarioTimeline, scenarioSSE}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("samspill-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.samspill, "samspill", "", "a built samspill binary (default: build one into a temporary folder)")
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:0", "address serve listens on: loopback only")
	fs.IntVar(&cfg.events, "events", 50_000, "events in the generated log (20 per partnership, 2,000 partnerships in Arendal 4203)")
	fs.StringVar(&cfg.from, "from", "", "copy this events.db (e.g. from a --keep folder) into the fresh data folder instead of generating a log")
	fs.DurationVar(&cfg.duration, "duration", 10*time.Second, "how long each scenario and each baseline runs")
	fs.DurationVar(&cfg.warmup, "warmup", time.Second, "warm-up before each scenario and baseline, at its rate, not measured")
	fs.BoolVar(&cfg.keep, "keep", false, "keep the data folder (its path is printed)")
	fs.StringVar(&cfg.jsonPath, "json", "", "also write the report as JSON to this file (- for stdout)")
	scenarios := fs.String("scenarios", strings.Join(allScenarios, ","), "comma-separated scenarios to run, in order; \"none\" only measures the start and RSS")
	fs.IntVar(&cfg.milestoneRate, "milestone-rate", 500, "POST /partnerships/{id}/milestones per second")
	fs.IntVar(&cfg.readRate, "read-rate", 2000, "GET /partnerships/{id} per second")
	fs.IntVar(&cfg.timelineRate, "timeline-rate", 200, "GET /municipalities/4203/timeline per second")
	fs.IntVar(&cfg.sseWriteRate, "sse-rate", 100, "milestones per second while the event stream clients listen")
	fs.IntVar(&cfg.sseClients, "sse-clients", 200, "event stream clients")
	fs.StringVar(&cfg.readModelPostgres, "readmodel-postgres", "", "run serve with --readmodel postgres at this connection string (an empty database or schema: serve must make the admin token); the events stay in the data folder")
	fs.DurationVar(&cfg.catchUp, "catchup-timeout", 30*time.Minute, "how long to wait for the projections to catch up after serve starts")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: samspill-load [flags]\n\nRuns samspill serve on loopback over a generated log and measures it under fixed request rates.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if *scenarios != "none" {
		for s := range strings.SplitSeq(*scenarios, ",") {
			if s = strings.TrimSpace(s); s != "" {
				cfg.scenarios = append(cfg.scenarios, s)
			}
		}
	}
	return cfg, cfg.validate()
}

// validate reports every problem with the configuration.
func (c config) validate() error {
	var errs []error
	if err := checkLoopback(c.addr); err != nil {
		errs = append(errs, fmt.Errorf("--addr: %w", err))
	}
	if c.events < 1_000 {
		errs = append(errs, errors.New("--events must be at least 1,000"))
	}
	if c.duration <= 0 {
		errs = append(errs, errors.New("--duration must be positive"))
	}
	if c.warmup < 0 {
		errs = append(errs, errors.New("--warmup must not be negative"))
	}
	for name, rate := range map[string]int{"--milestone-rate": c.milestoneRate, "--read-rate": c.readRate, "--timeline-rate": c.timelineRate, "--sse-rate": c.sseWriteRate, "--sse-clients": c.sseClients} {
		if rate < 1 {
			errs = append(errs, fmt.Errorf("%s must be at least 1", name))
		}
	}
	for _, s := range c.scenarios {
		if !slices.Contains(allScenarios, s) {
			errs = append(errs, fmt.Errorf("--scenarios: unknown scenario %q (known: %s)", s, strings.Join(allScenarios, ", ")))
		}
	}
	return errors.Join(errs...)
}
