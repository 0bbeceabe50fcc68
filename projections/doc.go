// Package projections is samspill's projection engine: it runs read models
// over the global event log, keeps a copy of each per generation, rebuilds
// them while the old copy serves, and shares them between instances. The
// read models themselves live in packages of their own, each owning its
// schema, writer, queries and answer types:
//
//   - projections/summaries (partnership_summaries): one row per
//     partnership with its derived state; the list, the municipality
//     counts and the stats.
//   - projections/timeline (municipality_timeline): per municipality its
//     partnerships and one dated entry per event in force.
//
// A read model is a Definition (its tables and a Writer of folded pages);
// cmd hands the engine its definitions (New), and the read models' queries
// read the generation the engine names (Runner.Read, Runner.Version).
// scripts/depcheck.sh checks that the engine names no read model and no
// read model names another.
//
// # Runs
//
// The generations this instance leads that stand at the same position
// share one run (run.go): one Watermill router whose handler is fed by
// the store-backed subscriber of eventstore/pubsub, in position order, a
// page of events per message carried as the message's payload, the next
// page sent only after the ack. The handler decodes the page, folds it
// once for every read model (fold.go: each event decoded once, with its
// partnership's derived state before and after it), and has every
// member's Writer write its rows, then commits them with every member's
// checkpoint in one transaction before it acks (a chunk is written while
// the next is folded). So the read models and their checkpoints move
// together, exactly once, and a crash at any instant, followed by a
// restart from the committed checkpoints, gives exactly the state of a
// full rebuild.
//
// Watermill's middleware handles failures: Retry tries a failed batch
// again in place, which holds the ordered stream; after maxAttempts
// failures the generation the failure names (or every member) stops with
// status failed, its error shown by Status and logged, and the others go
// on. A batch that fails for lack of space (a full disk) is no such
// failure: nothing is wrong with the events or the projection, and more
// space ends it, so it is retried, with pauses growing to at most 5 s, for
// as long as it takes, while Status says why the projection lags. No event
// is ever skipped (there is no PoisonQueue).
//
// Derived state comes from the domain: partnership.State.Next where it is
// exact (the next event, in order or order-independent), partnership.Replay
// over the stream read from the store otherwise (corrections, late-logged
// events). The state before a partnership's first event of a page comes
// from the cache of current states the command side shares (history.States,
// WithStates) where it holds that version, else from a member's state
// table (StateKeeper), else from a replay. Events are immutable, so every
// rebuild reads the same history.
//
// # Generations
//
// A projection's tables exist per generation (name_gN_table). The active
// generation answers queries; a rebuild fills a new one beside it from
// position 0, in a run of its own (without the indexes only queries need,
// which it builds once it has caught up), brings it to the old one's
// position, and swaps the catalog row and the in-memory pointer at once;
// the old tables are dropped when no query reads them any more. A
// generation whose schema version is outdated is replaced on start.
// RebuildOffline rebuilds several projections in one run.
//
// # Instances
//
// The read models live in their own SQLite file (OpenSQLite), separate
// from the events and disposable, or in PostgreSQL (OpenPostgres), shared
// by several instances: one leads each projection (a lease), the others
// follow its progress through the catalog (see docs/decisions/0007).
package projections
