package main

import (
	"bytes"
	"context"
	"io"
	"regexp"
	"strings"
	"testing"
)

// TestReportFlags: serve --help explains --report-min-answers and
// --chromium with their variables; a smallest group below 3, or a
// --chromium that is no program, is a usage error of one line before
// anything is opened.
func TestReportFlags(t *testing.T) {
	var out bytes.Buffer
	_ = run(context.Background(), []string{"serve", "--help"}, &out, io.Discard, noEnv)
	for _, want := range []string{"--report-min-answers", "SAMSPILL_REPORT_MIN_ANSWERS", "--chromium", "SAMSPILL_CHROMIUM", "feedback reports"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("serve --help lacks %q", want)
		}
	}
	for _, args := range [][]string{{"--report-min-answers", "2"}, {"--report-min-answers", "0"}, {"--report-min-answers", "-5"}, {"--chromium", "/nonexistent/chromium"}} {
		var errOut bytes.Buffer
		err := run(context.Background(), append([]string{"serve", "--data", t.TempDir()}, args...), io.Discard, io.Discard, noEnv)
		code := exitCode(err, &errOut)
		if code != 2 || strings.Count(errOut.String(), "\n") != 1 || !strings.Contains(errOut.String(), args[0]) {
			t.Errorf("serve %v: exit %d, stderr %q; want 2 and one line naming the flag", args, code, errOut.String())
		}
	}
	if err := (serveConfig{reportMinAnswers: 3}).checkReports(); err != nil {
		t.Errorf("--report-min-answers 3: %v", err)
	}
}

// TestDemoLoadsSurveys: samspill demo loads the demo's surveys with the
// data set, and a second run writes none of them again.
func TestDemoLoadsSurveys(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	var first, second bytes.Buffer
	if err := run(context.Background(), []string{"demo", "--data", data}, &first, io.Discard, noEnv); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`research project offri-demo with 3 survey waves \((\d+) links and (\d+) responses newly written\)`).FindStringSubmatch(first.String())
	if m == nil || m[1] == "0" || m[2] == "0" {
		t.Fatalf("the first demo load wrote no surveys:\n%s", first.String())
	}
	if err := run(context.Background(), []string{"demo", "--data", data}, &second, io.Discard, noEnv); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(second.String(), "(0 links and 0 responses newly written)") {
		t.Errorf("a second demo load wrote surveys:\n%s", second.String())
	}
}
