package web

import (
	"context"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/history"
	"github.com/samspill/samspill/projections"
	"github.com/samspill/samspill/projections/summaries"
	"github.com/samspill/samspill/projections/timeline"
)

// The pages' ports on the read side: what they ask of the live reads, the
// projection engine and the read models. cmd hands them history.Store,
// projections.Runner and the read models' Queries.

// Partnerships reads single partnerships live from their streams and
// shows their events to each reader (history.Store).
type Partnerships interface {
	State(ctx context.Context, id string, v partnership.View) (partnership.State, uint64, error)
	Read(ctx context.Context, id string, v partnership.View) (partnership.State, []history.HistoryEntry, uint64, error)
	ShowTo(reader auth.Principal) *history.Shower
}

// ReadModels tells how far the read models have come (projections.Runner).
type ReadModels interface {
	WaitFor(ctx context.Context, position uint64, names ...string) error
}

// Summaries answers the lists and the municipality counts
// (summaries.Queries).
type Summaries interface {
	Partnerships(ctx context.Context, f summaries.ListFilter) (summaries.Page[partnership.State], error)
	Count(ctx context.Context, f summaries.ListFilter) (int, error)
	Each(ctx context.Context, f summaries.ListFilter, fn func(partnership.State) error) error
	Municipalities(ctx context.Context) ([]summaries.MunicipalityCount, error)
	Durations(ctx context.Context, municipality string, now time.Time) ([]summaries.Duration, error)
}

// Timelines answers a municipality's timeline, whole or a page of lanes
// (timeline.Queries).
type Timelines interface {
	Timeline(ctx context.Context, code string, f timeline.Filter) (timeline.Timeline, error)
	LanePage(ctx context.Context, code string, lq timeline.LaneQuery) (timeline.LanePage, error)
}

// Users looks personal users up by id (auth.UserStore), to name the
// people behind user ids to the readers who may know them.
type Users = history.Users

// ResearchFiles serves the research files to the pages' signed-in
// browsers, with the API's own handlers (http.Server): a file
// ("spells.dta", "events.ndjson"), "manifest.json" or "datapackage.json"
// with the API's query parameters, for the principal set with
// edge.SetPrincipal; again authenticates the browser anew while a file
// streams. ResearchHead is the newest position, ResearchVersion the
// samspill version the files name.
type ResearchFiles interface {
	ServeResearchFile(c *gin.Context, file string, again func(context.Context) (auth.Principal, error))
	ResearchHead(ctx context.Context) (uint64, error)
	ResearchVersion() string
}

// What cmd hands in answers the ports.
var (
	_ Partnerships = (*history.Store)(nil)
	_ ReadModels   = (*projections.Runner)(nil)
	_ Summaries    = (*summaries.Queries)(nil)
	_ Timelines    = (*timeline.Queries)(nil)
)
