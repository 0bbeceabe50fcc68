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
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
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
	asOf := fs.String("as-of", "", "spells: censoring date YYYY-MM-DD (default: today, Europe/Oslo)")
	at := fs.Uint64("at-position", 0, "export only the events up to this position (default: the newest)")
	out := fs.String("out", "", "write to FILE and its manifest to FILE.manifest.json (default: stdout)")
	usageWithEnv(fs, "samspill export events|spells [--as-of DATE] [--at-position N] [--out FILE] [--data ./samspill-data]\n\n"+
		"Writes a research export: events (NDJSON, every event, personal data removed)\n"+
		"or spells (CSV episodes for event-history analysis); docs/api.md (Research\n"+
		"exports) describes both. The same command at the same position writes the same\n"+
		"bytes; the manifest names position, as_of, samspill version and the SHA-256 of\n"+
		"the file. It only reads, so it may run beside samspill serve.")
	return func(ctx context.Context, args []string) error {
		if len(args) != 1 || (args[0] != research.KindEvents && args[0] != research.KindSpells) {
			return &usageError{command: "export ", err: errors.New("want what to export: events or spells")}
		}
		if *asOf != "" && args[0] != research.KindSpells {
			return &usageError{command: "export ", err: errors.New("--as-of applies to spells only")}
		}
		if *asOf != "" {
			if _, err := time.Parse(time.DateOnly, *asOf); err != nil {
				return &usageError{command: "export ", err: fmt.Errorf("--as-of %q is not a date YYYY-MM-DD", *asOf)}
			}
			if err := research.CheckAsOf(*asOf, calendar.Day(time.Now())); err != nil {
				return fmt.Errorf("export spells --as-of: %w (Europe/Oslo); days not yet observed cannot count as survival", err)
			}
		}
		if err := b.validate("export "); err != nil {
			return err
		}
		return export(ctx, exportConfig{kind: args[0], backend: b, asOf: *asOf, at: *at, out: *out}, env)
	}
}

type exportConfig struct {
	kind, asOf, out string
	at              uint64
	backend
}

// export writes one research export. With --out it writes a temporary file
// beside FILE and renames it once complete, so FILE is never half-written.
func export(ctx context.Context, cfg exportConfig, env environment) (err error) {
	if cfg.store == storeSQLite {
		if _, err := os.Stat(filepath.Join(cfg.data, eventsFile)); err != nil {
			return fmt.Errorf("no event store in %s: %w", cfg.data, err)
		}
	}
	log := slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	store, err := cfg.openEvents(ctx, log)
	if err != nil {
		return err
	}
	defer store.Close()
	position, err := research.Position(ctx, store, cfg.at)
	if err != nil {
		return fmt.Errorf("--at-position: %w", err)
	}

	var w io.Writer = env.stdout
	var tmp *os.File
	if cfg.out != "" {
		tmp, err = os.CreateTemp(filepath.Dir(cfg.out), "."+filepath.Base(cfg.out)+".*")
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		defer func() {
			if err != nil {
				_ = tmp.Close()
				_ = os.Remove(tmp.Name())
			}
		}()
		w = tmp
	}
	var sum research.Summary
	switch cfg.kind {
	case research.KindEvents:
		secret, serr := cfg.exportSecret(ctx)
		if serr != nil {
			return serr
		}
		sum, err = research.WriteEvents(ctx, store, w, research.EventsOptions{Position: position, Secret: derivedKey(secret, "spells partnership_key")})
	default:
		secret, serr := cfg.exportSecret(ctx)
		if serr != nil {
			return serr
		}
		if cfg.asOf == "" {
			cfg.asOf = calendar.Day(time.Now())
		}
		sum, err = research.WriteSpells(ctx, store, w, research.SpellsOptions{Position: position, AsOf: cfg.asOf, Secret: derivedKey(secret, "spells partnership_key")})
	}
	if err != nil {
		return err
	}
	if tmp == nil {
		fmt.Fprintf(env.stderr, "export %s: %d rows up to position %d, sha256 %s\n", sum.Kind, sum.Rows, sum.Position, sum.SHA256)
		return nil
	}
	if err = errors.Join(tmp.Sync(), tmp.Close()); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err = os.Rename(tmp.Name(), cfg.out); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	manifest, err := json.MarshalIndent(research.Manifest{Summary: sum, File: filepath.Base(cfg.out), SamspillVersion: version}, "", "  ")
	if err != nil {
		return fmt.Errorf("export: manifest: %w", err)
	}
	if err = os.WriteFile(cfg.out+".manifest.json", append(manifest, '\n'), 0o644); err != nil {
		return fmt.Errorf("export: manifest: %w", err)
	}
	fmt.Fprintf(env.stdout, "wrote %s (%d rows up to position %d) and %s.manifest.json\n", cfg.out, sum.Rows, sum.Position, cfg.out)
	return nil
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
