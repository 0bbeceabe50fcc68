package research_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// rScript fits the model of the issue to the export and fails on any
// warning (options(warn = 2) turns warnings into errors): the proof that
// the file loads straight into R's survival package.
const rScript = `
options(warn = 2)
suppressPackageStartupMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], stringsAsFactors = TRUE, colClasses = c(partnership_key = "character", municipality = "character", split_codes = "character"))
stopifnot(nrow(d) > 0, all(d$tstart < d$tstop), all(d$ended %in% c(0, 1)))
fit <- coxph(Surv(tstart, tstop, ended) ~ service_area + collaboration_model + n_partners, data = d)
cat("rows", nrow(d), "events", fit$nevent, "\n")
# The model of issue #21 on the demo data: left-truncated at entry_day
# (rows wholly before a partnership was recorded have no entry_day and
# drop out), clustered by partnership.
stopifnot(any(is.na(d$entry_day)), any(d$funded == 1), length(unique(d$lead_kind)) >= 4, length(unique(d$collaboration_model)) >= 4)
lt <- coxph(Surv(entry_day, tstop, ended) ~ collaboration_model + lead_kind + funded + cluster(partnership_key), data = d)
cat("left-truncated rows", lt$n, "events", lt$nevent, "\n")
`

// TestSpellsLoadInRSurvival exports the demo data set's spells and fits
// survival::coxph to them with Rscript, as researchers will.
func TestSpellsLoadInRSurvival(t *testing.T) {
	rscript := rscript(t, "survival")
	store := demoStore(t)
	body, sum := exportSpells(t, store, 0, "2026-11-26")
	out := fitR(t, rscript, rScript, body)
	if !strings.Contains(out, "left-truncated rows") {
		t.Fatalf("R printed nothing useful: %s", out)
	}
	t.Logf("R survival on %d rows: %s", sum.Rows, strings.TrimSpace(out))
}

// fitR runs an R script on a CSV file (its one argument) and returns
// what R printed; any error, warnings included under options(warn = 2),
// fails the test.
func fitR(t *testing.T, rscript, script string, csv []byte) string {
	t.Helper()
	dir := t.TempDir()
	csvPath, scriptPath := filepath.Join(dir, "data.csv"), filepath.Join(dir, "fit.R")
	if err := os.WriteFile(csvPath, csv, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(scriptPath, []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(rscript, "--vanilla", scriptPath, csvPath).CombinedOutput()
	if err != nil {
		t.Fatalf("R failed on the export: %v\n%s", err, out)
	}
	return string(out)
}
