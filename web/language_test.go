package web

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/pelletier/go-toml/v2"
	"golang.org/x/net/html"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/eventstore"
)

// TestLanguageChoice: the language of a page is the remembered choice
// (samspill_lang), else the best fit to Accept-Language, else bokmål; the
// switch on every page remembers a choice for a year and returns to the
// page it was used on, on this site only.
func TestLanguageChoice(t *testing.T) {
	t.Parallel()
	s := newSite(t, false)
	get := func(path, acceptLanguage, cookie string) page {
		t.Helper()
		return s.getWith(t, path, func(r *http.Request) {
			if acceptLanguage != "" {
				r.Header.Set("Accept-Language", acceptLanguage)
			}
			if cookie != "" {
				r.AddCookie(&http.Cookie{Name: langCookie, Value: cookie})
			}
		})
	}
	for _, c := range []struct {
		accept, cookie, lang, text string
	}{
		{"", "", "nb", "Logg inn"},
		{"nn-NO,nn;q=0.9,en;q=0.5", "", "nn", "Lim inn tilgangsnøkkelen ein administrator har laga til deg"},
		{"en-GB,en;q=0.8", "", "en", "Paste the token an administrator made for you"},
		{"de-DE", "", "nb", "Lim inn tilgangsnøkkelen en administrator har laget til deg"},
		{"en-GB", "nn", "nn", "Lim inn tilgangsnøkkelen ein administrator"},
		{"nn", "nb", "nb", "Lim inn tilgangsnøkkelen en administrator"},
		{"nn", "klingon", "nn", "Lim inn tilgangsnøkkelen ein administrator"},
	} {
		p := get("/login", c.accept, c.cookie)
		if !strings.Contains(p.Body, `<html lang="`+c.lang+`">`) || !strings.Contains(p.Body, c.text) {
			t.Errorf("Accept-Language %q, cookie %q: want a page in %s saying %q:\n%s", c.accept, c.cookie, c.lang, c.text, p.Body)
		}
		if got := p.Header.Get("Content-Language"); got != c.lang {
			t.Errorf("Accept-Language %q, cookie %q: Content-Language %q, want %s", c.accept, c.cookie, got, c.lang)
		}
	}

	// The switch, signed out (the sign-in page has it too) and in.
	b := s.browserAs(t, "")
	csrf, _ := formValues(t, b.get("/login?next=/m/4203").Body)
	p := b.post("/lang", url.Values{"csrf_token": {csrf}, "lang": {"nn"}, "back": {"/login?next=%2Fm%2F4203"}})
	if p.Status != http.StatusSeeOther || p.Location != "/login?next=%2Fm%2F4203" {
		t.Fatalf("switch to nynorsk: %d → %q", p.Status, p.Location)
	}
	cookie := p.Header.Get("Set-Cookie")
	for _, want := range []string{langCookie + "=nn", "Path=/", "Max-Age=31536000", "SameSite=Lax"} {
		if !strings.Contains(cookie, want) {
			t.Errorf("Set-Cookie %q lacks %q", cookie, want)
		}
	}
	if p := b.get("/login"); !strings.Contains(p.Body, `<html lang="nn">`) {
		t.Errorf("the choice is not remembered")
	}
	for back, want := range map[string]string{"//evil.example/": "/", "https://evil.example/": "/", "/m/4203?from=2020-01-01": "/m/4203?from=2020-01-01"} {
		if p := b.post("/lang", url.Values{"csrf_token": {csrf}, "lang": {"nb"}, "back": {back}}); p.Location != want {
			t.Errorf("switch with back %q: → %q, want %q", back, p.Location, want)
		}
	}
	if p := b.post("/lang", url.Values{"csrf_token": {csrf}, "lang": {"de"}, "back": {"/"}}); p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "Det språket finnes ikke her") {
		t.Errorf("an unknown language: %d", p.Status)
	}
	if p := b.post("/lang", url.Values{"csrf_token": {"forged"}, "lang": {"en"}, "back": {"/"}}); p.Status != http.StatusForbidden {
		t.Errorf("a switch without the CSRF token: %d", p.Status)
	}

	// Every page carries the switch, pointing back at itself.
	admin := s.browser(t)
	page := admin.get("/m/4203?status=active")
	if !strings.Contains(page.Body, `action="/lang"`) || !strings.Contains(page.Body, `name="back" value="/m/4203?status=active"`) ||
		!strings.Contains(page.Body, `<button type="submit" name="lang" value="nn" lang="nn">Nynorsk</button>`) {
		t.Errorf("the municipality page has no language switch back to itself:\n%s", page.Body)
	}
}

// TestDatesTimesAndAmountsTheNorwegianWay: pages write dates as
// 7. desember 2026, times in Europe/Oslo with kl., amounts as 290 000 kr,
// and never a UTC timestamp.
func TestDatesTimesAndAmountsTheNorwegianWay(t *testing.T) {
	t.Parallel()
	s := newSite(t, false)
	b := s.browser(t)
	id := initiateThroughForm(t, b, s, "4203", "")
	token, version := formValues(t, b.get("/p/"+id).Body)
	if p := b.post("/p/"+id+"/funding", url.Values{"csrf_token": {token}, "version": {version}, "amount_nok": {"290 000"}, "source": {"Sparebankstiftelsen"},
		"period_from": {"2026-01-01"}, "period_until": {"31.12.2026"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("funding: %d\n%s", p.Status, p.Body)
	}
	p := b.get("/p/" + id)
	// demoNow is 12:00 UTC, 13:00 in Oslo.
	for _, want := range []string{"290\u00a0000 kr", "1. januar 2026–31. desember 2026", "registrert 26. november 2026 kl. 13.0", "Startet</dt><dd>26. november 2026</dd>"} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("the partnership page lacks %q", want)
		}
	}
	if regexp.MustCompile(`UTC|\d{4}-\d\d-\d\d \d\d:\d\d`).MatchString(visibleText(t, p.Body)) {
		t.Errorf("a UTC timestamp on the page:\n%s", visibleText(t, p.Body))
	}
}

// initiateThroughForm initiates a partnership in municipality through
// /p/new as b, on occurredAt ("" for today), and returns its id.
func initiateThroughForm(t *testing.T, b *browser, s *site, municipality, occurredAt string) string {
	t.Helper()
	if occurredAt == "" {
		occurredAt = s.now().In(osloLoc()).Format("2006-01-02")
	}
	token, _ := formValues(t, b.get("/p/new").Body)
	p := b.post("/p/new", url.Values{
		"csrf_token": {token}, "municipality": {municipality}, "title": {"Leksehjelp på biblioteket"},
		"service_area": {"education"}, "collaboration_model": {"network"},
		"partner_0_name": {"Røde Kors Arendal"}, "partner_0_kind": {"voluntary_organisation"}, "partner_0_org_no": {"974 760 673"},
		"partner_1_name": {"Arendal bibliotek"}, "partner_1_kind": {"municipal_unit"},
		"goals": {"Hjelp med lekser\nMøteplass"}, "occurred_at": {occurredAt},
	})
	if p.Status != http.StatusSeeOther {
		t.Fatalf("initiate: %d\n%s", p.Status, p.Body)
	}
	return strings.TrimPrefix(strings.Split(p.Location, "?")[0], "/p/")
}

// visibleText is what a reader of a page sees or hears, one piece a line:
// its text (not scripts or styles) and the attributes read aloud or shown
// (placeholder, title, aria-label, alt, and the labels the stylesheet
// shows on phones). Text marked as English (lang="en": the language
// switch names English in English) is left out.
func visibleText(t testing.TB, body string) string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse page: %v", err)
	}
	var out []string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		switch n.Type {
		case html.TextNode:
			if s := strings.TrimSpace(n.Data); s != "" {
				out = append(out, s)
			}
		case html.ElementNode:
			if n.Data == "script" || n.Data == "style" {
				return
			}
			for _, a := range n.Attr {
				if a.Key == "lang" && strings.HasPrefix(a.Val, "en") && n.Data != "html" {
					return
				}
			}
			for _, a := range n.Attr {
				switch a.Key {
				case "placeholder", "title", "aria-label", "alt", "data-label", "data-legend":
					out = append(out, a.Val)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return strings.Join(out, "\n")
}

// englishWords are common English words that are no Norwegian words: one
// of them on a page in bokmål or nynorsk is English left untranslated.
// (Words both languages have, such as for, form, type, status, partner,
// person or over, cannot tell.)
var englishWords = regexp.MustCompile(`(?i)(?:^|[^\pL])(` + strings.Join([]string{
	"the", "and", "of", "with", "this", "that", "was", "were", "you", "your", "has", "have", "been", "which", "will",
	"would", "could", "should", "from", "into", "there", "their", "these", "those", "must", "please", "cannot",
	"does", "don't", "what", "where", "when", "while", "because", "about", "only", "also", "than", "then", "every",
	"each", "before", "after", "between", "until", "since", "more", "none", "other", "here", "now", "today", "yes",
	"new", "show", "shown", "edit", "save", "saved", "cancel", "add", "remove", "delete", "search", "submit",
	"apply", "clear", "back", "next", "sign", "signed", "page", "field", "required", "error", "name", "date",
	"entry", "entries", "record", "recorded", "change", "changes", "changed", "choose", "enter", "partnerships?",
	"municipality", "municipalities", "history", "timeline", "goals?", "roles?", "agreements?", "funding",
	"anchoring", "milestones?", "meeting", "reason", "contact", "phone", "email", "amount", "source", "valid",
	"active", "paused", "ended", "started", "initiated", "correction", "corrected", "retracted", "replaced",
}, "|") + `)(?:$|[^\pL])`)

// messageID matches a message id that reached a page untranslated.
var messageID = regexp.MustCompile(`\b(pages|forms|errors|describe|timeline|format|lang|list)\.[a-z_]+(\.[A-Za-z_-]+)*\b`)

// englishOnly are the literal pieces of the English catalogues that the
// bokmål and nynorsk messages of the same id do not hold: text that can
// only have come from the English catalogue (or been left in English).
func englishOnly(t *testing.T) []englishPiece {
	t.Helper()
	read := func(lang string) map[string]string {
		files, err := filepath.Glob("../locale/messages/*." + lang + ".toml")
		if err != nil || len(files) == 0 {
			t.Fatalf("catalogues of %s: %v", lang, err)
		}
		out := map[string]string{}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := toml.Unmarshal(data, &m); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			for id, v := range m {
				switch v := v.(type) {
				case string:
					out[id] = v
				case map[string]any:
					out[id] = fmt.Sprint(v["one"], "\n", v["other"])
				}
			}
		}
		return out
	}
	en, nb, nn := read("en"), read("nb"), read("nn")
	action := regexp.MustCompile(`\{\{[^}]*\}\}|\n`)
	letters := regexp.MustCompile(`\pL{6,}`)
	var out []englishPiece
	seen := map[string]bool{}
	for id, text := range en {
		for _, piece := range action.Split(text, -1) {
			piece = strings.TrimFunc(piece, func(r rune) bool { return strings.ContainsRune(" .,:;()–-“”«»!?", r) })
			if !letters.MatchString(piece) || strings.Contains(nb[id], piece) || strings.Contains(nn[id], piece) || seen[piece] {
				continue
			}
			seen[piece] = true
			out = append(out, englishPiece{text: piece, word: regexp.MustCompile(`(^|[^\pL])` + regexp.QuoteMeta(piece) + `($|[^\pL])`)})
		}
	}
	if len(out) < 100 {
		t.Fatalf("only %d English-only pieces in the catalogues", len(out))
	}
	return out
}

// dataStrings are every string of every stored event's payload (titles,
// names, goals, reasons): what people typed, which a page shows as typed.
func dataStrings(t *testing.T, s *site) []string {
	t.Helper()
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			if len([]rune(v)) >= 3 {
				out = append(out, v)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		case map[string]any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	var after uint64
	for {
		events, err := s.store.ReadAll(context.Background(), after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(events) == 0 {
			break
		}
		for _, e := range events {
			var v any
			if json.Unmarshal(e.Data, &v) == nil {
				walk(v)
			}
			after = e.Position
		}
	}
	// Tokens' names are data too (the admin pages show them).
	tokens, err := s.userStore.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range tokens {
		walk(tk.Name)
	}
	// Longest first, so that a title goes before a word inside it; equal
	// lengths in text order, so that Compact drops every repeat (a date or
	// a code comes back in hundreds of events, and each left in costs a
	// pass over every page drawn).
	slices.SortFunc(out, func(a, b string) int { return cmp.Or(len(b)-len(a), strings.Compare(a, b)) })
	return slices.Compact(out)
}

// englishPiece is a piece of an English message that no Norwegian
// message shares: its text, and the text as a whole word.
type englishPiece struct {
	text string
	word *regexp.Regexp
}

// englishOn returns what on a page in bokmål or nynorsk is English: an
// English-only piece of the catalogues, a common English word, or a
// message id, once the data people typed is taken out.
func englishOn(t *testing.T, body string, data []string, pieces []englishPiece) []string {
	t.Helper()
	text := visibleText(t, body)
	for _, d := range data {
		text = strings.ReplaceAll(text, d, " ")
	}
	lines := strings.Split(text, "\n")
	var found []string
	for _, p := range pieces {
		// The plain search rules out almost every piece at once; only
		// the few on the page are matched as whole words, line by line.
		if !strings.Contains(text, p.text) {
			continue
		}
		for _, line := range lines {
			if p.word.MatchString(line) {
				found = append(found, fmt.Sprintf("%q (catalogue: %s)", line, p.word))
			}
		}
	}
	for _, line := range lines {
		if m := englishWords.FindStringSubmatch(line); m != nil {
			found = append(found, fmt.Sprintf("%q (word %q)", line, m[1]))
		}
		if m := messageID.FindString(line); m != "" {
			found = append(found, fmt.Sprintf("%q (message id %s)", line, m))
		}
	}
	return found
}

// TestNoEnglishOnNorwegianPages draws every state of the pages the tests
// reach, in bokmål and in nynorsk, and fails on any English left on them
// that is not data people typed (englishOn).
func TestNoEnglishOnNorwegianPages(t *testing.T) {
	t.Parallel()
	s := newSite(t, true)
	addPartnerships(t, s, 30) // Arendal's list gets a second page
	pieces := englishOnly(t)
	for _, lang := range []string{"nb", "nn"} {
		t.Run(lang, func(t *testing.T) {
			pages := norwegianPageStates(t, s, lang)
			data := dataStrings(t, s)
			for name, p := range pages {
				if !strings.Contains(p.Body, `<html lang="`+lang+`">`) {
					t.Errorf("%s: not in %s:\n%s", name, lang, p.Body)
				}
				if found := englishOn(t, p.Body, data, pieces); len(found) > 0 {
					t.Errorf("%s (status %d) in %s has English on it:\n  %s", name, p.Status, lang, strings.Join(found, "\n  "))
				}
			}
			if len(pages) < 30 {
				t.Errorf("only %d page states drawn", len(pages))
			}
		})
	}
}

// norwegianPageStates draws every page state the web tests reach, as
// browsers that chose lang, and returns them by name.
func norwegianPageStates(t *testing.T, s *site, lang string) map[string]page {
	t.Helper()
	out := map[string]page{}
	anon, admin, viewer, arendal := s.browserAs(t, ""), s.browser(t), s.browserAs(t, "viewer"), s.browserAs(t, "arendal")
	for _, b := range []*browser{anon, admin, viewer, arendal} {
		b.setLang(lang)
	}
	want := func(name string, p page, status int) {
		t.Helper()
		if p.Status != status {
			t.Errorf("%s: status %d, want %d\n%s", name, p.Status, status, p.Body)
		}
		out[name] = p
	}
	today := s.now().In(osloLoc()).Format("2006-01-02")

	// Signed out.
	want("login", anon.get("/login?next=/m/4203"), http.StatusOK)
	csrf, _ := formValues(t, out["login"].Body)
	want("login with a bad token", anon.post("/login", url.Values{"csrf_token": {csrf}, "token": {"ssp_wrong"}}), http.StatusUnauthorized)
	want("post signed out (401)", anon.post("/p/new", url.Values{"csrf_token": {csrf}}), http.StatusUnauthorized)
	want("forged form (403)", admin.post("/p/new", url.Values{"csrf_token": {"forged"}}), http.StatusForbidden)
	want("logout", admin.get("/logout"), http.StatusOK)

	// Reading.
	want("index", admin.get("/"), http.StatusOK)
	want("index, no match", admin.get("/?q=Bergen"), http.StatusOK)
	want("municipality", admin.get("/m/4203"), http.StatusOK)
	want("municipality grouped", admin.get("/m/5006?group=service_area&status=active"), http.StatusOK)
	want("bad filter (400)", admin.get("/m/4203?from=yesterday&service_area=sailing"), http.StatusBadRequest)
	want("municipality, months on the axis", admin.get("/m/4203?from=2024-01-01&to=2025-06-30"), http.StatusOK)
	want("municipality grouped by model", admin.get("/m/4203?group=collaboration_model"), http.StatusOK)
	want("municipality, past the last page", admin.get("/m/5006?page=7"), http.StatusOK)
	want("municipality, no lane matches", admin.get("/m/5006?from=2001-01-01&to=2001-12-31"), http.StatusOK)
	want("bad page (400)", admin.get("/m/4203?page=0"), http.StatusBadRequest)
	want("unknown municipality (404)", admin.get("/m/9999"), http.StatusNotFound)
	want("partnership", admin.get("/p/"+s.example), http.StatusOK)
	want("partnership, viewer", viewer.get("/p/"+s.example), http.StatusOK)
	want("partnership as of", admin.get("/p/"+s.example+"?as_of=2020-06-30"), http.StatusOK)
	want("partnership as known at", admin.get("/p/"+s.example+"?known_at=2026-11-26T12:30:00Z&as_of=2024-01-01"), http.StatusOK)
	want("bad as-of date (400)", admin.get("/p/"+s.example+"?as_of=31.12.2019"), http.StatusBadRequest)
	want("unknown partnership (404)", admin.get("/p/0196f1a2-0000-7000-8000-000000000000"), http.StatusNotFound)

	// The lists.
	want("municipalities", admin.get("/m"), http.StatusOK)
	want("mine, the coordinator's front page", arendal.get("/"), http.StatusOK)
	want("mine, searched, filtered and sorted", arendal.get("/mine?q=lesevenn&status=active&started_from=2025-03-01&sort=-last_occurred_at"), http.StatusOK)
	want("mine, no match", arendal.get("/mine?q=ingen+slik"), http.StatusOK)
	want("mine, a viewer has none", viewer.get("/mine"), http.StatusOK)
	want("mine download, an admin has none (404)", admin.get("/mine.csv"), http.StatusNotFound)
	want("municipality list", admin.get("/m/4203/list?sort=title"), http.StatusOK)
	want("municipality list, second page", admin.get(listLink(t, out["municipality list"].Body, nextLinkRe)), http.StatusOK)
	want("municipality list, empty", admin.get("/m/0301/list"), http.StatusOK)
	want("list with a bad filter (400)", admin.get("/m/4203/list?started_from=igår&started_to=2020-13-01&sort=tilfeldig&service_area=sailing"), http.StatusBadRequest)
	want("list with a bad cursor (400)", admin.get("/m/4203/list?cursor=nonsense"), http.StatusBadRequest)
	want("unknown municipality's list (404)", admin.get("/m/9999/list"), http.StatusNotFound)
	s.pages.workbookRows = 1
	want("list above the workbook's bound", arendal.get("/mine"), http.StatusOK)
	want("workbook above its bound (400)", arendal.get("/mine.xlsx"), http.StatusBadRequest)
	s.pages.workbookRows = maxWorkbookRows
	want("not yet recorded (404)", admin.get("/p/"+s.example+"?known_at=2015-12-31"), http.StatusNotFound)

	// The research page and the codebook.
	want("research", admin.get("/research"), http.StatusOK)
	want("research, links", admin.get("/research?project=&export=spells&format=dta&as_of=2026-06-30&known_at=2026-11-20T12:30:00Z&at_position=5"), http.StatusOK)
	want("research, events", admin.get("/research?export=events&format=ndjson"), http.StatusOK)
	want("research with errors (400)", admin.get("/research?project=offri&export=people&format=xlsx&as_of=2999-01-01&known_at=snart&at_position=0"), http.StatusBadRequest)
	want("research, future and beyond the head (400)", admin.get("/research?export=spells&format=csv&known_at=2999-01-01&at_position=999999999"), http.StatusBadRequest)
	want("research, viewer (403)", viewer.get("/research"), http.StatusForbidden)
	want("codebook", admin.get("/research/codebook"), http.StatusOK)
	want("codebook of spells, viewer", viewer.get("/research/codebook?export=spells"), http.StatusOK)
	want("codebook, unknown export (404)", admin.get("/research/codebook?export=people"), http.StatusNotFound)
	want("survival curves", admin.get("/research/survival"), http.StatusOK)
	want("survival curves, a viewer (403)", viewer.get("/research/survival"), http.StatusForbidden)

	// Initiating.
	want("new form", admin.get("/p/new?municipality=1702"), http.StatusOK)
	want("new form, coordinator", arendal.get("/p/new"), http.StatusOK)
	want("new form, viewer", viewer.get("/p/new"), http.StatusOK)
	token, _ := formValues(t, out["new form"].Body)
	bad := url.Values{"csrf_token": {token}, "municipality": {"3118"}, "title": {""}, "service_area": {"education"}, "collaboration_model": {""},
		"partner_0_name": {"Lag"}, "partner_0_kind": {"voluntary_organisation"}, "partner_0_org_no": {"123456786"}, "partner_1_org_no": {"12345"},
		"goals": {""}, "occurred_at": {"2019-06-01"}}
	want("new form with errors (400)", admin.post("/p/new", bad), http.StatusBadRequest)
	bad.Set("add_partner", "1")
	want("new form, a partner row added", admin.post("/p/new", bad), http.StatusOK)
	bad.Del("add_partner")
	bad.Set("occurred_at", "13.13.2026")
	want("new form with a bad date (400)", admin.post("/p/new", bad), http.StatusBadRequest)
	other := url.Values{"csrf_token": {token}, "municipality": {"5006"}, "title": {"Ny"}, "service_area": {"culture"}, "collaboration_model": {"network"},
		"partner_0_name": {"Kor"}, "partner_0_kind": {"voluntary_organisation"}, "goals": {"Mål"}, "occurred_at": {today}}
	atoken, _ := formValues(t, out["new form, coordinator"].Body)
	other.Set("csrf_token", atoken)
	want("new form, another municipality (403)", arendal.post("/p/new", other), http.StatusForbidden)

	// Recording on a partnership of Arendal.
	id := initiateThroughForm(t, admin, s, "4203", "")
	want("saved", admin.get("/p/"+id+"?saved=PartnershipInitiated"), http.StatusOK)
	token, version := formValues(t, out["saved"].Body)
	post := func(form string, v url.Values) page {
		v.Set("csrf_token", token)
		if v.Get("version") == "" {
			v.Set("version", version)
		}
		return admin.post("/p/"+id+"/"+form, v)
	}
	want("goals with errors (400)", post("goals", url.Values{"goals": {""}, "reason": {""}}), http.StatusBadRequest)
	want("funding with errors (400)", post("funding", url.Values{"amount_nok": {"12,50"}, "source": {""}, "period_from": {"2026-12-31"}, "period_until": {"2026-01-01"}, "occurred_at": {"2030-01-01"}}), http.StatusBadRequest)
	want("contact with errors (400)", post("contact", url.Values{"name": {"Kari"}, "email": {"kari@"}, "phone": {"abc"}}), http.StatusBadRequest)
	want("rule refused (409)", post("leave", url.Values{"partner_id": {partnerID(t, s, id, "Røde Kors Arendal")}, "reason": {"Flyttet"}}), http.StatusConflict)
	want("resume refused (409)", post("resume", url.Values{"reason": {"Videre"}}), http.StatusConflict)
	want("no version (400)", admin.post("/p/"+id+"/milestone", url.Values{"csrf_token": {token}}), http.StatusBadRequest)
	want("unknown form (404)", post("nonsense", url.Values{}), http.StatusNotFound)
	if p := post("milestone", url.Values{"kind": {"meeting"}, "title": {"Oppstartsmøte"}, "occurred_at": {today}}); p.Status != http.StatusSeeOther {
		t.Fatalf("milestone: %d", p.Status)
	}
	want("version conflict (409)", post("pause", url.Values{"reason": {"Sommer"}}), http.StatusConflict)
	vtoken, _ := formValues(t, viewer.get("/p/"+id).Body)
	want("viewer's post (403)", viewer.post("/p/"+id+"/milestone", url.Values{"csrf_token": {vtoken}, "version": {"2"}, "kind": {"meeting"}, "title": {"x"}}), http.StatusForbidden)

	// Correcting.
	hist, _, err := s.svc.History().Events(context.Background(), id, partnership.View{})
	if err != nil {
		t.Fatal(err)
	}
	initiation, milestone := hist[0].EventID, hist[1].EventID
	want("correction chooser", admin.get("/p/"+id+"/correct"), http.StatusOK)
	want("correction form", admin.get("/p/"+id+"/correct?entry="+milestone), http.StatusOK)
	want("correction form of the initiation", admin.get("/p/"+id+"/correct?entry="+initiation), http.StatusOK)
	want("correction, viewer (403)", viewer.get("/p/"+id+"/correct?entry="+milestone), http.StatusForbidden)
	want("correction of an unknown entry (404)", admin.get("/p/"+id+"/correct?entry=nothing"), http.StatusNotFound)
	ctoken, cversion := formValues(t, out["correction form"].Body)
	correct := url.Values{"csrf_token": {ctoken}, "version": {cversion}, "entry": {milestone}, "kind": {"evaluation"}, "title": {"Oppstartsmøte med evaluering"}, "note": {""}, "correction_reason": {"Feil type"}}
	want("correction preview", admin.post("/p/"+id+"/correct", correct), http.StatusOK)
	correct.Set("retract", "1")
	want("retraction preview", admin.post("/p/"+id+"/correct", correct), http.StatusOK)
	correct.Del("retract")
	correct.Set("correction_reason", "")
	want("correction with errors (400)", admin.post("/p/"+id+"/correct", correct), http.StatusBadRequest)
	correct.Set("correction_reason", "Feil type")
	correct.Set("step", "confirm")
	if p := admin.post("/p/"+id+"/correct", correct); p.Status != http.StatusSeeOther {
		t.Fatalf("confirm the correction: %d\n%s", p.Status, p.Body)
	}
	want("corrected history", admin.get("/p/"+id+"?saved=EntryCorrected"), http.StatusOK)
	want("municipality after the changes", admin.get("/m/4203"), http.StatusOK)

	// The audit views and the admin pages.
	want("audit view", admin.get("/p/"+id+"/audit"), http.StatusOK)
	want("audit view, viewer", viewer.get("/p/"+id+"/audit"), http.StatusOK)
	_, kari := s.person(t, "Kari Nordmann", "kari@example.no", auth.Grant{Role: auth.RoleViewer})
	user := "/admin/users/" + kari.ID
	want("admin users", admin.get("/admin/users"), http.StatusOK)
	want("admin users, none match", admin.get("/admin/users?q=ingen+slik"), http.StatusOK)
	want("admin users, bad filter (400)", admin.get("/admin/users?role=konge"), http.StatusBadRequest)
	want("admin user", admin.get(user), http.StatusOK)
	want("admin grant refused (400)", admin.postForm(user, user+"/grant", url.Values{"role": {auth.RoleCoordinator}}), http.StatusBadRequest)
	want("admin erase, confirm", admin.postForm(user, user+"/erase", url.Values{}), http.StatusOK)
	want("admin unknown user (404)", admin.get("/admin/users/"+auth.NewUserID()), http.StatusNotFound)
	want("admin tokens", admin.get("/admin/tokens"), http.StatusOK)
	want("admin token made (201)", admin.postForm("/admin/tokens", "/admin/tokens", url.Values{"name": {"skript-" + lang}, "role": {auth.RoleViewer}}), http.StatusCreated)
	want("admin token refused (400)", admin.postForm("/admin/tokens", "/admin/tokens", url.Values{"name": {"skript-" + lang}, "role": {auth.RoleViewer}}), http.StatusBadRequest)
	want("admin sessions", admin.get("/admin/sessions"), http.StatusOK)
	want("admin audit", admin.get("/admin/audit"), http.StatusOK)
	want("admin audit, bad filter (400)", admin.get("/admin/audit?from=igår"), http.StatusBadRequest)
	want("admin page, not an admin (403)", viewer.get("/admin/users"), http.StatusForbidden)
	project := "/admin/projects/prosjekt-" + lang
	want("admin projects", admin.get("/admin/projects"), http.StatusOK)
	want("admin project refused (400)", admin.postForm("/admin/projects", "/admin/projects", url.Values{"id": {"X"}, "starts": {"i går"}, "ends": {"2020-13-01"}, "municipalities": {"1702, 12"}}), http.StatusBadRequest)
	if p := admin.postForm("/admin/projects", "/admin/projects", url.Values{"id": {"prosjekt-" + lang}, "name": {"Samspill"}, "institution": {"UiO"}, "purpose": {"Varighet"}, "starts": {"2026-01-01"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("make a project: %d\n%s", p.Status, p.Body)
	}
	want("admin project made, again (409)", admin.postForm("/admin/projects", "/admin/projects", url.Values{"id": {"prosjekt-" + lang}, "name": {"Samspill"}, "institution": {"UiO"}, "purpose": {"Varighet"}, "starts": {"2026-01-01"}}), http.StatusConflict)
	want("admin project", admin.get(project+"?saved=project_created"), http.StatusOK)
	want("admin project grant refused (400)", admin.postForm(project, project+"/grant", url.Values{"subject": {"viewer"}}), http.StatusBadRequest)
	want("admin project granted", admin.get(project+"?saved=project_granted"), http.StatusOK)
	want("admin project revoked", admin.get(project+"?saved=project_revoked"), http.StatusOK)
	want("admin project rotated", admin.get(project+"?saved=project_rotated"), http.StatusOK)
	want("admin project rotate, confirm", admin.postForm(project, project+"/rotate", url.Values{}), http.StatusOK)
	want("admin project export refused (400)", admin.postForm(project, project+"/export", url.Values{"recipient": {"age1nope"}}), http.StatusBadRequest)
	want("admin project revoke, not a member (404)", admin.postForm(project, project+"/revoke", url.Values{"subject": {"viewer"}}), http.StatusNotFound)
	want("admin unknown project (404)", admin.get("/admin/projects/ingen"), http.StatusNotFound)

	// Error pages made from failures a test cannot cause through the
	// network: a full disk (503), an unexpected error (500).
	for name, err := range map[string]error{"storage full (503)": eventstore.ErrStorageFull, "internal (500)": fmt.Errorf("boom")} {
		out[name] = failurePage(t, s, lang, err)
	}
	return out
}

// failurePage is the page fail draws for err, in lang.
func failurePage(t *testing.T, s *site, lang string, err error) page {
	t.Helper()
	rec := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(rec)
	c.Request = httptest.NewRequest(http.MethodGet, "/p/x", nil)
	c.Request.AddCookie(&http.Cookie{Name: langCookie, Value: lang})
	s.pages.language(c)
	s.pages.fail(c, err)
	return page{Status: rec.Code, Header: rec.Header(), Body: rec.Body.String()}
}

// listLink is the link re finds on a list page; the test fails without one.
func listLink(t *testing.T, body string, re *regexp.Regexp) string {
	t.Helper()
	l := link(re, body)
	if l == "" {
		t.Fatalf("no link %s on the page", re)
	}
	return l
}
