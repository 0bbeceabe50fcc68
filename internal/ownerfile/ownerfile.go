// Package ownerfile keeps the files samspill writes into its data folder
// readable and writable by their owner alone. They hold the events, the
// contacts' keys, the tokens' hashes and the installation secret, and a
// data folder is often made with mode 0755, open to every local user.
//
// Files are created with mode 0600 whatever the process umask (which is
// process-wide, so samspill leaves it alone). A file that group or others
// may read or write is refused, not tightened: the operator may have
// opened it on purpose, or copies may already have leaked, and either way
// the one who runs samspill should know; the error names the file, its
// mode and the command that fixes it.
package ownerfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"strings"
)

// Mode is the mode of every file samspill makes in the data folder.
const Mode fs.FileMode = 0o600

// Create makes an empty file with Mode at path if none exists there; an
// existing file is left as it is (Check judges it). Two processes may call
// it at once: one creates the file, the other finds it.
func Create(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, Mode)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	return nil
}

// ExposedError is returned for files that group or others may read or
// write.
type ExposedError struct {
	// Files are the exposed files, in the order they were checked.
	Files []ExposedFile
}

// ExposedFile is one file of an ExposedError and its permission bits.
type ExposedFile struct {
	Path string
	Mode fs.FileMode
}

// Error is one line naming each file, its mode and the chmod that fixes
// them.
func (e *ExposedError) Error() string {
	named := make([]string, len(e.Files))
	paths := make([]string, len(e.Files))
	for i, f := range e.Files {
		named[i] = fmt.Sprintf("%s (mode %04o)", f.Path, f.Mode.Perm())
		paths[i] = shellQuote(f.Path)
	}
	return fmt.Sprintf("%s: readable or writable by group or others (must be the owner's alone); run chmod 600 %s",
		strings.Join(named, ", "), strings.Join(paths, " "))
}

// Check returns an *ExposedError naming every one of paths that exists and
// that group or others may read or write (any permission bit of 0o077).
// Paths that do not exist are skipped; any other failure to stat one is
// returned as it is. On Windows, whose files have access lists rather than
// permission bits (Go reports every writable file as 0666), it checks
// nothing.
func Check(paths ...string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	var exposed []ExposedFile
	for _, p := range paths {
		info, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("check the mode of %s: %w", p, err)
		}
		if info.Mode().Perm()&0o077 != 0 {
			exposed = append(exposed, ExposedFile{Path: p, Mode: info.Mode().Perm()})
		}
	}
	if len(exposed) > 0 {
		return &ExposedError{Files: exposed}
	}
	return nil
}

// shellQuote quotes p for a POSIX shell when it holds anything but the
// characters of ordinary paths, so that the suggested command can be
// pasted as it is.
func shellQuote(p string) string {
	plain := p != "" && strings.IndexFunc(p, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+:@%,=", r))
	}) < 0
	if plain {
		return p
	}
	return "'" + strings.ReplaceAll(p, "'", `'\''`) + "'"
}
