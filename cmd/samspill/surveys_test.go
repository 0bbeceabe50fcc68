package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/samspill/samspill/app"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/domain/survey"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/eventstore/kurrent/kurrenttest"
	evsqlite "github.com/samspill/samspill/eventstore/sqlite"
	"github.com/samspill/samspill/projections/projectionstest"
	"github.com/samspill/samspill/projections/summaries"
)

// TestPublicURLFlag: serve --help explains --public-url and its variable;
// a --public-url that is not an absolute http(s) URL of a host is a usage
// error of one line before anything is opened.
func TestPublicURLFlag(t *testing.T) {
	var out bytes.Buffer
	_ = run(context.Background(), []string{"serve", "--help"}, &out, io.Discard, noEnv)
	for _, want := range []string{"--public-url", "SAMSPILL_PUBLIC_URL", "survey response links"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("serve --help lacks %q", want)
		}
	}
	for _, bad := range []string{"samspill.example.no", "ftp://samspill.example.no", "https://", "https://x.example.no/?a=1", "https://u:p@x.example.no", "https://x.example.no/#top"} {
		var errOut bytes.Buffer
		err := run(context.Background(), []string{"serve", "--data", t.TempDir(), "--public-url", bad}, io.Discard, io.Discard, noEnv)
		code := exitCode(err, &errOut)
		if code != 2 || strings.Count(errOut.String(), "\n") != 1 || !strings.Contains(errOut.String(), "--public-url") {
			t.Errorf("--public-url %q: exit %d, stderr %q; want 2 and one line naming the flag", bad, code, errOut.String())
		}
	}
	for _, good := range []string{"", "https://samspill.example.no", "http://127.0.0.1:8080/", "https://example.no/samspill"} {
		if err := checkPublicURL(good); err != nil {
			t.Errorf("checkPublicURL(%q) = %v", good, err)
		}
	}
}

// TestSurveyDirectoryFromSummaries: the respondents' choices are the
// municipality's partnerships that have not ended, by title, from the
// real summaries read model, across more than one page of it; survey
// events in the log do not disturb the projection.
func TestSurveyDirectoryFromSummaries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, err := evsqlite.Open(ctx, filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	svc := app.New(store)
	in2021 := time.Date(2021, time.May, 2, 10, 0, 0, 0, time.UTC)
	initiate := func(municipality, title string) string {
		res, err := svc.Initiate(ctx, partnership.Command{Event: partnership.PartnershipInitiated{
			Municipality: municipality, Title: title, ServiceArea: "education", CollaborationModel: "network", Goals: []string{"Mål"},
			Partners: []partnership.Partner{{PartnerID: "a", Name: "Røde Kors", Kind: "voluntary_organisation"}},
		}, OccurredAt: &in2021}, app.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		return res.State.ID
	}
	var want []string
	for i := range directoryPage + 3 {
		title := fmt.Sprintf("Leksehjelp %04d", i)
		initiate("5006", title)
		want = append(want, title)
	}
	ended := initiate("5006", "Aaa avsluttet")
	if _, err := svc.Execute(ctx, ended, partnership.Command{Event: partnership.PartnershipEnded{Reason: "completed"}}, app.Meta{}); err != nil {
		t.Fatal(err)
	}
	initiate("0301", "Oslo")
	if _, err := store.Append(ctx, eventstore.AppendRequest{StreamID: survey.ResponseStream("0123456789abcdef0123456789abcdef"),
		Events: []eventstore.NewEvent{{EventID: uuid.NewString(), Type: survey.TypeSurveyAnswersSaved, SchemaVersion: 1,
			OccurredAt: in2021, Data: []byte(`{"answers":{}}`)}}}); err != nil {
		t.Fatal(err)
	}
	runner := projectionstest.Start(t, store, slog.New(slog.DiscardHandler))
	projectionstest.CatchUp(t, runner, store)
	got, err := surveyDirectory{summaries.NewQueries(runner)}.Partnerships(ctx, "5006")
	if err != nil {
		t.Fatal(err)
	}
	var titles []string
	for _, c := range got {
		if c.ID == "" || c.ID == ended {
			t.Errorf("choice %+v", c)
		}
		titles = append(titles, c.Name)
	}
	if !slices.Equal(titles, want) {
		t.Errorf("%d choices, want %d (by title, none ended, none of Oslo)", len(titles), len(want))
	}
}

// TestKurrentDBHoldsSurveyStreams: the KurrentDB store serve opens takes
// the survey streams beside the partnerships' (its prefixes name both)
// and its log shows them.
func TestKurrentDBHoldsSurveyStreams(t *testing.T) {
	server, err := kurrenttest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(server.Stop)
	ctx := context.Background()
	store, err := backend{store: storeESDB, esdb: server.URL()}.openEvents(ctx, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	res, err := store.Append(ctx, eventstore.AppendRequest{StreamID: survey.WaveStream(uuid.NewString()), Expected: eventstore.NoStream(),
		Events: []eventstore.NewEvent{{EventID: uuid.NewString(), Type: survey.TypeSurveyWaveScheduled, SchemaVersion: 1,
			OccurredAt: time.Now(), Data: []byte(`{"wave_id":"w"}`)}}})
	if err != nil {
		t.Fatalf("append to a survey stream: %v", err)
	}
	events, err := store.ReadAll(ctx, 0, 10)
	if err != nil || len(events) != 1 || events[0].Position != res.LastPosition() {
		t.Fatalf("ReadAll = %+v, %v", events, err)
	}
}
