package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// activePartnerships is how many partnerships the read and write
// scenarios spread over.
const activePartnerships = 1_000

// measure runs a whole measurement: data folder, serve, scenarios, report.
func measure(ctx context.Context, cfg config, stdout, stderr io.Writer) (err error) {
	tmp, err := os.MkdirTemp("", "samspill-load-")
	if err != nil {
		return err
	}
	defer func() {
		if cfg.keep {
			fmt.Fprintf(stderr, "kept %s\n", tmp)
			return
		}
		err = errors.Join(err, os.RemoveAll(tmp))
	}()
	bin, err := binary(ctx, cfg.samspill, tmp, stderr)
	if err != nil {
		return err
	}
	dir := filepath.Join(tmp, "data")
	if err := os.Mkdir(dir, 0o700); err != nil {
		return err
	}
	var ds dataset
	if cfg.from != "" {
		fmt.Fprintf(stderr, "copying %s into %s\n", cfg.from, dir)
		ds, err = copyLog(ctx, dir, cfg.from)
	} else {
		fmt.Fprintf(stderr, "generating %d events into %s\n", cfg.events, dir)
		ds, err = generate(ctx, dir, cfg.events)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "  %d events, %d partnerships in %s\n", ds.Events, ds.Partnerships, ds.Took.Round(time.Second))

	rep := report{Started: time.Now().UTC(), CPUs: runtime.NumCPU(), Command: strings.Join(os.Args, " "), Dataset: ds, RSSTarget: rssTarget, ReadModels: readModelsIn(cfg)}
	p, err := startServe(ctx, bin, dir, cfg.addr, cfg.readModelPostgres)
	if err != nil {
		return err
	}
	defer func() {
		if stopErr := p.Stop(stopTimeout); stopErr != nil {
			err = errors.Join(err, stopErr)
		}
	}()
	rep.Serve = p.URL
	fmt.Fprintf(stderr, "serve (pid %d) on %s; waiting for the projections to reach %d\n", p.Pid(), p.URL, ds.Head)
	api := newAPIClient(p.URL, p.Token)
	if rep.CatchUp, err = waitCaughtUp(ctx, api, p, ds.Head, cfg.catchUp, stderr); err != nil {
		return err
	}
	if rep.MemoryCaughtUp, err = serveMemory(ctx, api, p.Pid()); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "  caught up in %s; VmHWM %s\n", rep.CatchUp.Round(100*time.Millisecond), mib(rep.MemoryCaughtUp.HWM))

	h := &harness{cfg: cfg, api: api, client: newLoadClient(), run: fmt.Sprint(time.Now().UnixNano()), stderr: stderr}
	if len(cfg.scenarios) > 0 {
		if h.ids, err = api.openPartnerships(ctx, activePartnerships); err != nil {
			return err
		}
	}
	for _, name := range cfg.scenarios {
		r, err := h.scenario(ctx, name)
		if err != nil {
			return fmt.Errorf("scenario %s: %w", name, err)
		}
		rep.Rows = append(rep.Rows, r)
	}
	if rep.MemoryEnd, err = serveMemory(ctx, api, p.Pid()); err != nil {
		return err
	}
	if err := rep.writeMarkdown(stdout); err != nil {
		return err
	}
	return writeJSONFile(rep, cfg.jsonPath, stdout)
}

// serveMemory reads the serve process's resident set from /proc and the
// Go runtime's share of it from its /metrics.
func serveMemory(ctx context.Context, api *apiClient, pid int) (memory, error) {
	m, err := readMemory(pid)
	if err != nil {
		return m, err
	}
	s, err := scrapeMetrics(ctx, api)
	if err != nil {
		return m, err
	}
	m.GoRuntime, m.GoHeapInUse = s.goRuntime, s.goHeapInUse
	return m, nil
}

// writeJSONFile writes the report as JSON to path ("-": w; "": nowhere).
func writeJSONFile(rep report, path string, w io.Writer) error {
	switch path {
	case "":
		return nil
	case "-":
		return rep.writeJSON(w)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := rep.writeJSON(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
