//go:build unix

package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/samspill/samspill/internal/ownerfile"
)

// lockFile marks a data folder as in use by one samspill process.
const lockFile = ".lock"

// errDataDirInUse means another process holds the data folder.
var errDataDirInUse = errors.New("in use by another samspill process")

// lockDataDir takes an exclusive lock on the data folder (creating it), so
// that a second serve, an offline rebuild, or a command appending to the
// embedded store (demo, import) cannot run on the same files while one
// serves: read-model generations and change notifications belong to one
// process (see backend.lock). The lock goes away with the process, even on
// kill -9.
func lockDataDir(dir string) (unlock func(), err error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_CREATE|os.O_RDWR, ownerfile.Mode)
	if err != nil {
		return nil, fmt.Errorf("lock data folder %s: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("data folder %s: %w", dir, errDataDirInUse)
		}
		return nil, fmt.Errorf("lock data folder %s: %w", dir, err)
	}
	return func() { f.Close() }, nil
}
