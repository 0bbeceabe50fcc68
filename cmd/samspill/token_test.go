package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
)

func TestTokenCommands(t *testing.T) {
	data := t.TempDir()
	out := runOK(t, "token", "create", "--role", "coordinator", "--municipality", "0906", "--municipality", "5006", "--name", "koord", "--data", data)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	token := lines[len(lines)-1]
	if !adminToken.MatchString(token) {
		t.Fatalf("the last line is not a token: %q", out)
	}
	runOK(t, "token", "create", "--role", "viewer", "--data", data)
	list := runOK(t, "token", "list", "--data", data)
	if strings.Contains(list, token) || !strings.Contains(list, "koord") || !strings.Contains(list, "4203,5006") || !strings.Contains(list, "viewer-") {
		t.Fatalf("token list:\n%s", list)
	}
	if out := runOK(t, "token", "revoke", "koord", "--data", data); !strings.Contains(out, "revoked koord") {
		t.Fatalf("revoke: %q", out)
	}
	if list := runOK(t, "token", "list", "--data", data); strings.Contains(list, "koord") {
		t.Fatalf("revoked token still listed:\n%s", list)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"token"}, 2, "create, list or revoke"},
		{[]string{"token", "create", "--role", "boss"}, 2, "role"},
		{[]string{"token", "create", "--role", "coordinator"}, 2, "--municipality"},
		{[]string{"token", "create", "--role", "viewer", "--municipality", "4203"}, 2, "only coordinators"},
		{[]string{"token", "list", "--role", "admin"}, 2, "create only"},
		{[]string{"token", "revoke"}, 2, "name"},
		{[]string{"token", "revoke", "nobody", "--data", data}, 1, "no token"},
		{[]string{"token", "create", "--role", "viewer", "--name", "viewer-x", "--data", data}, 0, ""},
		{[]string{"token", "create", "--role", "viewer", "--name", "viewer-x", "--data", data}, 1, "already exists"},
	} {
		var errOut bytes.Buffer
		code := exitCode(run(context.Background(), tc.args, io.Discard, io.Discard, noEnv), &errOut)
		if code != tc.code || (tc.code != 0 && (strings.Count(errOut.String(), "\n") != 1 || !strings.Contains(errOut.String(), tc.want))) {
			t.Errorf("%v: exit %d, stderr %q; want %d with %q", tc.args, code, errOut.String(), tc.code, tc.want)
		}
	}
}
