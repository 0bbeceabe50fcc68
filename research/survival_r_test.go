package research_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/research"
	"github.com/samspill/samspill/research/survival"
)

// survfitScript prints, for the curve of all partnerships and for one per
// collaboration model, every event time's survival and 95 % limits and
// the median with its limits, at full precision.
const survfitScript = `
options(warn = 2)
suppressPackageStartupMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], colClasses = c(partnership_key = "character", municipality = "character"))
show <- function(fit, names) {
  s <- summary(fit)
  strata <- if (is.null(s$strata)) rep("all", length(s$time)) else sub("collaboration_model=", "", as.character(s$strata))
  for (i in seq_along(s$time)) cat("step", strata[i], sprintf("%.17g", c(s$time[i], s$surv[i], s$lower[i], s$upper[i])), "\n")
  tab <- s$table
  if (is.null(dim(tab))) tab <- t(tab)
  for (i in seq_len(nrow(tab))) cat("median", names[i], sprintf("%.17g", tab[i, c("median", "0.95LCL", "0.95UCL")]), "\n")
}
show(survfit(Surv(tstart, tstop, ended) ~ 1, data = d, id = partnership_key), "all")
byModel <- survfit(Surv(tstart, tstop, ended) ~ collaboration_model, data = d, id = partnership_key)
show(byModel, sub("collaboration_model=", "", names(byModel$strata)))
`

// TestKaplanMeierMatchesRSurvfit exports the spells of partnerships in a
// store, estimates Kaplan–Meier curves per partnership in Go (time = the
// last tstop, event = ended) and compares them with R's survfit on the
// same file: survival within 1e-9, confidence limits within 1e-6, the
// medians exactly.
func TestKaplanMeierMatchesRSurvfit(t *testing.T) {
	rscript := rscript(t, "survival")
	clock := time.Date(2024, 7, 1, 12, 0, 0, 0, time.UTC)
	s := clockStore(t, &clock)
	models := partnership.CollaborationModels
	start := time.Date(2019, 1, 7, 0, 0, 0, 0, time.UTC)
	for i := range 75 {
		id := fmt.Sprintf("p%02d", i)
		day0 := start.AddDate(0, 0, i*17)
		date := func(days int) string { return day0.AddDate(0, 0, days).Format(time.DateOnly) }
		steps := []any{date(0), partnership.PartnershipInitiated{PartnershipID: id, Municipality: "0301", Title: "Samarbeid " + id,
			ServiceArea: "culture", CollaborationModel: models[i%len(models)], Goals: []string{"Mål"}, Partners: []partnership.Partner{orgC}}}
		steps = append(steps, date(5+i%11), partnership.PartnerJoined{Partner: orgA})
		if i%3 != 0 {
			// Durations repeat every 7 partnerships: ties within a model.
			steps = append(steps, date(60+(i%7)*110), partnership.PartnershipEnded{Reason: "completed", Outcome: "ferdig"})
		}
		record(t, s, id, steps...)
	}
	e, _ := research.Lookup("spells")
	var body bytes.Buffer
	o := research.Options{Position: head(t, s), AsOf: "2024-06-30", Keys: research.OneOffKeys(secret, "r")}
	if _, err := research.WriteTable(context.Background(), &body, research.FormatCSV, e.Table, e.Rows(context.Background(), s, o)); err != nil {
		t.Fatal(err)
	}

	// One duration per partnership, from its last row.
	records, err := csv.NewReader(bytes.NewReader(body.Bytes())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, name := range records[0] {
		col[name] = i
	}
	type subject struct {
		model string
		time  float64
		ended bool
	}
	var order []string
	last := map[string]subject{}
	for _, r := range records[1:] {
		key := r[col["partnership_key"]]
		if _, ok := last[key]; !ok {
			order = append(order, key)
		}
		tstop, err := strconv.ParseFloat(r[col["tstop"]], 64)
		if err != nil {
			t.Fatal(err)
		}
		last[key] = subject{r[col["collaboration_model"]], tstop, r[col["ended"]] == "1"}
	}
	if len(order) != 75 || len(records)-1 <= 75 {
		t.Fatalf("%d partnerships in %d rows: want 75 with several spells each", len(order), len(records)-1)
	}
	curves := map[string]survival.Curve{}
	for _, name := range append([]string{"all"}, models...) {
		var times []float64
		var events []bool
		for _, k := range order {
			if sub := last[k]; name == "all" || sub.model == name {
				times, events = append(times, sub.time), append(events, sub.ended)
			}
		}
		curves[name] = survival.KaplanMeier(times, events)
	}

	out := fitR(t, rscript, survfitScript, body.Bytes())

	nextEvent := map[string]int{} // index into the curve's steps
	compared, medians := 0, 0
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 5 {
			t.Fatalf("unexpected R output line %q", sc.Text())
		}
		c, ok := curves[f[1]]
		if !ok {
			t.Fatalf("R names a curve %q Go does not have", f[1])
		}
		v := make([]float64, len(f)-2)
		for i := range v {
			v[i] = parseR(t, f[i+2])
		}
		switch {
		case f[0] == "step" && len(v) == 4:
			// summary(survfit) lists event times only.
			k := nextEvent[f[1]]
			for k < len(c.Steps) && c.Steps[k].Events == 0 {
				k++
			}
			if k == len(c.Steps) {
				t.Fatalf("%s: R has an event at %v that Go does not", f[1], v[0])
			}
			st := c.Steps[k]
			nextEvent[f[1]] = k + 1
			if st.Time != v[0] || math.Abs(st.Survival-v[1]) > 1e-9 || !close6(st.Lower, v[2]) || !close6(st.Upper, v[3]) {
				t.Errorf("%s: Go at %v S=%.12g [%.9g, %.9g]; R at %v S=%.12g [%.9g, %.9g]", f[1], st.Time, st.Survival, st.Lower, st.Upper, v[0], v[1], v[2], v[3])
			}
			compared++
		case f[0] == "median" && len(v) == 3:
			m, lo, hi, _ := survival.Median(c)
			if !same(m, v[0]) || !same(lo, v[1]) || !same(hi, v[2]) {
				t.Errorf("%s: Go median %v [%v, %v], R %v [%v, %v]", f[1], m, lo, hi, v[0], v[1], v[2])
			}
			medians++
		default:
			t.Fatalf("unexpected R output line %q", sc.Text())
		}
	}
	if compared < 40 || medians != 1+len(models) {
		t.Fatalf("compared only %d event times and %d medians:\n%s", compared, medians, out)
	}
	t.Logf("Go and R survfit agree at %d event times and on %d medians", compared, medians)
}

// parseR reads a number R printed with %.17g (NA and NaN as NaN).
func parseR(t *testing.T, s string) float64 {
	t.Helper()
	if s == "NA" || s == "NaN" {
		return math.NaN()
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("R printed %q: %v", s, err)
	}
	return v
}

func close6(a, b float64) bool { return same(a, b) || math.Abs(a-b) <= 1e-6 }

func same(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }
