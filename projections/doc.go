// Package projections holds samspill's read models: Watermill handlers that
// fold the global event log into tables, and the queries that read them.
//
// Two projections exist:
//
//   - partnership_summaries: one row per partnership with its derived state
//     (exactly what GET /partnerships/{id} shows), filter columns and a
//     search text. It answers the partnership list, the municipality counts
//     and the stats: those are aggregates over the same rows, computed at
//     query time, so no second copy of per-partnership status can drift.
//   - municipality_timeline: per municipality (by today's code, old codes
//     mapped through SSB's change table) its partnerships and one dated
//     entry per event in force, corrections applied.
//
// Each projection runs in its own Watermill router, fed by the store-backed
// subscriber of eventstore/pubsub, which delivers the log in position order,
// a page of events per message, and waits for each ack. The handler folds
// the page outside any transaction and then writes its rows, together with
// the projection's checkpoint, in one transaction, which runs while the
// next page is folded (one commit at a time, in order); a run always starts
// from the committed checkpoint. So a crash at any instant,
// followed by a restart, gives exactly the state of a full rebuild. A batch
// that fails is rolled back and the run restarts from the checkpoint; after
// repeated failures without progress the projection stops with status
// failed, its error shown by Status and logged. A batch that fails for lack
// of space (a full disk) is no such failure: nothing is wrong with the
// events or the projection, and more space ends it, so the run is retried
// from the checkpoint, with pauses growing to at most 5 s, for as long as
// it takes, while Status says why the projection lags. No event is ever
// skipped.
//
// Derived state comes from the domain: partnership.State.Next where it is
// exact (the next event, in order or order-independent), partnership.Replay
// over the stream read from the store otherwise (corrections, late-logged
// events). Events are immutable, so every rebuild reads the same history.
//
// A projection's tables exist per generation (name_gN_table). The active
// generation answers queries; a rebuild fills a new one beside it from
// position 0 (without the indexes only queries need, which it builds once
// it has caught up), brings it to the old one's position, and swaps the
// catalog row and the in-memory pointer at once; the old tables are dropped when no
// query reads them any more. A generation whose schema version is outdated
// is replaced on start.
//
// The read models live in their own SQLite file (OpenSQLite), separate from
// the events and disposable: deleting it rebuilds everything on the next
// start.
package projections
