package main

import (
	"bytes"
	"context"
	"io"
	"regexp"
	"strings"
	"testing"
)

func TestProjectionsRebuildCommand(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	if err := run(context.Background(), []string{"demo", "--data", data}, io.Discard, io.Discard, noEnv); err != nil {
		t.Fatal(err)
	}
	// Twice: the second rebuild replaces the first one's generation.
	for range 2 {
		var out bytes.Buffer
		if err := run(context.Background(), []string{"projections", "rebuild", "--data", data}, &out, io.Discard, noEnv); err != nil {
			t.Fatalf("rebuild: %v\n%s", err, out.String())
		}
		for _, name := range []string{"partnership_summaries", "municipality_timeline"} {
			// Not a terminal: plain progress lines, the last one complete.
			done := regexp.MustCompile(`rebuild ` + name + `: (\d+)/(\d+) events \(100%\)`).FindStringSubmatch(out.String())
			if done == nil || done[1] != done[2] || done[1] == "0" {
				t.Fatalf("no complete progress line for %s:\n%s", name, out.String())
			}
			if !strings.Contains(out.String(), name+" rebuilt in ") {
				t.Fatalf("no completion line for %s:\n%s", name, out.String())
			}
		}
	}
	// One projection by name, flags after it.
	var out bytes.Buffer
	if err := run(context.Background(), []string{"projections", "rebuild", "municipality_timeline", "--data", data}, &out, io.Discard, noEnv); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "partnership_summaries") {
		t.Fatalf("rebuilt more than asked:\n%s", out.String())
	}
}

func TestProjectionsCommandErrors(t *testing.T) {
	data := t.TempDir()
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"projections"}, 2, "rebuild"},
		{[]string{"projections", "frobnicate"}, 2, "rebuild"},
		{[]string{"projections", "rebuild", "nope", "--data", data}, 2, `unknown projection "nope"`},
		{[]string{"projections", "rebuild", "a", "b", "--data", data}, 2, "unexpected argument"},
	} {
		var errOut bytes.Buffer
		err := run(context.Background(), tc.args, io.Discard, io.Discard, noEnv)
		code := exitCode(err, &errOut)
		if code != tc.code || strings.Count(errOut.String(), "\n") != 1 || !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and one line with %q", tc.args, code, errOut.String(), tc.code, tc.want)
		}
	}

	// A data folder in use by a server is refused with a clear message.
	unlock, err := lockDataDir(data)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	var errOut bytes.Buffer
	err = run(context.Background(), []string{"projections", "rebuild", "--data", data}, io.Discard, io.Discard, noEnv)
	if code := exitCode(err, &errOut); code != 1 || !strings.Contains(errOut.String(), "in use by another samspill process") {
		t.Fatalf("locked folder: exit %d, stderr %q", code, errOut.String())
	}
}
