package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// memory is a process's resident set as /proc/<pid>/status reports it.
type memory struct {
	// HWM is VmHWM, the peak resident set since the process started.
	HWM int64 `json:"vm_hwm_bytes"`
	// RSS is VmRSS, the resident set now: RSSAnon (anonymous memory:
	// heaps, stacks, caches) plus RSSFile (mapped files: the binary).
	RSS     int64 `json:"vm_rss_bytes"`
	RSSAnon int64 `json:"rss_anon_bytes"`
	RSSFile int64 `json:"rss_file_bytes"`
	// GoRuntime is what the Go runtime holds from the OS and has not
	// released (from the server's /metrics): the rest of RSSAnon is memory
	// allocated outside the Go heap, by modernc.org/libc for SQLite (page
	// caches above all).
	GoRuntime int64 `json:"go_runtime_bytes"`
	// GoHeapInUse is the Go heap's in-use spans.
	GoHeapInUse int64 `json:"go_heap_inuse_bytes"`
}

// readMemory reads VmHWM and VmRSS of process pid (Linux only).
func readMemory(pid int) (memory, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memory{}, err
	}
	defer f.Close()
	return parseStatus(f)
}

// parseStatus reads VmHWM and VmRSS (in kB, both required) and RssAnon
// and RssFile (when present) from a /proc/<pid>/status text.
func parseStatus(r io.Reader) (memory, error) {
	var m memory
	fields := map[string]*int64{"VmHWM": &m.HWM, "VmRSS": &m.RSS, "RssAnon": &m.RSSAnon, "RssFile": &m.RSSFile}
	found := map[string]bool{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		dst := fields[name]
		if !ok || dst == nil {
			continue
		}
		f := strings.Fields(value)
		if len(f) != 2 || f[1] != "kB" {
			return m, fmt.Errorf("proc status: %s: unexpected value %q", name, value)
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return m, fmt.Errorf("proc status: %s: %w", name, err)
		}
		*dst = kb << 10
		found[name] = true
	}
	if err := sc.Err(); err != nil {
		return m, err
	}
	if !found["VmHWM"] || !found["VmRSS"] {
		return m, fmt.Errorf("proc status: VmHWM and VmRSS not both found")
	}
	return m, nil
}

// loadAverage is the first field of /proc/loadavg, or -1 when unreadable:
// how busy the shared machine was.
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	first, _, _ := strings.Cut(string(b), " ")
	v, err := strconv.ParseFloat(first, 64)
	if err != nil {
		return -1
	}
	return v
}
