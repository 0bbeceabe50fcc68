package web

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/samspill/samspill/auth"
	authsqlite "github.com/samspill/samspill/auth/sqlite"
	"github.com/samspill/samspill/domain/calendar"
	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/domain/survey"
	"github.com/samspill/samspill/edge"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/surveys"
	"github.com/samspill/samspill/surveys/mail"
	"github.com/samspill/samspill/surveys/mail/mailpittest"
)

// mailSite is the pages with a survey service and its mailer (a Mailpit
// of the test's own, or none) over a newSite's stores, and one wave of the
// project "offri" (its member: the token "researcher"), open from the
// site's today for two weeks.
type mailSite struct {
	*site
	wave   surveys.WaveInfo
	mailer *surveys.Mailer
	mp     *mailpittest.Server
}

func newMailSite(t *testing.T, withSMTP bool) *mailSite {
	t.Helper()
	ctx := context.Background()
	base := newSite(t, false)
	tokens := base.userStore.(*authsqlite.Tokens)
	svc := surveys.New(base.store, tokens, tokens, surveys.WithPublicURL("https://samspill.example"), surveys.WithClock(base.now),
		surveys.WithLogger(slog.New(slog.DiscardHandler)))
	ms := &mailSite{}
	var sender *mail.Sender
	if withSMTP {
		ms.mp = mailpittest.Start(t)
		var err error
		if sender, err = mail.New(mail.Config{Addr: ms.mp.SMTPAddr, From: "samspill@kommune.example", TLS: mail.TLSNone}); err != nil {
			t.Fatal(err)
		}
	}
	ms.mailer = surveys.NewMailer(svc, sender, surveys.WithMailerClock(base.now))
	if _, err := tokens.CreateProject(ctx, auth.SystemPrincipal, auth.Project{ID: "offri", Name: "OFFRI", Institution: "Høgskulen på Vestlandet",
		Purpose: "Samarbeid", Starts: "2026-01-01", Municipalities: []kommune.Code{"4203", "5006"}}); err != nil {
		t.Fatal(err)
	}
	if err := tokens.GrantProject(ctx, auth.SystemPrincipal, "offri", "researcher"); err != nil {
		t.Fatal(err)
	}
	actor := eventstore.Actor{Subject: "researcher", Role: auth.RoleResearcher}
	q, err := svc.Publish(ctx, actor, survey.Demo()[0])
	if err != nil {
		t.Fatal(err)
	}
	today := base.now().In(calendar.Oslo)
	if ms.wave, err = svc.Schedule(ctx, actor, survey.Wave{ProjectID: "offri", Title: "OFFRI, leiarar", QuestionnaireID: q.ID,
		Group: survey.GroupMunicipalLeaders, Municipalities: []string{"4203", "5006"}, Opens: calendar.Day(today), Closes: calendar.Day(today.AddDate(0, 0, 14))}); err != nil {
		t.Fatal(err)
	}
	pages, err := New(Config{Service: base.svc, Projections: base.proj, Tokens: tokens, UserStore: tokens, ProjectStore: tokens,
		Logger: slog.New(slog.DiscardHandler), Now: base.now, Surveys: svc, SurveyMail: ms.mailer})
	if err != nil {
		t.Fatal(err)
	}
	engine := edge.NewEngine()
	pages.Register(engine)
	srv := httptest.NewServer(engine)
	t.Cleanup(srv.Close)
	ms.site = &site{srv: srv, tokens: base.tokens, store: base.store, now: base.now}
	return ms
}

func (ms *mailSite) path() string { return "/surveys/waves/" + ms.wave.ID + "/mail" }

// postMultipart sends the invitation form as a browser does: multipart,
// with the page's CSRF token, the fields and, if name is set, a file.
func (b *browser) postMultipart(path string, fields map[string]string, name, file string) page {
	b.t.Helper()
	csrf, _ := formValues(b.t, b.get(path).Body)
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	_ = w.WriteField("csrf_token", csrf)
	for k, v := range fields {
		_ = w.WriteField(k, v)
	}
	if name != "" {
		fw, _ := w.CreateFormFile("file", name)
		_, _ = fw.Write([]byte(file))
	}
	_ = w.Close()
	req, err := http.NewRequest(http.MethodPost, b.site.srv.URL+path, &body)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("POST %s: %v", path, err)
	}
	return read(b.t, resp)
}

// TestSurveyMailPage: a member of the wave's project pastes and uploads
// addresses; bad lines are named and nothing is queued; good ones are
// queued, mailed by a round and counted, never shown back; reminders are
// queued from the page; others get the unknown wave's 404 page.
func TestSurveyMailPage(t *testing.T) {
	t.Parallel()
	ms := newMailSite(t, true)
	path := ms.path()
	for _, who := range []string{"arendal", "viewer"} {
		if p := ms.browserAs(t, who).get(path); p.Status != http.StatusNotFound {
			t.Errorf("%s: %d; want the 404 page", who, p.Status)
		}
	}
	b := ms.browserAs(t, "researcher")
	if p := b.get("/surveys/waves/nope/mail"); p.Status != http.StatusNotFound {
		t.Errorf("an unknown wave: %d", p.Status)
	}
	b.setLang("nn")
	p := b.get(path)
	if p.Status != http.StatusOK || !strings.Contains(p.Body, "Invitasjonar på e-post: OFFRI, leiarar") || !strings.Contains(p.Body, `id="form-invite"`) {
		t.Fatalf("the page: %d\n%s", p.Status, p.Body)
	}

	bad := b.postMultipart(path, map[string]string{"addresses": "kari@kommune.example\nikkje ei adresse\n", "municipality": "4203", "language": "nn"},
		"liste.csv", "namn;e-post\nOla;ola@lag.example\nPer;per@\n")
	if bad.Status != http.StatusBadRequest || !strings.Contains(bad.Body, "Adressefeltet, linje 2: ikkje ei gyldig e-postadresse") ||
		!strings.Contains(bad.Body, "Fila liste.csv, linje 3: ikkje ei gyldig e-postadresse") {
		t.Fatalf("bad lines: %d\n%s", bad.Status, bad.Body)
	}
	if strings.Contains(bad.Body, "kari@kommune.example") || strings.Contains(bad.Body, "ola@lag.example") {
		t.Error("the refused page shows the addresses back")
	}
	if p := b.get(path); !strings.Contains(p.Body, `id="count-queued">0<`) {
		t.Fatal("a refused form queued mail")
	}

	good := b.postMultipart(path, map[string]string{"addresses": "kari@kommune.example\nkari@kommune.example\n", "municipality": "4203", "language": "nn"},
		"liste.csv", "namn,email\nOla,ola@lag.example\n")
	if good.Status != http.StatusSeeOther || !strings.Contains(good.Location, "queued=2") {
		t.Fatalf("good form: %d %q\n%s", good.Status, good.Location, good.Body)
	}
	p = b.get(good.Location)
	if !strings.Contains(p.Body, "2 invitasjonar er lagde i kø") || !strings.Contains(p.Body, "1 adresse stod fleire gonger.") || !strings.Contains(p.Body, `id="count-queued">2<`) {
		t.Fatalf("after queuing:\n%s", p.Body)
	}
	if res, err := ms.mailer.Round(context.Background()); err != nil || res.Sent != 2 {
		t.Fatalf("round: %+v, %v", res, err)
	}
	p = b.get(path)
	if !strings.Contains(p.Body, `id="count-sent">2<`) || strings.Contains(p.Body, "kari@") {
		t.Fatalf("after the round (counts, no addresses):\n%s", p.Body)
	}
	if msgs := ms.mp.To(t, "ola@lag.example"); len(msgs) != 1 || !strings.HasPrefix(msgs[0].Subject, "Invitasjon til spørjeundersøking") {
		t.Fatalf("the mail to ola: %+v", msgs)
	}
	csrf, _ := formValues(t, p.Body)
	r := b.post(path+"/reminders", map[string][]string{"csrf_token": {csrf}})
	if r.Status != http.StatusSeeOther || !strings.HasSuffix(r.Location, "reminded=0") {
		t.Fatalf("reminders: %d %q", r.Status, r.Location)
	}
	if p := b.get(r.Location); !strings.Contains(p.Body, "0 påminningar er lagde i kø.") {
		t.Fatalf("after reminders:\n%s", p.Body)
	}
	// Without the CSRF token nothing is queued.
	req, _ := http.NewRequest(http.MethodPost, ms.srv.URL+path+"/reminders", nil)
	if resp, err := b.client.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a post without CSRF: %v %v", resp, err)
	}
}

// TestSurveyMailPageWithoutSMTP: without a server the page says so,
// points to the CSV download and refuses to queue.
func TestSurveyMailPageWithoutSMTP(t *testing.T) {
	t.Parallel()
	ms := newMailSite(t, false)
	b := ms.browserAs(t, "researcher")
	p := b.get(ms.path())
	if p.Status != http.StatusOK || !strings.Contains(p.Body, `id="mail-off"`) || strings.Contains(p.Body, `id="form-invite"`) ||
		!strings.Contains(p.Body, `href="/surveys/waves/`+ms.wave.ID+`"`) {
		t.Fatalf("the page without SMTP: %d\n%s", p.Status, p.Body)
	}
	ms.site.srv = ms.srv
	ok := b.postMultipart(ms.path(), map[string]string{"addresses": "kari@kommune.example", "municipality": "4203", "language": "nb"}, "", "")
	if ok.Status != http.StatusConflict {
		t.Fatalf("queuing without SMTP: %d", ok.Status)
	}
}

// TestSurveyMailPageIsAccessible runs axe-core on the mailing page, as
// drawn and with errors, at a phone's width and a desktop's, and checks
// it does not scroll sideways on the phone.
func TestSurveyMailPageIsAccessible(t *testing.T) {
	t.Parallel()
	source := axeSource(t)
	ctx := newBrowserWithin(t, narrowPhone, phoneHeight, 2*time.Minute)
	ms := newMailSite(t, true)
	base := ms.srv.URL
	do(t, ctx, "sign in", chromedp.Navigate(base+"/login?next="+ms.path()), chromedp.WaitVisible(chromedp.CSS("#token")),
		chromedp.SetValue(chromedp.CSS("#token"), ms.tokens["researcher"]), chromedp.Click(chromedp.CSS("#form-login button")))
	waitUntil(t, ctx, "the mailing page", `!!document.querySelector("#form-invite")`)
	for _, width := range []int64{narrowPhone, 1280} {
		do(t, ctx, "resize", chromedp.EmulateViewport(width, 900), chromedp.Navigate(base+ms.path()))
		waitUntil(t, ctx, "the mailing page", `!!document.querySelector("#form-invite")`)
		checkAccessibility(t, ctx, source, fmt.Sprintf("the mailing page at %d px", width))
		if width == narrowPhone && eval[bool](t, ctx, `document.documentElement.scrollWidth > document.documentElement.clientWidth`) {
			t.Errorf("the mailing page scrolls sideways at %d px", narrowPhone)
		}
	}
	// Sent without JavaScript's help: a bad address comes back named.
	do(t, ctx, "send a bad address", chromedp.EmulateViewport(narrowPhone, 900), chromedp.Navigate(base+ms.path()),
		chromedp.SetValue(chromedp.CSS("#mail-addresses"), "not an address"), chromedp.Click(chromedp.CSS("#mail-submit")))
	waitUntil(t, ctx, "the errors", `!!document.querySelector("#errors-mail")`)
	checkAccessibility(t, ctx, source, "the mailing page with errors")
}

// narrowPhone is the narrowest phone the pages are made for.
const narrowPhone = 360
