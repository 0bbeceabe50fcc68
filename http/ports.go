package http

import (
	"context"
	"time"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/history"
	"github.com/samspill/samspill/personal"
	"github.com/samspill/samspill/projections"
	"github.com/samspill/samspill/projections/summaries"
	"github.com/samspill/samspill/projections/timeline"
)

// The API's ports on the read side: what it asks of the live reads, the
// projection engine and the read models. cmd hands it history.Store,
// projections.Runner and the read models' Queries; a test may hand it
// anything that answers the same.

// Partnerships reads single partnerships live from their streams and
// shows their events to each reader (history.Store).
type Partnerships interface {
	State(ctx context.Context, id string, v partnership.View) (partnership.State, uint64, error)
	Events(ctx context.Context, id string, v partnership.View) ([]history.HistoryEntry, uint64, error)
	Read(ctx context.Context, id string, v partnership.View) (partnership.State, []history.HistoryEntry, uint64, error)
	ShowTo(reader auth.Principal) *history.Shower
	Keys() personal.KeyStore
}

// ReadModels is the projection engine: how far the read models have come,
// and their rebuilds (projections.Runner).
type ReadModels interface {
	WaitFor(ctx context.Context, position uint64, names ...string) error
	Status(ctx context.Context) ([]projections.Status, error)
	Rebuild(ctx context.Context, name string) error
}

// Summaries answers the partnership list, the municipality counts and the
// stats (summaries.Queries).
type Summaries interface {
	Partnerships(ctx context.Context, f summaries.ListFilter) (summaries.Page[partnership.State], error)
	Municipalities(ctx context.Context) ([]summaries.MunicipalityCount, error)
	Stats(ctx context.Context, municipality string, now time.Time) (summaries.Stats, error)
}

// Timelines answers a municipality's timeline (timeline.Queries).
type Timelines interface {
	Timeline(ctx context.Context, code string, f timeline.Filter) (timeline.Timeline, error)
}

// Users looks personal users up by id (auth.UserStore), to name the
// people behind user ids to the readers who may know them.
type Users = history.Users

// What cmd hands in answers the ports.
var (
	_ Partnerships = (*history.Store)(nil)
	_ ReadModels   = (*projections.Runner)(nil)
	_ Summaries    = (*summaries.Queries)(nil)
	_ Timelines    = (*timeline.Queries)(nil)
)
