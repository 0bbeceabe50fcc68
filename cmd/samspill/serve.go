package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/samspill/samspill/app"
	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/demo"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/history"
	httpapi "github.com/samspill/samspill/http"
	"github.com/samspill/samspill/personal"
	"github.com/samspill/samspill/projections"
	"github.com/samspill/samspill/projections/summaries"
	"github.com/samspill/samspill/projections/timeline"
	"github.com/samspill/samspill/web"
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
	demo     bool
	logLevel slog.Level
	instance string
	backend
}

func serveCommand(fs *flag.FlagSet, env environment) func(context.Context, []string) error {
	var cfg serveConfig
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:8080", "address to listen on (host:port; port 0 picks a free one)")
	cfg.dataFlag(fs, "the embedded event store (--store sqlite) and read models (--readmodel sqlite)")
	fs.BoolVar(&cfg.demo, "demo", false, "load the demo data set first if the store is empty")
	fs.TextVar(&cfg.logLevel, "log-level", slog.LevelInfo, "log level: debug, info, warn, error")
	cfg.eventFlags(fs)
	cfg.sharedFlags(fs)
	fs.StringVar(&cfg.instance, "instance", "", "this instance's name in /api/v1/admin/projections (default: host/pid)")
	usageWithEnv(fs, "samspill serve [--addr 127.0.0.1:8080] [--data ./samspill-data] [--demo]\n"+
		"               [--store sqlite|esdb|postgres] [--esdb URL] [--readmodel sqlite|postgres] [--postgres URL]\n\n"+
		"The data folder holds the embedded event store (with --store sqlite), and the read\n"+
		"models, the tokens, the personal-data keys and the installation secret (with\n"+
		"--readmodel sqlite). With --readmodel postgres those live in PostgreSQL and any\n"+
		"number of instances may serve them: each projection runs on one instance at a\n"+
		"time, and another takes over when it stops.\n\n"+
		"Every file made in the data folder is readable by its owner alone (mode 0600); a\n"+
		"file there that group or others may read or write is refused (chmod 600 FILE).\n"+
		"A damaged readmodels.db is moved aside to readmodels.db.corrupt-<UTC time> and\n"+
		"rebuilt from the events.")
	return func(ctx context.Context, _ []string) error {
		if err := cfg.validate("serve "); err != nil {
			return err
		}
		return serve(ctx, cfg, env)
	}
}

// serve runs the API and the projections until ctx ends, then stops
// accepting requests, lets those in flight finish, commits the projections'
// open batches and closes the read models and the store.
func serve(ctx context.Context, cfg serveConfig, env environment) error {
	log := slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: cfg.logLevel}))
	unlock, err := cfg.lock(true, true)
	if err != nil {
		return err
	}
	defer unlock()
	store, err := cfg.openEvents(ctx, log)
	if err != nil {
		return err
	}
	defer store.Close()
	keys, err := cfg.openKeys(ctx)
	if err != nil {
		return err
	}
	defer keys.Close()

	if cfg.demo {
		if err := loadDemoIfEmpty(ctx, store, keys, env); err != nil {
			return err
		}
	}

	secret, err := cfg.secret(ctx, keys)
	if err != nil {
		return err
	}
	tokens, err := cfg.openTokens(ctx)
	if err != nil {
		return err
	}
	defer tokens.Close()
	if err := firstAdminToken(ctx, tokens, env); err != nil {
		return err
	}
	registry := prometheus.NewRegistry()
	readModelDB, err := cfg.openReadModels(ctx, log)
	if err != nil {
		return err
	}
	defer readModelDB.Close()
	// One cache of current states for the commands and the projections.
	states := history.NewStates(0)
	runner := projections.New(readModelDB, store, readModels(), projections.WithLogger(log), projections.WithMetrics(registry),
		projections.WithInstance(cfg.instance), projections.WithStates(states))
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
			store: store, runner: runner, summaries: summaries.NewQueries(runner), timeline: timeline.NewQueries(runner),
			tokens: tokens, keys: keys, secret: secret, log: log, registry: registry, streamsDone: streamsDone, states: states,
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
	fmt.Fprintf(env.stdout, "samspill listening on http://%s (%s)\n", ln.Addr(), cfg.describe())

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

// firstAdminToken makes an admin token when the store has none yet and
// prints it once: the way into a fresh installation.
func firstAdminToken(ctx context.Context, tokens auth.TokenStore, env environment) error {
	empty, err := tokens.Empty(ctx)
	if err != nil || !empty {
		return err
	}
	token, err := tokens.Create(ctx, auth.Spec{Name: "admin", Role: auth.RoleAdmin})
	if errors.Is(err, auth.ErrTokenExists) {
		return nil // another instance sharing the tokens made it first, and showed it
	}
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
	summaries   *summaries.Queries
	timeline    *timeline.Queries
	tokens      auth.SessionStore
	keys        personal.KeyStore
	secret      []byte
	log         *slog.Logger
	registry    *prometheus.Registry
	streamsDone <-chan struct{}
	// states is the cache of partnerships' current states that the
	// commands and the projections share (nil: the commands keep their own).
	states *history.States
}

// handler is the whole server: the API and, on the same engine, the pages,
// over one application service.
func (s site) handler() http.Handler {
	research := derivedKey(s.secret, "spells partnership_key")
	hist := history.New(s.store, history.WithPersonalData(s.keys), history.WithPseudonyms(personal.NewPseudonyms(research)), history.WithStates(s.states))
	svc := app.New(s.store, app.WithLogger(s.log), app.WithHistory(hist))
	pages := web.New(web.Config{Service: svc, History: hist, Projections: s.runner, Summaries: s.summaries, Timeline: s.timeline,
		Tokens: s.tokens, Logger: s.log, CSRFKey: derivedKey(s.secret, "csrf")})
	return httpapi.NewHandler(httpapi.Config{
		Service:        svc,
		History:        hist,
		Store:          s.store,
		Projections:    s.runner,
		Summaries:      s.summaries,
		Timeline:       s.timeline,
		Tokens:         s.tokens,
		Logger:         s.log,
		Registry:       s.registry,
		StreamsDone:    s.streamsDone,
		Version:        version,
		ResearchSecret: research,
		Pages:          pages.Register,
	})
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
	sum, err := demo.Load(ctx, store, time.Now(), app.WithHistory(history.New(store, history.WithPersonalData(keys))))
	if err != nil {
		return fmt.Errorf("load demo data: %w", err)
	}
	fmt.Fprintf(env.stdout, "demo: %d partnerships, %d events (%d newly written); try /api/v1/partnerships/%s\n",
		sum.Partnerships, sum.Events, sum.Appended, sum.Example)
	return nil
}

func demoCommand(fs *flag.FlagSet, env environment) func(context.Context, []string) error {
	var b backend
	b.dataFlag(fs, "the embedded event store and personal-data keys")
	b.eventFlags(fs)
	b.sharedFlags(fs)
	usageWithEnv(fs, "samspill demo [--data ./samspill-data] [--store sqlite|esdb|postgres] [--esdb URL] [--readmodel sqlite|postgres] [--postgres URL]\n\n"+
		"Loads the demo data set into the event store (its contact persons' keys go where\n"+
		"--readmodel says). A second run writes nothing. With --store sqlite it is refused\n"+
		"while samspill serve runs on the same data folder, which would not see the events;\n"+
		"with --store postgres or esdb the servers see them, and it may run beside them.")
	return func(ctx context.Context, _ []string) error {
		if err := b.validate("demo "); err != nil {
			return err
		}
		// Appends: refused while a server runs on the embedded store's
		// folder (see lock).
		unlock, err := b.lock(true, false)
		if err != nil {
			return err
		}
		defer unlock()
		log := slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
		store, err := b.openEvents(ctx, log)
		if err != nil {
			return err
		}
		defer store.Close()
		keys, err := b.openKeys(ctx)
		if err != nil {
			return err
		}
		defer keys.Close()
		return loadDemo(ctx, store, keys, env)
	}
}
