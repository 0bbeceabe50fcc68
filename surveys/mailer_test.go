package surveys_test

import (
	"context"
	"errors"
	"net"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/domain/survey"
	"github.com/samspill/samspill/surveys"
	"github.com/samspill/samspill/surveys/mail"
	"github.com/samspill/samspill/surveys/mail/mailpittest"
)

const publicURL = "https://samspill.example"

var linkInMail = regexp.MustCompile(regexp.QuoteMeta(publicURL) + `/s/([A-Za-z0-9_-]+)`)

// mailer returns a Mailer of the env's service sending to addr at rate
// messages a minute, on the env's clock.
func mailer(t testing.TB, e *env, addr string, rate int) *surveys.Mailer {
	t.Helper()
	sender, err := mail.New(mail.Config{Addr: addr, From: "OFFRI <offri@uio.example>", TLS: mail.TLSNone, Rate: rate, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return surveys.NewMailer(e.svc, sender, surveys.WithMailerClock(e.clock))
}

func round(t *testing.T, m *surveys.Mailer) surveys.RoundResult {
	t.Helper()
	res, err := m.Round(context.Background())
	if err != nil {
		t.Fatalf("round: %v", err)
	}
	return res
}

func mailing(t *testing.T, e *env, waveID string) surveys.MailCounts {
	t.Helper()
	c, err := e.svc.Mailing(context.Background(), waveID)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// onlyLink returns the one response link in a message's text.
func onlyLink(t *testing.T, text string) string {
	t.Helper()
	m := linkInMail.FindAllStringSubmatch(text, -1)
	if len(m) != 1 {
		t.Fatalf("%d links in the message, want 1:\n%s", len(m), text)
	}
	return m[0][1]
}

// TestInvitationsArriveAtMailpit sends a wave's invitations through the
// rounds to a real SMTP server: the rate holds per minute of the clock, a
// recipient the server refuses with 550 is bounced and never tried again,
// and a mailed link opens the wave and takes one submission.
func TestInvitationsArriveAtMailpit(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, surveys.WithPublicURL(publicURL))
	w := e.fielded(t)
	steinkjer := e.partnership(t, "5006", "Frivilligsentralen i Steinkjer")
	// Mailpit refuses (550) every recipient outside these domains.
	mp := mailpittest.Start(t, "--smtp-allowed-recipients", `@(kommune|lag)\.example$`)
	m := mailer(t, e, mp.SMTPAddr, 2)

	res, err := e.svc.Invite(ctx, researcher, w.ID, surveys.InviteRequest{Municipality: "5006", Language: "nn",
		Addresses: []string{"kari@kommune.example", "ola@lag.example", "kari@kommune.example", "nobody@elsewhere.example", "per@kommune.example"}})
	if err != nil || res.Queued != 4 || res.Duplicates != 1 {
		t.Fatalf("Invite = %+v, %v", res, err)
	}
	if got := round(t, m); got.Sent != 2 || !got.Waiting {
		t.Fatalf("first round %+v; want 2 sent (the rate) and more waiting", got)
	}
	if got := round(t, m); got.Sent+got.Failed+got.Bounced != 0 || !got.Waiting {
		t.Fatalf("a second round in the same minute %+v; want nothing sent", got)
	}
	if c := mailing(t, e, w.ID); c.Queued != 2 || c.Sent != 2 {
		t.Fatalf("after a minute's rate: %+v", c)
	}
	e.setNow(day10.Add(61 * time.Second))
	if got := round(t, m); got.Sent != 1 || got.Bounced != 1 || got.Waiting {
		t.Fatalf("round a minute later %+v; want 1 sent, 1 bounced", got)
	}
	e.setNow(day10.Add(3 * time.Minute))
	if got := round(t, m); got != (surveys.RoundResult{}) {
		t.Fatalf("round with nothing queued %+v; the bounce must not be tried again", got)
	}
	if c := mailing(t, e, w.ID); c != (surveys.MailCounts{Sent: 3, Bounced: 1}) {
		t.Fatalf("mailing %+v", c)
	}
	bounced, err := e.links.Links(ctx, auth.LinkFilter{WaveID: w.ID, Mail: []string{auth.MailBounced}})
	if err != nil || len(bounced) != 1 || !strings.HasPrefix(bounced[0].MailError, "recipient refused permanently: 550") ||
		strings.Contains(bounced[0].MailError, "nobody@") {
		t.Fatalf("bounced link %+v, %v; want its 550 recorded without the address", bounced, err)
	}

	if n := len(mp.Messages(t)); n != 3 {
		t.Fatalf("Mailpit holds %d messages, want 3", n)
	}
	got := mp.To(t, "kari@kommune.example")
	if len(got) != 1 {
		t.Fatalf("%d messages to kari, want 1", len(got))
	}
	msg := got[0]
	if msg.Subject != "Invitasjon til spørjeundersøking: OFFRI 2027, kommunale ledere" {
		t.Errorf("subject %q", msg.Subject)
	}
	text := strings.ReplaceAll(msg.Text, "\r\n", "\n")
	for _, want := range []string{"Offentlig-frivillig samspill ved Universitetet i Oslo inviterer deg",
		"Undersøkinga er open til og med 31. mars 2027.", "Det er frivillig å svare", "ta kontakt med Universitetet i Oslo"} {
		if !strings.Contains(text, want) {
			t.Errorf("the nynorsk message lacks %q:\n%s", want, text)
		}
	}
	if msg.HTML != "" || strings.Contains(text, "<img") {
		t.Errorf("the message has HTML: %q", msg.HTML)
	}
	token := onlyLink(t, text)
	sess, err := e.svc.Open(ctx, token)
	if err != nil || sess.Wave.ID != w.ID || sess.Link.Municipality != "5006" || sess.Link.Address != "" {
		t.Fatalf("Open(the mailed link) = %+v, %v", sess.Link, err)
	}
	if err := e.svc.Submit(ctx, token, "nn", survey.Answers{"lead_support": {"4"}}, []string{steinkjer}, "r1"); err != nil {
		t.Fatalf("Submit through the mailed link: %v", err)
	}
	if _, err := e.svc.Open(ctx, token); !errors.Is(err, surveys.ErrLinkUsed) {
		t.Fatalf("the mailed link after submission: %v; want ErrLinkUsed", err)
	}
	// Every mail carries a link of its own.
	if a, b := onlyLink(t, mp.To(t, "ola@lag.example")[0].Text), onlyLink(t, mp.To(t, "per@kommune.example")[0].Text); a == b || a == token {
		t.Error("two mails carry the same link")
	}
	// An address already invited is not queued again.
	again, err := e.svc.Invite(ctx, researcher, w.ID, surveys.InviteRequest{Municipality: "5006", Language: "nb",
		Addresses: []string{"ola@lag.example", "ny@kommune.example"}})
	if err != nil || again != (surveys.InviteResult{Queued: 1, Known: 1}) {
		t.Fatalf("Invite again = %+v, %v", again, err)
	}
}

// TestDeadServerFailsAndIsRetried: with the SMTP server down every queued
// link is recorded failed; the next round, with the server up, mails them.
func TestDeadServerFailsAndIsRetried(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, surveys.WithPublicURL(publicURL))
	w := e.fielded(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()
	if _, err := e.svc.Invite(ctx, researcher, w.ID, surveys.InviteRequest{Municipality: "0301", Language: "en",
		Addresses: []string{"a@kommune.example", "b@kommune.example"}}); err != nil {
		t.Fatal(err)
	}
	if got := round(t, mailer(t, e, dead, 60)); got.Failed != 2 || got.Sent != 0 {
		t.Fatalf("round to a dead server %+v; want 2 failed", got)
	}
	if c := mailing(t, e, w.ID); c.Failed != 2 || c.Queued != 0 {
		t.Fatalf("mailing after the dead server %+v", c)
	}
	failed, _ := e.links.Links(ctx, auth.LinkFilter{WaveID: w.ID, Mail: []string{auth.MailFailed}})
	if len(failed) != 2 || !strings.Contains(failed[0].MailError, "temporary mail failure") {
		t.Fatalf("failed links %+v", failed)
	}
	mp := mailpittest.Start(t)
	if got := round(t, mailer(t, e, mp.SMTPAddr, 60)); got.Sent != 2 {
		t.Fatalf("retry round %+v; want 2 sent", got)
	}
	if c := mailing(t, e, w.ID); c != (surveys.MailCounts{Sent: 2}) {
		t.Fatalf("mailing after the retry %+v", c)
	}
	msgs := mp.To(t, "a@kommune.example")
	if len(msgs) != 1 || msgs[0].Subject != "Invitation to a survey: OFFRI 2027, kommunale ledere" {
		t.Fatalf("the retried message: %+v", msgs)
	}
	if _, err := e.svc.Open(ctx, onlyLink(t, msgs[0].Text)); err != nil {
		t.Fatalf("the retried link: %v", err)
	}
}

// TestReminders: not within 24 hours; a link nobody opened gets a new one
// (the first stops working); a started response gets a reminder without
// a link; a completed one none; at most three.
func TestReminders(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, surveys.WithPublicURL(publicURL))
	w := e.fielded(t)
	mp := mailpittest.Start(t)
	m := mailer(t, e, mp.SMTPAddr, 60)
	if _, err := e.svc.Invite(ctx, researcher, w.ID, surveys.InviteRequest{Municipality: "5006", Language: "nn",
		Addresses: []string{"idle@kommune.example", "busy@kommune.example", "done@kommune.example"}}); err != nil {
		t.Fatal(err)
	}
	round(t, m)
	first := map[string]string{}
	for _, a := range []string{"idle", "busy", "done"} {
		first[a] = onlyLink(t, mp.To(t, a+"@kommune.example")[0].Text)
	}
	p := e.partnership(t, "5006", "Leksehjelp")
	if _, err := e.svc.Save(ctx, first["busy"], "nn", survey.Answers{"lead_support": {"2"}}, nil, "s1"); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Submit(ctx, first["done"], "nn", survey.Answers{"lead_support": {"5"}}, []string{p}, "s2"); err != nil {
		t.Fatal(err)
	}
	if n, err := e.svc.Remind(ctx, researcher, w.ID); err != nil || n != 0 {
		t.Fatalf("Remind within 24 hours = %d, %v; want 0", n, err)
	}
	now := day10
	for i := 1; i <= 3; i++ {
		now = now.Add(25 * time.Hour)
		e.setNow(now)
		if n, err := e.svc.Remind(ctx, researcher, w.ID); err != nil || n != 2 {
			t.Fatalf("reminder %d: Remind = %d, %v; want 2 (not the completed one)", i, n, err)
		}
		if got := round(t, m); got.Sent != 2 {
			t.Fatalf("reminder %d: round %+v", i, got)
		}
	}
	now = now.Add(25 * time.Hour)
	e.setNow(now)
	if n, err := e.svc.Remind(ctx, researcher, w.ID); err != nil || n != 0 {
		t.Fatalf("a fourth reminder: Remind = %d, %v; want 0", n, err)
	}
	if c := mailing(t, e, w.ID); c.Reminders != 6 || c.Sent != 3 || c.Completed != 1 {
		t.Fatalf("mailing %+v", c)
	}

	idle := mp.To(t, "idle@kommune.example") // newest first
	if len(idle) != 4 {
		t.Fatalf("%d mails to idle, want the invitation and 3 reminders", len(idle))
	}
	latest := onlyLink(t, idle[0].Text)
	if !strings.HasPrefix(idle[0].Subject, "Påminning: ") || !strings.Contains(idle[0].Text, "Lenkja i den førre e-posten verkar ikkje lenger") {
		t.Errorf("reminder to idle: %q\n%s", idle[0].Subject, idle[0].Text)
	}
	for _, old := range []string{first["idle"], onlyLink(t, idle[1].Text)} {
		if _, err := e.svc.Open(ctx, old); !errors.Is(err, surveys.ErrLinkUnknown) {
			t.Errorf("an earlier mail's link: %v; want ErrLinkUnknown", err)
		}
	}
	if _, err := e.svc.Open(ctx, latest); err != nil {
		t.Errorf("the newest reminder's link: %v", err)
	}
	busy := mp.To(t, "busy@kommune.example")
	if len(busy) != 4 {
		t.Fatalf("%d mails to busy, want 4", len(busy))
	}
	if linkInMail.MatchString(busy[0].Text) || !strings.Contains(busy[0].Text, "Bruk lenkja i den første e-posten") {
		t.Errorf("a started response's reminder carries a link or lacks the explanation:\n%s", busy[0].Text)
	}
	if sess, err := e.svc.Open(ctx, first["busy"]); err != nil || sess.Response.Answers["lead_support"][0] != "2" {
		t.Errorf("the started response through its first link: %v", err)
	}
	if n := len(mp.To(t, "done@kommune.example")); n != 1 {
		t.Errorf("%d mails to the one who answered, want only the invitation", n)
	}
}

// TestTwoInstancesMailEachLinkOnce: two mailers (two instances) running
// rounds at once over one link store mail every link exactly once: the
// re-key is the claim.
func TestTwoInstancesMailEachLinkOnce(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, surveys.WithPublicURL(publicURL))
	w := e.fielded(t)
	mp := mailpittest.Start(t)
	var addrs []string
	for i := range 12 {
		addrs = append(addrs, "r"+string(rune('a'+i))+"@kommune.example")
	}
	if _, err := e.svc.Invite(ctx, researcher, w.ID, surveys.InviteRequest{Municipality: "5006", Language: "nb", Addresses: addrs}); err != nil {
		t.Fatal(err)
	}
	a, b := mailer(t, e, mp.SMTPAddr, 60), mailer(t, e, mp.SMTPAddr, 60)
	var wg sync.WaitGroup
	results := make([]surveys.RoundResult, 2)
	for i, m := range []*surveys.Mailer{a, b} {
		wg.Go(func() {
			res, err := m.Round(ctx)
			if err != nil {
				t.Errorf("round: %v", err)
			}
			results[i] = res
		})
	}
	wg.Wait()
	if sent := results[0].Sent + results[1].Sent; sent != len(addrs) {
		t.Fatalf("the instances sent %d (%+v), want %d", sent, results, len(addrs))
	}
	for _, addr := range addrs {
		if n := len(mp.To(t, addr)); n != 1 {
			t.Errorf("%s got %d mails, want 1", addr, n)
		}
	}
}

// TestRoundNeedsAnOpenWave: a wave's mail waits for its first day and
// is never sent once it has closed.
func TestRoundNeedsAnOpenWave(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, surveys.WithPublicURL(publicURL))
	mp := mailpittest.Start(t)
	m := mailer(t, e, mp.SMTPAddr, 60)
	q, err := e.svc.Publish(ctx, researcher, leaders())
	if err != nil {
		t.Fatal(err)
	}
	later, err := e.svc.Schedule(ctx, researcher, survey.Wave{ProjectID: "offri", Title: "Later", QuestionnaireID: q.ID,
		Group: survey.GroupVolunteers, Municipalities: []string{"5006"}, Opens: "2027-03-20", Closes: "2027-03-31"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Invite(ctx, researcher, later.ID, surveys.InviteRequest{Municipality: "5006", Language: "nb", Addresses: []string{"x@kommune.example"}}); err != nil {
		t.Fatal(err)
	}
	if got := round(t, m); got.Sent != 0 {
		t.Fatalf("a wave not open yet sent %+v", got)
	}
	e.setNow(day10.AddDate(0, 0, 10))
	if got := round(t, m); got.Sent != 1 {
		t.Fatalf("on its first day %+v; want 1 sent", got)
	}
	if _, err := e.svc.Invite(ctx, researcher, later.ID, surveys.InviteRequest{Municipality: "5006", Language: "nb", Addresses: []string{"y@kommune.example"}}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Close(ctx, researcher, later.ID, "ferdig"); err != nil {
		t.Fatal(err)
	}
	if got := round(t, m); got.Sent != 0 {
		t.Fatalf("a closed wave sent %+v", got)
	}
	if _, err := e.svc.Remind(ctx, researcher, later.ID); !errors.Is(err, surveys.ErrWaveClosed) {
		t.Fatalf("Remind on a closed wave: %v", err)
	}
}

// TestInvitationsSubmittedTwiceAtOnce: the same addresses invited twice
// at once (a double click on the mailing form) get one link each, so one
// invitation each.
func TestInvitationsSubmittedTwiceAtOnce(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, surveys.WithPublicURL(publicURL))
	w := e.fielded(t)
	addrs := []string{"ra@kommune.example", "rb@kommune.example", "rc@kommune.example"}
	var wg sync.WaitGroup
	results := make([]surveys.InviteResult, 4)
	for i := range results {
		wg.Go(func() {
			res, err := e.svc.Invite(ctx, researcher, w.ID, surveys.InviteRequest{Municipality: "5006", Language: "nb", Addresses: addrs})
			if err != nil {
				t.Errorf("invite %d: %v", i, err)
			}
			results[i] = res
		})
	}
	wg.Wait()
	queued, known := 0, 0
	for _, r := range results {
		queued, known = queued+r.Queued, known+r.Known
	}
	if queued != len(addrs) || known != 3*len(addrs) {
		t.Fatalf("four invitations of %d addresses at once queued %d and found %d known (%+v); want %d and %d",
			len(addrs), queued, known, results, len(addrs), 3*len(addrs))
	}
	counts, err := e.svc.Mailing(ctx, w.ID)
	if err != nil || counts.Queued != len(addrs) {
		t.Fatalf("mailing counts %+v, %v; want %d queued", counts, err, len(addrs))
	}
}
