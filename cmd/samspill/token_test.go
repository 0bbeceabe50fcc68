package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"
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

// TestExpiryMeansTheSameEverywhere: a date given to --expires is the end
// of that day in Norway, as the admin page and the API read it.
func TestExpiryMeansTheSameEverywhere(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Time
		bad  bool
	}{
		{in: "2027-03-01", want: time.Date(2027, 3, 1, 23, 0, 0, 0, time.UTC).Add(-time.Nanosecond)}, // CET
		{in: "2027-07-01", want: time.Date(2027, 7, 1, 22, 0, 0, 0, time.UTC).Add(-time.Nanosecond)}, // CEST
		{in: "90d", want: now.AddDate(0, 0, 90)},
		{in: "2026-12-07", want: time.Date(2026, 12, 7, 23, 0, 0, 0, time.UTC).Add(-time.Nanosecond)}, // today still counts
		{in: "2026-12-06", bad: true},
		{in: "0d", bad: true},
		{in: "tomorrow", bad: true},
	} {
		got, err := parseExpiry(tc.in, now)
		if tc.bad {
			if err == nil {
				t.Errorf("parseExpiry(%q) = %v, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("parseExpiry(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}
