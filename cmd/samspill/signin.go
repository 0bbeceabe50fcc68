package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/samspill/samspill/signin"
	"github.com/samspill/samspill/web"
)

// signinFlags are serve's flags for signing in through identity providers
// (package signin) and for the token sign-in on the pages.
type signinFlags struct {
	providers     []signin.ProviderConfig
	mappings      []signin.Mapping
	tokenSignIn   string
	accessContact string
}

// register adds the flags to fs.
func (f *signinFlags) register(fs *flag.FlagSet) {
	fs.Func("oidc-provider", "sign in through an OpenID Connect provider: NAME,issuer=URL,client-id=ID,redirect=https://HOST/login/oidc/callback"+
		"[,display=TEXT][,scopes=openid profile email][,groups-claim=groups]; repeat for several (in the environment, separate them with ';'). "+
		"The client secret is read from SAMSPILL_OIDC_<NAME>_CLIENT_SECRET or the file named by SAMSPILL_OIDC_<NAME>_CLIENT_SECRET_FILE, never a flag; "+
		"see docs/operations.md, Sign-in", func(s string) error {
		for part := range strings.SplitSeq(s, ";") {
			if strings.TrimSpace(part) == "" {
				continue
			}
			p, err := signin.ParseProvider(part)
			if err != nil {
				return err
			}
			f.providers = append(f.providers, p)
		}
		return nil
	})
	fs.Func("oidc-group", "give the members of a provider group a role: GROUP=ROLE[:CODE,...][@PROVIDER] (codes for coordinators), e.g. "+
		"samspill-koord-oslo=coordinator:0301@entra; repeat for several (in the environment, separate them with ';'). "+
		"With several providers each mapping names its provider. "+
		"An admin's grant on the users page overrides the mappings", func(s string) error {
		for part := range strings.SplitSeq(s, ";") {
			if strings.TrimSpace(part) == "" {
				continue
			}
			m, err := signin.ParseMapping(part)
			if err != nil {
				return err
			}
			f.mappings = append(f.mappings, m)
		}
		return nil
	})
	fs.StringVar(&f.tokenSignIn, "token-sign-in", "", "who may sign in on the pages with an access token: any, admin (break-glass) or off "+
		"(default: any with no --oidc-provider, admin with one)")
	fs.StringVar(&f.accessContact, "access-contact", "", "whom a signed-in person without a role should ask, shown to them as written, "+
		"e.g. \"Ask the IT service desk, tel. 21 80 21 80\" (default: a general text)")
}

// validate checks the flags before anything is opened.
func (f *signinFlags) validate() error {
	switch f.tokenSignIn {
	case "", web.TokenSignInAny, web.TokenSignInAdmin, web.TokenSignInOff:
	default:
		return &usageError{command: "serve ", err: fmt.Errorf("--token-sign-in %q: want any, admin or off", f.tokenSignIn)}
	}
	seen := map[string]bool{}
	for _, p := range f.providers {
		if seen[p.Name] {
			return &usageError{command: "serve ", err: fmt.Errorf("--oidc-provider %q is configured twice", p.Name)}
		}
		seen[p.Name] = true
	}
	if f.tokenSignIn == web.TokenSignInOff && len(f.providers) == 0 {
		return &usageError{command: "serve ", err: errors.New("--token-sign-in off needs an --oidc-provider: no one could sign in on the pages")}
	}
	return nil
}

// readSecrets fills each provider's client secret from the environment:
// SAMSPILL_OIDC_<NAME>_CLIENT_SECRET, or the file that
// SAMSPILL_OIDC_<NAME>_CLIENT_SECRET_FILE names (its content trimmed).
func (f *signinFlags) readSecrets(getenv func(string) string) error {
	for i := range f.providers {
		p := &f.providers[i]
		name := signin.SecretEnv(p.Name)
		value, file := getenv(name), getenv(name+"_FILE")
		switch {
		case value != "" && file != "":
			return &usageError{command: "serve ", err: fmt.Errorf("provider %q: set %s or %s_FILE, not both", p.Name, name, name)}
		case file != "":
			b, err := os.ReadFile(file)
			if err != nil {
				return fmt.Errorf("provider %q: read the client secret: %w", p.Name, err)
			}
			value = strings.TrimSpace(string(b))
		}
		if value == "" {
			return &usageError{command: "serve ", err: fmt.Errorf("provider %q has no client secret: set %s or %s_FILE", p.Name, name, name)}
		}
		p.ClientSecret = value
	}
	return nil
}

// service makes the relying party; nil with no provider configured.
func (f *signinFlags) service(secret []byte, log *slog.Logger) (*signin.Service, error) {
	if len(f.providers) == 0 {
		return nil, nil
	}
	svc, err := signin.New(signin.Config{
		Providers: f.providers,
		Mappings:  f.mappings,
		// Every instance sharing the installation secret can finish a
		// sign-in another began.
		CookieKey: derivedKey(secret, "oidc flow cookie"),
		Logger:    log.With("component", "signin"),
	})
	if err != nil {
		return nil, &usageError{command: "serve ", err: err}
	}
	return svc, nil
}
