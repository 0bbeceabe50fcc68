package web

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/samspill/samspill/auth"
)

// person signs a person in through the user store as the sign-in pages
// do after the identity provider vouched for them, with the grant the
// mappings give, and returns the session's id and the user.
func (s *site) person(t testing.TB, name, email string, mapped auth.Grant) (string, auth.User) {
	t.Helper()
	id := auth.Identity{Provider: "entra", Subject: "subject-" + strings.ToLower(strings.ReplaceAll(name, " ", "-")), Name: name, Email: email}
	sid, u, err := s.userStore.SignIn(context.Background(), id, mapped, s.now())
	if err != nil {
		t.Fatalf("sign in %s: %v", name, err)
	}
	return sid, u
}

// sessionBrowser is a browser that holds the sign-in session sid.
func (s *site) sessionBrowser(t testing.TB, sid string) *browser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(s.srv.URL)
	jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: sid, Path: "/"}})
	return &browser{t: t, site: s, client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// signedIn reports whether the browser's session still lets it in.
func (b *browser) signedIn() bool {
	b.t.Helper()
	p := b.get("/m")
	return p.Status == http.StatusOK
}

// postForm posts a form of the page at path (its first CSRF token) to
// action, with values.
func (b *browser) postForm(path, action string, values url.Values) page {
	b.t.Helper()
	csrf, _ := formValues(b.t, b.get(path).Body)
	values.Set("csrf_token", csrf)
	return b.post(action, values)
}

// auditRows are the audit log page's rows as "action | actor | target |
// grant", newest first, and their seqs.
func auditRows(t *testing.T, body string) ([]string, []int) {
	t.Helper()
	var rows []string
	var seqs []int
	cell := regexp.MustCompile(`(?s)<td data-label="[^"]*" class="(actor|action|target|grant)">(.*?)</td>`)
	tags := regexp.MustCompile(`<[^>]+>`)
	for _, m := range regexp.MustCompile(`(?s)<tr class="audit-entry" data-seq="(\d+)">(.*?)</tr>`).FindAllStringSubmatch(body, -1) {
		c := map[string]string{}
		for _, x := range cell.FindAllStringSubmatch(m[2], -1) {
			c[x[1]] = tags.ReplaceAllString(x[2], "")
		}
		rows = append(rows, c["action"]+" | "+c["actor"]+" | "+c["target"]+" | "+c["grant"])
		var n int
		fmt.Sscan(m[1], &n)
		seqs = append(seqs, n)
	}
	return rows, seqs
}

// TestAdminPagesAreForAdminsOnly: every admin page and form answers a
// coordinator and a viewer with the 403 page in their language; the
// navigation links the admin pages for admins only.
func TestAdminPagesAreForAdminsOnly(t *testing.T) {
	t.Parallel()
	s := newSite(t, false)
	_, kari := s.person(t, "Kari Nordmann", "kari@example.no", auth.Grant{Role: auth.RoleViewer})
	gets := []string{"/admin", "/admin/users", "/admin/users/" + kari.ID, "/admin/tokens", "/admin/sessions", "/admin/audit"}
	posts := []string{"/admin/users/" + kari.ID + "/grant", "/admin/users/" + kari.ID + "/disable", "/admin/users/" + kari.ID + "/erase", "/admin/tokens", "/admin/tokens/admin/revoke", "/admin/sessions/0123456789abcdef/end"}
	for _, who := range []string{"arendal", "viewer"} {
		b := s.browserAs(t, who)
		if strings.Contains(b.get("/m").Body, `href="/admin/users"`) {
			t.Errorf("%s is shown the admin link", who)
		}
		for _, path := range gets {
			if p := b.get(path); p.Status != http.StatusForbidden || !strings.Contains(p.Body, "Bare administratorer kan bruke administrasjonssidene.") {
				t.Errorf("%s GET %s: %d, want the 403 page", who, path, p.Status)
			}
		}
		for _, path := range posts {
			if p := b.postForm("/m", path, url.Values{"role": {"admin"}, "name": {"x"}, "confirm": {"yes"}}); p.Status != http.StatusForbidden {
				t.Errorf("%s POST %s: %d, want 403", who, path, p.Status)
			}
		}
	}
	if u, err := s.userStore.User(context.Background(), kari.ID); err != nil || u.Disabled || u.Erased || u.GrantedByAdmin {
		t.Fatalf("a refused post changed the user: %+v %v", u, err)
	}
	if _, err := s.userStore.Authenticate(context.Background(), s.tokens["admin"]); err != nil {
		t.Fatalf("a refused post revoked the admin's token: %v", err)
	}
	admin := s.browser(t)
	if p := admin.get("/m"); !strings.Contains(p.Body, `<a class="admin" href="/admin/users">Administrasjon</a>`) {
		t.Errorf("the admin is not shown the admin link")
	}
	for _, path := range gets {
		if p := admin.get(path); p.Status != http.StatusOK && !(path == "/admin" && p.Location == "/admin/users") {
			t.Errorf("admin GET %s: %d", path, p.Status)
		}
	}
}

// TestAdminGrantsAndManagesAUser walks a user's life on the admin pages:
// found by search, granted a coordinator's role (refused grants say why),
// given back to the mappings, disabled, enabled, erased after a
// confirmation; each change ends the user's sessions where it should and
// is in the audit log, naming the admin.
func TestAdminGrantsAndManagesAUser(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newSite(t, false)
	sid, kari := s.person(t, "Kari Nordmann", "kari@arendal.kommune.no", auth.Grant{Role: auth.RoleViewer})
	s.person(t, "Ola Hansen", "ola@example.no", auth.Grant{})
	person := s.sessionBrowser(t, sid)
	if !person.signedIn() {
		t.Fatal("the person's session does not let them in")
	}
	admin := s.browser(t)
	for query, want := range map[string][]string{
		"q=nordmann":                     {"Kari Nordmann"},
		"q=ARENDAL.KOMMUNE":              {"Kari Nordmann"},
		"q=" + kari.ID:                   {"Kari Nordmann"},
		"role=viewer":                    {"Kari Nordmann"},
		"role=none":                      {"Ola Hansen"},
		"disabled=no":                    {"Kari Nordmann", "Ola Hansen"},
		"disabled=yes":                   nil,
		"q=zzz":                          nil,
		"role=coordinator&q=kari":        nil,
		"q=kari&role=viewer&disabled=no": {"Kari Nordmann"},
	} {
		p := admin.get("/admin/users?" + query)
		var got []string
		for _, m := range regexp.MustCompile(`<th scope="row"><a href="/admin/users/usr-[a-z2-7]+">([^<]+)</a></th>`).FindAllStringSubmatch(p.Body, -1) {
			got = append(got, m[1])
		}
		if p.Status != http.StatusOK || strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("users?%s: %d %q, want %q", query, p.Status, got, want)
		}
	}
	if p := admin.get("/admin/users?role=king"); p.Status != http.StatusBadRequest {
		t.Errorf("an unknown role filter: %d, want 400", p.Status)
	}

	page := "/admin/users/" + kari.ID
	for _, c := range []struct{ role, codes, want string }{
		{auth.RoleCoordinator, "", "En koordinator må ha minst én kommune."},
		{auth.RoleViewer, "4203", "Bare koordinatorer har kommuner."},
		{auth.RoleCoordinator, "4203, 9999", "«9999» er ikke et kommunenummer."},
		{"king", "", "«king» er ingen rolle."},
	} {
		p := admin.postForm(page, page+"/grant", url.Values{"role": {c.role}, "municipalities": {c.codes}})
		if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, c.want) || !strings.Contains(p.Body, `value="`+c.codes+`"`) {
			t.Errorf("grant %s %q: %d, want 400 saying %q with the codes kept", c.role, c.codes, p.Status, c.want)
		}
	}
	if u, _ := s.userStore.User(ctx, kari.ID); u.GrantedByAdmin {
		t.Fatal("a refused grant was saved")
	}

	// A former code (0906 Arendal before 2020) means today's.
	p := admin.postForm(page, page+"/grant", url.Values{"role": {auth.RoleCoordinator}, "municipalities": {"0906"}})
	if p.Status != http.StatusSeeOther || p.Location != page+"?saved=grant" {
		t.Fatalf("grant: %d %q\n%s", p.Status, p.Location, p.Body)
	}
	u, err := s.userStore.User(ctx, kari.ID)
	if err != nil || !u.GrantedByAdmin || u.Grant.Role != auth.RoleCoordinator || fmt.Sprint(u.Grant.Municipalities) != "[4203]" {
		t.Fatalf("after the grant: %+v %v", u, err)
	}
	shown := admin.get(page + "?saved=grant")
	if !strings.Contains(shown.Body, "Tilgangen er lagret.") || !regexp.MustCompile(`<dd id="user-role">koordinator – Arendal[^<]*4203`).MatchString(shown.Body) {
		t.Errorf("the user's page does not show the grant:\n%s", shown.Body)
	}
	if person.signedIn() {
		t.Error("the person's session outlived the grant")
	}
	rows, _ := auditRows(t, admin.get("/admin/audit").Body)
	if len(rows) == 0 || !strings.HasPrefix(rows[0], "Tilgang gitt | admin | Kari Nordmann | koordinator (Arendal") {
		t.Errorf("the audit log does not begin with the grant: %q", rows)
	}
	if rows, _ := auditRows(t, admin.get("/admin/audit?action=user.granted").Body); len(rows) != 1 {
		t.Errorf("filtered by user.granted: %q", rows)
	}
	if rows, _ := auditRows(t, admin.get("/admin/audit?actor=admin&target="+kari.ID).Body); len(rows) != 1 {
		t.Errorf("filtered by actor and target: %q", rows)
	}
	// The user store dates its log by the wall clock, not the site's.
	today := time.Now().In(osloLoc()).Format(time.DateOnly)
	if rows, _ := auditRows(t, admin.get("/admin/audit?action=user.granted&from="+today+"&to="+today).Body); len(rows) != 1 {
		t.Errorf("filtered by today: %q", rows)
	}
	if rows, _ := auditRows(t, admin.get("/admin/audit?to=2020-01-01").Body); len(rows) != 0 {
		t.Errorf("filtered to 2020: %q", rows)
	}
	for _, q := range []string{"action=user.promoted", "from=01.12.2026", "before=x"} {
		if p := admin.get("/admin/audit?" + q); p.Status != http.StatusBadRequest {
			t.Errorf("audit?%s: %d, want 400", q, p.Status)
		}
	}

	for _, step := range []struct {
		action string
		check  func(auth.User) bool
	}{
		{"mappings", func(u auth.User) bool { return !u.GrantedByAdmin }},
		{"disable", func(u auth.User) bool { return u.Disabled }},
		{"enable", func(u auth.User) bool { return !u.Disabled }},
	} {
		if p := admin.postForm(page, page+"/"+step.action, url.Values{}); p.Status != http.StatusSeeOther || p.Location != page+"?saved="+step.action {
			t.Fatalf("%s: %d %q", step.action, p.Status, p.Location)
		}
		if u, _ := s.userStore.User(ctx, kari.ID); !step.check(u) {
			t.Errorf("after %s: %+v", step.action, u)
		}
	}

	// Erasing asks first; only the confirmation erases.
	sid, _ = s.person(t, "Kari Nordmann", "kari@arendal.kommune.no", auth.Grant{Role: auth.RoleViewer})
	person = s.sessionBrowser(t, sid)
	confirm := admin.postForm(page, page+"/erase", url.Values{})
	if confirm.Status != http.StatusOK || !strings.Contains(confirm.Body, `id="form-erase-confirm"`) || !strings.Contains(confirm.Body, "Vil du slette personopplysningene til Kari Nordmann?") {
		t.Fatalf("erase did not ask to confirm: %d", confirm.Status)
	}
	if u, _ := s.userStore.User(ctx, kari.ID); u.Erased {
		t.Fatal("erased before the confirmation")
	}
	values := hiddenValues(t, confirm.Body, "form-erase-confirm")
	if p := admin.post(page+"/erase", values); p.Status != http.StatusSeeOther {
		t.Fatalf("confirm erase: %d", p.Status)
	}
	if u, _ := s.userStore.User(ctx, kari.ID); !u.Erased || !u.Disabled || u.Name != "" || u.Email != "" {
		t.Errorf("after erasing: %+v", u)
	}
	if person.signedIn() {
		t.Error("the erased person's session lives on")
	}
	list := admin.get("/admin/users")
	if strings.Contains(list.Body, "Kari") || strings.Contains(list.Body, "arendal.kommune.no") || !strings.Contains(list.Body, "(slettet bruker)") {
		t.Errorf("the users list after erasing:\n%s", list.Body)
	}
	if p := admin.postForm(page, page+"/enable", url.Values{}); p.Status != http.StatusConflict || !strings.Contains(p.Body, "kan ikke endres lenger") {
		t.Errorf("enable an erased user: %d, want 409 saying why", p.Status)
	}
	if p := admin.get("/admin/users/" + auth.NewUserID()); p.Status != http.StatusNotFound {
		t.Errorf("an unknown user: %d, want 404", p.Status)
	}
	if p := admin.postForm(page, page+"/promote", url.Values{}); p.Status != http.StatusNotFound {
		t.Errorf("an unknown action: %d, want 404", p.Status)
	}
}

// TestAdminMakesAndRevokesTokens: a token made on the page shows its
// secret once, works on the API, is listed with its owner and expiry but
// never its secret, and stops working when revoked; refused tokens say
// why.
func TestAdminMakesAndRevokesTokens(t *testing.T) {
	t.Parallel()
	s := newSite(t, false)
	_, kari := s.person(t, "Kari Nordmann", "kari@example.no", auth.Grant{Role: auth.RoleViewer})
	admin := s.browser(t)
	expires := s.now().In(osloLoc()).AddDate(0, 1, 0).Format(time.DateOnly)
	form := url.Values{"name": {"arendal-skript"}, "role": {auth.RoleCoordinator}, "municipalities": {"4203"}, "owner": {kari.ID}, "expires": {expires}}
	made := admin.postForm("/admin/tokens", "/admin/tokens", form)
	m := regexp.MustCompile(`<code id="token-secret">([^<]+)</code>`).FindStringSubmatch(made.Body)
	if made.Status != http.StatusCreated || m == nil {
		t.Fatalf("make a token: %d\n%s", made.Status, made.Body)
	}
	secret := m[1]
	if strings.Contains(made.Header.Get("Location"), secret) {
		t.Fatal("the secret is in a URL")
	}
	api := func(token string) int {
		req, _ := http.NewRequest(http.MethodGet, s.srv.URL+"/api/v1/municipalities", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := api(secret); got != http.StatusOK {
		t.Fatalf("the new token on the API: %d", got)
	}
	list := admin.get("/admin/tokens")
	row := regexp.MustCompile(`(?s)<tr class="token" data-token="arendal-skript">.*?</tr>`).FindString(list.Body)
	if strings.Contains(list.Body, secret) || !strings.Contains(row, "Kari Nordmann") || !strings.Contains(row, "koordinator") || strings.Contains(row, "Aldri") {
		t.Errorf("the token's row: %s", row)
	}
	for _, c := range []struct {
		change url.Values
		want   string
	}{
		{url.Values{}, "Det finnes allerede en nøkkel som heter «arendal-skript»."},
		{url.Values{"name": {"to"}, "municipalities": {""}}, "En koordinator må ha minst én kommune."},
		{url.Values{"name": {"to"}, "expires": {"2020-01-01"}}, "Utløpsdatoen har allerede vært."},
		{url.Values{"name": {"to"}, "expires": {"snart"}}, "«snart» er ikke en dato."},
		{url.Values{"name": {"to"}, "owner": {auth.NewUserID()}}, "er ingen bruker her."},
		{url.Values{"name": {"med mellomrom"}}, "Navnet må ha 1 til 64 tegn uten mellomrom."},
	} {
		v := url.Values{}
		for k, x := range form {
			v[k] = x
		}
		for k, x := range c.change {
			v[k] = x
		}
		p := admin.postForm("/admin/tokens", "/admin/tokens", v)
		if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, c.want) || strings.Contains(p.Body, `id="token-secret"`) {
			t.Errorf("make %v: %d, want 400 saying %q", c.change, p.Status, c.want)
		}
	}
	if p := admin.postForm("/admin/tokens", "/admin/tokens/arendal-skript/revoke", url.Values{}); p.Status != http.StatusSeeOther || p.Location != "/admin/tokens?saved=revoke" {
		t.Fatalf("revoke: %d %q", p.Status, p.Location)
	}
	if got := api(secret); got != http.StatusUnauthorized {
		t.Errorf("the revoked token on the API: %d, want 401", got)
	}
	if p := admin.postForm("/admin/tokens", "/admin/tokens/arendal-skript/revoke", url.Values{}); p.Status != http.StatusNotFound {
		t.Errorf("revoke again: %d, want 404", p.Status)
	}
	rows, _ := auditRows(t, admin.get("/admin/audit").Body)
	if len(rows) < 2 || rows[0] != "Nøkkel trukket tilbake | admin | arendal-skript | " || rows[1] != "Nøkkel laget | admin | arendal-skript | " {
		t.Errorf("the audit log: %q", rows)
	}
}

// TestAdminEndsASession: the sessions page lists a person's live session
// by name; ending it signs the person out and is in the audit log.
func TestAdminEndsASession(t *testing.T) {
	t.Parallel()
	s := newSite(t, false)
	sid, _ := s.person(t, "Kari Nordmann", "kari@example.no", auth.Grant{Role: auth.RoleViewer})
	person := s.sessionBrowser(t, sid)
	admin := s.browser(t)
	page := admin.get("/admin/sessions")
	m := regexp.MustCompile(`<tr class="session" data-handle="([0-9a-f]+)" data-subject="usr-[a-z2-7]+">\s*<th scope="row"><a href="/admin/users/usr-[a-z2-7]+">Kari Nordmann</a>`).FindStringSubmatch(page.Body)
	if m == nil || !strings.Contains(page.Body, `data-subject="admin"`) {
		t.Fatalf("the sessions page does not list Kari's and the admin's sessions:\n%s", page.Body)
	}
	if p := admin.postForm("/admin/sessions", "/admin/sessions/"+m[1]+"/end", url.Values{}); p.Status != http.StatusSeeOther || p.Location != "/admin/sessions?saved=end" {
		t.Fatalf("end: %d %q", p.Status, p.Location)
	}
	if person.signedIn() {
		t.Error("the ended session still lets the person in")
	}
	if !admin.signedIn() {
		t.Error("ending Kari's session ended the admin's")
	}
	if strings.Contains(admin.get("/admin/sessions").Body, m[1]) {
		t.Error("the ended session is still listed")
	}
	if p := admin.postForm("/admin/sessions", "/admin/sessions/"+m[1]+"/end", url.Values{}); p.Status != http.StatusNotFound {
		t.Errorf("end again: %d, want 404", p.Status)
	}
	if rows, _ := auditRows(t, admin.get("/admin/audit?action=session.ended").Body); len(rows) != 1 || rows[0] != "Innlogging avsluttet | admin | "+m[1]+" | " {
		t.Errorf("the audit log: %q", rows)
	}
}

// TestAdminAuditLogPages: the audit log shows 50 entries a page, newest
// first; "Eldre" continues below the last one shown, without repeats or
// gaps, keeping the filter.
func TestAdminAuditLogPages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newSite(t, false)
	actor := auth.Principal{Subject: "admin", Role: auth.RoleAdmin}
	for i := range 60 {
		if _, err := s.userStore.CreateToken(ctx, actor, auth.Spec{Name: fmt.Sprintf("skript-%02d", i), Role: auth.RoleViewer}); err != nil {
			t.Fatal(err)
		}
	}
	admin := s.browser(t)
	first := admin.get("/admin/audit?action=token.created")
	rows, seqs := auditRows(t, first.Body)
	older := regexp.MustCompile(`<a href="([^"]+)" rel="next">Eldre</a>`).FindStringSubmatch(first.Body)
	if len(rows) != auditPageSize || older == nil || rows[0] != "Nøkkel laget | admin | skript-59 | " {
		t.Fatalf("first page: %d rows from %q, older %v", len(rows), rows[:min(1, len(rows))], older)
	}
	next := strings.ReplaceAll(older[1], "&amp;", "&")
	if !strings.Contains(next, "action=token.created") || !strings.Contains(next, fmt.Sprintf("before=%d", seqs[len(seqs)-1])) {
		t.Errorf("the older link %q loses the filter or the place", next)
	}
	second := admin.get(next)
	rows2, seqs2 := auditRows(t, second.Body)
	// The site's own four tokens, made by the system, come last.
	if len(rows2) != 14 || rows2[9] != "Nøkkel laget | admin | skript-00 | " || rows2[13] != "Nøkkel laget | systemet | admin | " || strings.Contains(second.Body, `rel="next"`) || !strings.Contains(second.Body, ">Nyeste</a>") {
		t.Errorf("second page: %q", rows2)
	}
	all := append(seqs, seqs2...)
	for i := 1; i < len(all); i++ {
		if all[i] >= all[i-1] {
			t.Fatalf("entries not newest first without repeats: %v", all)
		}
	}
}

// TestAuditViewNamesPeople: on a partnership's audit view, admins and the
// municipality's coordinators see who recorded an entry by name (and that
// they were erased, once they are), everyone else the pseudonym.
func TestAuditViewNamesPeople(t *testing.T) {
	t.Parallel()
	s := newSite(t, false)
	id := initiateThroughForm(t, s.browserAs(t, "arendal"), s, "4203", "2026-03-01")
	_, kari := s.person(t, "Kari Nordmann", "kari@example.no", auth.Grant{Role: auth.RoleViewer})
	recordAsPerson(t, s, id, kari.ID)
	for _, who := range []string{"admin", "arendal"} {
		if got := auditActors(t, s.browserAs(t, who).get("/p/"+id+"/audit").Body)["2"]; got != "user:Kari Nordmann" {
			t.Errorf("%s sees the person's entry recorded by %q", who, got)
		}
	}
	viewer := s.browserAs(t, "viewer").get("/p/" + id + "/audit").Body
	if strings.Contains(viewer, "Kari") || strings.Contains(viewer, kari.ID) {
		t.Errorf("a viewer sees who the person is")
	}
	// The partnership's own history says who recorded each entry, by the
	// same rule.
	by := regexp.MustCompile(`<span class="recorded-by">([^<]*)</span>`)
	for who, want := range map[string][]string{
		"admin":   {"av Nøkkel «arendal» (koordinator)", "av Kari Nordmann (koordinator)"},
		"arendal": {"av Nøkkel «arendal» (koordinator)", "av Kari Nordmann (koordinator)"},
	} {
		var got []string
		for _, m := range by.FindAllStringSubmatch(s.browserAs(t, who).get("/p/"+id).Body, -1) {
			got = append(got, html.UnescapeString(m[1]))
		}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("%s's partnership page: recorded by %q, want %q", who, got, want)
		}
	}
	page := s.browserAs(t, "viewer").get("/p/" + id).Body
	if ms := by.FindAllStringSubmatch(page, -1); len(ms) != 2 || strings.Contains(page, "Kari") || strings.Contains(page, "arendal") ||
		!regexp.MustCompile(`^av actor-[0-9a-f]{16} \(koordinator\)$`).MatchString(ms[1][1]) {
		t.Errorf("a viewer's partnership page: recorded by %q", ms)
	}
	res, items := getAudit(t, s, id, s.tokens["admin"])
	if a := items[1]["actor"].(map[string]any); res.StatusCode != http.StatusOK || a["name"] != "Kari Nordmann" || a["kind"] != "user" {
		t.Errorf("the API names the person as %v", a)
	}
	if err := s.userStore.EraseUser(context.Background(), auth.Principal{Subject: "admin", Role: auth.RoleAdmin}, kari.ID); err != nil {
		t.Fatal(err)
	}
	if got := auditActors(t, s.browserAs(t, "admin").get("/p/"+id+"/audit").Body)["2"]; got != "user:(slettet bruker)" {
		t.Errorf("after erasing, the admin sees %q", got)
	}
	_, items = getAudit(t, s, id, s.tokens["admin"])
	if a := items[1]["actor"].(map[string]any); a["erased"] != true || a["name"] != nil || a["id"] != kari.ID {
		t.Errorf("after erasing, the API shows %v", a)
	}
}
