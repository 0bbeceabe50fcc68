package research_test

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/samspill/samspill/app"
	"github.com/samspill/samspill/domain/calendar"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/eventstore/sqlite"
)

// rCovariatesScript fits both counting-process models of the new columns,
// the left-truncated one (entry_day) and the plain one (tstart), with
// clustered standard errors by partnership, and fails on any warning.
const rCovariatesScript = `
options(warn = 2)
suppressPackageStartupMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], stringsAsFactors = TRUE, colClasses = c(partnership_key = "character", municipality = "character", split_codes = "character"))
stopifnot(nrow(d) > 0, all(d$tstart < d$tstop), all(d$ended %in% c(0, 1)))
stopifnot(is.character(d$municipality), all(nchar(d$municipality) == 4), is.character(d$split_codes))
truncated <- !is.na(d$entry_day)
stopifnot(any(!truncated), all(d$entry_day[truncated] >= d$tstart[truncated]), all(d$entry_day[truncated] < d$tstop[truncated]))
stopifnot(nlevels(d$lead_kind) >= 5, nlevels(d$collaboration_model) == 5, all(c(0, 1) %in% d$funded), any(d$municipality_split == 1))
late <- coxph(Surv(entry_day, tstop, ended) ~ collaboration_model + lead_kind + funded + cluster(partnership_key), data = d)
all <- coxph(Surv(tstart, tstop, ended) ~ collaboration_model + lead_kind + funded + cluster(partnership_key), data = d)
stopifnot(late$n < all$n, all(is.finite(coef(late))), all(is.finite(coef(all))))
cat("rows", nrow(d), "left-truncated rows", late$n, "events", late$nevent, "all rows", all$n, "events", all$nevent, "\n")
`

// TestSpellsWithCovariatesFitInR builds a data set of 300 partnerships
// that vary in collaboration model, lead (none, one of three kinds,
// shared, a lead who leaves), funding, agreements and municipality (some
// in 1507 Ålesund, split in 2024), two in five of them recorded long after
// they began, exports its spells and fits both Cox models with R.
func TestSpellsWithCovariatesFitInR(t *testing.T) {
	rscript := rscript(t, "survival")
	store := generatedStore(t, 300)
	body, sum := exportSpells(t, store, 0, "2026-11-26")
	out := fitR(t, rscript, rCovariatesScript, body)
	if !strings.Contains(out, "left-truncated rows") {
		t.Fatalf("R printed nothing useful: %s", out)
	}
	t.Logf("R survival on %d rows: %s", sum.Rows, strings.TrimSpace(out))
}

// generatedStore loads n partnerships drawn from a fixed seed, each in one
// append recorded on its own day (the store's clock), the service's clock
// at the tests' now.
func generatedStore(t *testing.T, n int) *sqlite.Store {
	t.Helper()
	var recording time.Time
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "events.db"), sqlite.WithClock(func() time.Time { return recording }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	svc := app.New(store, app.WithClock(func() time.Time { return now }))
	r := rand.New(rand.NewPCG(7, 11))
	first := time.Date(2018, time.January, 1, 12, 0, 0, 0, calendar.Oslo)
	sources := []string{"Kommunen", "kommunen ", "Sparebankstiftelsen", "Bufdir", "Gjensidigestiftelsen"}
	for i := range n {
		start := first.AddDate(0, 0, r.IntN(6*365))
		municipality := "0301"
		if start.Year() >= 2020 && start.Year() <= 2022 && i%5 == 0 {
			municipality = "1507"
		}
		init := partnership.PartnershipInitiated{
			PartnershipID: uuid.NewSHA1(uuid.NameSpaceURL, []byte("generated/"+strconv.Itoa(i))).String(),
			Municipality:  municipality, Title: "Samarbeid " + strconv.Itoa(i), ServiceArea: partnership.ServiceAreas[r.IntN(len(partnership.ServiceAreas))],
			CollaborationModel: partnership.CollaborationModels[i%len(partnership.CollaborationModels)], Goals: []string{"Mål"},
			Partners: []partnership.Partner{
				{PartnerID: "a", Name: "Frivilligsentralen", Kind: "voluntary_organisation"},
				{PartnerID: "s", Name: "Gründerhuset", Kind: "social_entrepreneur"},
				{PartnerID: "b", Name: "Byggmester AS", Kind: "private_business"},
				{PartnerID: "m", Name: "Bydelen", Kind: partnership.KindMunicipalUnit},
			},
		}
		type dated struct {
			day int
			ev  partnership.Event
		}
		var steps []dated
		switch r.IntN(6) {
		case 1:
			steps = append(steps, dated{r.IntN(60), lead("a")})
		case 2:
			steps = append(steps, dated{r.IntN(60), lead("s")})
		case 3:
			steps = append(steps, dated{r.IntN(60), lead("m")})
		case 4:
			steps = append(steps, dated{r.IntN(60), lead("a", "b")})
		case 5: // a lead who leaves
			steps = append(steps, dated{r.IntN(60), lead("b")}, dated{60 + r.IntN(300), partnership.PartnerLeft{PartnerID: "b", Reason: "trakk seg"}})
		}
		if r.IntN(2) == 0 {
			for range 1 + r.IntN(3) {
				steps = append(steps, dated{5 + r.IntN(400), partnership.FundingRecorded{AmountNOK: int64(10_000 * (1 + r.IntN(50))), Source: sources[r.IntN(len(sources))], PeriodFrom: "2018-01-01", PeriodUntil: "2030-12-31"}})
			}
		}
		if r.IntN(2) == 0 {
			signed := r.IntN(200)
			from := start.AddDate(0, 0, signed+r.IntN(60)-20)
			until := ""
			if r.IntN(2) == 0 {
				until = calendar.Day(from.AddDate(0, 0, 100+r.IntN(700)))
			}
			steps = append(steps, dated{signed, partnership.AgreementSigned{AgreementType: partnership.AgreementTypes[r.IntN(len(partnership.AgreementTypes))], ValidFrom: calendar.Day(from), ValidUntil: until, Reference: "avtale"}})
		}
		horizon := int(now.Sub(start).Hours()/24) - 1
		end := horizon + 1
		if r.IntN(10) < 6 {
			end = min(30+r.IntN(1500), horizon)
			steps = append(steps, dated{end, partnership.PartnershipEnded{Reason: partnership.EndReasons[r.IntN(len(partnership.EndReasons))]}})
		}
		steps = slices.DeleteFunc(steps, func(s dated) bool {
			_, isEnd := s.ev.(partnership.PartnershipEnded)
			return !isEnd && (s.day >= end || s.day > horizon)
		})
		slices.SortStableFunc(steps, func(a, b dated) int { return a.day - b.day })
		var cmds []partnership.Command
		for _, s := range steps {
			at := start.AddDate(0, 0, s.day).Add(time.Duration(len(cmds)+1) * time.Minute)
			cmds = append(cmds, partnership.Command{Event: s.ev, OccurredAt: &at})
		}
		recording = start.Add(time.Hour)
		if r.IntN(5) < 2 { // recorded later: left truncation
			recording = start.AddDate(0, 0, 30+r.IntN(700))
			if recording.After(now) {
				recording = now
			}
		}
		if _, err := svc.Load(context.Background(), init, start, cmds, app.Meta{}); err != nil {
			t.Fatalf("partnership %d: %v", i, err)
		}
	}
	return store
}
