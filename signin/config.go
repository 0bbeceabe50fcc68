package signin

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/domain/kommune"
)

// ErrInvalidConfig means a provider or a group mapping is configured
// wrongly; the message says which and how.
var ErrInvalidConfig = errors.New("invalid sign-in configuration")

// DefaultScopes are asked for when a provider's configuration names none:
// the subject, the display name and the e-mail.
var DefaultScopes = []string{"openid", "profile", "email"}

// DefaultGroupsClaim is the claim that carries group membership when a
// provider's configuration names none (Entra ID's and Keycloak's name).
const DefaultGroupsClaim = "groups"

// providerName is the form of a provider's name: it is part of URLs
// (/login/oidc/{name}) and of environment variables, so lower-case letters,
// digits and inner hyphens only.
var providerName = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$`)

// ProviderConfig is one configured identity provider.
type ProviderConfig struct {
	// Name names the provider in URLs, logs, environment variables and
	// the users it signs in (auth.Identity.Provider); it must not change
	// once users signed in with it.
	Name string
	// DisplayName is shown on its button ("Logg inn med DisplayName");
	// Name if empty.
	DisplayName string
	// Issuer is the provider's issuer URL; its discovery document is at
	// Issuer + "/.well-known/openid-configuration".
	Issuer       string
	ClientID     string
	ClientSecret string
	// Scopes asked for; DefaultScopes if empty. "openid" is added if
	// missing.
	Scopes []string
	// RedirectURL is this site's callback as registered at the provider:
	// https://HOST/login/oidc/callback. Its origin + "/login" is the
	// post-logout redirect.
	RedirectURL string
	// GroupsClaim names the claim (in the ID token or at the userinfo
	// endpoint) that lists the person's groups; DefaultGroupsClaim if
	// empty.
	GroupsClaim string
}

// ParseProvider reads the compact form of a provider's configuration:
// NAME,key=value,... with the keys issuer, client-id, redirect (required)
// and display, scopes (space-separated), groups-claim. A value runs to the
// next comma. The client secret is never part of it (see SecretEnv).
func ParseProvider(s string) (ProviderConfig, error) {
	parts := strings.Split(strings.TrimSpace(s), ",")
	p := ProviderConfig{Name: strings.TrimSpace(parts[0])}
	for _, part := range parts[1:] {
		key, value, ok := strings.Cut(part, "=")
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		if !ok {
			return ProviderConfig{}, fmt.Errorf("%w: provider %q: %q is not key=value", ErrInvalidConfig, p.Name, part)
		}
		switch key {
		case "issuer":
			p.Issuer = value
		case "client-id":
			p.ClientID = value
		case "redirect":
			p.RedirectURL = value
		case "display":
			p.DisplayName = value
		case "scopes":
			p.Scopes = strings.Fields(value)
		case "groups-claim":
			p.GroupsClaim = value
		case "client-secret", "secret":
			return ProviderConfig{}, fmt.Errorf("%w: provider %q: the client secret is never given on the command line; set %s or %s_FILE", ErrInvalidConfig, p.Name, SecretEnv(p.Name), SecretEnv(p.Name))
		default:
			return ProviderConfig{}, fmt.Errorf("%w: provider %q: unknown key %q (issuer, client-id, redirect, display, scopes, groups-claim)", ErrInvalidConfig, p.Name, key)
		}
	}
	return p, p.validate(false)
}

// SecretEnv is the environment variable that holds the provider's client
// secret; the same name with _FILE names a file that holds it.
func SecretEnv(name string) string {
	return "SAMSPILL_OIDC_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_")) + "_CLIENT_SECRET"
}

// withDefaults fills the optional fields.
func (p ProviderConfig) withDefaults() ProviderConfig {
	if p.DisplayName == "" {
		p.DisplayName = p.Name
	}
	if len(p.Scopes) == 0 {
		p.Scopes = DefaultScopes
	}
	if !slices.Contains(p.Scopes, "openid") {
		p.Scopes = append([]string{"openid"}, p.Scopes...)
	}
	if p.GroupsClaim == "" {
		p.GroupsClaim = DefaultGroupsClaim
	}
	return p
}

// validate checks the configuration; withSecret also requires the secret.
func (p ProviderConfig) validate(withSecret bool) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: provider %q: %s", ErrInvalidConfig, p.Name, fmt.Sprintf(format, a...))
	}
	if !providerName.MatchString(p.Name) {
		return fmt.Errorf("%w: provider name %q: use 1 to 32 lower-case letters, digits and inner hyphens", ErrInvalidConfig, p.Name)
	}
	if u, err := url.Parse(p.Issuer); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return bad("issuer %q is not an http(s) URL", p.Issuer)
	}
	if p.ClientID == "" {
		return bad("client-id is missing")
	}
	if u, err := url.Parse(p.RedirectURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != CallbackPath {
		return bad("redirect %q must be this site's http(s) URL with the path %s", p.RedirectURL, CallbackPath)
	}
	if withSecret && p.ClientSecret == "" {
		return bad("no client secret: set %s or %s_FILE", SecretEnv(p.Name), SecretEnv(p.Name))
	}
	return nil
}

// postLogoutURL is where the provider sends the browser after signing out:
// this site's /login.
func (p ProviderConfig) postLogoutURL() string {
	u, _ := url.Parse(p.RedirectURL) // validated
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/login"}).String()
}

// Mapping gives the members of a provider group a role and, for
// coordinators, municipalities. Provider names the configured provider
// whose group it is; empty, the group of any provider, which New allows
// only when one provider is configured: in an installation shared by
// several municipalities each provider chooses its own group names, and
// one of them must not be able to name a group that another's mapping
// trusts.
type Mapping struct {
	Group    string
	Provider string
	Grant    auth.Grant
}

// ParseMapping reads GROUP=ROLE[:CODE,...][@PROVIDER], e.g.
// "samspill-koord-oslo=coordinator:0301@entra". The group is the claim's
// value as the provider sends it (Entra ID sends the group's object id).
func ParseMapping(s string) (Mapping, error) {
	group, rest, ok := strings.Cut(strings.TrimSpace(s), "=")
	if !ok || strings.TrimSpace(group) == "" {
		return Mapping{}, fmt.Errorf("%w: group mapping %q is not GROUP=ROLE[:CODE,...][@PROVIDER]", ErrInvalidConfig, s)
	}
	rest, provider, qualified := strings.Cut(rest, "@")
	provider = strings.TrimSpace(provider)
	if qualified && provider == "" {
		return Mapping{}, fmt.Errorf("%w: group mapping %q names no provider after @", ErrInvalidConfig, s)
	}
	role, codes, _ := strings.Cut(rest, ":")
	g := auth.Grant{Role: strings.TrimSpace(role)}
	if g.Role == "" {
		return Mapping{}, fmt.Errorf("%w: group mapping %q names no role", ErrInvalidConfig, s)
	}
	for c := range strings.SplitSeq(codes, ",") {
		if c = strings.TrimSpace(c); c == "" {
			continue
		}
		code, err := kommune.Parse(c)
		if err != nil {
			return Mapping{}, fmt.Errorf("%w: group mapping %q: %w", ErrInvalidConfig, s, err)
		}
		g.Municipalities = append(g.Municipalities, code)
	}
	g, err := g.Validate()
	if err != nil {
		return Mapping{}, fmt.Errorf("%w: group mapping %q: %w", ErrInvalidConfig, s, err)
	}
	return Mapping{Group: strings.TrimSpace(group), Provider: provider, Grant: g}, nil
}

// rank orders the roles from most to least power, for a person in several
// mapped groups.
var rank = map[string]int{auth.RoleAdmin: 4, auth.RoleCoordinator: 3, auth.RoleResearcher: 2, auth.RoleViewer: 1}

// Grant is what the mappings give a person in groups of provider: the
// most powerful role of the groups that are mapped for that provider, and
// for a coordinator the municipalities of all its coordinator groups. No
// mapped group: no role.
func Grant(mappings []Mapping, provider string, groups []string) auth.Grant {
	var g auth.Grant
	for _, m := range mappings {
		if (m.Provider != "" && m.Provider != provider) || !slices.Contains(groups, m.Group) {
			continue
		}
		switch {
		case rank[m.Grant.Role] > rank[g.Role]:
			g = auth.Grant{Role: m.Grant.Role, Municipalities: slices.Clone(m.Grant.Municipalities)}
		case m.Grant.Role == g.Role:
			g.Municipalities = append(g.Municipalities, m.Grant.Municipalities...)
		}
	}
	g, _ = g.Validate() // sorts and compacts; every part was valid
	return g
}
