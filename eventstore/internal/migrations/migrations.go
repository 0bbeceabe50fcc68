// Package migrations reads the numbered SQL migration files that the SQL
// event stores (eventstore/sqlite, eventstore/postgres) embed. Applying
// them stays in each adapter: how concurrent openers are kept apart (an
// IMMEDIATE transaction, an advisory lock), where the version is recorded
// and what a schema that is too new is called differ per database.
package migrations

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Migration is one numbered SQL file.
type Migration struct {
	Version int    // 1, 2, 3, ...
	Name    string // the file's name, for messages
	Script  string // the SQL
}

// Load reads the migrations in the folder dir of fsys, in version order.
// File names are NNNN_description.sql, numbered 1, 2, 3, ... without
// gaps; another name, a gap or an empty folder is an error.
func Load(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []Migration
	for _, e := range entries {
		name := e.Name()
		prefix, _, ok := strings.Cut(name, "_")
		if !ok || !strings.HasSuffix(name, ".sql") {
			return nil, fmt.Errorf("migration %s: name must be NNNN_description.sql", name)
		}
		v, err := strconv.Atoi(prefix)
		if err != nil || v < 1 {
			return nil, fmt.Errorf("migration %s: bad version number %q", name, prefix)
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", name, err)
		}
		ms = append(ms, Migration{Version: v, Name: name, Script: string(b)})
	}
	slices.SortFunc(ms, func(a, b Migration) int { return cmp.Compare(a.Version, b.Version) })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migration %s: expected version %d (versions must be 1, 2, 3, ... without gaps)", m.Name, i+1)
		}
	}
	if len(ms) == 0 {
		return nil, errors.New("no migrations embedded")
	}
	return ms, nil
}
