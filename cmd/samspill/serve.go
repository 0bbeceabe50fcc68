package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/samspill/samspill/app"
	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/demo"
	"github.com/samspill/samspill/edge"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/history"
	httpapi "github.com/samspill/samspill/http"
	"github.com/samspill/samspill/internal/pdfprint"
	"github.com/samspill/samspill/personal"
	"github.com/samspill/samspill/projections"
	"github.com/samspill/samspill/projections/summaries"
	"github.com/samspill/samspill/projections/timeline"
	"github.com/samspill/samspill/publish"
	"github.com/samspill/samspill/signin"
	"github.com/samspill/samspill/surveys"
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
	addr      string
	demo      bool
	logLevel  slog.Level
	logFormat logFormat
	instance  string
	// trustedProxies are the proxies whose X-Forwarded-For gives the
	// client's address (edge.TrustProxies).
	trustedProxies string
	publish        publishFlags
	signin         signinFlags
	smtp           smtpFlags
	// publicURL is the site's base URL that survey links start with.
	publicURL string
	// reportMinAnswers and chromium are the feedback reports' smallest
	// group and the Chromium that renders their PDF ("": from PATH).
	reportMinAnswers int
	chromium         string
	backend
}

// publishFlags are serve's flags for the NATS forwarder (package publish).
type publishFlags struct {
	url, stream, prefix string
}

// config is the forwarder's configuration under the installation secret.
func (f publishFlags) config(secret []byte, log *slog.Logger) publish.Config {
	return publish.Config{
		URL:   f.url,
		Topic: history.Topic,
		// The research export's key: an actor has the same pseudonym in
		// NATS, the exports and the API.
		Secret:        derivedKey(secret, "spells partnership_key"),
		Stream:        f.stream,
		SubjectPrefix: f.prefix,
		Logger:        log,
	}
}

// validate checks the flags before anything is opened (the secret is read
// later; derivedKey makes a key of the same length from any).
func (f publishFlags) validate() error {
	if f.url == "" {
		return nil
	}
	if err := f.config(nil, nil).Validate(); err != nil {
		return &usageError{command: "serve ", err: fmt.Errorf("--publish: %w", err)}
	}
	return nil
}

func serveCommand(fs *flag.FlagSet, env environment) func(context.Context, []string) error {
	var cfg serveConfig
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:8080", "address to listen on (host:port; port 0 picks a free one)")
	cfg.dataFlag(fs, "the embedded event store (--store sqlite) and read models (--readmodel sqlite)")
	fs.BoolVar(&cfg.demo, "demo", false, "load the demo data set first if the store is empty")
	fs.TextVar(&cfg.logLevel, "log-level", slog.LevelInfo, "log level: debug, info (one line per request), warn, error")
	fs.TextVar(&cfg.logFormat, "log-format", logText, "log format: text or json (one JSON object per line)")
	cfg.eventFlags(fs)
	cfg.sharedFlags(fs)
	fs.StringVar(&cfg.instance, "instance", "", "this instance's name in /api/v1/admin/projections (default: host/pid)")
	fs.StringVar(&cfg.trustedProxies, "trusted-proxies", "", "addresses or CIDR ranges of the proxies in front (comma-separated, e.g. 10.0.0.0/8): only their X-Forwarded-For names the client's address, which the survey answer pages' rate limits count by; default none")
	fs.StringVar(&cfg.publish.url, "publish", "", "publish the event log, without personal data, to NATS JetStream at this URL, e.g. nats://host:4222 (tls:// for TLS; user:password@ or token@ for credentials; several URLs separated by commas); see docs/publishing.md")
	fs.StringVar(&cfg.publish.stream, "publish-stream", publish.DefaultStream, "with --publish: the JetStream stream (made if missing)")
	fs.StringVar(&cfg.publish.prefix, "publish-prefix", publish.DefaultSubjectPrefix, "with --publish: the subjects' prefix: PREFIX.partnership.<event type>")
	fs.StringVar(&cfg.publicURL, "public-url", "", "the site's public base URL, e.g. https://samspill.example.no: survey response links handed out and mailed start with it (default: the scheme and host of the request that made them)")
	fs.IntVar(&cfg.reportMinAnswers, "report-min-answers", web.DefaultReportMinAnswers, "the feedback reports show no figure for fewer answers than this (at least 3)")
	fs.StringVar(&cfg.chromium, "chromium", "", "the Chromium that renders the feedback reports' PDF (default: chromium, chromium-browser or google-chrome on PATH; none: the PDF link says to print from the browser)")
	cfg.signin.register(fs)
	cfg.smtp.register(fs)
	usageWithEnv(fs, "samspill serve [--addr 127.0.0.1:8080] [--data ./samspill-data] [--demo]\n"+
		"               [--store sqlite|esdb|postgres] [--esdb URL] [--readmodel sqlite|postgres] [--postgres URL]\n"+
		"               [--publish nats://host:4222 [--publish-stream SAMSPILL] [--publish-prefix samspill]]\n"+
		"               [--oidc-provider NAME,issuer=URL,client-id=ID,redirect=URL ... [--oidc-group GROUP=ROLE[:CODE,...][@PROVIDER] ...]]\n"+
		"               [--token-sign-in any|admin|off] [--access-contact TEXT] [--public-url URL]\n"+
		"               [--smtp-addr HOST:PORT --smtp-from ADDRESS [--smtp-user USER] [--smtp-tls starttls|tls|none] [--smtp-rate 60]]\n\n"+
		"The data folder holds the embedded event store (with --store sqlite), and the read\n"+
		"models, the tokens, the personal-data keys and the installation secret (with\n"+
		"--readmodel sqlite). With --readmodel postgres those live in PostgreSQL and any\n"+
		"number of instances may serve them: each projection runs on one instance at a\n"+
		"time, and another takes over when it stops.\n\n"+
		"Every file made in the data folder is readable by its owner alone (mode 0600); a\n"+
		"file there that group or others may read or write is refused (chmod 600 FILE).\n"+
		"A damaged readmodels.db is moved aside to readmodels.db.corrupt-<UTC time> and\n"+
		"rebuilt from the events.\n\n"+
		"With --publish every event is also published to NATS JetStream, contact persons\n"+
		"removed and recorders pseudonymised, in order and at least once, resuming after\n"+
		"the stream's last message; NATS being down never stops or slows the server\n"+
		"(docs/publishing.md).\n\n"+
		"With --oidc-provider people sign in on the pages through their organisation's\n"+
		"identity provider (OpenID Connect; Entra ID, ID-porten, Feide, ...); their roles\n"+
		"come from --oidc-group mappings or an admin. Each provider's client secret comes\n"+
		"from SAMSPILL_OIDC_<NAME>_CLIENT_SECRET or SAMSPILL_OIDC_<NAME>_CLIENT_SECRET_FILE.\n"+
		"A provider that cannot be reached does not stop the server: it is tried again at\n"+
		"each sign-in (docs/operations.md, Sign-in).\n\n"+
		"--public-url is the address people reach the site at; the survey response links\n"+
		"samspill hands out and mails start with it (docs/operations.md, Surveys).\n\n"+
		"With --smtp-addr survey invitations and reminders are mailed through that SMTP\n"+
		"server, at most --smtp-rate a minute, in rounds every minute; its password comes\n"+
		"from SAMSPILL_SMTP_PASSWORD or SAMSPILL_SMTP_PASSWORD_FILE (docs/surveys.md,\n"+
		"Invitations by e-mail). It needs --public-url.")
	return func(ctx context.Context, _ []string) error {
		if err := cfg.validate("serve "); err != nil {
			return err
		}
		if err := cfg.publish.validate(); err != nil {
			return err
		}
		if err := cfg.signin.validate(); err != nil {
			return err
		}
		if err := checkPublicURL(cfg.publicURL); err != nil {
			return &usageError{command: "serve ", err: err}
		}
		if err := cfg.checkReports(); err != nil {
			return &usageError{command: "serve ", err: err}
		}
		if err := cfg.signin.readSecrets(env.getenv); err != nil {
			return err
		}
		if err := cfg.smtp.readPassword(env.getenv); err != nil {
			return err
		}
		if cfg.smtp.cfg.Enabled() && cfg.publicURL == "" {
			return &usageError{command: "serve ", err: errors.New("--smtp-addr needs --public-url: the mailed links start with it")}
		}
		return serve(ctx, cfg, env)
	}
}

// serve runs the API and the projections until ctx ends, then stops
// accepting requests, lets those in flight finish, commits the projections'
// open batches and closes the read models and the store.
func serve(ctx context.Context, cfg serveConfig, env environment) error {
	log := cfg.logFormat.logger(env.stderr, cfg.logLevel)
	unlock, err := cfg.lockAll()
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

	demoLoaded := false
	if cfg.demo {
		if demoLoaded, err = loadDemoIfEmpty(ctx, store, keys, env); err != nil {
			return err
		}
	}

	secret, err := cfg.secret(ctx, keys)
	if err != nil {
		return err
	}
	signIn, err := cfg.signin.service(secret, log)
	if err != nil {
		return err
	}
	if signIn != nil {
		// Discovered in the background: a provider that is down is
		// logged and tried again at its next sign-in.
		go signIn.Discover(ctx)
	}
	// The users' names and e-mails are sealed under keys among the
	// contacts' (personal.UserSealer).
	// The research projects' keys are sealed under the installation
	// secret.
	projects, err := projectSealer(secret)
	if err != nil {
		return err
	}
	tokens, err := cfg.openAuth(ctx, personal.UserSealer{Keys: keys}, projects)
	if err != nil {
		return err
	}
	defer tokens.Close()
	if err := firstAdminToken(ctx, tokens, env); err != nil {
		return err
	}
	if demoLoaded {
		if err := loadDemoSurveys(ctx, store, tokens, log, env); err != nil {
			return err
		}
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
	if cfg.publish.url != "" {
		forwarder, err := startForwarder(ctx, cfg.publish, store, secret, log, registry)
		if err != nil {
			return err
		}
		defer forwarder.Close() // before the store closes
	}

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.addr, err)
	}
	streamsDone := make(chan struct{})
	handler, err := site{
		store: store, runner: runner,
		tokens: tokens, users: tokens, projects: tokens, keys: keys, secret: secret, log: log, registry: registry, streamsDone: streamsDone, states: states,
		signin: signIn, tokenSignIn: cfg.signin.tokenSignIn, accessContact: cfg.signin.accessContact,
		trustedProxies: strings.FieldsFunc(cfg.trustedProxies, func(r rune) bool { return r == ',' || r == ' ' }),
		links:          tokens, publicURL: cfg.publicURL,
		reportMinAnswers: cfg.reportMinAnswers, chromium: cfg.chromium,
		smtp: cfg.smtp, startMail: func(m *surveys.Mailer) { startMailer(ctx, m, log) },
	}.handler()
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           handler,
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

// startForwarder starts publishing the partnerships' events to NATS
// JetStream beside the projections, its metrics in registry. It returns at
// once, whether NATS can be reached or not.
func startForwarder(ctx context.Context, flags publishFlags, store eventstore.Store, secret []byte, log *slog.Logger, registry *prometheus.Registry) (*publish.Forwarder, error) {
	forwarder, err := publish.Start(ctx, store, flags.config(secret, log.With("component", "publish")))
	if err != nil {
		return nil, err // the flags were checked (publishFlags.validate)
	}
	if err := registry.Register(forwarder); err != nil {
		_ = forwarder.Close()
		return nil, fmt.Errorf("register publish metrics: %w", err)
	}
	return forwarder, nil
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
	store  eventstore.Store
	runner *projections.Runner
	tokens auth.SessionStore
	// users is the same store as tokens, as the store of personal users,
	// their sign-ins and the audit log (for the sign-in and admin pages).
	users auth.UserStore
	// projects is the same store again, as the store of research projects.
	projects    auth.ProjectStore
	keys        personal.KeyStore
	secret      []byte
	log         *slog.Logger
	registry    *prometheus.Registry
	streamsDone <-chan struct{}
	// states is the cache of partnerships' current states that the
	// commands and the projections share (nil: the commands keep their own).
	states *history.States
	// signin signs people in through identity providers (nil: none
	// configured); tokenSignIn and accessContact are the pages' flags.
	signin                     *signin.Service
	tokenSignIn, accessContact string
	// trustedProxies are --trusted-proxies' entries.
	trustedProxies []string
	// links is the same store again, as the store of survey response
	// links; publicURL the site's base URL they start with ("": none).
	links     auth.SurveyLinkStore
	publicURL string
	// reportMinAnswers (0: web's default) and chromium ("": from PATH)
	// are the feedback reports' flags.
	reportMinAnswers int
	chromium         string
	// smtp mails the surveys' invitations (no server: the CSV download);
	// startMail runs the mailer's rounds for the server's lifetime (nil:
	// none run, as in tests that only serve requests).
	smtp      smtpFlags
	startMail func(*surveys.Mailer)
}

// handler is the whole server: the API and the pages side by side on one
// engine, over one command service and one history store.
func (s site) handler() (http.Handler, error) {
	research := derivedKey(s.secret, "spells partnership_key")
	hist := history.New(s.store, history.WithPersonalData(s.keys), history.WithPseudonyms(personal.NewPseudonyms(research)), history.WithStates(s.states))
	svc := app.New(s.store, app.WithLogger(s.log), app.WithHistory(hist))
	sums, lines := summaries.NewQueries(s.runner), timeline.NewQueries(s.runner)
	var (
		surveyService *surveys.Service
		surveyMail    *surveys.Mailer
	)
	if s.links != nil {
		surveyService = surveys.New(s.store, s.links, s.projects, surveys.WithDirectory(surveyDirectory{sums}),
			surveys.WithLogger(s.log.With("component", "surveys")), surveys.WithPublicURL(s.publicURL))
		m, err := s.smtp.mailer(surveyService)
		if err != nil {
			return nil, err
		}
		surveyMail = m
		if s.startMail != nil {
			s.startMail(m)
		}
	}
	api, err := httpapi.New(httpapi.Config{
		Service:        svc,
		History:        hist,
		Store:          s.store,
		Projections:    s.runner,
		Summaries:      sums,
		Timeline:       lines,
		Tokens:         s.tokens,
		Admin:          s.users,
		Projects:       s.projects,
		Logger:         s.log,
		Registry:       s.registry,
		StreamsDone:    s.streamsDone,
		Version:        version,
		ResearchSecret: research,
		Surveys:        surveyService,
		SurveyMail:     surveyMail,
	})
	if err != nil {
		return nil, err
	}
	pages, err := web.New(web.Config{Service: svc, History: hist, Projections: s.runner, Summaries: sums, Timeline: lines,
		Tokens: s.tokens, Logger: s.log, CSRFKey: derivedKey(s.secret, "csrf"),
		UserStore: s.users, ProjectStore: s.projects, SignIn: s.signin, TokenSignIn: s.tokenSignIn, AccessContact: s.accessContact,
		Research: api, Surveys: surveyService, SurveyMail: surveyMail, Reports: s.reports()})
	if err != nil {
		return nil, err
	}
	engine := edge.NewEngine()
	if err := edge.TrustProxies(engine, s.trustedProxies); err != nil {
		return nil, err
	}
	api.Use(engine)
	api.Register(engine)
	pages.Register(engine)
	return engine, nil
}

// loadDemoIfEmpty loads the demo data set into an empty store and says
// whether it did.
// reports are the feedback reports' options: the responses read from the
// event store, the smallest group, and the Chromium that renders their
// PDF (none found: the PDF link says to print from the browser).
func (s site) reports() web.ReportOptions {
	bin, err := pdfprint.Find(s.chromium)
	if err != nil && s.log != nil {
		s.log.Info("no Chromium for the feedback reports' PDF; the PDF link will say to print from the browser", "err", err)
	}
	return web.ReportOptions{Events: s.store, MinAnswers: s.reportMinAnswers, Printer: pdfprint.New(bin, 0, 0)}
}

func loadDemoIfEmpty(ctx context.Context, store eventstore.Store, keys personal.KeyStore, env environment) (bool, error) {
	head, err := store.Head(ctx)
	if err != nil {
		return false, fmt.Errorf("read event store head: %w", err)
	}
	if head > 0 {
		fmt.Fprintln(env.stdout, "demo: the store already holds events; nothing loaded")
		return false, nil
	}
	return true, loadDemo(ctx, store, keys, env)
}

// surveyStore keeps the survey links and the research projects (the
// token store does both).
type surveyStore interface {
	auth.SurveyLinkStore
	auth.ProjectStore
}

// loadDemoSurveys loads the demo's surveys (demo.LoadSurveys) after the
// demo data set: its research project, waves, links and responses.
func loadDemoSurveys(ctx context.Context, store eventstore.Store, tokens surveyStore, log *slog.Logger, env environment) error {
	// The service logs every questionnaire, wave and batch of links at
	// INFO; the demo's ~150 of them would bury serve's first lines (the
	// URL, the admin token), and the summary below says what was loaded.
	quiet := slog.New(quietHandler{log.Handler()})
	svc := surveys.New(store, tokens, tokens, surveys.WithLogger(quiet.With("component", "surveys")))
	sum, err := demo.LoadSurveys(ctx, svc, tokens, time.Now())
	if err != nil {
		return fmt.Errorf("load demo surveys: %w", err)
	}
	fmt.Fprintf(env.stdout, "demo: research project %s with %d survey waves (%d links and %d responses newly written); try /surveys/projects/%s/report/4203\n",
		sum.Project, sum.Waves, sum.Links, sum.Responses, sum.Project)
	return nil
}

// quietHandler passes on warnings and errors only.
type quietHandler struct{ slog.Handler }

func (h quietHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return level >= slog.LevelWarn && h.Handler.Enabled(ctx, level)
}

func (h quietHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return quietHandler{h.Handler.WithAttrs(attrs)}
}

func (h quietHandler) WithGroup(name string) slog.Handler {
	return quietHandler{h.Handler.WithGroup(name)}
}

// checkReports checks the feedback reports' flags: the smallest group at
// least web.MinReportMinAnswers, and --chromium, when given, a program.
func (cfg serveConfig) checkReports() error {
	if cfg.reportMinAnswers < web.MinReportMinAnswers {
		return fmt.Errorf("--report-min-answers %d: at least %d, so that no figure of a report stands for one or two people", cfg.reportMinAnswers, web.MinReportMinAnswers)
	}
	if cfg.chromium != "" {
		if _, err := pdfprint.Find(cfg.chromium); err != nil {
			return fmt.Errorf("--chromium: %w", err)
		}
	}
	return nil
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
		"--readmodel says), and its surveys: a research project offri-demo in Arendal and\n"+
		"Steinkjer with leaders', volunteers' and organisation leaders' waves, links and\n"+
		"answered responses (the project and links go with the tokens). A second run\n"+
		"writes nothing. With --store sqlite it is refused while samspill serve runs on the\n"+
		"same data folder, which would not see the events;\n"+
		"with --store postgres or esdb the servers see them, and it may run beside them.")
	return func(ctx context.Context, _ []string) error {
		if err := b.validate("demo "); err != nil {
			return err
		}
		// Appends: refused while a server runs on the embedded store's
		// folder (see lockEvents).
		unlock, err := b.lockEvents()
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
		if err := loadDemo(ctx, store, keys, env); err != nil {
			return err
		}
		// The surveys' research project and links live in the token
		// store, its project keys sealed under the installation secret.
		secret, err := b.secret(ctx, keys)
		if err != nil {
			return err
		}
		projects, err := projectSealer(secret)
		if err != nil {
			return err
		}
		tokens, err := b.openAuth(ctx, personal.UserSealer{Keys: keys}, projects)
		if err != nil {
			return err
		}
		defer tokens.Close()
		return loadDemoSurveys(ctx, store, tokens, log, env)
	}
}
