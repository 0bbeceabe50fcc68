package main

import (
	"context"
	"fmt"
	"net/http"
	"syscall"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

const (
	// requestTimeout fails a request that takes longer (it counts as an
	// error).
	requestTimeout = 10 * time.Second
	// keptBody is how much of each answer vegeta keeps: enough to show
	// why a request failed. The rest is read and discarded, so latencies
	// still include the whole body.
	keptBody = 512
	// errorSamples is how many distinct failures a result keeps.
	errorSamples = 5
)

// newLoadClient is the HTTP client every attack of a run shares, so that
// warm-up, baseline and scenario reuse the same kept-alive connections.
func newLoadClient() *http.Client {
	return &http.Client{
		Timeout: requestTimeout,
		Transport: &http.Transport{
			MaxIdleConns:        10_000,
			MaxIdleConnsPerHost: 10_000,
			IdleConnTimeout:     time.Minute,
			DisableCompression:  true,
			ForceAttemptHTTP2:   false,
		},
	}
}

// attackResult is one attack's outcome.
type attackResult struct {
	metrics vegeta.Metrics
	// errors counts requests that failed: no answer, or a status outside
	// 2xx and 3xx.
	errors  uint64
	samples []string // the first distinct failures, with their bodies
	wall    time.Duration
	// loadCPU is the harness's own CPU time (user and system) during the
	// attack: the load generator shares the machine with the server.
	loadCPU time.Duration
}

// attack sends targets at rate per second for d with vegeta's constant
// pacer, on client, and calls each (if not nil) on every result from the
// one goroutine that collects them. It stops early when ctx ends.
func attack(ctx context.Context, client *http.Client, tr vegeta.Targeter, rate int, d time.Duration, name string, each func(*vegeta.Result)) (attackResult, error) {
	a := vegeta.NewAttacker(vegeta.Client(client), vegeta.MaxBody(keptBody))
	stop := context.AfterFunc(ctx, func() { a.Stop() })
	defer stop()
	cpu0 := selfCPU()
	start := time.Now()
	var res attackResult
	seen := map[string]bool{}
	for r := range a.Attack(tr, vegeta.ConstantPacer{Freq: rate, Per: time.Second}, d, name) {
		res.metrics.Add(r)
		if r.Error != "" {
			res.errors++
			sample := fmt.Sprintf("%s %s: %s %.200s", r.Method, r.URL, r.Error, r.Body)
			if !seen[r.Error] && len(res.samples) < errorSamples {
				seen[r.Error] = true
				res.samples = append(res.samples, sample)
			}
		}
		if each != nil {
			each(r)
		}
	}
	res.metrics.Close()
	res.wall = time.Since(start)
	res.loadCPU = selfCPU() - cpu0
	return res, ctx.Err()
}

// selfCPU is this process's user and system CPU time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
