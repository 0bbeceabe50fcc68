package main

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/samspill/samspill/domain/calendar"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/internal/ownerfile"
	"github.com/samspill/samspill/research"
)

// secretFile holds the installation's secret, from which the keys of the
// spells exports' pseudonymous partnership keys and of the pages' CSRF
// tokens are derived (derivedKey). It never leaves the data folder.
const secretFile = "installation.key"

// installationSecret reads the installation's secret from the data folder,
// making one (256 random bits, mode 0600) the first time. A secret file
// that group or others may read or write is refused (ownerfile.Check).
func installationSecret(dataDir string) ([]byte, error) {
	path, err := dataFile(dataDir, secretFile)
	if err != nil {
		return nil, err
	}
	if err := ownerfile.Check(path); err != nil {
		return nil, fmt.Errorf("installation secret: %w", err)
	}
	for {
		b, err := os.ReadFile(path)
		if err == nil {
			secret, err := hex.DecodeString(strings.TrimSpace(string(b)))
			if err != nil || len(secret) < 16 {
				return nil, fmt.Errorf("installation secret %s is damaged: want at least 32 hex digits", path)
			}
			return secret, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("read installation secret: %w", err)
		}
		secret := make([]byte, 32)
		_, _ = rand.Read(secret)
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, ownerfile.Mode)
		if errors.Is(err, fs.ErrExist) {
			continue // another process made it first: read theirs
		}
		if err != nil {
			return nil, fmt.Errorf("create installation secret: %w", err)
		}
		_, err = fmt.Fprintln(f, hex.EncodeToString(secret))
		if err = errors.Join(err, f.Sync(), f.Close()); err != nil {
			_ = os.Remove(path)
			return nil, fmt.Errorf("write installation secret: %w", err)
		}
		return secret, nil
	}
}

// derivedKey is the installation secret's key for one purpose, so that no
// two uses share a key.
func derivedKey(secret []byte, purpose string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("samspill " + purpose))
	return m.Sum(nil)
}

func exportCommand(fs *flag.FlagSet, env environment) func(context.Context, []string) error {
	var b backend
	b.dataFlag(fs, "the embedded event store and the installation secret")
	b.eventFlags(fs)
	b.sharedFlags(fs)
	format := fs.String("format", "", "csv, dta (Stata) or parquet for a tabular export (default: csv); events are ndjson")
	asOf := fs.String("as-of", "", "tabular exports: censoring date YYYY-MM-DD (default: today, Europe/Oslo)")
	knownAt := fs.String("known-at", "", "only what had been recorded by then: RFC 3339, or a date (the end of that day in Norway)")
	at := fs.Uint64("at-position", 0, "export only the events up to this position (default: the newest)")
	fs.Uint64Var(at, "position", 0, "the same as --at-position")
	wave := fs.String("wave", "", "responses: the survey wave whose responses to export (one of the project's)")
	noFreeText := fs.Bool("no-free-text", false, "responses: leave the free-text items out (free text can identify a person)")
	project := fs.String("project", "", "a research project's id: its pseudonyms and municipalities (default: one-off pseudonyms)")
	out := fs.String("out", "", "write to FILE, or into DIR under the file's own name, with FILE.manifest.json and datapackage.json beside it (default: stdout)")
	usageWithEnv(fs, "samspill export "+strings.Join(research.ExportNames(), "|")+" [--format csv|dta|parquet] [--as-of DATE] [--known-at TIME]\n"+
		"                [--at-position N] [--project ID] [--out FILE|DIR] [--data ./samspill-data]\n"+
		"       samspill export responses --project ID --wave ID [--no-free-text] [--format ...] [--position N] [--out FILE|DIR]\n\n"+
		"Writes a research export: events (NDJSON, every event, personal data removed)\n"+
		"or a tabular export (spells: episodes for event-history analysis, and the others\n"+
		"the codebook lists) in CSV, Stata or Parquet; docs/research.md describes them.\n"+
		"responses is a survey wave's responses, each with its partnership's covariates\n"+
		"on the day answered, under the wave's research project only.\n"+
		"The same command at the same position writes the same bytes. With --out it\n"+
		"writes the file, FILE.manifest.json (position, as_of, known_at, project, rules\n"+
		"and samspill versions, the file's SHA-256 and a citation) and datapackage.json\n"+
		"(the Frictionless codebook). It only reads, so it may run beside samspill serve.")
	return func(ctx context.Context, args []string) error {
		names := research.ExportNames()
		if len(args) != 1 || !slices.Contains(names, args[0]) {
			return &usageError{command: "export ", err: fmt.Errorf("want what to export: one of %s", strings.Join(names, ", "))}
		}
		f := research.File{Export: args[0], Format: *format, Wave: *wave, WithoutFreeText: *noFreeText}
		switch {
		case f.Export == research.KindResponses && (*project == "" || *wave == ""):
			return &usageError{command: "export ", err: errors.New("responses: --project and --wave are required (survey responses are exported under their research project only)")}
		case f.Export != research.KindResponses && (*wave != "" || *noFreeText):
			return &usageError{command: "export ", err: errors.New("--wave and --no-free-text apply to the responses export only")}
		}
		if f.Format == "" {
			f.Format = research.FormatsOf(f.Export)[0]
		}
		if err := f.Check(); err != nil {
			return &usageError{command: "export ", err: fmt.Errorf("--format: %w", err)}
		}
		now := time.Now()
		if *asOf != "" && f.Export == research.KindEvents {
			return &usageError{command: "export ", err: errors.New("--as-of applies to the tabular exports only, not to events")}
		}
		if f.Export != research.KindEvents {
			f.AsOf = calendar.Day(now)
		}
		if *asOf != "" {
			if _, err := time.Parse(time.DateOnly, *asOf); err != nil {
				return &usageError{command: "export ", err: fmt.Errorf("--as-of %q is not a date YYYY-MM-DD", *asOf)}
			}
			if err := research.CheckAsOf(*asOf, calendar.Day(now)); err != nil {
				return fmt.Errorf("export %s --as-of: %w (Europe/Oslo); days not yet observed cannot count as survival", f.Export, err)
			}
			f.AsOf = *asOf
		}
		if *knownAt != "" {
			t, err := calendar.ParseCutoff(*knownAt)
			if err != nil {
				return &usageError{command: "export ", err: fmt.Errorf("--known-at: %w", err)}
			}
			if err := research.CheckKnownAt(t, now); err != nil {
				return fmt.Errorf("export %s --known-at: %w; what will be recorded later is not known yet", f.Export, err)
			}
			f.KnownAt = &t
		}
		if err := b.validate("export "); err != nil {
			return err
		}
		return export(ctx, exportConfig{file: f, backend: b, at: *at, project: *project, out: *out}, env)
	}
}

type exportConfig struct {
	// file is the export asked for; export fixes its position and keys.
	file         research.File
	project, out string
	at           uint64
	backend
}

// export writes one research export. With --out it writes a temporary file
// beside FILE and renames it once complete, so FILE is never half-written,
// and then the manifest and the data package beside it.
func export(ctx context.Context, cfg exportConfig, env environment) (err error) {
	if cfg.store == storeSQLite {
		if _, err := os.Stat(filepath.Join(cfg.data, eventsFile)); err != nil {
			return fmt.Errorf("no event store in %s: %w", cfg.data, err)
		}
	}
	f := cfg.file
	var by research.Citing
	if cfg.project != "" {
		if by, err = cfg.projectKeys(ctx, &f, cfg.project); err != nil {
			return err
		}
	}
	secret, err := cfg.exportSecret(ctx)
	if err != nil {
		return err
	}
	secret = derivedKey(secret, "spells partnership_key")
	log := slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	store, err := cfg.openEvents(ctx, log)
	if err != nil {
		return err
	}
	defer store.Close()
	if f.Position, err = research.Position(ctx, store, cfg.at); err != nil {
		return fmt.Errorf("--at-position: %w", err)
	}
	if cfg.project == "" {
		f.Keys = f.OneOffKeys(secret)
	}
	tables, err := f.Tables(ctx, store)
	if err != nil {
		return fmt.Errorf("export %s: %w", f.Export, err)
	}

	if cfg.out == "" {
		sum, err := f.Write(ctx, store, env.stdout, secret)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stderr, "export %s: %d rows up to position %d, sha256 %s\n", f.Export, sum.Rows, f.Position, sum.SHA256)
		return nil
	}
	path := cfg.out
	if st, serr := os.Stat(path); (serr == nil && st.IsDir()) || strings.HasSuffix(path, string(os.PathSeparator)) {
		path = filepath.Join(path, f.Name())
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	sum, err := f.Write(ctx, store, tmp, secret)
	if err != nil {
		return err
	}
	if err = errors.Join(tmp.Sync(), tmp.Close()); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	m := f.Manifest(sum, version, by)
	// The file's own name, as written, so that the manifest and the data
	// package point at the file beside them.
	m.Files[0].Name = filepath.Base(path)
	if err = writeJSONFile(path+".manifest.json", m); err != nil {
		return fmt.Errorf("export: manifest: %w", err)
	}
	pkg, err := research.DataPackage(m, tables)
	if err == nil {
		err = os.WriteFile(filepath.Join(filepath.Dir(path), "datapackage.json"), pkg, 0o644)
	}
	if err != nil {
		return fmt.Errorf("export: datapackage.json: %w", err)
	}
	fmt.Fprintf(env.stdout, "wrote %s (%d rows up to position %d), %s.manifest.json and datapackage.json\n", path, sum.Rows, f.Position, path)
	return nil
}

// projectKeys gives f the project's keys and municipalities, and returns
// who cites it.
func (b backend) projectKeys(ctx context.Context, f *research.File, id string) (research.Citing, error) {
	projects, closeProjects, err := b.openProjects(ctx)
	if err != nil {
		return research.Citing{}, fmt.Errorf("export --project %s: %w", id, err)
	}
	defer closeProjects()
	p, err := projects.Project(ctx, id)
	if err != nil {
		return research.Citing{}, fmt.Errorf("export --project %s: %w", id, err)
	}
	key, generation, err := projects.ProjectKey(ctx, id)
	if err != nil {
		return research.Citing{}, fmt.Errorf("export --project %s: key: %w", id, err)
	}
	f.Keys, f.Municipalities = research.ProjectKeys(p.ID, key, generation), p.Municipalities
	return research.Citing{Institution: p.Institution, ProjectName: p.Name}, nil
}

// writeJSONFile writes v as indented JSON with a final newline.
func writeJSONFile(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// exportSecret is the installation secret, from wherever the installation
// keeps it.
func (b backend) exportSecret(ctx context.Context) ([]byte, error) {
	keys, err := b.openKeys(ctx)
	if err != nil {
		return nil, err
	}
	defer keys.Close()
	return b.secret(ctx, keys)
}

func importCommand(fs *flag.FlagSet, env environment) func(context.Context, []string) error {
	var b backend
	b.dataFlag(fs, "the embedded event store")
	b.eventFlags(fs)
	usageWithEnv(fs, "samspill import FILE [--data ./samspill-data] [--store sqlite|postgres] [--postgres URL]\n\n"+
		"Appends the events of an 'export events' file to an empty store, keeping event_id,\n"+
		"occurred_at, recorded_at, versions and positions. Every line is checked before\n"+
		"anything is written; a malformed line is named and nothing is imported. Running it\n"+
		"again changes nothing. With --store sqlite it is refused while samspill serve runs\n"+
		"on the same data folder, which would not see the events; with --store postgres the\n"+
		"servers see them.")
	return func(ctx context.Context, args []string) error {
		if len(args) != 1 {
			return &usageError{command: "import ", err: errors.New("want the file to import")}
		}
		if err := b.validate("import "); err != nil {
			return err
		}
		if b.store == storeESDB {
			return &usageError{command: "import ", err: errors.New("--store esdb: importing into KurrentDB is not supported (it cannot keep positions); import into sqlite or postgres")}
		}
		return importEvents(ctx, b, args[0], env)
	}
}

func importEvents(ctx context.Context, b backend, path string, env environment) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	defer f.Close()
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
	show := newProgress(env.stdout, "import "+filepath.Base(path))
	importer, ok := store.(eventstore.Importer)
	if !ok {
		return fmt.Errorf("import: the %s event store cannot import", b.store)
	}
	res, err := research.Import(ctx, importer, f, func(p research.ImportProgress) { show(uint64(p.Done), uint64(p.Total)) })
	if err != nil {
		return fmt.Errorf("import %s: %w", path, err)
	}
	fmt.Fprintf(env.stdout, "imported %d events from %s (%d were already there)\n", res.Written, path, res.Events-res.Written)
	return nil
}
