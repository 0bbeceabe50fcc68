package main

import (
	"os"
	"strings"
	"testing"
)

func TestParseStatus(t *testing.T) {
	m, err := parseStatus(strings.NewReader("Name:\tsamspill\nVmPeak:\t 1000 kB\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\nRssAnon:\t   92160 kB\nRssFile:\t   10240 kB\nThreads:\t9\n"))
	if err != nil {
		t.Fatal(err)
	}
	if m.HWM != 200<<20 || m.RSS != 100<<20 || m.RSSAnon != 90<<20 || m.RSSFile != 10<<20 {
		t.Errorf("parseStatus = %+v, want 200 MiB peak, 100 MiB now, 90 MiB anonymous, 10 MiB files", m)
	}
	if _, err := parseStatus(strings.NewReader("Name:\tx\nVmRSS:\t1 kB\n")); err == nil {
		t.Error("parseStatus without VmHWM succeeded")
	}
	if _, err := parseStatus(strings.NewReader("VmHWM:\t1 MB\nVmRSS:\t1 kB\n")); err == nil {
		t.Error("parseStatus accepted a unit other than kB")
	}
}

func TestReadMemorySelf(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc")
	}
	m, err := readMemory(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if m.HWM < m.RSS || m.RSS <= 0 {
		t.Errorf("readMemory(self) = %+v", m)
	}
}
