package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
)

// TestPublicURLFlag: serve --help explains --public-url and its variable;
// a --public-url that is not an absolute http(s) URL of a host is a usage
// error of one line before anything is opened.
func TestPublicURLFlag(t *testing.T) {
	var out bytes.Buffer
	_ = run(context.Background(), []string{"serve", "--help"}, &out, io.Discard, noEnv)
	for _, want := range []string{"--public-url", "SAMSPILL_PUBLIC_URL", "survey response links"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("serve --help lacks %q", want)
		}
	}
	for _, bad := range []string{"samspill.example.no", "ftp://samspill.example.no", "https://", "https://x.example.no/?a=1", "https://u:p@x.example.no", "https://x.example.no/#top"} {
		var errOut bytes.Buffer
		err := run(context.Background(), []string{"serve", "--data", t.TempDir(), "--public-url", bad}, io.Discard, io.Discard, noEnv)
		code := exitCode(err, &errOut)
		if code != 2 || strings.Count(errOut.String(), "\n") != 1 || !strings.Contains(errOut.String(), "--public-url") {
			t.Errorf("--public-url %q: exit %d, stderr %q; want 2 and one line naming the flag", bad, code, errOut.String())
		}
	}
	for _, good := range []string{"", "https://samspill.example.no", "http://127.0.0.1:8080/", "https://example.no/samspill"} {
		if err := checkPublicURL(good); err != nil {
			t.Errorf("checkPublicURL(%q) = %v", good, err)
		}
	}
}
