// Package mailpittest runs a real SMTP server for tests: Mailpit
// (github.com/axllent/mailpit), built from the Go module proxy by
// `make mailpit` (which `make test-deps` runs) into
// ~/.cache/samspill/mailpit-<version>/mailpit. Start skips the test with a
// message when the binary is missing.
//
// Every server is the test's own, on free loopback ports, with its own
// database in the test's temporary directory; the messages that arrived
// are read back through Mailpit's HTTP API (/api/v1/messages).
package mailpittest

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Version is the Mailpit release the Makefile builds.
const Version = "v1.33.1"

// EnvBinary names an environment variable that overrides the binary's path.
const EnvBinary = "SAMSPILL_MAILPIT"

// Binary returns the path of the Mailpit binary, "" when there is none.
func Binary() string {
	if p := os.Getenv(EnvBinary); p != "" {
		return p
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	p := filepath.Join(home, ".cache", "samspill", "mailpit-"+Version, "mailpit")
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// Server is a running Mailpit.
type Server struct {
	// SMTPAddr is host:port of its SMTP server (plain text; any
	// credentials, or none, accepted).
	SMTPAddr string
	// API is the base URL of its HTTP API.
	API string
}

// Start runs a Mailpit of the test's own and stops it when t ends; extra
// are further Mailpit flags (e.g. "--smtp-allowed-recipients", a regexp:
// every other recipient gets 550). It skips t when the binary is missing.
func Start(t testing.TB, extra ...string) *Server {
	t.Helper()
	bin := Binary()
	if bin == "" {
		t.Skipf("Mailpit not found (~/.cache/samspill/mailpit-%s/mailpit, or $%s): run `make mailpit` (part of `make test-deps`) to build it from the Go module proxy", Version, EnvBinary)
	}
	smtpAddr, httpAddr := freeAddr(t), freeAddr(t)
	args := []string{
		"--smtp", smtpAddr, "--listen", httpAddr,
		"--database", filepath.Join(t.TempDir(), "mailpit.db"),
		"--smtp-auth-accept-any", "--smtp-disable-rdns", "--disable-version-check", "--quiet",
	}
	if !slices.Contains(extra, "--smtp-tls-cert") {
		// Without TLS, authentication must be allowed in plain text;
		// Mailpit refuses the flag beside a certificate.
		args = append(args, "--smtp-auth-allow-insecure")
	}
	args = append(args, extra...)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, args...)
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start mailpit: %v", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cancel()
		<-exited
	})
	s := &Server{SMTPAddr: smtpAddr, API: "http://" + httpAddr}
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case <-exited:
			t.Fatalf("mailpit %v exited at start:\n%s", extra, out.String())
		default:
		}
		resp, err := http.Get(s.API + "/api/v1/info")
		if err == nil {
			resp.Body.Close()
			if c, derr := net.DialTimeout("tcp", smtpAddr, time.Second); resp.StatusCode == http.StatusOK && derr == nil {
				c.Close()
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("mailpit did not start on %s and %s: %v\n%s", smtpAddr, httpAddr, err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// freeAddr returns a loopback address whose port was free a moment ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Address is a mailbox of a message.
type Address struct {
	Name    string `json:"Name"`
	Address string `json:"Address"`
}

// Message is a message as Mailpit received it.
type Message struct {
	ID      string    `json:"ID"`
	From    Address   `json:"From"`
	To      []Address `json:"To"`
	Subject string    `json:"Subject"`
	Text    string    `json:"Text"`
	HTML    string    `json:"HTML"`
	// Username is the name the client authenticated with ("" for none).
	Username string `json:"Username"`
	// Headers are the raw headers, several values joined with ", ".
	Headers map[string]string `json:"-"`
}

// Messages returns every message received, newest first, with its bodies
// and headers.
func (s *Server) Messages(t testing.TB) []Message {
	t.Helper()
	var list struct {
		Messages []struct {
			ID string `json:"ID"`
		} `json:"messages"`
	}
	s.get(t, "/api/v1/messages?limit=1000", &list)
	out := make([]Message, 0, len(list.Messages))
	for _, m := range list.Messages {
		var full Message
		s.get(t, "/api/v1/message/"+url.PathEscape(m.ID), &full)
		var headers map[string][]string
		s.get(t, "/api/v1/message/"+url.PathEscape(m.ID)+"/headers", &headers)
		full.Headers = map[string]string{}
		for k, v := range headers {
			full.Headers[k] = strings.Join(v, ", ")
		}
		out = append(out, full)
	}
	return out
}

// To returns the messages received for an address, newest first.
func (s *Server) To(t testing.TB, address string) []Message {
	t.Helper()
	var out []Message
	for _, m := range s.Messages(t) {
		for _, to := range m.To {
			if strings.EqualFold(to.Address, address) {
				out = append(out, m)
				break
			}
		}
	}
	return out
}

func (s *Server) get(t testing.TB, path string, v any) {
	t.Helper()
	resp, err := http.Get(s.API + path)
	if err != nil {
		t.Fatalf("mailpit GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("mailpit GET %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("mailpit GET %s: %v", path, fmt.Errorf("decode: %w", err))
	}
}

// syncBuffer collects the server's output, read while it writes.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
