package http

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/samspill/samspill/app"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/eventstore/sqlite"
)

// BenchmarkCommandOnALongStream posts a milestone, dated now, through the
// whole handler (authentication, decoding, the stream read once, the
// decision, the append with its fsync) to a partnership that already has
// 200 events, one partnership per iteration's writer so that no two
// appends wait for each other. The baseline, in the same run, is the same
// append made straight on the store (no read, no decision): what the
// command adds to the fsync-bound append is the ratio's distance from 1.
func BenchmarkCommandOnALongStream(b *testing.B) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "events.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	svc := app.New(store)
	at := time.Now().Add(-72 * time.Hour)
	id := uuid.NewString()
	rest := make([]partnership.Command, 199)
	for i := range rest {
		rest[i] = partnership.Command{Event: partnership.MilestoneLogged{Kind: "meeting", Title: fmt.Sprintf("Møte %d", i)}, OccurredAt: new(at.Add(time.Duration(i) * time.Minute))}
	}
	initiation := partnership.PartnershipInitiated{PartnershipID: id, Municipality: "0301", Title: "Lang historie", ServiceArea: "culture",
		CollaborationModel: "network", Partners: []partnership.Partner{{PartnerID: "lag", Name: "Lag", Kind: "voluntary_organisation"}}, Goals: []string{"Mål"}}
	if _, err := svc.Load(ctx, initiation, at.Add(-time.Hour), rest, app.Meta{}); err != nil {
		b.Fatal(err)
	}
	h, err := NewHandler(Config{Service: svc, Store: store, Tokens: testTokens().store, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	body := `{"kind":"meeting","title":"Møte","note":""}`
	post := func() {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/api/v1/partnerships/"+id+"/milestones", strings.NewReader(body))
		req.Header.Set("Authorization", bearer("admin"))
		req.Header.Set("Content-Type", "application/json")
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("POST: %d %s", rec.Code, rec.Body.String())
		}
	}
	post() // the first read fills the states cache
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		post()
	}
	viaHTTP := time.Since(start)
	b.StopTimer()

	other := "partnership-" + uuid.NewString()
	data := []byte(`{"kind":"meeting","title":"Møte","note":""}`)
	start = time.Now()
	for i := range b.N {
		_, err := store.Append(ctx, eventstore.AppendRequest{StreamID: other, Expected: eventstore.Exactly(uint64(i)), Events: []eventstore.NewEvent{{
			EventID: uuid.NewString(), Type: partnership.TypeMilestoneLogged, SchemaVersion: 1, OccurredAt: time.Now(), Data: data,
		}}})
		if err != nil {
			b.Fatal(err)
		}
	}
	direct := time.Since(start)
	b.ReportMetric(float64(b.N)/viaHTTP.Seconds(), "appends/s")
	b.ReportMetric(float64(b.N)/direct.Seconds(), "store_appends/s")
	b.ReportMetric(direct.Seconds()/viaHTTP.Seconds(), "x_store")
}
