package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/samspill/samspill/surveys"
)

// TestSMTPFlagsAreCheckedFirst: mistakes in the SMTP flags are a one-line
// message and exit 2 before anything is opened; the password is never a
// flag.
func TestSMTPFlagsAreCheckedFirst(t *testing.T) {
	for _, c := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--smtp-addr", "smtp.kommune.no:587", "--smtp-from", "a@kommune.no", "--smtp-password", "x"}, nil, "smtp-password"},
		{[]string{"--smtp-addr", "smtp.kommune.no:25", "--smtp-from", "a@kommune.no", "--smtp-tls", "none"}, nil, "only for a server on localhost"},
		{[]string{"--smtp-addr", "smtp.kommune.no:587"}, nil, "--smtp-from"},
		{[]string{"--smtp-addr", "smtp.kommune.no", "--smtp-from", "a@kommune.no"}, nil, "not host:port"},
		{[]string{"--smtp-addr", "smtp.kommune.no:587", "--smtp-from", "a@kommune.no", "--smtp-tls", "ssl"}, nil, "starttls, tls, none"},
		{[]string{"--smtp-addr", "smtp.kommune.no:587", "--smtp-from", "a@kommune.no", "--smtp-rate", "0"}, nil, "--smtp-rate"},
		{[]string{"--smtp-from", "a@kommune.no"}, nil, "need --smtp-addr"},
		{nil, map[string]string{smtpPasswordEnv: "s3cret"}, "--smtp-addr is not"},
		{[]string{"--smtp-addr", "smtp.kommune.no:587", "--smtp-from", "a@kommune.no"}, map[string]string{smtpPasswordEnv: "s3cret"}, "needs --smtp-user"},
		{[]string{"--smtp-addr", "smtp.kommune.no:587", "--smtp-from", "a@kommune.no", "--smtp-user", "u"},
			map[string]string{smtpPasswordEnv: "a", smtpPasswordEnv + "_FILE": "/x"}, "not both"},
	} {
		var errOut bytes.Buffer
		args := append([]string{"serve", "--data", t.TempDir()}, c.args...)
		err := run(context.Background(), args, io.Discard, io.Discard, envOf(c.env))
		code := exitCode(err, &errOut)
		if code != 2 || !strings.Contains(errOut.String(), c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, errOut.String(), c.want)
		}
	}
}

// TestSMTPMailerNeedsThePublicURL: a mailer with a server needs the links'
// base URL; without --smtp-addr the mailer is off (the CSV download).
func TestSMTPMailerNeedsThePublicURL(t *testing.T) {
	f := smtpFlags{}
	f.cfg.Addr, f.cfg.From = "127.0.0.1:2525", "samspill@kommune.example"
	if _, err := f.mailer(surveys.New(nil, nil, nil)); err == nil || !strings.Contains(err.Error(), "public URL") {
		t.Fatalf("mailer without a public URL: %v", err)
	}
	m, err := f.mailer(surveys.New(nil, nil, nil, surveys.WithPublicURL("https://samspill.example")))
	if err != nil || !m.Enabled() || m.Rate() != 60 {
		t.Fatalf("mailer: %v, enabled %v", err, m.Enabled())
	}
	off, err := (&smtpFlags{}).mailer(surveys.New(nil, nil, nil))
	if err != nil || off.Enabled() {
		t.Fatalf("mailer without --smtp-addr: %v, enabled %v", err, off.Enabled())
	}
	if _, err := off.Round(context.Background()); !errors.Is(err, surveys.ErrMailNotConfigured) {
		t.Fatalf("round without a server: %v", err)
	}
	startMailer(context.Background(), off, nil) // returns at once: nothing to run
}
