package research_test

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/samspill/samspill/demo"
	"github.com/samspill/samspill/domain/survey"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/eventstore/sqlite"
	"github.com/samspill/samspill/history"
	"github.com/samspill/samspill/research"
)

// BenchmarkResponses exports 500 responses (the load) about the
// demo's partnerships, each about one or two, joined to their covariates:
// every partnership's spells are derived once per export.
func BenchmarkResponses(b *testing.B) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "events.db"), sqlite.WithClock(func() time.Time { return now }))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = store.Close() })
	if _, err := demo.Load(ctx, store, now); err != nil {
		b.Fatal(err)
	}
	at, err := store.Head(ctx)
	if err != nil {
		b.Fatal(err)
	}
	streams, err := eventstore.Streams(ctx, store, history.StreamPrefix, at)
	if err != nil || len(streams) == 0 {
		b.Fatal(err)
	}
	appendSurvey(b, store, survey.QuestionnaireStream(leaders.ID), survey.QuestionnairePublished{Questionnaire: leaders})
	appendSurvey(b, store, survey.WaveStream(offriWave.ID), survey.SurveyWaveScheduled{Wave: offriWave})
	for i := range 500 {
		ps := []string{streams[i%len(streams)][len(history.StreamPrefix):]}
		if i%3 == 0 {
			ps = append(ps, streams[(i+7)%len(streams)][len(history.StreamPrefix):])
		}
		answers := survey.Answers{"leadership": {fmt.Sprint(1 + i%5)}, "channels": {"email"}, "hours": {fmt.Sprint(i % 40)}}
		id := fmt.Sprintf("r%d", i)
		appendSurvey(b, store, survey.ResponseStream(id),
			survey.SurveyResponseStarted{WaveID: offriWave.ID, Municipality: "0301", Group: offriWave.Group, Language: "nb"},
			survey.SurveyResponseSubmitted{Answers: answers, Partnerships: ps, AnsweredOn: "2026-11-20"})
	}
	at, err = store.Head(ctx)
	if err != nil {
		b.Fatal(err)
	}
	f := research.File{Export: research.KindResponses, Position: at, AsOf: "2026-11-26", Keys: offriKeys(), Wave: offriWave.ID}
	for _, format := range research.Formats {
		b.Run(format, func(b *testing.B) {
			f.Format = format
			rows := 0
			for b.Loop() {
				sum, err := f.Write(ctx, store, io.Discard, secret)
				if err != nil {
					b.Fatal(err)
				}
				rows = sum.Rows
			}
			b.ReportMetric(float64(rows), "rows")
		})
	}
}
