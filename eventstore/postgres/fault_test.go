package postgres

import (
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/internal/pgtest"
)

// cutMode says what faultProxy does to the connection that carries its
// marker.
type cutMode int

const (
	cutNone cutMode = iota
	// cutBefore drops the bytes that carry the marker (the batch's inserts
	// and its COMMIT) and closes the connection: the server never
	// commits.
	cutBefore
	// cutAfter forwards them, keeps the server's answers from the client
	// and then closes the connection: the server commits, the client never
	// hears of it.
	cutAfter
)

// faultProxy forwards TCP connections to a PostgreSQL server and cuts the
// first connection on which the client sends marker, as cut says: the
// connection breaking while COMMIT is in flight. With refuse set, the cut
// also closes every other connection and refuses new ones, until refuse is
// cleared.
type faultProxy struct {
	lis    net.Listener
	target string
	marker []byte

	mu     sync.Mutex
	cut    cutMode
	refuse bool
	cuts   int
	conns  map[*proxied]bool
	down   bool // refusing after a cut with refuse
}

type proxied struct {
	client, server net.Conn
	muted          atomic.Bool
	once           sync.Once
}

func (pc *proxied) close() {
	pc.once.Do(func() {
		_ = pc.client.Close()
		_ = pc.server.Close()
	})
}

// startProxy starts a proxy to the server of serverURL and returns it with
// serverURL pointing at it.
func startProxy(t *testing.T, serverURL string, marker string) (*faultProxy, string) {
	t.Helper()
	u, err := url.Parse(serverURL)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{lis: lis, target: u.Host, marker: []byte(marker), conns: map[*proxied]bool{}}
	t.Cleanup(func() {
		_ = lis.Close()
		p.closeAll()
	})
	go p.serve()
	u.Host = lis.Addr().String()
	return p, u.String()
}

func (p *faultProxy) arm(cut cutMode, refuse bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut, p.refuse = cut, refuse
}

func (p *faultProxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
}

func (p *faultProxy) closeAll() {
	p.mu.Lock()
	conns := p.conns
	p.conns = map[*proxied]bool{}
	p.mu.Unlock()
	for pc := range conns {
		pc.close()
	}
}

func (p *faultProxy) serve() {
	for {
		c, err := p.lis.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		down := p.down
		p.mu.Unlock()
		if down {
			_ = c.Close()
			continue
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		pc := &proxied{client: c, server: s}
		p.mu.Lock()
		p.conns[pc] = true
		p.mu.Unlock()
		go p.up(pc)
		go func() {
			buf := make([]byte, 64<<10)
			for {
				n, err := s.Read(buf)
				if n > 0 && !pc.muted.Load() {
					if _, werr := c.Write(buf[:n]); werr != nil {
						break
					}
				}
				if err != nil {
					break
				}
			}
			pc.close()
		}()
	}
}

// up forwards client to server, watching for the marker.
func (p *faultProxy) up(pc *proxied) {
	defer pc.close()
	buf := make([]byte, 64<<10)
	for {
		n, err := pc.client.Read(buf)
		if n > 0 {
			chunk := buf[:n]
			p.mu.Lock()
			cut, refuse := p.cut, p.refuse
			hit := cut != cutNone && bytes.Contains(chunk, p.marker)
			if hit {
				p.cut = cutNone
				p.cuts++
				p.down = refuse
			}
			p.mu.Unlock()
			after := func() {
				pc.close()
				if refuse {
					p.closeAll()
				}
			}
			if hit && cut == cutBefore {
				after()
				return
			}
			if hit && cut == cutAfter {
				// Muted before the bytes go on: muted after, the server's
				// answer could reach the client in between (it did, under
				// load in CI).
				pc.muted.Store(true)
			}
			if _, werr := pc.server.Write(chunk); werr != nil {
				return
			}
			if hit && cut == cutAfter {
				time.AfterFunc(300*time.Millisecond, after)
			}
		}
		if err != nil {
			return
		}
	}
}

// markedEvent is an event whose data carries marker.
func markedEvent(marker string) eventstore.NewEvent {
	e := event("PartnerJoined")
	e.Data = json.RawMessage(`{"marker":"` + marker + `"}`)
	return e
}

// TestCommitOutcomeUnknown runs each case through both ways of writing: a
// batch decided after its lookups (Any), and a lone append written in one
// round trip (a pinned version; onetrip.go).
func TestCommitOutcomeUnknown(t *testing.T) {
	t.Parallel()
	t.Run("General", func(t *testing.T) {
		t.Parallel()
		testCommitOutcomeUnknown(t, eventstore.Any())
	})
	t.Run("Lone", func(t *testing.T) {
		t.Parallel()
		testCommitOutcomeUnknown(t, eventstore.NoStream())
	})
}

// testCommitOutcomeUnknown cuts the connection around a COMMIT; every
// append expects expect of a new stream.
func testCommitOutcomeUnknown(t *testing.T, expect eventstore.ExpectedVersion) {
	schemaURL := pgtest.URL(t)
	marker := "cut-" + uuid.NewString()
	proxy, proxyURL := startProxy(t, schemaURL, marker)
	s := openAt(t, proxyURL)
	observer := openAt(t, schemaURL)
	ctx := t.Context()
	mustAppend(t, s, eventstore.AppendRequest{StreamID: streamID(), Events: []eventstore.NewEvent{event("PartnerJoined")}})

	t.Run("CommittedButUnheard", func(t *testing.T) {
		// The server commits, the answer is lost: the store checks and
		// acknowledges.
		proxy.arm(cutAfter, false)
		verified, retries, lone := s.stats.verified.Load(), s.stats.Retries.Load(), s.stats.oneTrip.Load()
		stream := streamID()
		res, err := s.Append(ctx, eventstore.AppendRequest{StreamID: stream, Expected: expect, Events: []eventstore.NewEvent{markedEvent(marker), event("PartnerJoined")}})
		if err != nil {
			t.Fatalf("Append: %v; want success (it committed)", err)
		}
		if s.stats.verified.Load() != verified+1 || s.stats.Retries.Load() != retries {
			t.Fatalf("verified %d, retried %d; want one check that finds the batch committed, no retry",
				s.stats.verified.Load()-verified, s.stats.Retries.Load()-retries)
		}
		if _, pinned := expect.Exact(); pinned != (s.stats.oneTrip.Load() == lone+1) {
			t.Fatalf("%d lone appends for an append expecting %s; want one exactly when it pins a version", s.stats.oneTrip.Load()-lone, expect)
		}
		got, err := observer.ReadStream(ctx, stream)
		if err != nil || len(got) != 2 || got[0].Position != res.Positions[0] || got[1].Position != res.Positions[1] {
			t.Fatalf("stored %d events (%v) for an append acknowledged at %v", len(got), err, res.Positions)
		}
	})
	t.Run("NeverCommitted", func(t *testing.T) {
		// The COMMIT never reaches the server: the check finds nothing,
		// and the batch is written on another connection.
		proxy.arm(cutBefore, false)
		verified, retries := s.stats.verified.Load(), s.stats.Retries.Load()
		stream := streamID()
		res, err := s.Append(ctx, eventstore.AppendRequest{StreamID: stream, Expected: expect, Events: []eventstore.NewEvent{markedEvent(marker)}})
		if err != nil {
			t.Fatalf("Append: %v; want success on the retry", err)
		}
		if s.stats.verified.Load() != verified+1 || s.stats.Retries.Load() != retries+1 {
			t.Fatalf("verified %d, retried %d; want one check and one retry",
				s.stats.verified.Load()-verified, s.stats.Retries.Load()-retries)
		}
		got, err := observer.ReadStream(ctx, stream)
		if err != nil || len(got) != 1 || got[0].Position != res.Positions[0] {
			t.Fatalf("stored %d events (%v) for an append acknowledged at %v", len(got), err, res.Positions)
		}
		if head, _ := observer.Head(ctx); head != res.Positions[0] {
			t.Fatalf("head %d after the retried append at %d: the lost transaction left a gap or a stray event", head, res.Positions[0])
		}
	})
	t.Run("CheckImpossible", func(t *testing.T) {
		// The server commits, the answer is lost and the server cannot be
		// reached for the check: the outcome is unknown, and the append
		// fails saying so. A retry of the same append, once the server is
		// back, is deduplicated.
		proxy.arm(cutAfter, true)
		stream := streamID()
		req := eventstore.AppendRequest{StreamID: stream, Expected: expect, Events: []eventstore.NewEvent{markedEvent(marker)}}
		_, err := s.Append(ctx, req)
		var unknown *outcomeUnknownError
		if !errors.Is(err, ErrUnavailable) || !errors.As(err, &unknown) || !strings.Contains(err.Error(), "outcome unknown") {
			t.Fatalf("Append: %v; want an outcome-unknown error wrapping ErrUnavailable", err)
		}
		t.Logf("Append error: %v", err)
		proxy.restore()
		again, err := s.Append(ctx, req)
		if err != nil || !again.Deduplicated {
			t.Fatalf("retry after the server is back = %+v, %v; want Deduplicated", again, err)
		}
		got, err := observer.ReadStream(ctx, stream)
		if err != nil || len(got) != 1 || got[0].Position != again.Positions[0] {
			t.Fatalf("stored %d events (%v); want the one event at %v", len(got), err, again.Positions)
		}
	})
}
