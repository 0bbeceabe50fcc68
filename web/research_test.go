package web

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/samspill/samspill/research"
)

// hrefOf returns the unescaped href of the element with that id on a page.
func hrefOf(t *testing.T, body, id string) string {
	t.Helper()
	m := regexp.MustCompile(`id="` + id + `" href="([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no link #%s on the page", id)
	}
	return html.UnescapeString(m[1])
}

// download fetches a research file with the browser's session and
// returns its body, checked against the SHA-256 in its trailer.
func (b *browser) download(t *testing.T, path string) (*http.Response, []byte) {
	t.Helper()
	res, err := b.client.Get(b.site.srv.URL + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, res.StatusCode, body)
	}
	return res, body
}

// TestResearchPageForResearchers: the research page is for researchers
// and admins, linked in their navigation; viewers and coordinators get
// the 403 page and no link, also for the files.
func TestResearchPageForResearchers(t *testing.T) {
	t.Parallel()
	s := newSite(t, true)
	researcher := s.browserAs(t, "researcher")
	p := researcher.get("/research")
	if p.Status != http.StatusOK || !strings.Contains(p.Body, `href="/research" aria-current="page"`) || !strings.Contains(p.Body, `id="form-research"`) || !strings.Contains(p.Body, `href="/research/survival"`) {
		t.Fatalf("research page for a researcher: %d\n%s", p.Status, p.Body)
	}
	head, err := s.store.Head(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(p.Body, `id="research-head">Nyeste posisjon i hendelsesloggen nå: `+strconv.FormatUint(head, 10)+".") {
		t.Fatalf("the page does not show the head %d", head)
	}
	if p := s.browser(t).get("/m"); !strings.Contains(p.Body, `href="/research"`) {
		t.Fatal("no link to the research page in an admin's navigation")
	}
	for _, who := range []string{"viewer", "arendal"} {
		b := s.browserAs(t, who)
		if p := b.get("/m"); strings.Contains(p.Body, `href="/research"`) {
			t.Errorf("%s sees the link to the research page", who)
		}
		for _, path := range []string{"/research", "/research?export=spells", "/research/files/spells.csv", "/research/files/manifest.json?export=spells"} {
			if p := b.get(path); p.Status != http.StatusForbidden || !strings.Contains(p.Body, "Bare forskere og administratorer") {
				t.Errorf("%s: %s answered %d", who, path, p.Status)
			}
		}
	}
	if p := s.browserAs(t, "").get("/research"); p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/login?next=") {
		t.Errorf("signed out: %d to %q", p.Status, p.Location)
	}
}

// TestResearchPageLinksPinThePosition: the form's answer links the file,
// its manifest and data package at the head it pinned; the browser's
// session downloads them through the API's handlers; the file at that
// position stays the same after later writes and its SHA-256 is the
// manifest's; the citation names position and parameters.
func TestResearchPageLinksPinThePosition(t *testing.T) {
	t.Parallel()
	s := newSite(t, true)
	b := s.browserAs(t, "researcher")
	head, err := s.store.Head(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	pos := strconv.FormatUint(head, 10)
	p := b.get("/research?project=&export=spells&format=csv&as_of=2026-06-30&known_at=&at_position=")
	if p.Status != http.StatusOK {
		t.Fatalf("form sent: %d\n%s", p.Status, p.Body)
	}
	download := hrefOf(t, p.Body, "research-download")
	if download != "/research/files/spells.csv?as_of=2026-06-30&at_position="+pos {
		t.Fatalf("download link %q, want the pinned position %s", download, pos)
	}
	if m := hrefOf(t, p.Body, "research-manifest"); m != "/research/files/manifest.json?as_of=2026-06-30&at_position="+pos+"&export=spells&format=csv" {
		t.Fatalf("manifest link %q", m)
	}
	if c := hrefOf(t, p.Body, "research-codebook"); c != "/research/codebook?export=spells" {
		t.Fatalf("codebook link %q", c)
	}
	if !strings.Contains(p.Body, "samspill research export spells, position "+pos+", as of 2026-06-30, rules version "+research.RulesVersion+", samspill test-version. http://") ||
		!strings.Contains(p.Body, `data-copy="research-citation"`) || !strings.Contains(p.Body, "<textarea id=\"research-citation\" readonly") {
		t.Fatalf("no citation field with its copy button:\n%s", p.Body)
	}

	res, body := b.download(t, download)
	if ct := res.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" || res.Header.Get("Content-Disposition") != `attachment; filename="spells-p`+pos+`-2026-06-30.csv"` {
		t.Fatalf("download: %s, %s", ct, res.Header.Get("Content-Disposition"))
	}
	if !strings.HasPrefix(string(body), strings.Join(research.SpellsHeader, ",")+"\n") {
		t.Fatalf("download starts %.100q", body)
	}
	sum := sha256.Sum256(body)
	if res.Trailer.Get("X-Samspill-Sha256") != hex.EncodeToString(sum[:]) {
		t.Fatalf("trailer %q, body %x", res.Trailer.Get("X-Samspill-Sha256"), sum)
	}
	_, mb := b.download(t, hrefOf(t, p.Body, "research-manifest"))
	var m research.ExportManifest
	if err := json.Unmarshal(mb, &m); err != nil || m.Position != head || m.Files[0].SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("manifest %s (%v), want position %d and the download's SHA-256", mb, err, head)
	}
	if _, dp := b.download(t, hrefOf(t, p.Body, "research-datapackage")); !strings.Contains(string(dp), m.Files[0].SHA256) {
		t.Fatalf("datapackage.json %s does not name the file's hash", dp)
	}

	initiateThroughForm(t, s.browser(t), s, "4203", "")
	if _, again := b.download(t, download); string(again) != string(body) {
		t.Fatal("the pinned download changed after a later write")
	}
	if later := b.get("/research?export=spells&format=csv&as_of=2026-06-30"); hrefOf(t, later.Body, "research-download") == download {
		t.Fatal("the newest position did not move after a write")
	}

	// Events: one format, no as_of.
	ev := b.get("/research?export=events&format=dta&as_of=2026-06-30")
	if d := hrefOf(t, ev.Body, "research-download"); !strings.HasPrefix(d, "/research/files/events.ndjson?at_position=") || strings.Contains(d, "as_of") {
		t.Fatalf("events link %q", d)
	}
}

// TestResearchPageRefusesBadInput: a bad form is answered 400 with every
// problem named and no links.
func TestResearchPageRefusesBadInput(t *testing.T) {
	t.Parallel()
	s := newSite(t, true)
	b := s.browserAs(t, "researcher")
	p := b.get("/research?project=offri&export=people&as_of=2999-01-01&known_at=snart&at_position=0")
	if p.Status != http.StatusBadRequest || strings.Contains(p.Body, "research-download") {
		t.Fatalf("bad form: %d\n%s", p.Status, p.Body)
	}
	for _, want := range []string{"Velg et av uttrekkene", "Sensurdatoen kan ikke være etter i dag", "«Slik det var kjent» må være en dato", "Posisjonen må være et helt tall", "Du har ikke tilgang til dette prosjektet"} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("the bad form's answer does not say %q", want)
		}
	}
	p = b.get("/research?export=spells&format=xlsx&known_at=2999-01-01&at_position=99999999")
	for _, want := range []string{"Dette uttrekket finnes ikke i det formatet", "kan ikke være frem i tid", "Posisjonen er etter den nyeste"} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("the bad form's answer does not say %q", want)
		}
	}
}

// TestCodebookListsEveryColumn: the codebook shows every column of every
// export, with labels, types and codes in the reader's language.
func TestCodebookListsEveryColumn(t *testing.T) {
	t.Parallel()
	s := newSite(t, false)
	viewer := s.browserAs(t, "viewer")
	p := viewer.get("/research/codebook")
	if p.Status != http.StatusOK {
		t.Fatalf("codebook: %d", p.Status)
	}
	for _, e := range research.Exports() {
		if !strings.Contains(p.Body, `id="table-`+e.Table.Name+`"`) || !strings.Contains(p.Body, e.Table.TitleNB) {
			t.Errorf("the codebook has no section on %s", e.Table.Name)
		}
		for _, c := range e.Table.Columns {
			if !strings.Contains(p.Body, `data-column="`+c.Name+`"`) {
				t.Errorf("the codebook lacks %s.%s", e.Table.Name, c.Name)
			}
			if c.LabelNB != "" && !strings.Contains(p.Body, html.EscapeString(c.LabelNB)) {
				t.Errorf("the codebook lacks the label of %s.%s", e.Table.Name, c.Name)
			}
		}
	}
	for _, want := range []string{`id="table-events"`, "heltall (dager)", "Mangler aldri", "Kan mangle (tom celle)", `<code lang="en" translate="no">network</code></dt><dd>Nettverk</dd>`} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("the codebook does not show %q", want)
		}
	}
	one := viewer.get("/research/codebook?export=spells")
	if one.Status != http.StatusOK || strings.Contains(one.Body, `id="table-events"`) || !strings.Contains(one.Body, `id="table-spells"`) {
		t.Fatalf("codebook of spells: %d", one.Status)
	}
	if p := viewer.get("/research/codebook?export=people"); p.Status != http.StatusNotFound {
		t.Fatalf("unknown export: %d", p.Status)
	}
}
