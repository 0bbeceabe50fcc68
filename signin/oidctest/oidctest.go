// Package oidctest runs a real OpenID Provider in the test process: zitadel's
// certified op package with its example storage and login page
// (github.com/zitadel/oidc/v3/example/server), on an httptest server. It
// signs people in at its own login page (user name and password), sends
// each user's groups in the ID token's "groups" claim and at the userinfo
// endpoint, accepts this site's post-logout redirect, and records the
// sessions ended at its end_session endpoint.
//
// For the negative cases it can spoil the next token response the way an
// attacker or a broken clock would (Fault): the provider's real answer is
// changed on the way out, re-signed with its own key where the case needs
// a valid signature. Nothing of the protocol is imitated.
package oidctest

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

// ClientID and ClientSecret are the relying party's registration.
const (
	ClientID     = "samspill"
	ClientSecret = "samspill-test-secret"
	// Password is every test user's password.
	Password = "correct horse battery staple"
)

// User is a person the provider knows.
type User struct {
	// Username is what is typed into the login page; Subject the stable
	// id the provider gives samspill (the ID token's sub).
	Username, Subject string
	First, Last       string
	Email             string
	Groups            []string
}

// Fault spoils the next token response.
type Fault int

const (
	// NoFault leaves the answers alone.
	NoFault Fault = iota
	// Expired re-signs the ID token with an expiry a minute ago.
	Expired
	// Tampered changes the ID token's subject without signing again.
	Tampered
	// WrongAudience re-signs the ID token for another client.
	WrongAudience
	// IssuedAhead re-signs the ID token as issued 30 s in the future (a
	// provider's clock a little ahead: within the allowed skew).
	IssuedAhead
	// FarAhead re-signs the ID token as issued 10 minutes in the future.
	FarAhead
	// WrongNonce re-signs the ID token with another nonce.
	WrongNonce
)

// Provider is a running OpenID Provider.
type Provider struct {
	// Issuer is its issuer URL (http://127.0.0.1:PORT).
	Issuer string
	srv    *httptest.Server
	store  *store

	mu    sync.Mutex
	fault Fault
	ended []string
}

// Options configure New.
type Options struct {
	// Addr is the address to listen on; a free port of 127.0.0.1 if "".
	Addr string
	// Host names the provider in its issuer URL instead of the address's
	// IP, e.g. "localhost", so that a browser sees it as another site than
	// a relying party on 127.0.0.1 (as a real provider is).
	Host string
	// RedirectURIs and PostLogoutURIs are the client's registered URIs.
	RedirectURIs, PostLogoutURIs []string
}

// New starts a provider with users; it stops when the test ends.
func New(t testing.TB, opts Options, users ...User) *Provider {
	t.Helper()
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("oidctest: listen: %v", err)
	}
	p := &Provider{Issuer: "http://" + ln.Addr().String()}
	if opts.Host != "" {
		p.Issuer = "http://" + net.JoinHostPort(opts.Host, strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
	}
	us := userStore{byID: map[string]*storage.User{}, groups: map[string][]string{}}
	for _, u := range users {
		us.byID[u.Subject] = &storage.User{
			ID: u.Subject, Username: u.Username, Password: Password, FirstName: u.First, LastName: u.Last,
			Email: u.Email, EmailVerified: true, PreferredLanguage: language.Norwegian,
		}
		us.groups[u.Subject] = u.Groups
	}
	clients := map[string]*storage.Client{ClientID: storage.WebClient(ClientID, ClientSecret, opts.RedirectURIs...)}
	p.store = &store{Storage: storage.NewStorageWithClients(us, clients), users: us, postLogout: opts.PostLogoutURIs, provider: p}
	router := exampleop.SetupServer(p.Issuer+"/", p.store, nil, false)
	p.srv = httptest.NewUnstartedServer(p.spoil(router))
	p.srv.Listener.Close()
	p.srv.Listener = ln
	p.srv.Start()
	t.Cleanup(p.Close)
	return p
}

// Close stops the provider.
func (p *Provider) Close() { p.srv.Close() }

// SetFault spoils every token response from now on (NoFault to stop).
func (p *Provider) SetFault(f Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fault = f
}

// Ended lists the subjects whose sessions were ended at end_session.
func (p *Provider) Ended() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.ended...)
}

// spoil wraps the provider's handler: a token response passes through the
// current fault.
func (p *Provider) spoil(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		fault := p.fault
		p.mu.Unlock()
		if fault == NoFault || r.URL.Path != "/oauth/token" {
			next.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		if rec.Code == http.StatusOK {
			if b, err := p.spoilTokens(r.Context(), body, fault); err == nil {
				body = b
			}
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.Code)
		_, _ = w.Write(body)
	})
}

func (p *Provider) spoilTokens(ctx context.Context, body []byte, fault Fault) ([]byte, error) {
	var resp map[string]any
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, err
	}
	idToken, _ := resp["id_token"].(string)
	parts := strings.Split(idToken, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("oidctest: no id_token")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, err
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		return nil, err
	}
	now := time.Now()
	switch fault {
	case Tampered:
		claims["sub"] = "someone-else"
		changed, _ := json.Marshal(claims)
		resp["id_token"] = parts[0] + "." + base64.RawURLEncoding.EncodeToString(changed) + "." + parts[2]
		return json.Marshal(resp)
	case Expired:
		claims["iat"], claims["exp"] = now.Add(-time.Hour).Unix(), now.Add(-time.Minute).Unix()
	case WrongAudience:
		claims["aud"], claims["azp"] = []string{"another-client"}, "another-client"
	case IssuedAhead:
		claims["iat"] = now.Add(30 * time.Second).Unix()
	case FarAhead:
		claims["iat"] = now.Add(10 * time.Minute).Unix()
	case WrongNonce:
		claims["nonce"] = "not-the-nonce"
	}
	signed, err := p.sign(ctx, claims)
	if err != nil {
		return nil, err
	}
	resp["id_token"] = signed
	return json.Marshal(resp)
}

// sign signs claims with the provider's own key, as it signs its tokens.
func (p *Provider) sign(ctx context.Context, claims map[string]any) (string, error) {
	key, err := p.store.SigningKey(ctx)
	if err != nil {
		return "", err
	}
	rsaKey, ok := key.Key().(*rsa.PrivateKey)
	if !ok {
		return "", fmt.Errorf("oidctest: signing key is %T", key.Key())
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: key.SignatureAlgorithm(), Key: jose.JSONWebKey{Key: rsaKey, KeyID: key.ID()}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return obj.CompactSerialize()
}

// userStore is the example storage's user store over the test's users.
type userStore struct {
	byID   map[string]*storage.User
	groups map[string][]string
}

func (u userStore) GetUserByID(id string) *storage.User { return u.byID[id] }
func (u userStore) GetUserByUsername(name string) *storage.User {
	for _, x := range u.byID {
		if x.Username == name {
			return x
		}
	}
	return nil
}
func (u userStore) ExampleClientID() string { return "service" }

// store is the example storage with groups, post-logout redirects and a
// record of ended sessions.
type store struct {
	*storage.Storage
	users      userStore
	postLogout []string
	provider   *Provider
}

// SetUserinfoFromRequest fills the ID token: the example's claims and the
// user's groups.
func (s *store) SetUserinfoFromRequest(ctx context.Context, info *oidc.UserInfo, token op.IDTokenRequest, scopes []string) error {
	if err := s.Storage.SetUserinfoFromRequest(ctx, info, token, scopes); err != nil {
		return err
	}
	info.AppendClaims("groups", s.users.groups[token.GetSubject()])
	return nil
}

// SetUserinfoFromToken answers the userinfo endpoint, with the groups.
func (s *store) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, subject, origin string) error {
	if err := s.Storage.SetUserinfoFromToken(ctx, info, tokenID, subject, origin); err != nil {
		return err
	}
	info.AppendClaims("groups", s.users.groups[info.Subject])
	return nil
}

// GetClientByClientID adds the registered post-logout redirects, which
// the example's clients lack.
func (s *store) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.Storage.GetClientByClientID(ctx, id)
	if err != nil {
		return nil, err
	}
	return client{Client: c, postLogout: s.postLogout}, nil
}

// TerminateSession records the end of a user's session.
func (s *store) TerminateSession(ctx context.Context, userID, clientID string) error {
	s.provider.mu.Lock()
	s.provider.ended = append(s.provider.ended, userID)
	s.provider.mu.Unlock()
	return s.Storage.TerminateSession(ctx, userID, clientID)
}

type client struct {
	op.Client
	postLogout []string
}

func (c client) PostLogoutRedirectURIs() []string { return c.postLogout }

// Login signs a user in at the provider's own login page, following the
// flow from authURL with hc (whose jar holds the relying party's cookies)
// until the provider redirects back to the relying party; it returns that
// callback URL without following it.
func Login(ctx context.Context, hc *http.Client, authURL, username string) (string, error) {
	noFollow := *hc
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	next := authURL
	for range 10 {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, next, nil)
		resp, err := noFollow.Do(req)
		if err != nil {
			return "", err
		}
		resp.Body.Close()
		loc, err := resp.Location()
		if err != nil {
			return "", fmt.Errorf("oidctest: %s answered %d without a redirect", next, resp.StatusCode)
		}
		next = loc.String()
		if strings.Contains(loc.Path, "/login/username") {
			break
		}
	}
	u, _ := http.NewRequestWithContext(ctx, http.MethodGet, next, nil)
	id := u.URL.Query().Get("authRequestID")
	form := strings.NewReader("id=" + id + "&username=" + username + "&password=" + strings.ReplaceAll(Password, " ", "+"))
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, u.URL.Scheme+"://"+u.URL.Host+"/login/username", form)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := noFollow.Do(req)
	if err != nil {
		return "", err
	}
	b := new(bytes.Buffer)
	_, _ = b.ReadFrom(resp.Body)
	resp.Body.Close()
	for range 10 {
		loc, err := resp.Location()
		if err != nil {
			return "", fmt.Errorf("oidctest: login answered %d: %s", resp.StatusCode, b.String())
		}
		if !strings.HasPrefix(loc.String(), u.URL.Scheme+"://"+u.URL.Host) {
			return loc.String(), nil // back to the relying party
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, loc.String(), nil)
		if resp, err = noFollow.Do(req); err != nil {
			return "", err
		}
		resp.Body.Close()
	}
	return "", fmt.Errorf("oidctest: too many redirects")
}
