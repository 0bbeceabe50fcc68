package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/samspill/samspill/describe"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/locale"
	"github.com/samspill/samspill/projections"
	"github.com/samspill/samspill/projections/timeline"
)

var (
	// laneRe matches a lane of a municipality's page: its id, then its
	// status.
	laneRe   = regexp.MustCompile(`<a class="tl-label" id="ln-\d+" href="/p/([^"]+)".*?<svg class="tl-lane ([a-z]+)"`)
	markerRe = regexp.MustCompile(`<use href="#(mk-[a-z]+)" x="`)
)

// timelineOf is what the projection holds for a municipality under f,
// every entry (one cursor after the other, without the pages' windows):
// what the page must show.
func timelineOf(t testing.TB, s *site, code string, f timeline.Filter) timeline.Timeline {
	t.Helper()
	tl, err := sequentialTimeline(context.Background(), s.proj, code, f)
	if err != nil {
		t.Fatalf("timeline %s: %v", code, err)
	}
	return tl
}

// sequentialTimeline is the projection's whole timeline under f, every
// lane and every entry (one cursor after the other): what the pages of
// lanes must show between them.
func sequentialTimeline(ctx context.Context, r *projections.Runner, code string, f timeline.Filter) (timeline.Timeline, error) {
	q := timeline.NewQueries(r)
	f.Limit = 50000
	tl, err := q.Timeline(ctx, code, f)
	for err == nil && tl.NextCursor != nil {
		f.Cursor = *tl.NextCursor
		var more timeline.Timeline
		if more, err = q.Timeline(ctx, code, f); err == nil {
			tl.Entries = append(tl.Entries, more.Entries...)
			tl.NextCursor = more.NextCursor
		}
	}
	return tl, err
}

func countMarkers(body string) map[string]int {
	out := map[string]int{}
	for _, m := range markerRe.FindAllStringSubmatch(body, -1) {
		out[m[1]]++
	}
	return out
}

func wantMarkers(entries []timeline.Entry) map[string]int {
	out := map[string]int{}
	for _, e := range entries {
		out[markerIDs[e.Type]]++
	}
	return out
}

func TestPagesShowDemoData(t *testing.T) {
	t.Parallel()
	s := newSite(t, true)
	b := s.browser(t)

	t.Run("front page", func(t *testing.T) {
		p := b.get("/")
		if p.Status != http.StatusOK {
			t.Fatalf("GET / = %d", p.Status)
		}
		for _, want := range []string{`href="/m/4203">Arendal</a>`, `href="/m/5006">Steinkjer</a>`, `<svg class="spark"`} {
			if !strings.Contains(p.Body, want) {
				t.Errorf("front page lacks %s", want)
			}
		}
		if n := strings.Count(p.Body, `<tr class="municipality"`); n != 3 {
			t.Errorf("front page lists %d municipalities, want 3 (Arendal, Steinkjer, Ålesund)", n)
		}
		if p := b.get("/?q=stein"); strings.Contains(p.Body, "/m/4203") || !strings.Contains(p.Body, "/m/5006") {
			t.Errorf("search for stein: %s", p.Body)
		}
		if p := b.get("/?q=4203"); !strings.Contains(p.Body, "/m/4203") || strings.Contains(p.Body, "/m/5006") {
			t.Errorf("search by code 4203 does not find only Arendal")
		}
	})

	for _, code := range []string{"4203", "5006"} {
		t.Run("timeline "+code, func(t *testing.T) {
			p := b.get("/m/" + code)
			if p.Status != http.StatusOK {
				t.Fatalf("GET /m/%s = %d: %s", code, p.Status, p.Body)
			}
			tl := timelineOf(t, s, code, timeline.Filter{})
			lanes := laneRe.FindAllStringSubmatch(p.Body, -1)
			if len(lanes) != len(tl.Partnerships) || len(lanes) == 0 {
				t.Errorf("%d lanes, want %d (one per partnership)", len(lanes), len(tl.Partnerships))
			}
			if got, want := countMarkers(p.Body), wantMarkers(tl.Entries); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("markers %v, want %v", got, want)
			}
			if n := strings.Count(p.Body, `class="legend-marker"`); n != len(markerKinds) {
				t.Errorf("legend has %d marker kinds, want %d", n, len(markerKinds))
			}
			if !strings.Contains(p.Body, `<g class="reform"><title>Kommunereform 1. januar 2020`) {
				t.Errorf("no reform rule for 2020")
			}
			if !strings.Contains(p.Body, `class="spell paused"`) {
				t.Errorf("no paused spell drawn")
			}
			if !regexp.MustCompile(`<span class="tl-old">\(\d{4}\)</span>`).MatchString(p.Body) {
				t.Errorf("no lane marked with its former code")
			}
		})
	}

	t.Run("filters", func(t *testing.T) {
		p := b.get("/m/4203?service_area=culture&status=active&group=collaboration_model")
		if p.Status != http.StatusOK {
			t.Fatalf("status %d", p.Status)
		}
		tl := timelineOf(t, s, "4203", timeline.Filter{ServiceArea: "culture", Status: "active"})
		lanes := laneRe.FindAllStringSubmatch(p.Body, -1)
		if len(lanes) != len(tl.Partnerships) {
			t.Errorf("%d lanes, want %d", len(lanes), len(tl.Partnerships))
		}
		for _, l := range lanes {
			if l[2] != "active" {
				t.Errorf("lane %s has status %s under status=active", l[1], l[2])
			}
		}
		if got, want := countMarkers(p.Body), wantMarkers(tl.Entries); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("markers %v, want %v", got, want)
		}
		if !strings.Contains(p.Body, `<option value="culture" selected>`) {
			t.Errorf("the filter form does not keep the chosen service area")
		}

		p = b.get("/m/4203?from=2020-01-01&to=2021-12-31")
		tl = timelineOf(t, s, "4203", mustFilter(t, "2020-01-01", "2021-12-31"))
		if got, want := countMarkers(p.Body), wantMarkers(tl.Entries); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("date range: markers %v, want %v", got, want)
		}
		if n := len(laneRe.FindAllString(p.Body, -1)); n != len(tl.Partnerships) {
			t.Errorf("date range: %d lanes, want %d", n, len(tl.Partnerships))
		}
	})

	t.Run("bad input", func(t *testing.T) {
		for path, want := range map[string]int{
			"/m/0906":                                 http.StatusMovedPermanently,
			"/m/12":                                   http.StatusNotFound,
			"/m/9999":                                 http.StatusNotFound,
			"/m/4203?from=yesterday":                  http.StatusBadRequest,
			"/m/4203?service_area=sailing":            http.StatusBadRequest,
			"/m/0906/timeline.png?page=2":             http.StatusMovedPermanently,
			"/m/9999/timeline.svg":                    http.StatusNotFound,
			"/m/4203/timeline.svg?page=x":             http.StatusBadRequest,
			"/p/not-a-uuid":                           http.StatusNotFound,
			"/p/0196f1a2-0000-7000-8000-000000000000": http.StatusNotFound,
			"/p/" + s.example + "?as_of=31.12.2019":   http.StatusBadRequest,
			"/p/" + s.example + "?as_of=2001-01-01":   http.StatusNotFound,
		} {
			p := b.get(path)
			if p.Status != want {
				t.Errorf("GET %s = %d, want %d", path, p.Status, want)
			}
			if want >= 400 && !strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") {
				t.Errorf("GET %s: error page is %s, not HTML", path, p.Header.Get("Content-Type"))
			}
		}
		if p := b.get("/m/0906"); p.Location != "/m/4203" {
			t.Errorf("old code redirects to %q", p.Location)
		}
		if p := b.get("/m/0906/timeline.png?page=2"); p.Location != "/m/4203/timeline.png?page=2" {
			t.Errorf("old code's download redirects to %q", p.Location)
		}
	})

	t.Run("partnership", func(t *testing.T) {
		p := b.get("/p/" + s.example)
		if p.Status != http.StatusOK {
			t.Fatalf("status %d", p.Status)
		}
		hist, _, err := s.svc.History().Events(context.Background(), s.example, partnership.View{})
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(p.Body, `<li class="entry`); n != len(hist) {
			t.Errorf("%d history entries, want %d", n, len(hist))
		}
		if !strings.Contains(p.Body, `class="entry corrected"`) {
			t.Errorf("no corrected entry marked")
		}
		for _, id := range []string{"milestone", "goals", "roles", "join", "leave", "agreement", "funding", "anchoring", "model", "contact", "end", "correct"} {
			if !strings.Contains(p.Body, `id="form-`+id+`"`) && !strings.Contains(p.Body, `<details class="form" id="`+id+`"`) {
				t.Errorf("no %s form", id)
			}
		}
		// As of the first day only the initiation is in force.
		first := hist[0].OccurredAt.In(osloLoc()).Format("2006-01-02")
		p = b.get("/p/" + s.example + "?as_of=" + first)
		if n := strings.Count(p.Body, `<li class="entry`); n >= len(hist) || n == 0 {
			t.Errorf("as of %s: %d entries, want fewer than %d", first, n, len(hist))
		}
		if strings.Contains(p.Body, `id="form-milestone"`) {
			t.Errorf("forms shown on a past view")
		}
	})

	t.Run("as known at", func(t *testing.T) {
		// The demo's partnerships were entered from Arendal's go-live day
		// (2016-01-11) on; before it nothing was.
		if p := b.get("/p/" + s.example + "?known_at=2015-12-31"); p.Status != http.StatusNotFound || !strings.Contains(p.Body, "ikke registrert ennå") {
			t.Errorf("known at 2015-12-31: %d", p.Status)
		}
		p := b.get("/p/" + s.example + "?known_at=2026-11-26&as_of=2020-01-01")
		if p.Status != http.StatusOK || !strings.Contains(p.Body, "slik det var 1. januar 2020, slik det var kjent 26. november 2026") {
			t.Errorf("bitemporal view: %d", p.Status)
		}
	})

	t.Run("personal data only for those who may see it", func(t *testing.T) {
		email := regexp.MustCompile(`[a-z.]+@[a-z]+\.`)
		viewer, arendal := s.browserAs(t, "viewer"), s.browserAs(t, "arendal")
		example := b.get("/p/" + s.example)
		if !email.MatchString(example.Body) {
			t.Fatalf("the admin does not see the example's contact persons")
		}
		for _, path := range []string{"/p/" + s.example, "/m/4203", "/m/5006"} {
			if p := viewer.get(path); p.Status != http.StatusOK || email.MatchString(p.Body) {
				t.Errorf("%s shows personal data to a viewer (status %d)", path, p.Status)
			}
		}
		state, _, err := s.svc.History().State(context.Background(), s.example, partnership.View{})
		if err != nil {
			t.Fatal(err)
		}
		mine := arendal.get("/p/" + s.example)
		if (state.CurrentMunicipality == "4203") != email.MatchString(mine.Body) {
			t.Errorf("an Arendal coordinator on a %s partnership: personal data shown = %v", state.CurrentMunicipality, email.MatchString(mine.Body))
		}
		if state.CurrentMunicipality != "4203" && !strings.Contains(mine.Body, "Som koordinator kan du bare registrere for Arendal (4203)") {
			t.Errorf("an Arendal coordinator is offered forms on a %s partnership", state.CurrentMunicipality)
		}
	})
}

func mustFilter(t testing.TB, from, to string) timeline.Filter {
	f, _, problems := timelineFilterForm{From: from, To: to}.parse(locale.For(locale.Bokmal))
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	return f
}

func TestFormsWriteThroughTheService(t *testing.T) {
	t.Parallel()
	s := newSite(t, false)
	b := s.browser(t)
	p := b.get("/p/new?municipality=4203")
	if p.Status != http.StatusOK || !strings.Contains(p.Body, `value="4203"`) {
		t.Fatalf("GET /p/new = %d", p.Status)
	}
	token, _ := formValues(t, p.Body)
	today := s.now().In(osloLoc()).Format("2006-01-02")
	initiate := url.Values{
		"csrf_token": {token}, "municipality": {"4203"}, "title": {"Leksehjelp på biblioteket"},
		"service_area": {"education"}, "collaboration_model": {"network"},
		"partner_0_name": {"Røde Kors Arendal"}, "partner_0_kind": {"voluntary_organisation"}, "partner_0_org_no": {"974760673"},
		"partner_1_name": {"Arendal bibliotek"}, "partner_1_kind": {"municipal_unit"},
		"goals": {"Hjelp med lekser\nMøteplass"}, "occurred_at": {today},
	}

	t.Run("validation errors next to the fields, input kept", func(t *testing.T) {
		bad := url.Values{}
		for k, v := range initiate {
			bad[k] = v
		}
		bad.Set("partner_0_org_no", "123456786")
		bad.Set("title", "")
		bad.Set("occurred_at", "2026-13-45")
		p := b.post("/p/new", bad)
		if p.Status != http.StatusBadRequest {
			t.Fatalf("status %d", p.Status)
		}
		if !strings.Contains(p.Body, `id="new-occurred_at-err"`) {
			t.Errorf("no error next to the date")
		}
		bad.Set("occurred_at", today)
		p = b.post("/p/new", bad)
		for _, id := range []string{"new-partner_0_org_no-err", "new-title-err"} {
			if !strings.Contains(p.Body, `id="`+id+`"`) {
				t.Errorf("no error %s", id)
			}
		}
		if !strings.Contains(p.Body, `value="Røde Kors Arendal"`) || !strings.Contains(p.Body, "Hjelp med lekser\nMøteplass") {
			t.Errorf("the user's input is not kept")
		}
	})

	t.Run("CSRF", func(t *testing.T) {
		bad := url.Values{}
		for k, v := range initiate {
			bad[k] = v
		}
		bad.Set("csrf_token", "forged")
		if p := b.post("/p/new", bad); p.Status != http.StatusForbidden || !strings.Contains(p.Body, `<a href="/p/new">Gå tilbake</a>`) {
			t.Errorf("forged token: %d, want 403 with a way back to the form", p.Status)
		}
		big := url.Values{}
		for k, v := range initiate {
			big[k] = v
		}
		big.Set("description", strings.Repeat("x", 2<<20))
		if p := b.post("/p/new", big); p.Status != http.StatusRequestEntityTooLarge {
			t.Errorf("2 MiB form: %d", p.Status)
		}
		stranger := s.browser(t) // no session cookie
		if p := stranger.post("/p/new", initiate); p.Status != http.StatusForbidden {
			t.Errorf("no cookie: %d", p.Status)
		}
	})

	var id string
	t.Run("initiate, then log a milestone (POST/redirect/GET)", func(t *testing.T) {
		p := b.post("/p/new", initiate)
		if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/p/") {
			t.Fatalf("POST /p/new = %d, Location %q: %s", p.Status, p.Location, p.Body)
		}
		id = strings.TrimPrefix(strings.Split(p.Location, "?")[0], "/p/")
		p = b.get(p.Location)
		if !strings.Contains(p.Body, "Lagret: Startet.") || !strings.Contains(p.Body, "Leksehjelp på biblioteket") {
			t.Fatalf("the new partnership page: %s", p.Body)
		}
		token, version := formValues(t, p.Body)
		p = b.post("/p/"+id+"/milestone", url.Values{"csrf_token": {token}, "version": {version}, "kind": {"meeting"}, "title": {"Oppstartsmøte"}, "occurred_at": {today}})
		if p.Status != http.StatusSeeOther {
			t.Fatalf("milestone: %d %s", p.Status, p.Body)
		}
		p = b.get(p.Location)
		if !strings.Contains(p.Body, "Møte: Oppstartsmøte") {
			t.Errorf("the milestone is not in the history at once")
		}
		// The post waited for the projections: the timeline has it too,
		// described in full in the reader's language.
		p = b.get("/m/4203")
		nb, en := locale.For(locale.Bokmal), locale.For(locale.English)
		if want := nb.Date(s.now()) + ": Milepæl – Møte: Oppstartsmøte</li>"; !strings.Contains(p.Body, `<use href="#mk-mile"`) || !strings.Contains(p.Body, want) {
			t.Errorf("the milestone is not on the timeline as %q", want)
		}
		b.setLang("en")
		defer b.setLang("nb")
		want := en.Date(s.now()) + ": " + describe.Label(en, partnership.TypeMilestoneLogged) + " – " + describe.Label(en, "meeting") + ": Oppstartsmøte</li>"
		if p := b.get("/m/4203"); !strings.Contains(p.Body, want) {
			t.Errorf("the milestone is not on the English timeline as %q", want)
		}
	})

	t.Run("version conflict", func(t *testing.T) {
		p := b.get("/p/" + id)
		token, version := formValues(t, p.Body)
		// Someone else changes the partnership after the page was drawn.
		other := s.browser(t)
		op := other.get("/p/" + id)
		otoken, oversion := formValues(t, op.Body)
		if r := other.post("/p/"+id+"/pause", url.Values{"csrf_token": {otoken}, "version": {oversion}, "reason": {"Sommerferie"}, "occurred_at": {today}}); r.Status != http.StatusSeeOther {
			t.Fatalf("pause: %d %s", r.Status, r.Body)
		}
		p = b.post("/p/"+id+"/goals", url.Values{"csrf_token": {token}, "version": {version}, "goals": {"Hjelp med lekser\nMøteplass\nNye venner"}, "reason": {"Utvidet"}, "occurred_at": {today}})
		if p.Status != http.StatusConflict {
			t.Fatalf("stale post: %d", p.Status)
		}
		for _, want := range []string{`id="conflict"`, "Nye venner", `<details class="form" id="goals" open>`, "Satt på pause: Sommerferie"} {
			if !strings.Contains(p.Body, want) {
				t.Errorf("conflict page lacks %q", want)
			}
		}
		state, _, err := s.svc.History().State(context.Background(), id, partnership.View{})
		if err != nil || state.GoalChanges != 0 {
			t.Errorf("the stale change was written: %+v %v", state.GoalChanges, err)
		}
	})

	t.Run("errors mapped to the fields of each form", func(t *testing.T) {
		p := b.get("/p/" + id)
		token, version := formValues(t, p.Body)
		red := partnerID(t, s, id, "Røde Kors Arendal")
		p = b.post("/p/"+id+"/roles", url.Values{"csrf_token": {token}, "version": {version}, "role_" + red: {"lead"}, "resp_" + red: {strings.Repeat("x", 501)}})
		if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, `id="roles-resp_`+red+`-err"`) {
			t.Errorf("roles: %d, no error next to the responsibilities", p.Status)
		}
		p = b.post("/p/"+id+"/funding", url.Values{"csrf_token": {token}, "version": {version}, "amount_nok": {"12,50"}, "source": {"Stat"}, "period_from": {"2026-01-01"}, "period_until": {"2026-12-31"}})
		if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, `id="funding-amount_nok-err"`) || !strings.Contains(p.Body, "Skriv beløpet i hele kroner") {
			t.Errorf("funding: %d", p.Status)
		}
		unknown := "0196f1a2-0000-7000-8000-000000000000"
		if p := b.get("/p/" + id + "/correct?entry=" + unknown); p.Status != http.StatusNotFound || !strings.Contains(p.Body, "kan ikke rettes her") {
			t.Errorf("the correction form of an unknown entry: %d", p.Status)
		}
		p = b.post("/p/"+id+"/correct", url.Values{"csrf_token": {token}, "version": {version}, "entry": {unknown}, "correction_reason": {"Feil"}, "retract": {"1"}, "step": {"confirm"}})
		if p.Status != http.StatusNotFound || !strings.Contains(p.Body, "kan ikke rettes her") {
			t.Errorf("correction of an unknown entry: %d", p.Status)
		}
		if p := b.post("/p/"+id+"/nonsense", url.Values{"csrf_token": {token}, "version": {version}}); p.Status != http.StatusNotFound {
			t.Errorf("unknown form: %d", p.Status)
		}
		if p := b.post("/p/"+id+"/milestone", url.Values{"csrf_token": {token}, "title": {"x"}}); p.Status != http.StatusBadRequest {
			t.Errorf("no version: %d", p.Status)
		}
	})

	t.Run("cross-site post", func(t *testing.T) {
		p := b.get("/p/" + id)
		token, version := formValues(t, p.Body)
		req, _ := http.NewRequest(http.MethodPost, s.srv.URL+"/p/"+id+"/milestone", strings.NewReader(url.Values{"csrf_token": {token}, "version": {version}, "kind": {"meeting"}, "title": {"x"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://evil.example")
		resp, err := b.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("post from another origin: %d", resp.StatusCode)
		}
	})

	t.Run("rule refused", func(t *testing.T) {
		p := b.get("/p/" + id)
		token, version := formValues(t, p.Body)
		p = b.post("/p/"+id+"/leave", url.Values{"csrf_token": {token}, "version": {version}, "partner_id": {partnerID(t, s, id, "Røde Kors Arendal")}, "reason": {"Flyttet"}, "occurred_at": {today}})
		if p.Status != http.StatusConflict || !strings.Contains(p.Body, "Endringen ble ikke lagret: Røde Kors Arendal er den siste partneren utenfor kommunen – avslutt samarbeidet i stedet.") {
			t.Errorf("last external partner leaving: %d", p.Status)
		}
	})
}

func partnerID(t *testing.T, s *site, id, name string) string {
	t.Helper()
	st, _, err := s.svc.History().State(context.Background(), id, partnership.View{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range st.Partners {
		if p.Name == name {
			return p.PartnerID
		}
	}
	t.Fatalf("no partner %s", name)
	return ""
}

func TestAssetsAreEmbeddedAndCached(t *testing.T) {
	t.Parallel()
	s := newSite(t, false)
	b := s.browser(t)
	p := b.get("/")
	for _, name := range []string{"style.css", "enhance.js"} {
		u := assetURL(name)
		if !strings.Contains(p.Body, u) {
			t.Errorf("page does not link %s", u)
		}
		a := b.get(u)
		if a.Status != http.StatusOK || !strings.Contains(a.Header.Get("Cache-Control"), "immutable") || a.Header.Get("ETag") == "" {
			t.Errorf("%s: %d %v", u, a.Status, a.Header)
		}
	}
	if csp := p.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("CSP %q", csp)
	}
	if strings.Contains(p.Body, "<script>") || strings.Contains(p.Body, " onclick=") || strings.Contains(p.Body, "http://") && !strings.Contains(p.Body, "http://www.w3.org/2000/svg") {
		t.Errorf("inline script or external reference on the page")
	}
	login := s.browserAs(t, "").get("/login")
	if c := login.Header.Get("Set-Cookie"); !strings.Contains(c, "HttpOnly") || !strings.Contains(c, "SameSite=Strict") {
		t.Errorf("session cookie %q", c)
	}
}

func TestPagesNeedASignedInToken(t *testing.T) {
	t.Parallel()
	s := newSite(t, true)
	anon := s.browserAs(t, "")
	if p := anon.get("/m/4203?status=active"); p.Status != http.StatusSeeOther || p.Location != "/login?next=%2Fm%2F4203%3Fstatus%3Dactive" {
		t.Fatalf("signed out: %d → %q", p.Status, p.Location)
	}
	login := anon.get("/login?next=/m/4203")
	token, _ := formValues(t, login.Body)
	if p := anon.post("/login", url.Values{"csrf_token": {token}, "token": {"ssp_wrong"}, "next": {"/m/4203"}}); p.Status != http.StatusUnauthorized || !strings.Contains(p.Body, "Tilgangsnøkkelen er ikke gyldig") {
		t.Fatalf("bad token: %d", p.Status)
	}
	// next must stay on this site.
	if p := anon.post("/login", url.Values{"csrf_token": {token}, "token": {s.tokens["viewer"]}, "next": {"//evil.example/"}}); p.Status != http.StatusSeeOther || p.Location != "/" {
		t.Fatalf("sign in with a foreign next: %d → %q", p.Status, p.Location)
	}
	if p := anon.get("/m/4203"); p.Status != http.StatusOK {
		t.Fatalf("signed in: %d", p.Status)
	}
	// A viewer reads but may not write; the form posts are refused.
	page := anon.get("/p/" + s.example)
	if !strings.Contains(page.Body, "kan lese, men ikke registrere") || strings.Contains(page.Body, `id="form-milestone"`) {
		t.Fatalf("a viewer is offered forms")
	}
	csrf, _ := formValues(t, anon.get("/logout").Body)
	if p := anon.post("/p/"+s.example+"/milestone", url.Values{"csrf_token": {csrf}, "version": {"1"}, "kind": {"meeting"}, "title": {"x"}, "occurred_at": {"2026-11-20"}}); p.Status != http.StatusForbidden {
		t.Fatalf("a viewer's post: %d", p.Status)
	}
	if p := anon.post("/logout", url.Values{"csrf_token": {csrf}}); p.Status != http.StatusSeeOther {
		t.Fatalf("sign out: %d", p.Status)
	}
	if p := anon.get("/"); p.Status != http.StatusSeeOther {
		t.Fatalf("after signing out: %d", p.Status)
	}
	// A bearer header works too, and a bad one is not let through.
	req, _ := http.NewRequest(http.MethodGet, s.srv.URL+"/", nil)
	req.Header.Set("Authorization", "Bearer "+s.tokens["viewer"])
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("bearer: %v %v", res, err)
	}
}
