// Command samspill-load measures a local `samspill serve` under fixed
// request rates: it generates a log straight into a fresh data folder's
// embedded store (internal/synth), starts serve on loopback as a child
// process (internal/serveproc), waits until the projections have caught up,
// and then drives one scenario after another with vegeta's constant pacer:
// milestones posted, single partnerships read, a large municipality's
// timeline read, and 200 server-sent-event clients that must each see every
// written event within a second of its acknowledgement. Before each HTTP
// scenario it measures GET /healthz at the same rate, the floor of the HTTP
// stack in the same run. It prints a Markdown table of latency
// percentiles, errors, baselines and targets met; a second one with the
// server's own view of each scenario (its /metrics: request histogram, CPU,
// Go heap allocated per request); and the serve process's peak resident set
// (VmHWM from /proc) once the projections have caught up and at the end.
//
// It talks to loopback addresses only and refuses any other. Run it from
// inside the module (it builds samspill with the go command unless given
// --samspill): `make load`, or `go run ./cmd/samspill-load --help`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	default:
		fmt.Fprintf(os.Stderr, "samspill-load: %v\n", err)
		os.Exit(1)
	}
}

// run parses args, runs the whole measurement and writes the report to
// stdout; progress goes to stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	return measure(ctx, cfg, stdout, stderr)
}
