package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/samspill/samspill/app"
	"github.com/samspill/samspill/auth"
	authsqlite "github.com/samspill/samspill/auth/sqlite"
	"github.com/samspill/samspill/demo"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/eventstore/kurrent"
	"github.com/samspill/samspill/eventstore/sqlite"
	httpapi "github.com/samspill/samspill/http"
	"github.com/samspill/samspill/personal"
	personalsqlite "github.com/samspill/samspill/personal/sqlite"
	"github.com/samspill/samspill/projections"
	"github.com/samspill/samspill/web"
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

// Timeouts of the HTTP server: slow clients cannot hold connections open
// forever, and shutdown waits this long for requests in flight.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 120 * time.Second
	shutdownTimeout   = 15 * time.Second
)

type serveConfig struct {
	addr     string
	data     string
	demo     bool
	logLevel slog.Level
	store    string // "sqlite" (embedded, in data) or "esdb"
	esdb     string // the KurrentDB/EventStoreDB connection string
}

// Event stores serve can run on.
const (
	storeSQLite = "sqlite"
	storeESDB   = "esdb"
)

func serveCommand(fs *flag.FlagSet, env environment) func(context.Context, []string) error {
	var cfg serveConfig
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:8080", "address to listen on (host:port; port 0 picks a free one)")
	fs.StringVar(&cfg.data, "data", "./samspill-data", "data folder of the embedded event store and read models")
	fs.BoolVar(&cfg.demo, "demo", false, "load the demo data set first if the store is empty")
	fs.TextVar(&cfg.logLevel, "log-level", slog.LevelInfo, "log level: debug, info, warn, error")
	fs.StringVar(&cfg.store, "store", storeSQLite, "event store: sqlite (embedded, in --data) or esdb (KurrentDB/EventStoreDB at --esdb)")
	fs.StringVar(&cfg.esdb, "esdb", "", "with --store esdb: connection string, e.g. esdb://host:2113 (TLS unless ?tls=false; kurrentdb:// and esdb+discover:// work too)")
	usageWithEnv(fs, "samspill serve [--addr 127.0.0.1:8080] [--data ./samspill-data] [--demo] [--store sqlite|esdb --esdb URL]\n\n"+
		"The data folder holds the embedded event store (with --store sqlite), the read\n"+
		"models, the tokens, the personal-data keys and the installation secret.")
	return func(ctx context.Context, _ []string) error {
		switch {
		case cfg.store != storeSQLite && cfg.store != storeESDB:
			return &usageError{command: "serve ", err: fmt.Errorf("--store %q: want sqlite or esdb", cfg.store)}
		case cfg.store == storeESDB && cfg.esdb == "":
			return &usageError{command: "serve ", err: errors.New("--store esdb needs --esdb URL")}
		case cfg.store == storeSQLite && cfg.esdb != "":
			return &usageError{command: "serve ", err: errors.New("--esdb needs --store esdb")}
		}
		return serve(ctx, cfg, env)
	}
}

// serve runs the API and the projections until ctx ends, then stops
// accepting requests, lets those in flight finish, commits the projections'
// open batches and closes the read models and the store.
func serve(ctx context.Context, cfg serveConfig, env environment) error {
	log := slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: cfg.logLevel}))
	unlock, err := lockDataDir(cfg.data)
	if err != nil {
		return err
	}
	defer unlock()
	store, err := openEventStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer store.Close()
	keys, err := openKeys(ctx, cfg.data)
	if err != nil {
		return err
	}
	defer keys.Close()

	if cfg.demo {
		if err := loadDemoIfEmpty(ctx, store, keys, env); err != nil {
			return err
		}
	}

	secret, err := installationSecret(cfg.data)
	if err != nil {
		return err
	}
	tokens, err := openTokens(ctx, cfg.data)
	if err != nil {
		return err
	}
	defer tokens.Close()
	if err := firstAdminToken(ctx, tokens, env); err != nil {
		return err
	}
	registry := prometheus.NewRegistry()
	readModels, err := openReadModels(ctx, cfg.data)
	if err != nil {
		return err
	}
	defer readModels.Close()
	runner := projections.New(readModels, store, projections.WithLogger(log), projections.WithMetrics(registry))
	if err := registry.Register(runner); err != nil {
		return fmt.Errorf("register projection metrics: %w", err)
	}
	if err := runner.Start(ctx); err != nil {
		return fmt.Errorf("start projections: %w", err)
	}
	defer runner.Close() // after the server has stopped: commits open batches

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.addr, err)
	}
	streamsDone := make(chan struct{})
	srv := &http.Server{
		Handler: site{
			store: store, runner: runner, tokens: tokens, keys: keys, secret: secret,
			log: log, registry: registry, streamsDone: streamsDone,
		}.handler(),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    1 << 16,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	// Open event streams never finish on their own; end them when shutdown
	// begins so that it only waits for ordinary requests.
	srv.RegisterOnShutdown(func() { close(streamsDone) })
	where := "data in " + cfg.data
	if cfg.store == storeESDB {
		where = "events in KurrentDB, read models in " + cfg.data
	}
	fmt.Fprintf(env.stdout, "samspill listening on http://%s (%s)\n", ln.Addr(), where)

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// openStore opens (and creates) the embedded event store in the data folder.
func openStore(ctx context.Context, dataDir string, log *slog.Logger) (*sqlite.Store, error) {
	path, err := dataFile(dataDir, eventsFile)
	if err != nil {
		return nil, err
	}
	store, err := sqlite.Open(ctx, path, sqlite.WithLogger(log))
	if err != nil {
		return nil, fmt.Errorf("open event store in %s: %w", dataDir, err)
	}
	return store, nil
}

// openEventStore opens the event store serve was asked for.
func openEventStore(ctx context.Context, cfg serveConfig, log *slog.Logger) (eventstore.Store, error) {
	if cfg.store == storeSQLite {
		return openStore(ctx, cfg.data, log)
	}
	store, err := kurrent.Open(ctx, cfg.esdb, kurrent.WithLogger(log))
	if err != nil {
		return nil, err // one line that names the server
	}
	return store, nil
}

// dataFile returns the path of a file in the data folder, making the
// folder if it does not exist yet.
func dataFile(dataDir, name string) (string, error) {
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return "", fmt.Errorf("create data folder: %w", err)
	}
	return filepath.Join(dataDir, name), nil
}

// openTokens opens (and creates) the token store in the data folder.
func openTokens(ctx context.Context, dataDir string) (*authsqlite.Tokens, error) {
	path, err := dataFile(dataDir, tokensFile)
	if err != nil {
		return nil, err
	}
	tokens, err := authsqlite.Open(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("open tokens in %s: %w", dataDir, err)
	}
	return tokens, nil
}

// openKeys opens (and creates) the personal-data key store in the data
// folder.
func openKeys(ctx context.Context, dataDir string) (*personalsqlite.Keys, error) {
	path, err := dataFile(dataDir, keysFile)
	if err != nil {
		return nil, err
	}
	keys, err := personalsqlite.Open(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("open personal-data keys in %s: %w", dataDir, err)
	}
	return keys, nil
}

// firstAdminToken makes an admin token when the store has none yet and
// prints it once: the way into a fresh installation.
func firstAdminToken(ctx context.Context, tokens auth.TokenStore, env environment) error {
	empty, err := tokens.Empty(ctx)
	if err != nil || !empty {
		return err
	}
	token, err := tokens.Create(ctx, auth.Spec{Name: "admin", Role: auth.RoleAdmin})
	if err != nil {
		return fmt.Errorf("make the first admin token: %w", err)
	}
	fmt.Fprintf(env.stdout, "No token existed, so an admin token named \"admin\" was made. It is shown only now; keep it safe\n"+
		"(send it as Authorization: Bearer <token>, or sign in with it at /login):\n%s\n", token)
	return nil
}

// site is what the API and the pages are built from.
type site struct {
	store       eventstore.Store
	runner      *projections.Runner
	tokens      auth.TokenStore
	keys        personal.KeyStore
	secret      []byte
	log         *slog.Logger
	registry    *prometheus.Registry
	streamsDone <-chan struct{}
}

// handler is the whole server: the API and, on the same engine, the pages,
// over one application service.
func (s site) handler() http.Handler {
	svc := app.New(s.store, app.WithLogger(s.log), app.WithPersonalData(s.keys))
	pages := web.New(web.Config{Service: svc, Projections: s.runner, Tokens: s.tokens, Logger: s.log, CSRFKey: derivedKey(s.secret, "csrf")})
	return httpapi.NewHandler(httpapi.Config{
		Service:        svc,
		Store:          s.store,
		Projections:    s.runner,
		Tokens:         s.tokens,
		Logger:         s.log,
		Registry:       s.registry,
		StreamsDone:    s.streamsDone,
		Version:        version,
		ResearchSecret: derivedKey(s.secret, "spells partnership_key"),
		Pages:          pages.Register,
	})
}

// openReadModels opens (and creates) the read models in the data folder.
func openReadModels(ctx context.Context, dataDir string) (*projections.DB, error) {
	db, err := projections.OpenSQLite(ctx, filepath.Join(dataDir, readModelsFile))
	if err != nil {
		return nil, fmt.Errorf("open read models in %s: %w", dataDir, err)
	}
	return db, nil
}

func loadDemoIfEmpty(ctx context.Context, store eventstore.Store, keys personal.KeyStore, env environment) error {
	head, err := store.Head(ctx)
	if err != nil {
		return fmt.Errorf("read event store head: %w", err)
	}
	if head > 0 {
		fmt.Fprintln(env.stdout, "demo: the store already holds events; nothing loaded")
		return nil
	}
	return loadDemo(ctx, store, keys, env)
}

// loadDemo loads the demo data set, its contact persons sealed like any
// other.
func loadDemo(ctx context.Context, store eventstore.Store, keys personal.KeyStore, env environment) error {
	sum, err := demo.Load(ctx, store, time.Now(), app.WithPersonalData(keys))
	if err != nil {
		return fmt.Errorf("load demo data: %w", err)
	}
	fmt.Fprintf(env.stdout, "demo: %d partnerships, %d events (%d newly written); try /api/v1/partnerships/%s\n",
		sum.Partnerships, sum.Events, sum.Appended, sum.Example)
	return nil
}

func demoCommand(fs *flag.FlagSet, env environment) func(context.Context, []string) error {
	data := fs.String("data", "./samspill-data", "data folder of the embedded event store")
	usageWithEnv(fs, "samspill demo [--data ./samspill-data]")
	return func(ctx context.Context, _ []string) error {
		log := slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
		store, err := openStore(ctx, *data, log)
		if err != nil {
			return err
		}
		defer store.Close()
		keys, err := openKeys(ctx, *data)
		if err != nil {
			return err
		}
		defer keys.Close()
		return loadDemo(ctx, store, keys, env)
	}
}
