//go:build unix

package ownerfile_test

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/samspill/samspill/internal/ownerfile"
)

func TestCreateIsOwnerOnlyUnderAnyUmask(t *testing.T) {
	defer syscall.Umask(syscall.Umask(0))
	path := filepath.Join(t.TempDir(), "f")
	if err := ownerfile.Create(path); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != ownerfile.Mode {
		t.Fatalf("mode %v %v, want %v", info.Mode(), err, ownerfile.Mode)
	}
	// An existing file is left as it is, content and mode.
	if err := os.WriteFile(path, []byte("kept"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := ownerfile.Create(path); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "kept" {
		t.Fatalf("content %q", b)
	}
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o644 {
		t.Fatalf("Create changed an existing file's mode to %v", info.Mode())
	}
}

func TestCheck(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a folder")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]os.FileMode{"private": 0o600, "read-only": 0o400, "group": 0o640, "world": 0o606}
	for name, mode := range files {
		if err := os.WriteFile(filepath.Join(dir, name), nil, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Join(dir, name), mode); err != nil {
			t.Fatal(err)
		}
	}
	p := func(name string) string { return filepath.Join(dir, name) }
	if err := ownerfile.Check(p("private"), p("read-only"), p("missing")); err != nil {
		t.Fatalf("owner-only and missing files: %v", err)
	}
	err := ownerfile.Check(p("private"), p("group"), p("world"))
	var exposed *ownerfile.ExposedError
	if !errors.As(err, &exposed) || len(exposed.Files) != 2 {
		t.Fatalf("got %v, want an ExposedError naming two files", err)
	}
	want := p("group") + " (mode 0640), " + p("world") + " (mode 0606): readable or writable by group or others (must be the owner's alone); run chmod 600 '" + p("group") + "' '" + p("world") + "'"
	if err.Error() != want {
		t.Fatalf("message\n%s\nwant\n%s", err, want)
	}
}
