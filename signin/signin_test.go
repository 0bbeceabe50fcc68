package signin_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/signin"
	"github.com/samspill/samspill/signin/oidctest"
)

// rig is a relying party on an httptest server in front of a real provider:
// GET /login/oidc/{name} begins, GET /login/oidc/callback completes and
// keeps the result or error.
type rig struct {
	t        testing.TB
	svc      *signin.Service
	op       *oidctest.Provider
	site     *httptest.Server
	hc       *http.Client
	results  chan signin.Result
	failures chan error
}

var (
	kari = oidctest.User{Username: "kari", Subject: "sub-kari-1", First: "Kari", Last: "Nordmann", Email: "kari@oslo.kommune.no", Groups: []string{"samspill-koord-oslo", "alle-ansatte"}}
	ola  = oidctest.User{Username: "ola", Subject: "sub-ola-2", First: "Ola", Last: "Hansen", Email: "ola@oslo.kommune.no", Groups: []string{"alle-ansatte"}}
)

func mappings(t testing.TB) []signin.Mapping {
	t.Helper()
	var out []signin.Mapping
	for _, s := range []string{"samspill-koord-oslo=coordinator:0301", "samspill-admin=admin", "alle-ansatte=viewer"} {
		m, err := signin.ParseMapping(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// newRig starts the site and the provider; providerAddr pins the
// provider's address ("" for any).
func newRig(t testing.TB, startProvider bool, providerAddr string) *rig {
	t.Helper()
	r := &rig{t: t, results: make(chan signin.Result, 4), failures: make(chan error, 4)}
	mux := http.NewServeMux()
	r.site = httptest.NewServer(mux)
	t.Cleanup(r.site.Close)
	if providerAddr == "" {
		providerAddr = freeAddr(t)
	}
	opts := oidctest.Options{Addr: providerAddr, RedirectURIs: []string{r.site.URL + signin.CallbackPath}, PostLogoutURIs: []string{r.site.URL + "/login"}}
	if startProvider {
		r.op = oidctest.New(t, opts, kari, ola)
	}
	svc, err := signin.New(signin.Config{
		Providers: []signin.ProviderConfig{{Name: "oslo", DisplayName: "Oslo kommune", Issuer: "http://" + providerAddr + "/", ClientID: oidctest.ClientID,
			ClientSecret: oidctest.ClientSecret, RedirectURL: r.site.URL + signin.CallbackPath}},
		Mappings:  mappings(t),
		CookieKey: make([]byte, 32),
	})
	if err != nil {
		t.Fatal(err)
	}
	r.svc = svc
	mux.HandleFunc("GET /login/oidc/{name}", func(w http.ResponseWriter, req *http.Request) {
		if req.PathValue("name") == "callback" {
			res, err := svc.Complete(req.Context(), w, req, time.Now())
			if err != nil {
				r.failures <- err
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			r.results <- res
			_, _ = io.WriteString(w, "signed in")
			return
		}
		u, err := svc.Begin(req.Context(), w, req, req.PathValue("name"), "/mine", time.Now())
		if err != nil {
			r.failures <- err
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		http.Redirect(w, req, u, http.StatusFound)
	})
	jar, _ := cookiejar.New(nil)
	r.hc = &http.Client{Jar: jar, Timeout: 10 * time.Second}
	return r
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// login signs user in at the provider and returns the callback URL.
func (r *rig) login(user oidctest.User) string {
	r.t.Helper()
	cb, err := oidctest.Login(context.Background(), r.hc, r.site.URL+"/login/oidc/oslo", user.Username)
	if err != nil {
		r.t.Fatalf("login at the provider: %v", err)
	}
	if !strings.HasPrefix(cb, r.site.URL+signin.CallbackPath) {
		r.t.Fatalf("the provider sent the browser to %s, not the callback", cb)
	}
	return cb
}

// callback follows the callback URL and returns the result or the error.
func (r *rig) callback(cb string) (signin.Result, error) {
	r.t.Helper()
	resp, err := r.hc.Get(cb)
	if err != nil {
		r.t.Fatal(err)
	}
	resp.Body.Close()
	select {
	case res := <-r.results:
		return res, nil
	case err := <-r.failures:
		return signin.Result{}, err
	case <-time.After(5 * time.Second):
		r.t.Fatal("the callback gave neither a result nor an error")
	}
	return signin.Result{}, nil
}

func TestSignInMapsGroups(t *testing.T) {
	r := newRig(t, true, "")
	// The authorisation request asks for PKCE (S256), a nonce and a state.
	noFollow := *r.hc
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noFollow.Get(r.site.URL + "/login/oidc/oslo")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	authURL, _ := url.Parse(resp.Header.Get("Location"))
	q := authURL.Query()
	if q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 || len(q.Get("nonce")) < 22 || len(q.Get("state")) < 22 || q.Get("response_type") != "code" {
		t.Errorf("authorisation request %s lacks PKCE, nonce or state", authURL)
	}
	res, err := r.callback(r.login(kari))
	if err != nil {
		t.Fatalf("sign-in: %v", err)
	}
	want := auth.Identity{Provider: "oslo", Subject: kari.Subject, Name: "Kari Nordmann", Email: kari.Email, Groups: kari.Groups}
	if res.Identity.Provider != want.Provider || res.Identity.Subject != want.Subject || res.Identity.Name != want.Name ||
		res.Identity.Email != want.Email || !slices.Equal(res.Identity.Groups, want.Groups) {
		t.Errorf("identity = %+v, want %+v", res.Identity, want)
	}
	if res.Grant.Role != auth.RoleCoordinator || !slices.Equal(res.Grant.Municipalities, []kommune.Code{"0301"}) {
		t.Errorf("grant = %+v, want coordinator of 0301 (the most powerful mapped group)", res.Grant)
	}
	if res.Next != "/mine" || res.IDToken == "" {
		t.Errorf("next = %q, id token %d bytes", res.Next, len(res.IDToken))
	}
	t.Logf("ID token %d bytes, its sealed logout hint %d bytes", len(res.IDToken), len(r.svc.Hint(res)))
	// Ola is in a group mapped to viewer only.
	r2 := newRig(t, true, "")
	res, err = r2.callback(r2.login(ola))
	if err != nil || res.Grant.Role != auth.RoleViewer {
		t.Errorf("ola: grant %+v, err %v; want viewer", res.Grant, err)
	}
}

func TestGrantFromMappings(t *testing.T) {
	m := mappings(t)
	more, _ := signin.ParseMapping("koord-bergen=coordinator:4601,0301")
	m = append(m, more)
	cases := []struct {
		groups []string
		want   auth.Grant
	}{
		{nil, auth.Grant{}},
		{[]string{"unmapped"}, auth.Grant{}},
		{[]string{"alle-ansatte"}, auth.Grant{Role: auth.RoleViewer}},
		{[]string{"alle-ansatte", "samspill-koord-oslo", "koord-bergen"}, auth.Grant{Role: auth.RoleCoordinator, Municipalities: []kommune.Code{"0301", "4601"}}},
		{[]string{"samspill-koord-oslo", "samspill-admin"}, auth.Grant{Role: auth.RoleAdmin}},
	}
	for _, c := range cases {
		got := signin.Grant(m, "oslo", c.groups)
		if got.Role != c.want.Role || !slices.Equal(got.Municipalities, c.want.Municipalities) {
			t.Errorf("Grant(%v) = %+v, want %+v", c.groups, got, c.want)
		}
	}
	for _, bad := range []string{"nogroup", "=admin", "g=", "g=chief", "g=coordinator", "g=viewer:0301", "g=coordinator:99999", "g=admin@", "g=@oslo"} {
		if _, err := signin.ParseMapping(bad); !errors.Is(err, signin.ErrInvalidConfig) {
			t.Errorf("ParseMapping(%q) = %v, want ErrInvalidConfig", bad, err)
		}
	}
}

// TestMappingsCountOnlyTheirProvidersGroups: in an installation shared by
// several municipalities, a group of the same name at another provider
// gives nothing.
func TestMappingsCountOnlyTheirProvidersGroups(t *testing.T) {
	var m []signin.Mapping
	for _, s := range []string{"koordinatorer=coordinator:4203@arendal", "koordinatorer=coordinator:5006@steinkjer", "it-drift=admin@arendal"} {
		mp, err := signin.ParseMapping(s)
		if err != nil {
			t.Fatal(err)
		}
		m = append(m, mp)
	}
	if got := signin.Grant(m, "steinkjer", []string{"koordinatorer", "it-drift"}); got.Role != auth.RoleCoordinator || !slices.Equal(got.Municipalities, []kommune.Code{"5006"}) {
		t.Errorf("Steinkjer's coordinator (also in a group named as Arendal's admins) = %+v, want coordinator of 5006 only", got)
	}
	if got := signin.Grant(m, "arendal", []string{"koordinatorer"}); !slices.Equal(got.Municipalities, []kommune.Code{"4203"}) {
		t.Errorf("Arendal's coordinator = %+v, want 4203 only", got)
	}
	if got := signin.Grant(m, "bergen", []string{"koordinatorer", "it-drift"}); got.Role != "" {
		t.Errorf("a provider no mapping names = %+v, want no role", got)
	}

	provider := func(name string) signin.ProviderConfig {
		p, err := signin.ParseProvider(name + ",issuer=https://idp.example/" + name + ",client-id=c,redirect=https://s.example/login/oidc/callback")
		if err != nil {
			t.Fatal(err)
		}
		p.ClientSecret = "secret"
		return p
	}
	unqualified, _ := signin.ParseMapping("koordinatorer=coordinator:4203")
	for _, c := range []struct {
		name      string
		providers []signin.ProviderConfig
		mappings  []signin.Mapping
		ok        bool
	}{
		{"one provider, unqualified", []signin.ProviderConfig{provider("arendal")}, []signin.Mapping{unqualified}, true},
		{"two providers, unqualified", []signin.ProviderConfig{provider("arendal"), provider("steinkjer")}, []signin.Mapping{unqualified}, false},
		{"two providers, each named", []signin.ProviderConfig{provider("arendal"), provider("steinkjer")}, m, true},
		{"a provider not configured", []signin.ProviderConfig{provider("arendal")}, m, false},
	} {
		_, err := signin.New(signin.Config{Providers: c.providers, Mappings: c.mappings, CookieKey: make([]byte, 32)})
		if c.ok != (err == nil) || (err != nil && !errors.Is(err, signin.ErrInvalidConfig)) {
			t.Errorf("%s: New = %v, want ok=%v (else ErrInvalidConfig)", c.name, err, c.ok)
		}
	}
}

func TestSpoiledTokensAreRefused(t *testing.T) {
	for _, c := range []struct {
		name  string
		fault oidctest.Fault
	}{
		{"expired", oidctest.Expired},
		{"tampered", oidctest.Tampered},
		{"wrong audience", oidctest.WrongAudience},
		{"wrong nonce", oidctest.WrongNonce},
		{"issued beyond the clock skew", oidctest.FarAhead},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, true, "")
			cb := r.login(kari)
			r.op.SetFault(c.fault)
			_, err := r.callback(cb)
			t.Logf("refused: %v", err)
			if !errors.Is(err, signin.ErrRejected) {
				t.Fatalf("err = %v, want ErrRejected", err)
			}
		})
	}
}

func TestClockSkewWithinBoundIsTaken(t *testing.T) {
	r := newRig(t, true, "")
	cb := r.login(kari)
	r.op.SetFault(oidctest.IssuedAhead)
	if res, err := r.callback(cb); err != nil || res.Identity.Subject != kari.Subject {
		t.Fatalf("a token issued 30 s ahead: %+v, %v; want taken (skew %s)", res.Identity, err, signin.ClockSkew)
	}
}

func TestWrongStateIsRefused(t *testing.T) {
	r := newRig(t, true, "")
	cb := r.login(kari)
	u, _ := url.Parse(cb)
	q := u.Query()
	q.Set("state", "forged-state")
	u.RawQuery = q.Encode()
	if _, err := r.callback(u.String()); !errors.Is(err, signin.ErrStale) {
		t.Fatalf("err = %v, want ErrStale", err)
	}
	// The flow cookie is gone: the real state no longer works either.
	if _, err := r.callback(cb); !errors.Is(err, signin.ErrStale) {
		t.Fatalf("after a refused state: err = %v, want ErrStale", err)
	}
	// A callback with no sign-in under way in this browser.
	fresh := newRig(t, true, "")
	if _, err := fresh.callback(fresh.site.URL + signin.CallbackPath + "?code=x&state=y"); !errors.Is(err, signin.ErrStale) {
		t.Fatalf("no flow: err = %v, want ErrStale", err)
	}
}

func TestReplayedCodeIsRefused(t *testing.T) {
	r := newRig(t, true, "")
	cb := r.login(kari)
	// Keep the flow cookie as an attacker who copied it would.
	site, _ := url.Parse(r.site.URL + signin.StartPath)
	cookies := r.hc.Jar.Cookies(site)
	if _, err := r.callback(cb); err != nil {
		t.Fatalf("first use: %v", err)
	}
	r.hc.Jar.SetCookies(site, cookies)
	if _, err := r.callback(cb); !errors.Is(err, signin.ErrRejected) {
		t.Fatalf("replayed code: err = %v, want ErrRejected", err)
	}
}

func TestUnreachableProviderThenBack(t *testing.T) {
	addr := freeAddr(t)
	r := newRig(t, false, addr)
	r.svc.Discover(context.Background()) // logs, does not fail
	resp, err := r.hc.Get(r.site.URL + "/login/oidc/oslo")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := <-r.failures; !errors.Is(err, signin.ErrUnavailable) || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("provider down: %d, %v; want ErrUnavailable", resp.StatusCode, err)
	}
	// The provider comes up at its address: the next sign-in discovers it.
	r.op = oidctest.New(t, oidctest.Options{Addr: addr, RedirectURIs: []string{r.site.URL + signin.CallbackPath}}, kari)
	if res, err := r.callback(r.login(kari)); err != nil || res.Identity.Subject != kari.Subject {
		t.Fatalf("provider back: %+v, %v", res.Identity, err)
	}
	// It goes down between the login page and the callback.
	cb := r.login(kari)
	r.op.Close()
	if _, err := r.callback(cb); !errors.Is(err, signin.ErrUnavailable) {
		t.Fatalf("provider down at the callback: %v, want ErrUnavailable", err)
	}
}

func TestLogoutURL(t *testing.T) {
	r := newRig(t, true, "")
	res, err := r.callback(r.login(kari))
	if err != nil {
		t.Fatal(err)
	}
	u := r.svc.LogoutURL(context.Background(), r.svc.Hint(res))
	noFollow := *r.hc
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noFollow.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); loc != r.site.URL+"/login" {
		t.Errorf("end_session sent the browser to %q (status %d), want %s/login", loc, resp.StatusCode, r.site.URL)
	}
	if got := r.op.Ended(); !slices.Equal(got, []string{kari.Subject}) {
		t.Errorf("sessions ended at the provider: %v, want [%s]", got, kari.Subject)
	}
	if r.svc.LogoutURL(context.Background(), "forged") != "" {
		t.Error("a hint not sealed by the service has a logout URL")
	}
	other := newRig(t, true, "")
	other.svc, _ = signin.New(signin.Config{CookieKey: []byte("another key of thirty-two bytes!")})
	if other.svc.LogoutURL(context.Background(), r.svc.Hint(res)) != "" {
		t.Error("a hint sealed under another key has a logout URL")
	}
}

func TestConfig(t *testing.T) {
	p, err := signin.ParseProvider("oslo, issuer=https://login.microsoftonline.com/T/v2.0, client-id=abc, redirect=https://samspill.example/login/oidc/callback, display=Oslo kommune, scopes=openid profile email, groups-claim=groups")
	if err != nil || p.DisplayName != "Oslo kommune" || len(p.Scopes) != 3 || p.ClientID != "abc" {
		t.Fatalf("ParseProvider: %+v, %v", p, err)
	}
	for _, bad := range []string{
		"Oslo,issuer=https://x,client-id=a,redirect=https://s/login/oidc/callback",
		"oslo,issuer=ftp://x,client-id=a,redirect=https://s/login/oidc/callback",
		"oslo,issuer=https://x,redirect=https://s/login/oidc/callback",
		"oslo,issuer=https://x,client-id=a,redirect=https://s/elsewhere",
		"oslo,issuer=https://x,client-id=a,redirect=https://s/login/oidc/callback,client-secret=hunter2",
		"oslo,issuer=https://x,client-id=a,redirect=https://s/login/oidc/callback,colour=blue",
	} {
		if _, err := signin.ParseProvider(bad); !errors.Is(err, signin.ErrInvalidConfig) {
			t.Errorf("ParseProvider(%q) = %v, want ErrInvalidConfig", bad, err)
		}
	}
	if _, err := signin.New(signin.Config{Providers: []signin.ProviderConfig{p}, CookieKey: make([]byte, 32)}); !errors.Is(err, signin.ErrInvalidConfig) {
		t.Errorf("a provider without its secret: %v, want ErrInvalidConfig", err)
	}
	if got := signin.SecretEnv("oslo-kommune"); got != "SAMSPILL_OIDC_OSLO_KOMMUNE_CLIENT_SECRET" {
		t.Errorf("SecretEnv = %q", got)
	}
}

// BenchmarkSignIn is a whole sign-in against the provider in the process:
// Begin, the provider's login page and its redirects, and Complete (code
// exchange, ID token verification with cached keys, userinfo).
func BenchmarkSignIn(b *testing.B) {
	r := newRig(b, true, "")
	for b.Loop() {
		cb, err := oidctest.Login(context.Background(), r.hc, r.site.URL+"/login/oidc/oslo", kari.Username)
		if err != nil {
			b.Fatal(err)
		}
		resp, err := r.hc.Get(cb)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		select {
		case <-r.results:
		case err := <-r.failures:
			b.Fatal(err)
		}
	}
}
