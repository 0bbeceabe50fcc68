package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/samspill/samspill/auth"
)

// signInUser signs a person in on the data folder's store, as the sign-in
// pages do (the CLI makes no users), and returns its user id and session.
func signInUser(t *testing.T, data string, id auth.Identity, mapped auth.Grant) (string, string) {
	t.Helper()
	b := backend{data: data, readModel: readModelSQLite}
	users, closeAll, err := b.openUsers(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll()
	sid, u, err := users.SignIn(t.Context(), id, mapped, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return u.ID, sid
}

// sessionOf reads a session on the data folder's store.
func sessionOf(t *testing.T, data, sid string) (auth.Principal, error) {
	t.Helper()
	tokens, err := backend{data: data, readModel: readModelSQLite}.openTokens(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer tokens.Close()
	return tokens.Session(t.Context(), sid, time.Now())
}

// TestUserCommands: list finds users by name or e-mail, grant ends their
// sessions and shows in the list, disable and enable, erase drops the name,
// tokens take an owner and an expiry, and the audit log shows each change
// by "system".
func TestUserCommands(t *testing.T) {
	data := t.TempDir()
	kari, sid := signInUser(t, data, auth.Identity{Provider: "idporten", Subject: "s1", Name: "Kari Nordmann", Email: "kari@arendal.kommune.no"}, auth.Grant{Role: auth.RoleViewer})
	ola, _ := signInUser(t, data, auth.Identity{Provider: "idporten", Subject: "s2", Name: "Ola Li", Email: "ola@steinkjer.kommune.no"}, auth.Grant{})

	list := runOK(t, "user", "list", "--data", data)
	if !strings.Contains(list, kari) || !strings.Contains(list, "Kari Nordmann") || !strings.Contains(list, "ola@steinkjer.kommune.no") || !strings.Contains(list, "no role") {
		t.Fatalf("user list:\n%s", list)
	}
	if list := runOK(t, "user", "list", "--query", "ARENDAL", "--data", data); !strings.Contains(list, kari) || strings.Contains(list, ola) {
		t.Fatalf("user list --query ARENDAL:\n%s", list)
	}
	if p, err := sessionOf(t, data, sid); err != nil || p.Subject != kari {
		t.Fatalf("kari's session before the grant: %+v, %v", p, err)
	}
	if out := runOK(t, "user", "grant", kari, "--role", "coordinator", "--municipality", "0906", "--data", data); !strings.Contains(out, "granted coordinator of 4203") {
		t.Fatalf("grant: %q", out)
	}
	if _, err := sessionOf(t, data, sid); err == nil {
		t.Fatal("kari's session lives on after the grant")
	}
	if list := runOK(t, "user", "list", "--query", kari, "--data", data); !strings.Contains(list, "coordinator of 4203") || !strings.Contains(list, "admin") {
		t.Fatalf("user list after the grant:\n%s", list)
	}
	runOK(t, "user", "mappings", kari, "--data", data)
	runOK(t, "user", "disable", ola, "--data", data)
	if list := runOK(t, "user", "list", "--query", ola, "--data", data); !strings.Contains(list, "disabled") {
		t.Fatalf("user list after disable:\n%s", list)
	}
	runOK(t, "user", "enable", ola, "--data", data)

	out := runOK(t, "token", "create", "--role", "viewer", "--name", "karis-script", "--owner", kari, "--expires", "2099-03-01", "--data", data)
	if lines := strings.Split(strings.TrimSpace(out), "\n"); !adminToken.MatchString(lines[len(lines)-1]) {
		t.Fatalf("token create --owner: %q", out)
	}
	runOK(t, "token", "create", "--role", "viewer", "--name", "short", "--expires", "90d", "--data", data)
	tokens := runOK(t, "token", "list", "--data", data)
	if !strings.Contains(tokens, "OWNER") || !strings.Contains(tokens, kari) || !strings.Contains(tokens, "2099-03-01T22:59:59Z") ||
		!strings.Contains(tokens, time.Now().UTC().AddDate(0, 0, 90).Format("2006-01-02")) {
		t.Fatalf("token list:\n%s", tokens)
	}

	if out := runOK(t, "user", "erase", ola, "--data", data); !strings.Contains(out, "erased") {
		t.Fatalf("erase: %q", out)
	}
	if list := runOK(t, "user", "list", "--data", data); strings.Contains(list, "Ola Li") || !strings.Contains(list, ola) || !strings.Contains(list, "erased") {
		t.Fatalf("user list after erase:\n%s", list)
	}

	log := runOK(t, "audit", "--target", kari, "--data", data)
	for _, want := range []string{"user.created", "user.signed_in", "system  user.granted", "coordinator of 4203", "user.to_mappings"} {
		if !strings.Contains(log, want) {
			t.Fatalf("audit --target kari lacks %q:\n%s", want, log)
		}
	}
	if log := runOK(t, "audit", "--action", "token.created", "--limit", "1", "--data", data); !strings.Contains(log, "short") || strings.Contains(log, "karis-script") {
		t.Fatalf("audit --action token.created --limit 1:\n%s", log)
	}
	if log := runOK(t, "audit", "--actor", "system", "--data", data); strings.Contains(log, "Kari") || strings.Contains(log, "Ola") {
		t.Fatalf("the audit log names a person:\n%s", log)
	}

	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"user"}, 2, "list, grant"},
		{[]string{"user", "boss"}, 2, "unknown subcommand"},
		{[]string{"user", "grant"}, 2, "user's id"},
		{[]string{"user", "disable", "kari"}, 2, "no user id"},
		{[]string{"user", "grant", kari}, 2, "--role"},
		{[]string{"user", "grant", kari, "--role", "coordinator"}, 2, "municipality"},
		{[]string{"user", "grant", kari, "--role", "viewer", "--municipality", "4203"}, 2, "only coordinators"},
		{[]string{"user", "list", "--role", "admin"}, 2, "grant only"},
		{[]string{"user", "disable", auth.NewUserID(), "--data", data}, 1, "no such user"},
		{[]string{"user", "enable", ola, "--data", data}, 1, "erased"},
		{[]string{"token", "create", "--role", "viewer", "--owner", "kari", "--data", data}, 2, "not a user id"},
		{[]string{"token", "create", "--role", "viewer", "--owner", auth.NewUserID(), "--data", data}, 1, "no such user"},
		{[]string{"token", "create", "--role", "viewer", "--expires", "2001-01-01", "--data", data}, 2, "not in the future"},
		{[]string{"token", "create", "--role", "viewer", "--expires", "soon", "--data", data}, 2, "90d"},
		{[]string{"token", "list", "--expires", "90d", "--data", data}, 2, "create only"},
		{[]string{"audit", "--limit", "0", "--data", data}, 2, "--limit"},
	} {
		var errOut bytes.Buffer
		code := exitCode(run(context.Background(), tc.args, io.Discard, io.Discard, noEnv), &errOut)
		if code != tc.code || (tc.code != 0 && (strings.Count(errOut.String(), "\n") != 1 || !strings.Contains(errOut.String(), tc.want))) {
			t.Errorf("%v: exit %d, stderr %q; want %d with %q", tc.args, code, errOut.String(), tc.code, tc.want)
		}
	}
}
