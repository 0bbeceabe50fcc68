package web

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// BenchmarkRespondLoad is the survey's load: each iteration is one
// respondent on a link of their own, answering over real HTTP against a
// real server on the embedded store (SQLite events, SQLite links): six
// page requests, the first page, two sections each saved with a post and
// the next drawn with a get, and the submission from the last; respondents run concurrently, respondLoadPerCore
// per core, each without a pause between pages. Beside
// every respondent the same client asks GET /healthz, the same run's
// baseline for the network, the router and the middleware. The load comes
// from one address, so the per-address limit is lifted; the per-link one
// stays as configured. Reported: p50 and p99 of the answer pages' requests
// (gets and posts), the baseline's, the respondents per second, and
// errors (any status but the expected fails the benchmark).
//
//	go test -run='^$' -bench=RespondLoad -benchtime=500x ./web/
func BenchmarkRespondLoad(b *testing.B) {
	limits := defaultRespondLimits
	limits.PerAddress, limits.AddressBurst = rate.Inf, 0
	s := newRespondSite(b, respondOptions{limits: &limits})
	var tokens []string
	for len(tokens) < b.N {
		tokens = append(tokens, s.links(b, min(b.N-len(tokens), 5000), s.choices[0].ID)...)
	}
	transport := &http.Transport{MaxIdleConnsPerHost: 256}
	defer transport.CloseIdleConnections()
	var (
		mu             sync.Mutex
		pages, base    []time.Duration
		gets, posts    []time.Duration
		errs           []string
		next, finished atomic.Int64
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		errs = append(errs, fmt.Sprintf(format, args...))
	}
	b.SetParallelism(respondLoadPerCore)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			token := tokens[next.Add(1)-1]
			var own, healthz []time.Duration
			var methods []string
			if err := respondent(s.srv.URL, token, transport, &own, &methods, &healthz); err != nil {
				fail("respondent %d: %v", finished.Load(), err)
			}
			finished.Add(1)
			mu.Lock()
			pages, base = append(pages, own...), append(base, healthz...)
			for i, m := range methods {
				if m == http.MethodGet {
					gets = append(gets, own[i])
				} else {
					posts = append(posts, own[i])
				}
			}
			mu.Unlock()
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if len(errs) > 0 {
		b.Fatalf("%d of %d respondents failed; first: %s", len(errs), b.N, errs[0])
	}
	pct := func(d []time.Duration, q float64) float64 {
		slices.Sort(d)
		return float64(d[int(q*float64(len(d)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(pages, 0.50), "page-p50-ms")
	b.ReportMetric(pct(pages, 0.99), "page-p99-ms")
	b.ReportMetric(pct(gets, 0.99), "get-p99-ms")
	b.ReportMetric(pct(posts, 0.99), "post-p99-ms")
	b.ReportMetric(pct(base, 0.50), "healthz-p50-ms")
	b.ReportMetric(pct(base, 0.99), "healthz-p99-ms")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "respondents/s")
	b.ReportMetric(float64(len(errs)), "errors")
	b.Logf("%d respondents, %d page requests in %s", b.N, len(pages), elapsed.Round(time.Millisecond))
}

// respondLoadPerCore is how many respondents answer at once per core: 2
// on this 2-core machine is 4 at a time, with no pause between pages,
// about 20 times the request rate of 500 respondents spread over ten
// minutes who each read a page for 30 seconds.
const respondLoadPerCore = 2

// respondent answers one link to the end (a leader: three sections),
// recording each page request's time in pages (its method in methods)
// and a GET /healthz beside it in healthz.
func respondent(base, token string, transport http.RoundTripper, pages *[]time.Duration, methods *[]string, healthz *[]time.Duration) error {
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Transport: transport, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	path := base + "/s/" + token
	timed := func(req *http.Request, want int) (string, string, error) {
		t0 := time.Now()
		res, err := client.Do(req)
		if err != nil {
			return "", "", err
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		*pages, *methods = append(*pages, time.Since(t0)), append(*methods, req.Method)
		if err != nil {
			return "", "", err
		}
		if res.StatusCode != want {
			return "", "", fmt.Errorf("%s %s: status %d, want %d", req.Method, req.URL.Path[:3], res.StatusCode, want)
		}
		return string(body), res.Header.Get("Location"), nil
	}
	get := func(u string) (string, error) {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		req.Header.Set("Accept-Language", "nn")
		body, _, err := timed(req, http.StatusOK)
		return body, err
	}
	post := func(page string, want int, answers ...string) (string, string, error) {
		csrf, rid, sec := csrfRe.FindStringSubmatch(page), requestIDRe.FindStringSubmatch(page), sectionRe.FindStringSubmatch(page)
		if csrf == nil || rid == nil || sec == nil {
			return "", "", fmt.Errorf("no answer form on the page")
		}
		form := url.Values{"csrf_token": {csrf[1]}, "request_id": {rid[1]}, "section": {sec[1]}}
		for i := 0; i+1 < len(answers); i += 2 {
			form.Add(answers[i], answers[i+1])
		}
		req, _ := http.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept-Language", "nn")
		return timed(req, want)
	}
	t0 := time.Now()
	if res, err := client.Get(base + "/healthz"); err == nil {
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		*healthz = append(*healthz, time.Since(t0))
	}
	page, err := get(path)
	if err != nil {
		return err
	}
	for _, answers := range [][]string{
		{"i.role", "leader", "i.support", "4", "action", "next"},
		{"i.tasks", "homework", "i.tasks", "walks", "i.hours", "10", "action", "next"},
	} {
		_, to, err := post(page, http.StatusSeeOther, answers...)
		if err != nil {
			return err
		}
		if page, err = get(base + to); err != nil {
			return err
		}
	}
	thanks, _, err := post(page, http.StatusOK, "i.comment", "Godt samarbeid.", "action", "submit")
	if err != nil {
		return err
	}
	if !strings.Contains(thanks, "respond-status") {
		return fmt.Errorf("the submission did not end on the thank-you page")
	}
	return nil
}
