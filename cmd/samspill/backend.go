package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/samspill/samspill/auth"
	authpostgres "github.com/samspill/samspill/auth/postgres"
	authsqlite "github.com/samspill/samspill/auth/sqlite"
	"github.com/samspill/samspill/domain/survey"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/eventstore/kurrent"
	eventspostgres "github.com/samspill/samspill/eventstore/postgres"
	"github.com/samspill/samspill/eventstore/sqlite"
	"github.com/samspill/samspill/history"
	"github.com/samspill/samspill/internal/sqlitedb"
	"github.com/samspill/samspill/personal"
	personalpostgres "github.com/samspill/samspill/personal/postgres"
	personalsqlite "github.com/samspill/samspill/personal/sqlite"
	"github.com/samspill/samspill/projections"
)

// Files inside the data folder: the embedded event store, the read
// models (disposable, rebuilt from the events), the tokens (hashes only)
// and the contacts' personal-data keys (apart from the events, so that
// destroying one erases a person).
const (
	eventsFile     = "events.db"
	readModelsFile = "readmodels.db"
	tokensFile     = "tokens.db"
	keysFile       = "keys.db"
)

// Where the events live (--store) and where the read models live together
// with what every instance must share: tokens, personal-data keys and the
// installation secret (--readmodel).
const (
	storeSQLite   = "sqlite"
	storeESDB     = "esdb"
	storePostgres = "postgres"

	readModelSQLite   = "sqlite"
	readModelPostgres = "postgres"
)

// backend says where a command finds samspill's data: the data folder,
// KurrentDB/EventStoreDB, or PostgreSQL.
//
// The events are in the data folder (sqlite), in KurrentDB (esdb) or in
// PostgreSQL. The read models, tokens, personal-data keys and the
// installation secret are either all in the data folder (sqlite: one
// instance) or all in PostgreSQL (postgres: any number of stateless
// instances share them).
type backend struct {
	data      string
	store     string
	esdb      string
	postgres  string
	readModel string
}

// dataFlag, eventFlags and sharedFlags register the flags of what a
// command uses: the data folder, the event store, and the read models with
// the shared state. --postgres belongs to both of the latter and is
// registered once.
func (b *backend) dataFlag(fs *flag.FlagSet, what string) {
	fs.StringVar(&b.data, "data", "./samspill-data", "data folder of "+what)
	b.store, b.readModel = storeSQLite, readModelSQLite
}

func (b *backend) eventFlags(fs *flag.FlagSet) {
	fs.StringVar(&b.store, "store", storeSQLite, "event store: sqlite (embedded, in --data), esdb (KurrentDB/EventStoreDB at --esdb) or postgres (at --postgres)")
	fs.StringVar(&b.esdb, "esdb", "", "with --store esdb: connection string, e.g. esdb://host:2113 (TLS unless ?tls=false; kurrentdb:// and esdb+discover:// work too)")
	b.postgresFlag(fs)
}

func (b *backend) sharedFlags(fs *flag.FlagSet) {
	fs.StringVar(&b.readModel, "readmodel", readModelSQLite, "read models, tokens, personal-data keys and installation secret: sqlite (in --data, one instance) or postgres (at --postgres, shared by every instance)")
	b.postgresFlag(fs)
}

func (b *backend) postgresFlag(fs *flag.FlagSet) {
	if fs.Lookup("postgres") == nil {
		fs.StringVar(&b.postgres, "postgres", "", "with --store postgres or --readmodel postgres: connection string, e.g. postgres://user@host:5432/db?sslmode=verify-full (its search_path is the schema samspill uses)")
	}
}

// validate checks the combination of flags; command is the usage error's
// command ("serve ").
func (b backend) validate(command string) error {
	var errs []error
	switch b.store {
	case storeSQLite, storeESDB, storePostgres:
	default:
		errs = append(errs, fmt.Errorf("--store %q: want sqlite, esdb or postgres", b.store))
	}
	switch b.readModel {
	case readModelSQLite, readModelPostgres:
	default:
		errs = append(errs, fmt.Errorf("--readmodel %q: want sqlite or postgres", b.readModel))
	}
	switch {
	case b.store == storeESDB && b.esdb == "":
		errs = append(errs, errors.New("--store esdb needs --esdb URL"))
	case b.store != storeESDB && b.esdb != "":
		errs = append(errs, errors.New("--esdb needs --store esdb"))
	}
	usesPostgres := b.store == storePostgres || b.readModel == readModelPostgres
	switch {
	case usesPostgres && b.postgres == "":
		errs = append(errs, errors.New("--store postgres and --readmodel postgres need --postgres URL"))
	case !usesPostgres && b.postgres != "":
		errs = append(errs, errors.New("--postgres needs --store postgres or --readmodel postgres"))
	}
	if len(errs) > 0 {
		return &usageError{command: command, err: errors.Join(errs...)}
	}
	return nil
}

// lockEvents takes the data folder's lock for a command that opens the
// events only, when they are in the data folder (sqlite); with them
// elsewhere nothing is locked: instances share the databases, which
// coordinate them.
//
// Every command that appends events must hold the lock for the events: a
// running server's projections learn of new events from the store's head
// watch, and the embedded store's watch sees only the appends of its own
// process (eventstore/sqlite), so an append from another process on the
// same events.db would go unseen until a restart. The PostgreSQL store
// needs no lock: every append and import transaction sends NOTIFY and
// every store LISTENs (eventstore/postgres, notify.go), and KurrentDB's
// watch is a subscription to $all that sees every writer's events
// (eventstore/kurrent, watch.go).
func (b backend) lockEvents() (unlock func(), err error) {
	if b.store != storeSQLite {
		return func() {}, nil
	}
	return lockDataDir(b.data)
}

// lockAll takes the data folder's lock for a command that opens the
// events and the read models with the shared state, when either keeps
// something of its own in the data folder (see lockEvents).
func (b backend) lockAll() (unlock func(), err error) {
	if b.store != storeSQLite && b.readModel != readModelSQLite {
		return func() {}, nil
	}
	return lockDataDir(b.data)
}

// describe says where the data is, for serve's first line.
func (b backend) describe() string {
	events := map[string]string{storeSQLite: "events in " + b.data, storeESDB: "events in KurrentDB", storePostgres: "events in PostgreSQL"}[b.store]
	if b.readModel == readModelPostgres {
		return events + ", read models and shared state in PostgreSQL"
	}
	return events + ", read models in " + b.data
}

// openEvents opens the event store.
func (b backend) openEvents(ctx context.Context, log *slog.Logger) (eventstore.Store, error) {
	switch b.store {
	case storeESDB:
		return kurrent.Open(ctx, b.esdb, kurrent.WithLogger(log), kurrent.WithStreamPrefixes(history.StreamPrefix, survey.StreamPrefix)) // errors name the server
	case storePostgres:
		store, err := eventspostgres.Open(ctx, b.postgres, eventspostgres.WithLogger(log))
		if err != nil {
			return nil, fmt.Errorf("open event store in PostgreSQL: %w", err)
		}
		return store, nil
	}
	path, err := dataFile(b.data, eventsFile)
	if err != nil {
		return nil, err
	}
	store, err := sqlite.Open(ctx, path, sqlite.WithLogger(log))
	if err != nil {
		return nil, fmt.Errorf("open event store in %s: %w", b.data, err)
	}
	return store, nil
}

// tokenStore is the token, session, user and research project store
// that must be closed.
type tokenStore interface {
	auth.UserStore
	auth.ProjectStore
	auth.SurveyLinkStore
	Close() error
}

// openTokens opens (and creates) the token store, which keeps the pages'
// sign-in sessions, the personal users and the audit log too. Without
// keys it keeps tokens and sessions only: its user methods, which seal and
// open the users' names and e-mails, fail with auth.ErrNoSealer. With
// keys (the store openKeys returned) the users' are sealed under a key of
// their own among them (personal.UserSealer). Its research project methods
// fail with auth.ErrNoProjectSealer: openAuth opens one that keeps them.
func (b backend) openTokens(ctx context.Context, keys ...personal.KeyStore) (tokenStore, error) {
	var sealer auth.Sealer
	if len(keys) > 0 {
		sealer = personal.UserSealer{Keys: keys[0]}
	}
	return b.openAuth(ctx, sealer, nil)
}

// openAuth opens (and creates) the token store with the users' sealer and
// the research projects' (either may be nil: then those methods fail).
func (b backend) openAuth(ctx context.Context, sealer auth.Sealer, projects *auth.ProjectSealer) (tokenStore, error) {
	if b.readModel == readModelPostgres {
		var opts []authpostgres.Option
		if sealer != nil {
			opts = append(opts, authpostgres.WithSealer(sealer))
		}
		if projects != nil {
			opts = append(opts, authpostgres.WithProjectSealer(projects))
		}
		tokens, err := authpostgres.Open(ctx, b.postgres, opts...)
		if err != nil {
			return nil, fmt.Errorf("open tokens in PostgreSQL: %w", err)
		}
		return tokens, nil
	}
	path, err := dataFile(b.data, tokensFile)
	if err != nil {
		return nil, err
	}
	var opts []authsqlite.Option
	if sealer != nil {
		opts = append(opts, authsqlite.WithSealer(sealer))
	}
	if projects != nil {
		opts = append(opts, authsqlite.WithProjectSealer(projects))
	}
	tokens, err := authsqlite.Open(ctx, path, opts...)
	if err != nil {
		return nil, fmt.Errorf("open tokens in %s: %w", b.data, err)
	}
	return tokens, nil
}

// projectSealer seals the research projects' keys under the installation
// secret's key for that purpose alone.
func projectSealer(secret []byte) (*auth.ProjectSealer, error) {
	return auth.NewProjectSealer(derivedKey(secret, "research project keys"))
}

// keyStore is a personal-data key store that must be closed.
type keyStore interface {
	personal.KeyStore
	Close() error
}

// openKeys opens (and creates) the personal-data key store.
func (b backend) openKeys(ctx context.Context) (keyStore, error) {
	if b.readModel == readModelPostgres {
		keys, err := personalpostgres.Open(ctx, b.postgres)
		if err != nil {
			return nil, fmt.Errorf("open personal-data keys in PostgreSQL: %w", err)
		}
		return keys, nil
	}
	path, err := dataFile(b.data, keysFile)
	if err != nil {
		return nil, err
	}
	keys, err := personalsqlite.Open(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("open personal-data keys in %s: %w", b.data, err)
	}
	return keys, nil
}

// secret returns the installation secret: a file of the data folder, or
// kept with the personal-data keys in PostgreSQL (keys must be the store
// openKeys returned).
func (b backend) secret(ctx context.Context, keys keyStore) ([]byte, error) {
	if pg, ok := keys.(*personalpostgres.Keys); ok {
		secret, err := pg.InstallationSecret(ctx)
		if err != nil {
			return nil, fmt.Errorf("installation secret in PostgreSQL: %w", err)
		}
		return secret, nil
	}
	return installationSecret(b.data)
}

// openReadModels opens (and creates) the read models. A damaged read-model
// file in the data folder (sqlitedb.IsCorrupt: not a database, or
// malformed, found on opening it or reading its catalog) is set aside as
// readmodels.db.corrupt-<UTC time>, kept for inspection, and replaced by a
// fresh one: the read models are disposable, and the projections rebuild
// them from the events. Any other error stays an error.
func (b backend) openReadModels(ctx context.Context, log *slog.Logger) (*projections.DB, error) {
	if b.readModel == readModelPostgres {
		db, err := projections.OpenPostgres(ctx, b.postgres)
		if err != nil {
			return nil, err // names PostgreSQL
		}
		return db, nil
	}
	path, err := dataFile(b.data, readModelsFile)
	if err != nil {
		return nil, err
	}
	db, err := projections.OpenSQLite(ctx, path)
	if sqlitedb.IsCorrupt(err) {
		moved, merr := sqlitedb.SetAside(path, time.Now())
		if merr != nil {
			return nil, fmt.Errorf("open read models in %s: %w; and it could not be set aside: %w", b.data, err, merr)
		}
		log.Warn("read models damaged: set aside; the projections rebuild them from the events", "file", path, "moved_to", moved, "err", err)
		db, err = projections.OpenSQLite(ctx, path)
	}
	if err != nil {
		return nil, fmt.Errorf("open read models in %s: %w", b.data, err)
	}
	return db, nil
}

// dataFile returns the path of a file in the data folder, making the
// folder if it does not exist yet.
func dataFile(dataDir, name string) (string, error) {
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return "", fmt.Errorf("create data folder: %w", err)
	}
	return filepath.Join(dataDir, name), nil
}
