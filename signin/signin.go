// Package signin signs people in through their organisation's identity
// provider with OpenID Connect: samspill is the relying party. It uses
// zitadel's certified relying-party package for the protocol (discovery,
// the authorisation code flow with PKCE, the code exchange, the ID token's
// signature, issuer, audience, expiry and nonce against the provider's
// published keys, and the userinfo endpoint), and keeps the flow's own
// state: a random state and nonce and the PKCE verifier, with the page to
// return to, sealed (AES-GCM) in a short-lived cookie that only the
// callback reads.
//
// Several providers may be configured at once. Each is discovered when it
// is first needed and again after a failure, so a provider that cannot be
// reached neither stops the server from starting nor breaks the others:
// its sign-in answers ErrUnavailable until it is back.
//
// The callback yields an auth.Identity (provider, subject, name, e-mail and
// groups) and the auth.Grant that the configured group mappings give it;
// package web hands both to auth.UserStore.SignIn and starts the session.
package signin

import (
	"cmp"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/samspill/samspill/auth"
)

// Paths of the sign-in on this site; the redirect URL registered at every
// provider is https://HOST + CallbackPath.
const (
	StartPath    = "/login/oidc/" // + provider name
	CallbackPath = "/login/oidc/callback"
)

// ClockSkew is how far the provider's clock may run ahead of ours: an ID
// token issued up to this far in the future is taken. The library also
// wants the token to live at least this long yet.
const ClockSkew = time.Minute

// flowLifetime bounds how long a person may take at the provider's login
// page before the callback is refused as stale.
const flowLifetime = 10 * time.Minute

// flowCookie holds the sealed state of a sign-in under way. SameSite=Lax,
// because the provider's redirect back is a cross-site navigation; it is
// read and deleted by the callback alone.
const flowCookie = "samspill_oidc"

// discoveryTimeout bounds a provider's discovery and each call to it.
const discoveryTimeout = 10 * time.Second

// Errors at the package boundary.
var (
	// ErrUnknownProvider means no provider of that name is configured.
	ErrUnknownProvider = errors.New("no such identity provider")
	// ErrUnavailable means the provider could not be reached (discovery,
	// its keys, the token or userinfo endpoint); try again later.
	ErrUnavailable = errors.New("the identity provider cannot be reached")
	// ErrStale means the callback came without a sign-in under way in
	// this browser, with another state, or too late: start again.
	ErrStale = errors.New("no matching sign-in under way")
	// ErrRejected means the provider refused the sign-in or its answer
	// failed verification (a replayed code, an expired, tampered or
	// foreign ID token, a wrong nonce).
	ErrRejected = errors.New("the sign-in could not be verified")
)

// Config configures the Service.
type Config struct {
	Providers []ProviderConfig
	Mappings  []Mapping
	// CookieKey seals the flow cookie: 32 bytes (AES-256). Several
	// instances behind one address need the same key.
	CookieKey []byte
	Logger    *slog.Logger
	// HTTPClient calls the providers; one with a timeout if nil.
	HTTPClient *http.Client
}

// Service is the relying party for every configured provider. It is safe
// for concurrent use.
type Service struct {
	providers []*provider
	mappings  []Mapping
	aead      cipher.AEAD
	log       *slog.Logger
	client    *http.Client
}

// provider is one configured provider and, once discovered, its relying
// party.
type provider struct {
	cfg   ProviderConfig
	mu    sync.Mutex
	party rp.RelyingParty
}

// ProviderInfo is what the login page shows of a provider.
type ProviderInfo struct {
	Name, DisplayName string
}

// New checks the configuration and returns the Service. It calls no
// provider: Discover does, and each sign-in does for a provider not yet
// discovered.
func New(cfg Config) (*Service, error) {
	if len(cfg.CookieKey) != 32 {
		return nil, fmt.Errorf("%w: the cookie key must be 32 bytes", ErrInvalidConfig)
	}
	block, err := aes.NewCipher(cfg.CookieKey)
	if err != nil {
		return nil, fmt.Errorf("flow cookie cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("flow cookie cipher: %w", err)
	}
	s := &Service{mappings: slices.Clone(cfg.Mappings), aead: aead, log: cfg.Logger, client: cfg.HTTPClient}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.client == nil {
		s.client = &http.Client{Timeout: discoveryTimeout}
	}
	seen := map[string]bool{}
	for _, pc := range cfg.Providers {
		if err := pc.validate(true); err != nil {
			return nil, err
		}
		if seen[pc.Name] {
			return nil, fmt.Errorf("%w: provider %q is configured twice", ErrInvalidConfig, pc.Name)
		}
		seen[pc.Name] = true
		s.providers = append(s.providers, &provider{cfg: pc.withDefaults()})
	}
	for _, m := range s.mappings {
		switch {
		case m.Provider == "" && len(s.providers) > 1:
			return nil, fmt.Errorf("%w: group mapping of %q names no provider; with several providers each names its own (GROUP=ROLE[:CODE,...]@PROVIDER)", ErrInvalidConfig, m.Group)
		case m.Provider != "" && !seen[m.Provider]:
			return nil, fmt.Errorf("%w: group mapping of %q names provider %q, which is not configured", ErrInvalidConfig, m.Group, m.Provider)
		}
	}
	return s, nil
}

// Providers lists the configured providers in their configured order.
func (s *Service) Providers() []ProviderInfo {
	out := make([]ProviderInfo, 0, len(s.providers))
	for _, p := range s.providers {
		out = append(out, ProviderInfo{Name: p.cfg.Name, DisplayName: p.cfg.DisplayName})
	}
	return out
}

// DisplayName is the provider's display name, or name itself if unknown.
func (s *Service) DisplayName(name string) string {
	if p, err := s.provider(name); err == nil {
		return p.cfg.DisplayName
	}
	return name
}

// Discover discovers every provider not yet discovered and logs each
// outcome; one that cannot be reached is tried again at its next sign-in.
// serve calls it at start, in the background.
func (s *Service) Discover(ctx context.Context) {
	for _, p := range s.providers {
		if _, err := s.relyingParty(ctx, p); err != nil {
			s.log.WarnContext(ctx, "identity provider not reachable; sign-in with it is tried again when someone uses it",
				"provider", p.cfg.Name, "issuer", p.cfg.Issuer, "err", err)
			continue
		}
		s.log.InfoContext(ctx, "identity provider discovered", "provider", p.cfg.Name, "issuer", p.cfg.Issuer)
	}
}

func (s *Service) provider(name string) (*provider, error) {
	for _, p := range s.providers {
		if p.cfg.Name == name {
			return p, nil
		}
	}
	return nil, fmt.Errorf("%w: %q", ErrUnknownProvider, name)
}

// nonceKey carries the expected nonce to the verifier.
type nonceKey struct{}

// relyingParty returns the provider's relying party, discovering it first
// if need be; a failure is ErrUnavailable and is not kept.
func (s *Service) relyingParty(ctx context.Context, p *provider) (rp.RelyingParty, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.party != nil {
		return p.party, nil
	}
	ctx, cancel := context.WithTimeout(ctx, discoveryTimeout)
	defer cancel()
	party, err := rp.NewRelyingPartyOIDC(ctx, p.cfg.Issuer, p.cfg.ClientID, p.cfg.ClientSecret, p.cfg.RedirectURL, p.cfg.Scopes,
		rp.WithHTTPClient(s.client),
		// PKCE always, whatever discovery says (Entra ID supports it without
		// listing it); a provider without it ignores the parameters. The
		// flow cookie keeps the verifier, so the library's cookies are
		// not used.
		rp.WithPKCE(nil),
		rp.WithSigningAlgsFromDiscovery(),
		rp.WithVerifierOpts(
			rp.WithIssuedAtOffset(ClockSkew),
			rp.WithNonce(func(ctx context.Context) string {
				n, _ := ctx.Value(nonceKey{}).(string)
				return n
			}),
		),
	)
	if err != nil {
		return nil, fmt.Errorf("%w: discover %s: %w", ErrUnavailable, p.cfg.Issuer, err)
	}
	p.party = party
	return party, nil
}

// flow is the sealed content of the flow cookie.
type flow struct {
	Provider string    `json:"p"`
	State    string    `json:"s"`
	Nonce    string    `json:"n"`
	Verifier string    `json:"v"`
	Next     string    `json:"x"`
	Expires  time.Time `json:"e"`
}

// Begin starts a sign-in with the named provider: it sets the flow cookie
// and returns the provider's authorisation URL to send the browser to.
// next is where to go after signing in (the caller makes it safe).
func (s *Service) Begin(ctx context.Context, w http.ResponseWriter, r *http.Request, name, next string, now time.Time) (string, error) {
	p, err := s.provider(name)
	if err != nil {
		return "", err
	}
	party, err := s.relyingParty(ctx, p)
	if err != nil {
		return "", err
	}
	f := flow{Provider: p.cfg.Name, State: random(), Nonce: random(), Verifier: random() + random(), Next: next, Expires: now.Add(flowLifetime)}
	opts := []rp.AuthURLOpt{rp.AuthURLOpt(rp.WithURLParam("nonce", f.Nonce)), rp.WithCodeChallenge(oidc.NewSHACodeChallenge(f.Verifier))}
	sealed, err := s.seal(f)
	if err != nil {
		return "", err
	}
	http.SetCookie(w, &http.Cookie{
		Name: flowCookie, Value: sealed, Path: StartPath, MaxAge: int(flowLifetime.Seconds()),
		HttpOnly: true, Secure: secure(r, p.cfg), SameSite: http.SameSiteLaxMode,
	})
	return rp.AuthURL(f.State, party, opts...), nil
}

// Result is a verified sign-in.
type Result struct {
	Identity auth.Identity
	// Grant is what the mappings give the identity's groups.
	Grant auth.Grant
	// Next is the page to go to, as given to Begin.
	Next string
	// IDToken is the provider's ID token, the hint of its logout.
	IDToken string
}

// Complete finishes the sign-in at the callback: it checks the state
// against the flow cookie (and deletes the cookie), exchanges the code with
// the PKCE verifier, verifies the ID token (signature, issuer, audience,
// expiry, nonce), reads the userinfo endpoint for what the ID token lacks,
// and maps the groups. On a failure after the flow cookie was read, the
// Result names the provider alone.
func (s *Service) Complete(ctx context.Context, w http.ResponseWriter, r *http.Request, now time.Time) (Result, error) {
	c, err := r.Cookie(flowCookie)
	if err != nil {
		return Result{}, fmt.Errorf("%w: no sign-in cookie", ErrStale)
	}
	http.SetCookie(w, &http.Cookie{Name: flowCookie, Value: "", Path: StartPath, MaxAge: -1, HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	f, err := s.open(c.Value)
	if err != nil {
		return Result{}, fmt.Errorf("%w: %w", ErrStale, err)
	}
	// From here on a failure names the provider (for its page).
	failed := Result{Identity: auth.Identity{Provider: f.Provider}}
	q := r.URL.Query()
	if q.Get("state") != f.State {
		return failed, fmt.Errorf("%w: the state does not match", ErrStale)
	}
	if now.After(f.Expires) {
		return failed, fmt.Errorf("%w: started at %s, too long ago", ErrStale, f.Expires.Add(-flowLifetime).Format(time.RFC3339))
	}
	p, err := s.provider(f.Provider)
	if err != nil {
		return failed, err
	}
	if e := q.Get("error"); e != "" {
		return failed, fmt.Errorf("%w: %s refused: %s %s", ErrRejected, p.cfg.Name, e, q.Get("error_description"))
	}
	party, err := s.relyingParty(ctx, p)
	if err != nil {
		return failed, err
	}
	tokens, err := rp.CodeExchange[*oidc.IDTokenClaims](context.WithValue(ctx, nonceKey{}, f.Nonce), q.Get("code"), party, rp.WithCodeVerifier(f.Verifier))
	if err != nil {
		return failed, classify(p.cfg.Name, "code exchange", err)
	}
	claims := tokens.IDTokenClaims
	id := auth.Identity{Provider: p.cfg.Name, Subject: claims.Subject, Name: claims.Name, Email: claims.Email}
	groups, inToken := claimStrings(claims.Claims, p.cfg.GroupsClaim)
	if (id.Name == "" || id.Email == "" || !inToken) && party.UserinfoEndpoint() != "" {
		info, err := rp.Userinfo[*oidc.UserInfo](ctx, tokens.AccessToken, tokens.TokenType, claims.Subject, party)
		if err != nil {
			return failed, classify(p.cfg.Name, "userinfo", err)
		}
		id.Name = cmp.Or(id.Name, info.Name, info.PreferredUsername)
		id.Email = cmp.Or(id.Email, info.Email)
		if !inToken {
			groups, _ = claimStrings(info.Claims, p.cfg.GroupsClaim)
		}
	}
	id.Groups = groups
	return Result{Identity: id, Grant: Grant(s.mappings, p.cfg.Name, groups), Next: f.Next, IDToken: tokens.IDToken}, nil
}

// hint is what the logout needs of a sign-in: the provider and its ID
// token. web keeps it, sealed, in a cookie of its own.
type hint struct {
	Provider string `json:"p"`
	IDToken  string `json:"t,omitempty"`
}

// maxHintToken bounds the ID token kept for the logout: a browser drops a
// cookie over 4 kB, and a token that large (many groups) is left out; the
// logout then names the client alone.
const maxHintToken = 2800

// Hint seals what the logout at the provider needs of this sign-in, for a
// cookie; LogoutURL opens it.
func (s *Service) Hint(res Result) string {
	h := hint{Provider: res.Identity.Provider, IDToken: res.IDToken}
	if len(h.IDToken) > maxHintToken {
		h.IDToken = ""
	}
	plain, _ := json.Marshal(h) // strings only
	return s.sealBytes(plain, hintCookieAD)
}

// hintCookieAD binds a sealed hint to its use.
const hintCookieAD = "samspill_oidc_logout"

// LogoutURL is the provider's end-session URL for RP-initiated logout of
// the sealed hint's sign-in, with its ID token as id_token_hint, the
// client id, and this site's /login as the post-logout redirect; "" when
// the hint is not ours, the provider has no end_session_endpoint or cannot
// be reached now (the samspill session is ended either way).
func (s *Service) LogoutURL(ctx context.Context, sealed string) string {
	plain, err := s.openBytes(sealed, hintCookieAD)
	if err != nil {
		return ""
	}
	var h hint
	if json.Unmarshal(plain, &h) != nil {
		return ""
	}
	p, err := s.provider(h.Provider)
	if err != nil {
		return ""
	}
	party, err := s.relyingParty(ctx, p)
	if err != nil || party.GetEndSessionEndpoint() == "" {
		return ""
	}
	u, err := url.Parse(party.GetEndSessionEndpoint())
	if err != nil {
		return ""
	}
	q := u.Query()
	if h.IDToken != "" {
		q.Set("id_token_hint", h.IDToken)
	}
	q.Set("client_id", p.cfg.ClientID)
	q.Set("post_logout_redirect_uri", p.cfg.postLogoutURL())
	u.RawQuery = q.Encode()
	return u.String()
}

// classify tells a provider that cannot be reached from one whose answer
// failed.
func classify(provider, step string, err error) error {
	var netErr net.Error
	var urlErr *url.Error
	if errors.As(err, &netErr) || errors.As(err, &urlErr) {
		return fmt.Errorf("%w: %s %s: %w", ErrUnavailable, provider, step, err)
	}
	return fmt.Errorf("%w: %s %s: %w", ErrRejected, provider, step, err)
}

// claimStrings reads a claim that lists strings (or holds one).
func claimStrings(claims map[string]any, name string) ([]string, bool) {
	v, ok := claims[name]
	if !ok {
		return nil, false
	}
	switch v := v.(type) {
	case string:
		return []string{v}, true
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out, true
	case []string:
		return v, true
	}
	return nil, true
}

// random is 128 random bits, base64url.
func random() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// secure is whether the flow cookie is Secure: on TLS, or when the
// registered redirect is https (TLS ends at a proxy in front).
func secure(r *http.Request, p ProviderConfig) bool {
	u, _ := url.Parse(p.RedirectURL)
	return r.TLS != nil || (u != nil && u.Scheme == "https")
}

func (s *Service) seal(f flow) (string, error) {
	plain, err := json.Marshal(f)
	if err != nil {
		return "", fmt.Errorf("seal the sign-in flow: %w", err)
	}
	return s.sealBytes(plain, flowCookie), nil
}

func (s *Service) open(v string) (flow, error) {
	plain, err := s.openBytes(v, flowCookie)
	if err != nil {
		return flow{}, err
	}
	var f flow
	if err := json.Unmarshal(plain, &f); err != nil {
		return flow{}, fmt.Errorf("the sign-in cookie: %w", err)
	}
	return f, nil
}

// sealBytes seals plain for a cookie, bound to ad (the cookie's name).
func (s *Service) sealBytes(plain []byte, ad string) string {
	nonce := make([]byte, s.aead.NonceSize())
	_, _ = rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(s.aead.Seal(nonce, nonce, plain, []byte(ad)))
}

func (s *Service) openBytes(v, ad string) ([]byte, error) {
	raw, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(raw) < s.aead.NonceSize() {
		return nil, errors.New("the sign-in cookie is malformed")
	}
	plain, err := s.aead.Open(nil, raw[:s.aead.NonceSize()], raw[s.aead.NonceSize():], []byte(ad))
	if err != nil {
		return nil, errors.New("the sign-in cookie is not ours")
	}
	return plain, nil
}
