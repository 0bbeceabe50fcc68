package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	"filippo.io/age/armor"

	"github.com/samspill/samspill/auth"
)

// TestProjectCommands: create, list, show, grant (a viewer cannot be
// granted), revoke, rotate-key and export-key on a data folder; the
// sealed key opens with the recipient's identity and holds the key a
// running server would use (the same installation secret); each change
// is in the audit log; bad usage is one line and exit 2, refusals exit 1.
func TestProjectCommands(t *testing.T) {
	data := t.TempDir()
	runOK(t, "token", "create", "--role", "researcher", "--name", "forsker", "--data", data)
	runOK(t, "token", "create", "--role", "viewer", "--name", "leser", "--data", data)
	out := runOK(t, "project", "create", "offri", "--name", "Offentlig-frivillig samspill", "--institution", "Universitetet i Oslo",
		"--purpose", "Hvordan samarbeid varer", "--starts", "2026-01-01", "--ends", "2028-12-31", "--municipalities", "5006, 4203", "--data", data)
	if !strings.Contains(out, "offri: created") || !strings.Contains(out, "generation 1") {
		t.Fatalf("create: %q", out)
	}
	if out := runOK(t, "project", "grant", "offri", "forsker", "--data", data); !strings.Contains(out, "granted to forsker") {
		t.Fatalf("grant: %q", out)
	}
	list := runOK(t, "project", "list", "--data", data)
	if !strings.Contains(list, "offri") || !strings.Contains(list, "4203,5006") || !strings.Contains(list, "forsker") {
		t.Fatalf("list:\n%s", list)
	}
	show := runOK(t, "project", "show", "offri", "--data", data)
	for _, want := range []string{"Universitetet i Oslo", "Hvordan samarbeid varer", "2028-12-31", "key generation:  1", "members:         forsker"} {
		if !strings.Contains(show, want) {
			t.Fatalf("show lacks %q:\n%s", want, show)
		}
	}
	if out := runOK(t, "project", "rotate-key", "offri", "--data", data); !strings.Contains(out, "generation 2") || !strings.Contains(out, "new pseudonyms") {
		t.Fatalf("rotate-key: %q", out)
	}

	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "offri.age")
	if out := runOK(t, "project", "export-key", "offri", "--recipient", id.Recipient().String(), "--out", file, "--data", data); !strings.Contains(out, "generation 2") {
		t.Fatalf("export-key: %q", out)
	}
	sealed, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	r, err := age.Decrypt(armor.NewReader(bytes.NewReader(sealed)), id)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(r)
	var doc auth.ExportedProjectKey
	if err := json.Unmarshal(plain, &doc); err != nil {
		t.Fatal(err)
	}
	store, closeAll, err := backend{data: data, readModel: readModelSQLite}.openProjects(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	key, gen, err := store.ProjectKey(t.Context(), "offri")
	closeAll()
	if err != nil || doc.Project != "offri" || doc.Generation != 2 || gen != 2 || !bytes.Equal(doc.Key, key) {
		t.Fatalf("exported %+v; the store's key %x generation %d (%v)", doc, key, gen, err)
	}
	// To stdout, as the third party's age command reads it.
	stdout := runOK(t, "project", "export-key", "offri", "--recipient", id.Recipient().String(), "--data", data)
	if !strings.HasPrefix(stdout, "-----BEGIN AGE ENCRYPTED FILE-----") {
		t.Fatalf("export-key to stdout: %q", stdout)
	}
	if cli, err := exec.LookPath("age"); err == nil {
		keyFile := filepath.Join(t.TempDir(), "key.txt")
		if err := os.WriteFile(keyFile, []byte(id.String()+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.CommandContext(t.Context(), cli, "-d", "-i", keyFile)
		cmd.Stdin = strings.NewReader(stdout)
		if got, err := cmd.Output(); err != nil || !bytes.Contains(got, []byte(`"project":"offri"`)) {
			t.Fatalf("age -d: %s, %v", got, err)
		}
	} else {
		t.Log("the age command is not installed: decrypted with the library only")
	}

	if out := runOK(t, "project", "revoke", "offri", "forsker", "--data", data); !strings.Contains(out, "revoked from forsker") {
		t.Fatalf("revoke: %q", out)
	}
	log := runOK(t, "audit", "--data", data)
	for _, want := range []string{"project.created", "project.granted", "offri/forsker", "project.key_rotated", "project.key_exported", "project.revoked"} {
		if !strings.Contains(log, want) {
			t.Fatalf("the audit log lacks %q:\n%s", want, log)
		}
	}

	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"project"}, 2, "create, list"},
		{[]string{"project", "delete", "offri"}, 2, "unknown subcommand"},
		{[]string{"project", "show"}, 2, "project's id"},
		{[]string{"project", "grant", "offri"}, 2, "subject"},
		{[]string{"project", "show", "Offri!"}, 2, "no project id"},
		{[]string{"project", "list", "--name", "x"}, 2, "create only"},
		{[]string{"project", "show", "offri", "--recipient", "age1x"}, 2, "export-key only"},
		{[]string{"project", "export-key", "offri", "--data", data}, 2, "--recipient"},
		{[]string{"project", "export-key", "offri", "--recipient", "age1nope", "--data", data}, 2, "age X25519"},
		{[]string{"project", "create", "bad", "--name", "n", "--institution", "i", "--purpose", "p", "--starts", "2026-01-01", "--ends", "2025-01-01"}, 2, "before starts"},
		{[]string{"project", "create", "bad", "--name", "n", "--institution", "i", "--purpose", "p", "--starts", "2026-01-01", "--municipalities", "1702"}, 2, "today's code is 5006"},
		{[]string{"project", "create", "offri", "--name", "n", "--institution", "i", "--purpose", "p", "--starts", "2026-01-01", "--data", data}, 1, "already exists"},
		{[]string{"project", "grant", "offri", "leser", "--data", data}, 1, "only researchers and admins"},
		{[]string{"project", "grant", "offri", "nobody", "--data", data}, 1, "no token is named"},
		{[]string{"project", "revoke", "offri", "forsker", "--data", data}, 1, "not a member"},
		{[]string{"project", "show", "nope", "--data", data}, 1, "not found"},
		{[]string{"project", "rotate-key", "nope", "--data", data}, 1, "not found"},
	} {
		var errOut bytes.Buffer
		code := exitCode(run(context.Background(), tc.args, io.Discard, io.Discard, noEnv), &errOut)
		if code != tc.code || strings.Count(errOut.String(), "\n") != 1 || !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d with %q", tc.args, code, errOut.String(), tc.code, tc.want)
		}
	}
	// A refused export took no key out.
	if log := runOK(t, "audit", "--action", auth.AuditProjectKeyExported, "--data", data); strings.Count(log, "project.key_exported") != 2 {
		t.Fatalf("key exports in the audit log:\n%s", log)
	}
}
