//go:build !unix

package main

import (
	"fmt"
	"os"
)

// lockDataDir only creates the folder where file locks are not available:
// there, the user must not run two processes on one data folder.
func lockDataDir(dir string) (unlock func(), err error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	return func() {}, nil
}
