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
	"github.com/samspill/samspill/demo"
	"github.com/samspill/samspill/eventstore/sqlite"
	httpapi "github.com/samspill/samspill/http"
	"github.com/samspill/samspill/projections"
)

// Files inside the data folder: the embedded event store and the read
// models, which are disposable and rebuilt from the events.
const (
	eventsFile     = "events.db"
	readModelsFile = "readmodels.db"
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
}

func serveCommand(fs *flag.FlagSet, env environment) func(context.Context, []string) error {
	var cfg serveConfig
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:8080", "address to listen on (host:port; port 0 picks a free one)")
	fs.StringVar(&cfg.data, "data", "./samspill-data", "data folder of the embedded event store and read models")
	fs.BoolVar(&cfg.demo, "demo", false, "load the demo data set first if the store is empty")
	fs.TextVar(&cfg.logLevel, "log-level", slog.LevelInfo, "log level: debug, info, warn, error")
	usageWithEnv(fs, "samspill serve [--addr 127.0.0.1:8080] [--data ./samspill-data] [--demo]")
	return func(ctx context.Context, _ []string) error { return serve(ctx, cfg, env) }
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
	store, err := openStore(ctx, cfg.data, log)
	if err != nil {
		return err
	}
	defer store.Close()

	if cfg.demo {
		if err := loadDemoIfEmpty(ctx, store, env); err != nil {
			return err
		}
	}

	secret, err := researchSecret(cfg.data)
	if err != nil {
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
		Handler: httpapi.NewHandler(httpapi.Config{
			Service:     app.New(store, app.WithLogger(log)),
			Store:       store,
			Projections: runner,
			Logger:      log,
			Registry:    registry,
			StreamsDone: streamsDone,
			Version:     version,

			ResearchSecret: secret,
		}),
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
	fmt.Fprintf(env.stdout, "samspill listening on http://%s (data in %s)\n", ln.Addr(), cfg.data)

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
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	store, err := sqlite.Open(ctx, filepath.Join(dataDir, eventsFile), sqlite.WithLogger(log))
	if err != nil {
		return nil, fmt.Errorf("open event store in %s: %w", dataDir, err)
	}
	return store, nil
}

// openReadModels opens (and creates) the read models in the data folder.
func openReadModels(ctx context.Context, dataDir string) (*projections.DB, error) {
	db, err := projections.OpenSQLite(ctx, filepath.Join(dataDir, readModelsFile))
	if err != nil {
		return nil, fmt.Errorf("open read models in %s: %w", dataDir, err)
	}
	return db, nil
}

func loadDemoIfEmpty(ctx context.Context, store *sqlite.Store, env environment) error {
	head, err := store.Head(ctx)
	if err != nil {
		return fmt.Errorf("read event store head: %w", err)
	}
	if head > 0 {
		fmt.Fprintln(env.stdout, "demo: the store already holds events; nothing loaded")
		return nil
	}
	return loadDemo(ctx, store, env)
}

func loadDemo(ctx context.Context, store *sqlite.Store, env environment) error {
	sum, err := demo.Load(ctx, store, time.Now())
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
		return loadDemo(ctx, store, env)
	}
}
