package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// errHelpShown ends a run after --help printed the usage.
var errHelpShown = errors.New("help shown")

// usageError is a mistake on the command line.
type usageError struct {
	command string // "serve " or "" for the top level
	err     error
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// command is one subcommand of samspill.
type command struct {
	name    string
	summary string
	// flags registers the command's flags and returns the function that runs
	// it once they are parsed, with the positional arguments.
	flags func(fs *flag.FlagSet, env environment) func(ctx context.Context, args []string) error
	// maxArgs is how many positional arguments the command takes.
	maxArgs int
}

// environment is what a command may use of the outside world besides ctx.
type environment struct {
	stdout, stderr io.Writer
	getenv         func(string) string
}

func commands() []command {
	return []command{
		{name: "serve", summary: "run the API, the pages and the projections (embedded store or KurrentDB)", flags: serveCommand},
		{name: "demo", summary: "load the demo data set (idempotent)", flags: demoCommand},
		{name: "projections", summary: "rebuild read models from the events (projections rebuild [NAME])", flags: projectionsCommand, maxArgs: 2},
		{name: "token", summary: "make, list and revoke access tokens (token create|list|revoke)", flags: tokenCommand, maxArgs: 2},
		{name: "user", summary: "list, grant, disable, enable and erase personal users (user list|grant|mappings|disable|enable|erase)", flags: userCommand, maxArgs: 2},
		{name: "project", summary: "make, grant and list research projects, rotate and export their keys (project create|list|show|grant|revoke|rotate-key|export-key)", flags: projectCommand, maxArgs: 3},
		{name: "audit", summary: "show the audit log of who changed who may do what", flags: auditCommand},
		{name: "export", summary: "write a research export (export events|spells|...) with its manifest and codebook", flags: exportCommand, maxArgs: 1},
		{name: "import", summary: "append the events of an 'export events' file to an empty store", flags: importCommand, maxArgs: 1},
		{name: "version", summary: "print version, commit and Go version", flags: versionCommand},
	}
}

// run executes samspill with the arguments after the program name.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	env := environment{stdout: stdout, stderr: stderr, getenv: getenv}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		topUsage(stdout)
		if len(args) == 0 {
			return &usageError{err: errors.New("no command given")}
		}
		return errHelpShown
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		fs := flag.NewFlagSet("samspill "+c.name, flag.ContinueOnError)
		fs.SetOutput(stdout)
		runCmd := c.flags(fs, env)
		positional, err := parseFlags(fs, args[1:], getenv)
		if err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return errHelpShown
			}
			return &usageError{command: c.name + " ", err: err}
		}
		if len(positional) > c.maxArgs {
			return &usageError{command: c.name + " ", err: fmt.Errorf("unexpected argument %q", positional[c.maxArgs])}
		}
		return runCmd(ctx, positional)
	}
	return &usageError{err: fmt.Errorf("unknown command %q", args[0])}
}

func topUsage(w io.Writer) {
	fmt.Fprintln(w, "samspill: event-sourced tracker of public–voluntary collaboration cases.")
	fmt.Fprintln(w, "\nUsage: samspill COMMAND [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nEvery flag can also be set as SAMSPILL_<FLAG> in the environment (e.g. SAMSPILL_ADDR);")
	fmt.Fprintln(w, "a flag on the command line wins. Run 'samspill COMMAND --help' for a command's flags.")
}

// parseFlags parses the command line, flags and positional arguments in any
// order, then fills every flag not given there from SAMSPILL_<NAME> (upper
// case, '-' as '_'). It returns the positional arguments.
func parseFlags(fs *flag.FlagSet, args []string, getenv func(string) string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		name := envName(f.Name)
		v := getenv(name)
		if given[f.Name] || v == "" {
			return
		}
		if err := fs.Set(f.Name, v); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: %w", name, v, err))
		}
	})
	return positional, errors.Join(errs...)
}

func envName(flagName string) string {
	return "SAMSPILL_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// usageWithEnv prints a command's usage with the environment variable of
// each flag.
func usageWithEnv(fs *flag.FlagSet, synopsis string) {
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: %s\n\nFlags:\n", synopsis)
		fs.VisitAll(func(f *flag.Flag) {
			fmt.Fprintf(w, "  --%s (env %s)\n    \t%s", f.Name, envName(f.Name), f.Usage)
			if f.DefValue != "" && f.DefValue != "false" {
				fmt.Fprintf(w, " (default %q)", f.DefValue)
			}
			fmt.Fprintln(w)
		})
	}
}
