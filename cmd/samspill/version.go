package main

import (
	"context"
	"flag"
	"fmt"
	"runtime"
	"runtime/debug"
)

// Set at build time by the Makefile: -ldflags "-X main.version=... -X main.commit=...".
var (
	version = "dev"
	commit  = ""
)

func versionCommand(fs *flag.FlagSet, env environment) func(context.Context, []string) error {
	usageWithEnv(fs, "samspill version")
	return func(context.Context, []string) error {
		fmt.Fprintf(env.stdout, "samspill %s\ncommit %s\n%s\n", version, buildCommit(), runtime.Version())
		return nil
	}
}

// buildCommit is the commit set at link time, else the one Go recorded.
func buildCommit() string {
	if commit != "" {
		return commit
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
	}
	return "unknown"
}
