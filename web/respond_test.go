package web

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/domain/survey"
	"github.com/samspill/samspill/eventstore"
)

// mustStatus fails the test unless the page has the status.
func mustStatus(t testing.TB, what string, p page, status int) {
	t.Helper()
	if p.Status != status {
		t.Fatalf("%s: status %d, want %d\n%s", what, p.Status, status, p.Body)
	}
}

// mustContain fails the test unless the page holds every text.
func mustContain(t testing.TB, what string, p page, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if !strings.Contains(p.Body, s) {
			t.Errorf("%s: the page lacks %q\n%s", what, s, p.Body)
		}
	}
}

// TestRespondFlow: a respondent answers in nynorsk, section by section,
// saves and comes back, submits once; the link then says only that the
// answer was sent (410), never the answers, and a replayed post writes
// nothing.
func TestRespondFlow(t *testing.T) {
	t.Parallel()
	s := newRespondSite(t, respondOptions{})
	token := s.links(t, 1, s.choices[0].ID)[0]
	v := s.visitor(t, "nb")
	path := "/s/" + token

	p := v.get(path + "?lang=nn")
	mustStatus(t, "first page", p, http.StatusOK)
	mustContain(t, "first page", p, `lang="nn"`, "Del 1 av 3:", "Om deg", "Kva er rolla di?", "Leiinga støttar samarbeidet.",
		"(må svarast på)", `aria-describedby="help-i.support"`, "1 – Heilt usamd", "5 – Heilt samd", "Neste", "Lagre og hald fram seinare", "Takk for at du svarar.")
	if strings.Contains(p.Body, `value="prev"`) || strings.Contains(p.Body, `value="submit" id`) {
		t.Error("the first page offers Førre or Send inn")
	}
	for header, want := range map[string]string{"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex, nofollow"} {
		if got := p.Header.Get(header); got != want {
			t.Errorf("%s: %q, want %q", header, got, want)
		}
	}
	if got := s.responseEvents(t, token); len(got) != 0 {
		t.Fatalf("opening the link wrote %v", got)
	}

	// Section 1: a leader (the volunteers' section is skipped).
	form := answerForm(t, p.Body)
	p = v.post(path, with(form, "i.role", "leader", "i.support", "4", "action", "next"))
	mustStatus(t, "save section 1", p, http.StatusSeeOther)
	if p.Location != path+"?section=work" {
		t.Fatalf("after section 1: to %q", p.Location)
	}
	if got := s.responseEvents(t, token); !slices.Equal(got, []string{survey.TypeSurveyResponseStarted, survey.TypeSurveyAnswersSaved}) {
		t.Fatalf("after section 1 the response holds %v", got)
	}
	// The same post again (a double click): nothing written twice.
	mustStatus(t, "the same post again", v.post(path, with(form, "i.role", "leader", "i.support", "4", "action", "next")), http.StatusSeeOther)
	if got := s.responseEvents(t, token); len(got) != 2 {
		t.Fatalf("a retried post wrote again: %v", got)
	}

	p = v.get(p.Location)
	mustStatus(t, "section 2", p, http.StatusOK)
	mustContain(t, "section 2", p, "Del 2 av 3:", "Arbeidet", `inputmode="decimal"`, "Skriv eit tal frå 0 til 200.", "Eining: timar i månaden.", "Førre")
	if strings.Contains(p.Body, "Kva anna gjer du?") {
		t.Error("the item shown only for other tasks is shown before")
	}
	// Save and continue later, with a decimal comma.
	p = v.post(path, with(answerForm(t, p.Body), "i.tasks", "homework", "i.tasks", "walks", "i.hours", "12,5", "action", "later"))
	mustStatus(t, "save for later", p, http.StatusSeeOther)
	p = v.get(p.Location)
	mustStatus(t, "the saved page", p, http.StatusOK)
	mustContain(t, "the saved page", p, "Svara dine er lagra", "den same lenkja", `href="/s/`+token+`?section=work"`)

	// Back later, in a fresh browser: the answers are there.
	v2 := s.visitor(t, "nn")
	p = v2.get(path + "?section=work")
	mustStatus(t, "section 2 again", p, http.StatusOK)
	mustContain(t, "section 2 again", p, `value="homework" checked`, `value="walks" checked`, `value="12.5"`)
	p = v2.get(path)
	mustContain(t, "section 1 again", p, `value="leader" checked`, `value="4" checked`)

	// Previous goes back (and saves).
	p = v2.post(path, with(answerForm(t, v2.get(path+"?section=work").Body), "i.tasks", "homework", "i.hours", "10", "action", "prev"))
	mustStatus(t, "previous", p, http.StatusSeeOther)
	if p.Location != path+"?section=about" {
		t.Fatalf("previous: to %q", p.Location)
	}
	p = v2.post(path, with(answerForm(t, v2.get(path+"?section=work").Body), "i.tasks", "homework", "i.hours", "10", "action", "next"))
	if p.Location != path+"?section=last" {
		t.Fatalf("after section 2 (a leader): to %q, want the last section", p.Location)
	}
	p = v2.get(p.Location)
	mustContain(t, "the last page", p, "Del 3 av 3:", "Send inn", "Du kan skrive høgst 2\u00a0000 teikn")
	submit := with(answerForm(t, p.Body), "i.comment", "Godt samarbeid.", "action", "submit")
	before := s.responseEvents(t, token)
	p = v2.post(path, submit)
	mustStatus(t, "submit", p, http.StatusOK)
	mustContain(t, "submit", p, "Takk for at du svarte!")
	after := s.responseEvents(t, token)
	if len(after) != len(before)+1 || after[len(after)-1] != survey.TypeSurveyResponseSubmitted {
		t.Fatalf("submitting wrote %v after %v", after, before)
	}

	// The link now shows only that the answer was sent.
	p = v.get(path)
	mustStatus(t, "the link after submission", p, http.StatusGone)
	mustContain(t, "the link after submission", p, "Svaret ditt er sendt inn")
	for _, answer := range []string{"Godt samarbeid", "homework", "leader", "checked"} {
		if strings.Contains(p.Body, answer) {
			t.Errorf("the link shows %q after submission", answer)
		}
	}
	mustStatus(t, "a section after submission", v.get(path+"?section=work"), http.StatusGone)
	// The submission was one write. The submission replayed (a reload of the thank-you page): thanked
	// again, nothing written.
	p = v2.post(path, submit)
	mustStatus(t, "the submission replayed", p, http.StatusOK)
	mustContain(t, "the submission replayed", p, "Takk for at du svarte!")
	// Any other post: refused, nothing written.
	stale := with(submit)
	stale.Set("request_id", "")
	mustStatus(t, "a submission without a request id", v2.post(path, stale), http.StatusBadRequest)
	stale.Set("request_id", base64.RawURLEncoding.EncodeToString(make([]byte, 16)))
	mustStatus(t, "another submission", v2.post(path, stale), http.StatusGone)
	stale.Set("action", "next")
	mustStatus(t, "a save after submission", v2.post(path, stale), http.StatusGone)
	if got := s.responseEvents(t, token); !slices.Equal(got, after) {
		t.Fatalf("posts after the submission wrote: %v, was %v", got, after)
	}
}

// TestRespondSkipsAndMoreQuestions: a volunteer sees the volunteers'
// section (4 pages, not 3); an answer that shows another question on the
// same page keeps the respondent there to answer it.
func TestRespondSkipsAndMoreQuestions(t *testing.T) {
	t.Parallel()
	s := newRespondSite(t, respondOptions{})
	token := s.links(t, 1, s.choices[0].ID)[0]
	v := s.visitor(t, "en")
	path := "/s/" + token
	p := v.post(path, with(answerForm(t, v.get(path).Body), "i.role", "volunteer", "i.support", "2", "action", "next"))
	p = v.get(p.Location)
	mustContain(t, "section 2", p, "Part 2 of 4:")
	p = v.post(path, with(answerForm(t, p.Body), "i.tasks", "other", "action", "next"))
	mustStatus(t, "an answer that shows more", p, http.StatusSeeOther)
	if p.Location != path+"?section=work&more=1" {
		t.Fatalf("to %q, want the same page with its notice", p.Location)
	}
	p = v.get(p.Location)
	mustContain(t, "the same page", p, "Your answers added some questions", "What else do you do?", `maxlength="200"`)
	p = v.post(path, with(answerForm(t, p.Body), "i.tasks", "other", "i.other_task", "Kiosk", "action", "next"))
	if p.Location != path+"?section=volunteers" {
		t.Fatalf("to %q, want the volunteers' section", p.Location)
	}
	p = v.get(p.Location)
	mustContain(t, "the volunteers' section", p, "Part 3 of 4:", "1 – Strongly disagree", `<label for="i-organised-4">4</label>`, "7 – Strongly agree", `class="respond-item scale`)
}

// TestRespondErrors: invalid answers draw the page again (422) with an
// error summary linking to each field, each field with its message and
// aria-invalid, the posted values kept, nothing written; a submission
// missing required answers links them, on this page and on others.
func TestRespondErrors(t *testing.T) {
	t.Parallel()
	s := newRespondSite(t, respondOptions{})
	token := s.links(t, 1, s.choices[0].ID)[0]
	v := s.visitor(t, "nn")
	path := "/s/" + token
	p := v.get(path)
	p = v.post(path, with(answerForm(t, p.Body), "i.role", "leader", "i.support", "9", "action", "next"))
	mustStatus(t, "a point off the scale", p, http.StatusUnprocessableEntity)
	mustContain(t, "a point off the scale", p, `class="error-summary"`, `href="#i-support-1"`, "Leiinga støttar samarbeidet.: Vel eitt av alternativa.",
		`aria-invalid="true"`, `value="leader" checked`, `id="err-i.support"`, "<title>Feil: ")
	if got := s.responseEvents(t, token); len(got) != 0 {
		t.Fatalf("an invalid answer wrote %v", got)
	}

	// A number that is no number, and one out of range, keep what was typed.
	p = v.post(path, with(answerForm(t, v.get(path).Body), "i.role", "leader", "action", "next"))
	mustStatus(t, "section 1", p, http.StatusSeeOther)
	p = v.post(path, with(answerForm(t, v.get(path+"?section=work").Body), "i.hours", "mange", "action", "next"))
	mustStatus(t, "not a number", p, http.StatusUnprocessableEntity)
	mustContain(t, "not a number", p, `href="#i-hours"`, `value="mange"`, "Skriv eit tal")
	p = v.post(path, with(answerForm(t, v.get(path+"?section=work").Body), "i.hours", "500", "action", "next"))
	mustStatus(t, "too large", p, http.StatusUnprocessableEntity)
	mustContain(t, "too large names the limit", p, "Skriv 200 eller mindre.", `value="500"`)

	// Submitting without the required Likert answer of section 1.
	p = v.post(path, with(answerForm(t, v.get(path+"?section=work").Body), "i.hours", "3", "action", "next"))
	p = v.get(p.Location)
	before := s.responseEvents(t, token)
	p = v.post(path, with(answerForm(t, p.Body), "action", "submit"))
	mustStatus(t, "a submission missing an answer", p, http.StatusUnprocessableEntity)
	mustContain(t, "a submission missing an answer", p, "Svar på dette spørsmålet.", `href="#i-support-1"`, "Del 1 av 3:")
	after := s.responseEvents(t, token)
	if slices.Contains(after, survey.TypeSurveyResponseSubmitted) || len(after) > len(before)+1 {
		t.Fatalf("a refused submission wrote %v after %v", after, before)
	}
}

// TestRespondPartnershipChoice: a link that fixes no partnership asks on
// its first page which ones the answers concern, and a submission without
// one is refused there.
func TestRespondPartnershipChoice(t *testing.T) {
	t.Parallel()
	s := newRespondSite(t, respondOptions{})
	token := s.links(t, 1, "")[0]
	v := s.visitor(t, "nb")
	path := "/s/" + token
	p := v.get(path)
	mustContain(t, "the first page", p, "Hvilket samarbeid gjelder svarene dine?", "Leksehjelp på biblioteket", "Turvenner", `name="partnerships_shown"`)
	p = v.post(path, with(answerForm(t, p.Body), "i.role", "leader", "i.support", "3", "action", "next"))
	p = v.post(path, with(answerForm(t, v.get(p.Location).Body), "action", "next"))
	p = v.get(p.Location)
	p = v.post(path, with(answerForm(t, p.Body), "action", "submit"))
	mustStatus(t, "a submission without a partnership", p, http.StatusUnprocessableEntity)
	mustContain(t, "a submission without a partnership", p, "Velg minst ett samarbeid", `href="#p-`+s.choices[0].ID+`"`, "Del 1 av 3:")
	if slices.Contains(s.responseEvents(t, token), survey.TypeSurveyResponseSubmitted) {
		t.Fatal("submitted without a partnership")
	}
	// A partnership that is not offered is a form this page never drew.
	first := answerForm(t, v.get(path).Body)
	p = v.post(path, with(first, "i.role", "leader", "i.support", "3", partnershipsShown, "1", partnershipField, "0190a0a0-0000-7000-8000-00000000dead", "action", "next"))
	mustStatus(t, "a partnership not offered", p, http.StatusBadRequest)
	p = v.post(path, with(first, "i.role", "leader", "i.support", "3", partnershipsShown, "1", partnershipField, s.choices[1].ID, "action", "next"))
	mustStatus(t, "a partnership chosen", p, http.StatusSeeOther)
	p = v.get(path)
	mustContain(t, "the choice kept", p, `value="`+s.choices[1].ID+`" checked`)
	p = v.get(path + "?section=last")
	mustStatus(t, "submit", v.post(path, with(answerForm(t, p.Body), "action", "submit")), http.StatusOK)
}

// TestRespondBadInput: forms this page did not draw are refused with a
// clear page and nothing written: unknown items, a section that does not
// exist, no request id, no button, no CSRF token, invalid UTF-8, an
// oversized body.
func TestRespondBadInput(t *testing.T) {
	t.Parallel()
	s := newRespondSite(t, respondOptions{})
	token := s.links(t, 1, s.choices[0].ID)[0]
	v := s.visitor(t, "nn")
	path := "/s/" + token
	form := answerForm(t, v.get(path).Body)
	ok := with(form, "i.role", "leader", "action", "next")
	for _, c := range []struct {
		name   string
		form   url.Values
		status int
		text   string
	}{
		{"an unknown item", with(ok, "i.no_such_item", "1"), http.StatusBadRequest, "Skjemaet kunne ikkje lesast"},
		{"an item of another section", with(ok, "i.hours", "3"), http.StatusBadRequest, "Skjemaet kunne ikkje lesast"},
		{"an unknown section", func() url.Values { f := with(ok); f.Set("section", "nope"); return f }(), http.StatusBadRequest, "Ingenting er lagra"},
		{"no request id", func() url.Values { f := with(ok); f.Del("request_id"); return f }(), http.StatusBadRequest, "Ingenting er lagra"},
		{"no button", func() url.Values { f := with(ok); f.Del("action"); return f }(), http.StatusBadRequest, "Ingenting er lagra"},
		{"an unknown button", func() url.Values { f := with(ok); f.Set("action", "delete"); return f }(), http.StatusBadRequest, "Ingenting er lagra"},
		{"no CSRF token", func() url.Values { f := with(ok); f.Del("csrf_token"); return f }(), http.StatusForbidden, ""},
		{"a wrong CSRF token", func() url.Values { f := with(ok); f.Set("csrf_token", "x"); return f }(), http.StatusForbidden, ""},
		{"garbage answers", with(form, "i.role", "\x00<script>", "i.support", "-1", "action", "next"), http.StatusUnprocessableEntity, "Vel eitt av alternativa."},
	} {
		p := v.post(path, c.form)
		mustStatus(t, c.name, p, c.status)
		mustContain(t, c.name, p, c.text)
	}
	p := v.postBody(path, with(ok).Encode()+"&i.role=%ff")
	mustStatus(t, "invalid UTF-8", p, http.StatusBadRequest)
	p = v.postBody(path, with(ok).Encode()+"&i.other="+strings.Repeat("a", respondMaxBody))
	mustStatus(t, "an oversized body", p, http.StatusRequestEntityTooLarge)
	mustContain(t, "an oversized body", p, "For mykje tekst", "ingenting er lagra")
	// An oversized body sent without a length (chunked) is cut off too.
	req, _ := http.NewRequest(http.MethodPost, s.srv.URL+path, struct{ *strings.Reader }{strings.NewReader(with(ok).Encode() + "&i.other=" + strings.Repeat("a", respondMaxBody))})
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	mustStatus(t, "an oversized chunked body", v.do(req), http.StatusRequestEntityTooLarge)
	// A visitor without the CSRF cookie.
	mustStatus(t, "a post without the cookie", s.visitor(t, "nn").post(path, ok), http.StatusForbidden)
	if got := s.responseEvents(t, token); len(got) != 0 {
		t.Fatalf("refused posts wrote %v", got)
	}
}

// TestRespondLinkErrors: an unknown link is one 404 page whatever the
// token looks like; a link of a wave not yet open names its opening day;
// a link past its close or of a wave closed early is 410.
func TestRespondLinkErrors(t *testing.T) {
	t.Parallel()
	s := newRespondSite(t, respondOptions{})
	v := s.visitor(t, "nn")
	random := make([]byte, 32)
	_, _ = rand.Read(random)
	var bodies []string
	for _, token := range []string{base64.RawURLEncoding.EncodeToString(random), "short", strings.Repeat("A", 43), "%C3%A6%C3%B8%C3%A5"} {
		p := v.get("/s/" + token)
		mustStatus(t, "unknown link "+token, p, http.StatusNotFound)
		mustContain(t, "unknown link "+token, p, "Vi finn ikkje denne lenka")
		bodies = append(bodies, mainOf(p.Body))
	}
	for _, b := range bodies[1:] {
		if b != bodies[0] {
			t.Errorf("unknown links get different pages:\n%s\n%s", bodies[0], b)
		}
	}
	// A post to an unknown link (with a valid form) writes nothing.
	token := s.links(t, 1, s.choices[0].ID)[0]
	form := answerForm(t, v.get("/s/"+token).Body)
	mustStatus(t, "a post to an unknown link", v.post("/s/"+base64.RawURLEncoding.EncodeToString(random), with(form, "i.role", "leader", "action", "next")), http.StatusNotFound)

	// Closed early.
	closed := s.links(t, 1, s.choices[0].ID)[0]
	if err := s.svc.Close(context.Background(), eventstore.Actor{Subject: "researcher", Role: auth.RoleResearcher}, s.wave.ID, "test"); err != nil {
		t.Fatal(err)
	}
	p := v.get("/s/" + closed)
	mustStatus(t, "a closed wave", p, http.StatusGone)
	mustContain(t, "a closed wave", p, "Undersøkinga er avslutta")
	mustContain(t, "a closed wave names the day it closed", p, "Undersøkinga vart avslutta ")
	mustStatus(t, "a post to a closed wave", v.post("/s/"+closed, with(form, "i.role", "leader", "action", "next")), http.StatusGone)
	if got := s.responseEvents(t, closed); len(got) != 0 {
		t.Fatalf("a closed wave's link wrote %v", got)
	}

	// Past the close.
	late := newRespondSite(t, respondOptions{})
	lateToken := late.links(t, 1, late.choices[0].ID)[0]
	late.advance(40 * 24 * time.Hour)
	p = late.visitor(t, "nn").get("/s/" + lateToken)
	mustStatus(t, "an expired link", p, http.StatusGone)
	mustContain(t, "an expired link", p, "Undersøkinga er avslutta")
	mustContain(t, "an expired link names the close day", p, "Undersøkinga vart avslutta ")

	// Not open yet.
	early := newRespondSite(t, respondOptions{opensIn: 5})
	earlyToken := early.links(t, 1, early.choices[0].ID)[0]
	p = early.visitor(t, "nn").get("/s/" + earlyToken)
	mustStatus(t, "a wave not open", p, http.StatusForbidden)
	mustContain(t, "a wave not open", p, "Undersøkinga har ikkje opna enno")
	mustContain(t, "a wave not open names its opening day", p, "Du kan svare frå ")
}

// mainOf is the page's main element, without the layout's per-request
// tokens.
func mainOf(body string) string {
	start, end := strings.Index(body, `<main`), strings.Index(body, `</main>`)
	if start < 0 || end < start {
		return body
	}
	return body[start:end]
}

// TestRespondRateLimit: a link asked too often, and an address that asks
// too often, get a 429 page with Retry-After.
func TestRespondRateLimit(t *testing.T) {
	t.Parallel()
	s := newRespondSite(t, respondOptions{limits: &respondLimits{PerLink: 0.01, LinkBurst: 3, PerAddress: 0.01, AddressBurst: 6, MaxKeys: 100}})
	tokens := s.links(t, 2, s.choices[0].ID)
	v := s.visitor(t, "nn")
	for i := range 3 {
		mustStatus(t, "a request within the link's burst", v.get("/s/"+tokens[0]), http.StatusOK)
		_ = i
	}
	p := v.get("/s/" + tokens[0])
	mustStatus(t, "a request over the link's rate", p, http.StatusTooManyRequests)
	mustContain(t, "a request over the link's rate", p, "For mange førespurnader")
	if ra := p.Header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Errorf("Retry-After %q", ra)
	}
	// The other link still answers, until the address's burst is spent.
	mustStatus(t, "another link", v.get("/s/"+tokens[1]), http.StatusOK)
	mustStatus(t, "another link", v.get("/s/"+tokens[1]), http.StatusOK)
	mustStatus(t, "over the address's rate", v.get("/s/"+tokens[1]), http.StatusTooManyRequests)
	// Other pages are not limited.
	if res, err := http.Get(s.srv.URL + "/healthz"); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %v %v", res, err)
	}
}

// TestRespondClientAddress: the per-address limit counts the connection's
// address, whatever X-Forwarded-For says, unless the connection comes
// from a trusted proxy; then each forwarded address has its own.
func TestRespondClientAddress(t *testing.T) {
	t.Parallel()
	limits := respondLimits{PerLink: 100, LinkBurst: 100, PerAddress: 0.01, AddressBurst: 2, MaxKeys: 100}
	get := func(s *respondSite, token, forwarded string) int {
		req, _ := http.NewRequest(http.MethodGet, s.srv.URL+"/s/"+token, nil)
		req.Header.Set("X-Forwarded-For", forwarded)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	direct := newRespondSite(t, respondOptions{limits: &limits})
	token := direct.links(t, 1, direct.choices[0].ID)[0]
	for i, want := range []int{http.StatusOK, http.StatusOK, http.StatusTooManyRequests} {
		if got := get(direct, token, fmt.Sprintf("192.0.2.%d", i+1)); got != want {
			t.Fatalf("request %d with a forwarded address of its own, no proxy trusted: %d, want %d", i+1, got, want)
		}
	}
	proxied := newRespondSite(t, respondOptions{limits: &limits, trustedProxies: []string{"127.0.0.1"}})
	token = proxied.links(t, 1, proxied.choices[0].ID)[0]
	for i := range 4 {
		if got := get(proxied, token, fmt.Sprintf("192.0.2.%d", i+1)); got != http.StatusOK {
			t.Fatalf("request %d from its own address through a trusted proxy: %d", i+1, got)
		}
	}
	for i, want := range []int{http.StatusOK, http.StatusTooManyRequests} {
		if got := get(proxied, token, "192.0.2.1"); got != want {
			t.Fatalf("request %d more from one forwarded address: %d, want %d", i+1, got, want)
		}
	}
}

// TestRespondLimitersStayBounded: idle limiters are dropped once full,
// and when none is idle a new key is refused rather than kept.
func TestRespondLimitersStayBounded(t *testing.T) {
	t.Parallel()
	ls := newLimiters(1, 2, 3)
	now := time.Now()
	for _, k := range []string{"a", "b", "c"} {
		if _, err := ls.take(k, now); err != nil {
			t.Fatalf("take %s: %v", k, err)
		}
	}
	if _, err := ls.take("d", now); err == nil {
		t.Fatal("a fourth key was kept beyond the bound")
	}
	if _, err := ls.take("a", now); err != nil {
		t.Fatalf("a kept key refused within its burst: %v", err)
	}
	if _, err := ls.take("a", now); err == nil {
		t.Fatal("a key's burst was not enforced")
	}
	later := now.Add(3 * time.Second) // more than a refill (2 s)
	if wait, err := ls.take("d", later); err != nil {
		t.Fatalf("a new key refused after the others went idle: %v (wait %s)", err, wait)
	}
	if n := ls.size(); n > 3 {
		t.Fatalf("%d limiters kept, bound 3", n)
	}
}

// TestRespondLanguage: ?lang= chooses the page's language and is
// remembered for the posts; the layout's language switch works for a
// visitor who never signed in; the response records the language.
func TestRespondLanguage(t *testing.T) {
	t.Parallel()
	s := newRespondSite(t, respondOptions{})
	token := s.links(t, 1, s.choices[0].ID)[0]
	v := s.visitor(t, "nb")
	path := "/s/" + token
	p := v.get(path + "?lang=en")
	mustContain(t, "?lang=en", p, `lang="en"`, "Part 1 of 3:", "What is your role?", `name="back" value="/s/`+token+`?section=about"`)
	mustContain(t, "remembered", v.get(path), "Part 1 of 3:")
	// The switch: POST /lang without sign-in.
	csrf, _ := formValues(t, p.Body)
	sw := v.post("/lang", url.Values{"csrf_token": {csrf}, "lang": {"nn"}, "back": {"/s/" + token + "?section=about"}})
	mustStatus(t, "the language switch", sw, http.StatusSeeOther)
	if sw.Location != "/s/"+token+"?section=about" {
		t.Fatalf("the switch sends to %q", sw.Location)
	}
	p = v.get(sw.Location)
	mustContain(t, "after the switch", p, `lang="nn"`, "Del 1 av 3:")
	mustStatus(t, "save", v.post(path, with(answerForm(t, p.Body), "i.role", "leader", "action", "next")), http.StatusSeeOther)
	sess, err := s.svc.Open(context.Background(), token)
	if err != nil {
		t.Fatal(err)
	}
	if sess.Response.Language != "nn" {
		t.Fatalf("the response's language is %q, want nn", sess.Response.Language)
	}
}

// TestRespondTokenNeverLogged: whatever happens on a link (pages, saves,
// refusals, a submission), the server's log names the route /s/:token and
// never the token.
func TestRespondTokenNeverLogged(t *testing.T) {
	t.Parallel()
	s := newRespondSite(t, respondOptions{})
	token := s.links(t, 1, s.choices[0].ID)[0]
	v := s.visitor(t, "nn")
	path := "/s/" + token
	p := v.get(path)
	form := answerForm(t, p.Body)
	v.post(path, with(form, "i.role", "leader", "i.support", "2", "action", "next"))
	v.post(path, with(form, "i.role", "x", "action", "next"))
	v.post(path, with(form, "i.nope", "x", "action", "next"))
	v.post(path, url.Values{"action": {"next"}}) // no CSRF token
	s.visitor(t, "nn").post(path, form)          // no CSRF cookie
	v.get(path + "?section=last")
	v.post(path, with(answerForm(t, v.get(path+"?section=last").Body), "action", "submit"))
	v.get(path)
	log := s.log.String()
	if !strings.Contains(log, `"route":"/s/:token"`) {
		t.Fatalf("no access line names the route /s/:token:\n%s", log)
	}
	if strings.Contains(log, token) || strings.Contains(log, url.PathEscape(token)) {
		t.Fatalf("the token reached the log:\n%s", log)
	}
}

// TestRespondDemoQuestionnaires: a respondent answers each demo
// questionnaire (survey.Demo: the leader and the volunteer questionnaire)
// page by page in every language, every item shown answered with a valid
// value of its kind, and submits.
func TestRespondDemoQuestionnaires(t *testing.T) {
	t.Parallel()
	for _, q := range survey.Demo() {
		t.Run(q.ID, func(t *testing.T) {
			t.Parallel()
			s := newRespondSite(t, respondOptions{questionnaire: &q})
			for _, lang := range []string{"nb", "nn", "en"} {
				token := s.links(t, 1, "")[0]
				v := s.visitor(t, lang)
				path := "/s/" + token
				p := v.get(path)
				for step := 0; ; step++ {
					mustStatus(t, fmt.Sprintf("%s page %d", lang, step+1), p, http.StatusOK)
					if strings.Contains(p.Body, "respond-status") {
						break
					}
					if step > len(q.Sections) {
						t.Fatalf("%s: no end after %d pages", lang, step)
					}
					form := answerForm(t, p.Body)
					sec, _ := sectionOf(q, form.Get("section"))
					if step == 0 {
						form.Set(partnershipsShown, "1")
						form.Set(partnershipField, s.choices[0].ID)
					}
					for _, it := range sec.Items {
						if !strings.Contains(p.Body, `name="i.`+it.ID+`"`) {
							continue // hidden by a condition
						}
						form.Set("i."+it.ID, validAnswer(it))
					}
					action := "next"
					if strings.Contains(p.Body, `id="respond-submit"`) {
						action = "submit"
					}
					form.Set("action", action)
					res := v.post(path, form)
					if action == "submit" {
						p = res
						continue
					}
					mustStatus(t, fmt.Sprintf("%s post %d", lang, step+1), res, http.StatusSeeOther)
					p = v.get(res.Location)
				}
				mustContain(t, lang+": the end", p, map[string]string{"nb": "Takk for at du svarte!", "nn": "Takk for at du svarte!", "en": "Thank you for answering!"}[lang])
				events := s.responseEvents(t, token)
				if events[len(events)-1] != survey.TypeSurveyResponseSubmitted {
					t.Fatalf("%s: the response holds %v", lang, events)
				}
			}
		})
	}
}

// validAnswer is a valid answer to an item: the scale's middle, the first
// option, the smallest number allowed, a short text.
func validAnswer(it survey.Item) string {
	switch it.Kind {
	case survey.KindLikert:
		return strconv.Itoa((it.Scale.Points + 1) / 2)
	case survey.KindSingle, survey.KindMultiple:
		return it.Options[0].Code
	case survey.KindNumber:
		if it.Min != nil {
			return strconv.FormatFloat(*it.Min, 'f', -1, 64)
		}
		return "1"
	}
	return "Godt samarbeid."
}
