// Package natstest gives a test a JetStream stream of its own on the NATS
// server that SAMSPILL_TEST_NATS_URL names, or skips the test with a
// message when that variable is not set or the server cannot be reached.
// CI sets it and starts the server (.ci/run).
//
// Each call makes a new stream name and subject prefix, so tests of every
// package can share one server and run in parallel; the stream is deleted
// when the test ends.
package natstest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// EnvURL names the environment variable with the server's URL, e.g.
// nats://127.0.0.1:4222 (JetStream enabled).
const EnvURL = "SAMSPILL_TEST_NATS_URL"

// Stream is a test's own stream on the server: samspill's forwarder makes
// it (with subjects Prefix.>) or the test does.
type Stream struct {
	// URL is the server's URL.
	URL string
	// Name is the stream's name, unique to the test.
	Name string
	// Prefix is the subject prefix, unique to the test.
	Prefix string
	// JS reads the stream (and may make it).
	JS nats.JetStreamContext
}

// New returns a stream name and subject prefix of the test's own on the
// server of EnvURL, and deletes the stream when t ends. It skips t when
// EnvURL is not set or the server does not answer.
func New(t testing.TB) *Stream {
	t.Helper()
	raw := os.Getenv(EnvURL)
	if raw == "" {
		t.Skipf("NATS tests skipped: set %s (e.g. nats://127.0.0.1:4222, a server with JetStream) to run them", EnvURL)
	}
	if u, err := url.Parse(raw); err == nil && u.Host != "" {
		c, err := net.DialTimeout("tcp", u.Host, 2*time.Second)
		if err != nil {
			t.Skipf("NATS tests skipped: %s=%s cannot be reached: %v", EnvURL, raw, err)
		}
		_ = c.Close()
	}
	conn, err := nats.Connect(raw, nats.Name("samspill test"))
	if err != nil {
		t.Skipf("NATS tests skipped: %s=%s: %v", EnvURL, raw, err)
	}
	t.Cleanup(conn.Close)
	js, err := conn.JetStream(nats.MaxWait(10 * time.Second))
	if err != nil {
		t.Fatalf("natstest: JetStream: %v", err)
	}
	if _, err := js.AccountInfo(); err != nil {
		t.Skipf("NATS tests skipped: the server at %s has no JetStream: %v", raw, err)
	}
	id := randomHex(6)
	s := &Stream{URL: raw, Name: "SAMSPILL_TEST_" + strings.ToUpper(id), Prefix: "samspilltest." + id, JS: js}
	t.Cleanup(func() {
		if err := js.DeleteStream(s.Name); err != nil && !errors.Is(err, nats.ErrStreamNotFound) {
			t.Errorf("natstest: delete stream %s: %v", s.Name, err)
		}
	})
	return s
}

// Messages returns every message the stream holds, in sequence order, and
// none when it does not exist.
func (s *Stream) Messages(t testing.TB) []*nats.RawStreamMsg {
	t.Helper()
	info, err := s.JS.StreamInfo(s.Name)
	if errors.Is(err, nats.ErrStreamNotFound) {
		return nil
	}
	if err != nil {
		t.Fatalf("natstest: stream %s: %v", s.Name, err)
	}
	var msgs []*nats.RawStreamMsg
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := s.JS.GetMsg(s.Name, seq)
		if errors.Is(err, nats.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			t.Fatalf("natstest: stream %s message %d: %v", s.Name, seq, err)
		}
		msgs = append(msgs, m)
	}
	return msgs
}

// Count returns how many messages the stream holds, 0 when it does not
// exist.
func (s *Stream) Count(t testing.TB) uint64 {
	t.Helper()
	info, err := s.JS.StreamInfo(s.Name)
	if errors.Is(err, nats.ErrStreamNotFound) {
		return 0
	}
	if err != nil {
		t.Fatalf("natstest: stream %s: %v", s.Name, err)
	}
	return info.State.Msgs
}

// WaitForCount waits until the stream holds at least n messages, failing t
// after timeout.
func (s *Stream) WaitForCount(t testing.TB, n uint64, timeout time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		got := s.Count(t)
		if got >= n {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("natstest: stream %s holds %d messages after %s, want %d", s.Name, got, timeout, n)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Proxy stands between a client and the server of a Stream, so that a test
// can take NATS away and bring it back: while up it passes connections
// through, while down it closes every connection, open or new.
type Proxy struct {
	// URL is the address clients connect to instead of the server's.
	URL string

	target string
	ln     net.Listener
	mu     sync.Mutex
	up     bool
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

// NewProxy starts a proxy to the server of s, down (refusing) or up, and
// stops it when t ends.
func (s *Stream) NewProxy(t testing.TB, up bool) *Proxy {
	t.Helper()
	u, err := url.Parse(s.URL)
	if err != nil {
		t.Fatalf("natstest: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("natstest: proxy: %v", err)
	}
	p := &Proxy{URL: "nats://" + ln.Addr().String(), target: u.Host, ln: ln, up: up, conns: map[net.Conn]struct{}{}}
	p.wg.Go(p.serve)
	t.Cleanup(func() {
		_ = ln.Close()
		p.Down()
		p.wg.Wait()
	})
	return p
}

// Up lets connections through.
func (p *Proxy) Up() {
	p.mu.Lock()
	p.up = true
	p.mu.Unlock()
}

// Down closes every connection and refuses new ones (each is accepted and
// closed at once), as a server that is gone.
func (p *Proxy) Down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.up = false
	for c := range p.conns {
		_ = c.Close()
	}
}

func (p *Proxy) serve() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		up := p.up
		p.mu.Unlock()
		if !up {
			_ = client.Close()
			continue
		}
		server, err := net.DialTimeout("tcp", p.target, 2*time.Second)
		if err != nil {
			_ = client.Close()
			continue
		}
		p.mu.Lock()
		if !p.up { // went down while dialling
			p.mu.Unlock()
			_ = client.Close()
			_ = server.Close()
			continue
		}
		p.conns[client], p.conns[server] = struct{}{}, struct{}{}
		p.mu.Unlock()
		pipe := func(dst, src net.Conn) {
			_, _ = io.Copy(dst, src)
			_ = dst.Close()
			_ = src.Close()
			p.mu.Lock()
			delete(p.conns, dst)
			delete(p.conns, src)
			p.mu.Unlock()
		}
		p.wg.Go(func() { pipe(server, client) })
		p.wg.Go(func() { pipe(client, server) })
	}
}
