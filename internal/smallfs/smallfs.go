// Package smallfs gives a test a small filesystem of its own, a tmpfs
// mounted for the test, which the test can fill to the last block to see
// what a full disk does to samspill, and free again. Where no tmpfs can be
// mounted (not Linux, not root, a container without the permission) it
// skips the test with a message that says why. CI runs as root and mounts.
package smallfs

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
)

// Mount mounts a tmpfs of size (as mount's size option reads it, e.g.
// "4m") on a new directory and returns its path; the filesystem is
// unmounted and the directory removed when t ends. The directory and its
// parent are open to other users (mode 0755), so that a server running
// as another user, such as PostgreSQL, can reach what the test puts there.
func Mount(t testing.TB, size string) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skipf("small-filesystem test skipped: it mounts a tmpfs, which needs Linux (this is %s)", runtime.GOOS)
	}
	if uid := os.Geteuid(); uid != 0 {
		t.Skipf("small-filesystem test skipped: mounting a tmpfs needs root (this runs as uid %d)", uid)
	}
	dir, err := os.MkdirTemp("", "samspill-smallfs-")
	if err != nil {
		t.Fatalf("smallfs: %v", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		_ = os.Remove(dir)
		t.Fatalf("smallfs: %v", err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0755", "tmpfs", dir).CombinedOutput(); err != nil {
		_ = os.Remove(dir)
		t.Skipf("small-filesystem test skipped: cannot mount a tmpfs on %s (%v: %s)", dir, err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			// Something still holds a file there (a server's cached file
			// descriptor): detach now, freed once it lets go.
			if out2, err2 := exec.Command("umount", "-l", dir).CombinedOutput(); err2 != nil {
				t.Errorf("smallfs: umount %s: %v: %s; %v: %s", dir, err, out, err2, out2)
				return
			}
		}
		if err := os.Remove(dir); err != nil {
			t.Errorf("smallfs: %v", err)
		}
	})
	return dir
}

// Fill writes a file into dir until its filesystem has not one block
// left (write(2) fails with ENOSPC) and returns the file's path: removing
// it frees the space again.
func Fill(t testing.TB, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatalf("smallfs: fill %s: %v", dir, err)
	}
	defer f.Close()
	// Large writes first, then smaller ones into what is left.
	for _, size := range []int{1 << 20, 64 << 10, 4 << 10, 512, 1} {
		chunk := make([]byte, size)
		for {
			if _, err := f.Write(chunk); err != nil {
				if !errors.Is(err, syscall.ENOSPC) && !errors.Is(err, io.ErrShortWrite) {
					t.Fatalf("smallfs: fill %s: %v", dir, err)
				}
				break
			}
		}
	}
	return path
}

// Free removes a file Fill made.
func Free(t testing.TB, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatalf("smallfs: free %s: %v", path, err)
	}
}
