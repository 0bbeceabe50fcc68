// Command samspill is the event-sourced collaboration case tracker: it
// serves the API on the embedded event store, loads the demo data set and
// reports its version. See the README's Configuration table and
// `samspill --help`.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// exitCode prints err as one line and maps it to the process status: 0 for
// success and for --help, 2 for usage errors, 1 for everything else.
func exitCode(err error, stderr io.Writer) int {
	var usage *usageError
	switch {
	case err == nil, errors.Is(err, errHelpShown):
		return 0
	case errors.As(err, &usage):
		fmt.Fprintf(stderr, "samspill: %v (see samspill %s--help)\n", err, usage.command)
		return 2
	default:
		fmt.Fprintf(stderr, "samspill: %v\n", err)
		return 1
	}
}
