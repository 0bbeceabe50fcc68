package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/domain/calendar"
	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/domain/survey"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/personal"
	"github.com/samspill/samspill/projections"
	"github.com/samspill/samspill/surveys"
	"github.com/samspill/samspill/surveys/mail"
	"github.com/samspill/samspill/surveys/mail/mailpittest"
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

// TestServeMailsInvitationsThroughItsRound: the site serve builds, with
// --smtp-addr at a real Mailpit, takes an invitation on the API (202),
// and its background round (started with the site, kicked by the
// request) mails the link; the counts follow; a researcher outside the
// project gets the same 404 as for an unknown wave.
func TestServeMailsInvitationsThroughItsRound(t *testing.T) {
	mp := mailpittest.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := smtpFlags{cfg: mail.Config{Addr: mp.SMTPAddr, From: "Samspill <samspill@kommune.example>", TLS: mail.TLSNone, Rate: 60}}
	if err := f.validate(); err != nil {
		t.Fatal(err)
	}
	ms := newMailTestSite(t, ctx, f)
	srv, w, forsker, other := ms.srv, ms.wave, ms.forsker, ms.other
	call := func(token, method, path, body string) (int, string) {
		t.Helper()
		return callAPI(t, ctx, srv.URL, token, method, path, body)
	}
	base := "/api/v1/surveys/waves/" + w.ID
	if st, body := call(other, "POST", base+"/invitations", `{"municipality":"4601","language":"nn","addresses":["a@kommune.example"]}`); st != http.StatusNotFound {
		t.Fatalf("a researcher outside the project: %d %s; want 404", st, body)
	}
	if st, _ := call(other, "GET", "/api/v1/surveys/waves/nope/mailing", ""); st != http.StatusNotFound {
		t.Fatalf("an unknown wave: %d; want 404", st)
	}
	if st, body := call(forsker, "POST", base+"/invitations", `{"municipality":"4601","language":"nn","addresses":["kari@kommune.example","nei","kari@kommune.example"]}`); st != http.StatusBadRequest ||
		!strings.Contains(body, `"addresses[1]"`) {
		t.Fatalf("a bad address: %d %s; want 400 naming addresses[1]", st, body)
	}
	st, body := call(forsker, "POST", base+"/invitations", `{"municipality":"4601","language":"nn","addresses":["kari@kommune.example","ola@lag.example","kari@kommune.example"]}`)
	if st != http.StatusAccepted || !strings.Contains(body, `"queued":2`) || !strings.Contains(body, `"duplicates":1`) {
		t.Fatalf("invitations: %d %s; want 202, 2 queued, 1 duplicate", st, body)
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(mp.Messages(t)) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("serve's round mailed %d of 2 invitations in 20 s", len(mp.Messages(t)))
		}
		time.Sleep(50 * time.Millisecond)
	}
	msg := mp.To(t, "kari@kommune.example")
	if len(msg) != 1 || !strings.Contains(msg[0].Subject, "OFFRI, leiarar i Bergen") || !strings.Contains(msg[0].Text, "https://samspill.example/s/") {
		t.Fatalf("the mail to kari: %+v", msg)
	}
	for time.Now().Before(deadline) {
		if st, body = call(forsker, "GET", base+"/mailing", ""); strings.Contains(body, `"sent":2`) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if st != http.StatusOK || !strings.Contains(body, `"email_configured":true`) || !strings.Contains(body, `"sent":2`) || strings.Contains(body, "kari") {
		t.Fatalf("mailing: %d %s", st, body)
	}
	if st, body := call(forsker, "POST", base+"/reminders", ""); st != http.StatusAccepted || !strings.Contains(body, `"queued":0`) {
		t.Fatalf("reminders within a day: %d %s; want 202 and none queued", st, body)
	}
}

// mailTestSite is the site serve builds, over stores in the test's folder,
// with a research project "offri" (member: the token forsker; annan is a
// researcher outside it) and a wave of it in Bergen, open for two weeks.
type mailTestSite struct {
	srv            *httptest.Server
	wave           surveys.WaveInfo
	forsker, other string
}

func newMailTestSite(t *testing.T, ctx context.Context, f smtpFlags) *mailTestSite {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	b := backend{data: t.TempDir(), store: storeSQLite, readModel: readModelSQLite}
	store, err := b.openEvents(ctx, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	keys, err := b.openKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = keys.Close() })
	secret, err := b.secret(ctx, keys)
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := projectSealer(secret)
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := b.openAuth(ctx, personal.UserSealer{Keys: keys}, sealer)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tokens.Close() })
	db, err := b.openReadModels(ctx, log)
	if err != nil {
		t.Fatal(err)
	}
	runner := projections.New(db, store, readModels(), projections.WithLogger(log))
	if err := runner.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = runner.Close(); _ = db.Close() })
	handler, err := site{store: store, runner: runner, tokens: tokens, users: tokens, projects: tokens, keys: keys, secret: secret, log: log,
		registry: prometheus.NewRegistry(), links: tokens, publicURL: "https://samspill.example", smtp: f,
		startMail: func(m *surveys.Mailer) { startMailer(ctx, m, log) }}.handler()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	admin := auth.Principal{Subject: "admin", Role: auth.RoleAdmin}
	forsker, err := tokens.Create(ctx, auth.Spec{Name: "forsker", Role: auth.RoleResearcher})
	if err != nil {
		t.Fatal(err)
	}
	other, err := tokens.Create(ctx, auth.Spec{Name: "annan", Role: auth.RoleResearcher})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tokens.CreateProject(ctx, admin, auth.Project{ID: "offri", Name: "OFFRI", Institution: "Høgskulen på Vestlandet",
		Purpose: "Samarbeid", Starts: "2026-01-01", Municipalities: []kommune.Code{"4601"}}); err != nil {
		t.Fatal(err)
	}
	if err := tokens.GrantProject(ctx, admin, "offri", "forsker"); err != nil {
		t.Fatal(err)
	}
	// The wave is made beside the site, over the same store and links.
	svc := surveys.New(store, tokens, tokens)
	actor := eventstore.Actor{Subject: "forsker", Role: auth.RoleResearcher}
	q, err := svc.Publish(ctx, actor, survey.Demo()[0])
	if err != nil {
		t.Fatal(err)
	}
	today := time.Now().In(calendar.Oslo)
	w, err := svc.Schedule(ctx, actor, survey.Wave{ProjectID: "offri", Title: "OFFRI, leiarar i Bergen", QuestionnaireID: q.ID,
		Group: survey.GroupMunicipalLeaders, Municipalities: []string{"4601"}, Opens: calendar.Day(today), Closes: calendar.Day(today.AddDate(0, 0, 14))})
	if err != nil {
		t.Fatal(err)
	}
	return &mailTestSite{srv: srv, wave: w, forsker: forsker, other: other}
}

// callAPI sends a request with a bearer token (and a JSON body, if any)
// and returns the status and body.
func callAPI(t *testing.T, ctx context.Context, base, token, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServeWithoutSMTPRefusesInvitations: without --smtp-addr the API
// answers 409 to invitations and reminders, and the counts say e-mail is
// not configured.
func TestServeWithoutSMTPRefusesInvitations(t *testing.T) {
	ctx := context.Background()
	ms := newMailTestSite(t, ctx, smtpFlags{})
	base := "/api/v1/surveys/waves/" + ms.wave.ID
	if st, body := callAPI(t, ctx, ms.srv.URL, ms.forsker, "POST", base+"/invitations", `{"municipality":"4601","language":"nb","addresses":["a@kommune.example"]}`); st != http.StatusConflict ||
		!strings.Contains(body, "E-mail not configured") {
		t.Fatalf("invitations without SMTP: %d %s; want 409", st, body)
	}
	if st, _ := callAPI(t, ctx, ms.srv.URL, ms.forsker, "POST", base+"/reminders", ""); st != http.StatusConflict {
		t.Fatalf("reminders without SMTP: %d; want 409", st)
	}
	if st, body := callAPI(t, ctx, ms.srv.URL, ms.forsker, "GET", base+"/mailing", ""); st != http.StatusOK || !strings.Contains(body, `"email_configured":false`) {
		t.Fatalf("mailing without SMTP: %d %s", st, body)
	}
}

func init() {
	// The survey mailing's rows of the authorization matrix. The API
	// takes exporters (admins, researchers); the pages any signed-in
	// reader, answering the unknown wave's 404 page outside the wave's
	// project (the matrix asks for a wave that does not exist: 404 for
	// everyone let through).
	pageMember, pageMemberDo := row(303, 303, pass, pass, pass, pass, pass), row(401, 401, pass, pass, pass, pass, pass)
	for route, want := range map[string]map[string]outcome{
		"POST /api/v1/surveys/waves/:wave/invitations": apiExport,
		"POST /api/v1/surveys/waves/:wave/reminders":   apiExport,
		"GET /api/v1/surveys/waves/:wave/mailing":      apiExport,
		"GET /surveys/waves/:wave/mail":                pageMember,
		"POST /surveys/waves/:wave/mail":               pageMemberDo,
		"POST /surveys/waves/:wave/mail/reminders":     pageMemberDo,
	} {
		authzMatrix[route] = want
	}
}
