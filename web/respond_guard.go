package web

import (
	"crypto/sha256"
	"errors"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"
)

// The answer pages are open to anyone, so they are guarded before any
// look-up: token buckets per link and per client address (a browser that
// hammers one link, and an address that tries many), and a bound on the
// body of a post.

// respondMaxBody bounds an answer form's body: a page of questions with
// free texts of at most 4,000 characters each fits many times over.
const respondMaxBody = 256 << 10

// respondLimits are the rates the answer pages allow.
type respondLimits struct {
	// PerLink and LinkBurst bound the requests on one link: a respondent
	// moves through pages at a person's pace.
	PerLink   rate.Limit
	LinkBurst int
	// PerAddress and AddressBurst bound the requests from one client
	// address (c.ClientIP: behind a proxy, what the engine's trusted
	// proxies say, edge.TrustProxies): many respondents may share a
	// municipality's address, so it is wider.
	PerAddress   rate.Limit
	AddressBurst int
	// MaxKeys bounds the limiters kept of each kind; idle ones are
	// dropped first, and when that is not enough new keys are refused
	// (429) rather than the memory grown.
	MaxKeys int
}

// defaultRespondLimits: a link 1 request a second with bursts of 30 (a
// quick respondent clicks back and forth); an address 10 a second with
// bursts of 200 (a town hall's many respondents behind one address).
var defaultRespondLimits = respondLimits{PerLink: 1, LinkBurst: 30, PerAddress: 10, AddressBurst: 200, MaxKeys: 100_000}

// respondGuard holds the answer pages' limiters. Safe for concurrent use.
type respondGuard struct {
	limits           respondLimits
	links, addresses *limiters
}

func newRespondGuard(l respondLimits) *respondGuard {
	return &respondGuard{
		limits:    l,
		links:     newLimiters(l.PerLink, l.LinkBurst, l.MaxKeys),
		addresses: newLimiters(l.PerAddress, l.AddressBurst, l.MaxKeys),
	}
}

// errRateLimited is what a refused key's limiter says.
var errRateLimited = errors.New("rate limited")

// limiters keeps one token bucket per key, dropping those idle long enough
// to have filled up again (a new one would be the same).
type limiters struct {
	mu      sync.Mutex
	every   rate.Limit
	burst   int
	max     int
	buckets map[[32]byte]*bucket
}

type bucket struct {
	lim  *rate.Limiter
	last time.Time
}

func newLimiters(every rate.Limit, burst, max int) *limiters {
	return &limiters{every: every, burst: burst, max: max, buckets: map[[32]byte]*bucket{}}
}

// refill is how long an idle bucket takes to fill up.
func (ls *limiters) refill() time.Duration {
	if ls.every <= 0 || ls.every == rate.Inf {
		return 0
	}
	return time.Duration(float64(ls.burst) / float64(ls.every) * float64(time.Second))
}

// take takes a token of key's bucket at now; when there is none it returns
// how long until there is (at least a second) and errRateLimited.
func (ls *limiters) take(key string, now time.Time) (time.Duration, error) {
	k := sha256.Sum256([]byte(key))
	ls.mu.Lock()
	defer ls.mu.Unlock()
	b, ok := ls.buckets[k]
	if !ok {
		if len(ls.buckets) >= ls.max {
			ls.sweep(now)
		}
		if len(ls.buckets) >= ls.max {
			return ls.refill(), errRateLimited
		}
		b = &bucket{lim: rate.NewLimiter(ls.every, ls.burst)}
		ls.buckets[k] = b
	}
	b.last = now
	r := b.lim.ReserveN(now, 1)
	if !r.OK() {
		return ls.refill(), errRateLimited
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return max(d, time.Second), errRateLimited
	}
	return 0, nil
}

// sweep drops the buckets idle for longer than a refill.
func (ls *limiters) sweep(now time.Time) {
	idle := ls.refill()
	for k, b := range ls.buckets {
		if now.Sub(b.last) >= idle {
			delete(ls.buckets, k)
		}
	}
}

// size is how many buckets are kept.
func (ls *limiters) size() int {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return len(ls.buckets)
}

// respondLimit refuses a request over its link's or its address's rate
// with a 429 page and Retry-After.
func (p *Pages) respondLimit(c *gin.Context) {
	now := time.Now()
	wait, err := p.respond.addresses.take(c.ClientIP(), now)
	if err == nil {
		wait, err = p.respond.links.take(c.Param("token"), now)
	}
	if err != nil {
		l := loc(c)
		c.Header("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		p.respondStatus(c, http.StatusTooManyRequests, l.T("respond.limited.title"), l.T("respond.limited.title"), l.T("respond.limited.message"), "")
		return
	}
	c.Next()
}

// respondBody bounds a post's body and reads its form: an oversized body
// is a 413 page, one that cannot be read a 400 page; checkCSRF then finds
// the form read.
func (p *Pages) respondBody(c *gin.Context) {
	l := loc(c)
	if c.Request.ContentLength > respondMaxBody {
		p.respondStatus(c, http.StatusRequestEntityTooLarge, l.T("respond.too_large.title"), l.T("respond.too_large.title"), l.T("respond.too_large.message"), "")
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, respondMaxBody)
	if err := c.Request.ParseForm(); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			p.respondStatus(c, http.StatusRequestEntityTooLarge, l.T("respond.too_large.title"), l.T("respond.too_large.title"), l.T("respond.too_large.message"), "")
			return
		}
		p.respondBadForm(c, c.Param("token"))
		return
	}
	c.Next()
}
