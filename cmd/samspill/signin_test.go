package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/samspill/samspill/signin"
	"github.com/samspill/samspill/signin/oidctest"
)

func envOf(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// TestSignInFlagsAreCheckedFirst: mistakes in the sign-in flags are a
// one-line message and exit 2 before anything is opened; a client secret
// is never taken from the command line.
func TestSignInFlagsAreCheckedFirst(t *testing.T) {
	const provider = "arendal,issuer=https://login.example/t/v2.0,client-id=abc,redirect=https://samspill.example/login/oidc/callback"
	secret := map[string]string{"SAMSPILL_OIDC_ARENDAL_CLIENT_SECRET": "s3cret"}
	for _, c := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--oidc-provider", provider + ",client-secret=s3cret"}, secret, "never given on the command line"},
		{[]string{"--oidc-provider", provider}, nil, "SAMSPILL_OIDC_ARENDAL_CLIENT_SECRET"},
		{[]string{"--oidc-provider", provider}, map[string]string{"SAMSPILL_OIDC_ARENDAL_CLIENT_SECRET": "a", "SAMSPILL_OIDC_ARENDAL_CLIENT_SECRET_FILE": "/x"}, "not both"},
		{[]string{"--oidc-provider", "Arendal,issuer=https://x,client-id=a,redirect=https://s/login/oidc/callback"}, nil, "provider name"},
		{[]string{"--oidc-group", "koord=coordinator"}, nil, "at least one municipality"},
		{[]string{"--token-sign-in", "sometimes"}, nil, "--token-sign-in"},
		{[]string{"--token-sign-in", "off"}, nil, "needs an --oidc-provider"},
		{[]string{"--oidc-provider", provider, "--oidc-provider", provider}, secret, "configured twice"},
		{[]string{"--oidc-provider", provider, "--oidc-provider", strings.Replace(provider, "arendal", "steinkjer", 1), "--oidc-group", "koord=coordinator:4203"},
			map[string]string{"SAMSPILL_OIDC_ARENDAL_CLIENT_SECRET": "a", "SAMSPILL_OIDC_STEINKJER_CLIENT_SECRET": "b"}, "names no provider"},
		{[]string{"--oidc-provider", provider, "--oidc-group", "koord=coordinator:4203@bergen"}, secret, "not configured"},
	} {
		var errOut bytes.Buffer
		args := append([]string{"serve", "--data", t.TempDir()}, c.args...)
		err := run(context.Background(), args, io.Discard, io.Discard, envOf(c.env))
		code := exitCode(err, &errOut)
		if code != 2 || strings.Count(errOut.String(), "\n") != 1 || !strings.Contains(errOut.String(), c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line with %q", c.args, code, errOut.String(), c.want)
		}
	}
}

// TestServeSignsInThroughAProvider runs samspill serve with a provider
// that is down at start (serve starts, says so in the log, and its sign-in
// page says so too) and comes up later: a coordinator then signs in
// through it (the secret read from a file) and reaches her start page.
func TestServeSignsInThroughAProvider(t *testing.T) {
	free := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return ln.Addr().String()
	}
	siteAddr, opAddr := free(), free()
	siteURL := "http://" + siteAddr
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte(oidctest.ClientSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := envOf(map[string]string{
		"SAMSPILL_OIDC_ARENDAL_CLIENT_SECRET_FILE": secretFile,
		"SAMSPILL_OIDC_GROUP":                      "koord-arendal=coordinator:4203;ansatte=viewer",
	})
	ctx, cancel := context.WithCancel(context.Background())
	var out, logs syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--data", t.TempDir(), "--addr", siteAddr, "--demo",
			"--oidc-provider", "arendal,display=Arendal kommune,issuer=http://" + opAddr + "/,client-id=" + oidctest.ClientID + ",redirect=" + siteURL + signin.CallbackPath,
			"--access-contact", "Spør servicetorget."}, &out, &logs, env)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	base := waitForURL(t, &out)
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(logs.String(), "identity provider not reachable") {
		if time.Now().After(deadline) {
			t.Fatalf("serve did not log the provider being down:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	resp, err := hc.Get(base + "/login/oidc/arendal")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "Arendal kommune") {
		t.Fatalf("sign-in with the provider down: %d\n%s", resp.StatusCode, body)
	}

	oidctest.New(t, oidctest.Options{Addr: opAddr, RedirectURIs: []string{siteURL + signin.CallbackPath}, PostLogoutURIs: []string{siteURL + "/login"}},
		oidctest.User{Username: "kari", Subject: "sub-kari", First: "Kari", Last: "Nordmann", Email: "kari@arendal.kommune.no", Groups: []string{"koord-arendal"}})
	cb, err := oidctest.Login(ctx, hc, base+"/login/oidc/arendal?next=/mine", "kari")
	if err != nil {
		t.Fatal(err)
	}
	resp, err = hc.Get(cb)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if m := regexp.MustCompile(`url=(/mine)"`).FindStringSubmatch(string(body)); resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("callback: %d\n%s", resp.StatusCode, body)
	}
	resp, err = hc.Get(base + "/mine")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if u, _ := url.Parse(resp.Request.URL.String()); resp.StatusCode != http.StatusOK || u.Path != "/mine" || !strings.Contains(string(body), "Mine samarbeid") {
		t.Fatalf("/mine after signing in: %d at %s\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	if !strings.Contains(logs.String(), "signed in") {
		t.Errorf("the sign-in is not in the log:\n%s", logs.String())
	}
}
