// Package projections will hold samspill's read models: Watermill handlers
// that fold the global event log into tables (partnership summaries,
// municipality timelines, municipalities, stats), each committing its
// read-model change and its checkpoint in one transaction, rebuildable from
// position 0 at any time.
//
// It is empty until the projections issue: the foundation serves single
// partnerships live from their streams (app.Service.State), which needs no
// read model. The event store port already offers what a store-fed Watermill
// subscriber needs: ReadAll from a position and HeadMoved to wake without
// polling.
package projections
