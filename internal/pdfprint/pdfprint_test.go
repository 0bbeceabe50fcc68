package pdfprint

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// chromium finds the browser the way the server does, or skips.
func chromium(t *testing.T) string {
	t.Helper()
	p, err := Find("")
	if err != nil {
		t.Skip("Chromium not found on PATH (chromium, chromium-browser, google-chrome); install Debian's chromium package to render PDFs")
	}
	return p
}

func TestPrintMakesAPDF(t *testing.T) {
	bin := chromium(t)
	p := New(bin, time.Minute, 1)
	doc := []byte(`<!doctype html><html lang="nb"><head><meta charset="utf-8"><title>Tilbakemelding Ærlig</title>
<style>@page { size: A4; margin: 15mm } h1 { break-after: page }</style></head><body><h1>Side én</h1><p>Side to</p></body></html>`)
	pdf, err := p.Print(context.Background(), doc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("not a PDF: %q", pdf[:min(len(pdf), 20)])
	}
	if n := bytes.Count(pdf, []byte("/Type /Page\n")) + bytes.Count(pdf, []byte("/Type /Page ")) + bytes.Count(pdf, []byte("/Type /Page>")) + bytes.Count(pdf, []byte("/Type /Page/")); n < 2 {
		t.Errorf("want 2 pages (the heading breaks the page), found %d page objects", n)
	}
}

func TestNoChromium(t *testing.T) {
	if _, err := Find("/nonexistent/chromium"); !errors.Is(err, ErrNoChromium) {
		t.Fatalf("Find of a missing binary: %v, want ErrNoChromium", err)
	}
	if _, err := New("", 0, 0).Print(context.Background(), []byte("<p>x")); !errors.Is(err, ErrNoChromium) {
		t.Fatalf("Print without a binary: %v, want ErrNoChromium", err)
	}
}

func TestBusyWaitsForASlot(t *testing.T) {
	p := New("/bin/true", time.Second, 1)
	p.slots <- struct{}{} // the one slot taken
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := p.Print(ctx, []byte("<p>x")); !errors.Is(err, ErrBusy) {
		t.Fatalf("Print with every slot taken: %v, want ErrBusy", err)
	}
}

func TestTimeout(t *testing.T) {
	slow := filepath.Join(t.TempDir(), "slow-chromium")
	// A browser whose child hangs too: the timeout ends both.
	if err := os.WriteFile(slow, []byte("#!/bin/sh\nsleep 31.7 &\nwait\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := New(slow, 300*time.Millisecond, 1).Print(context.Background(), []byte("<p>x"))
	if !errors.Is(err, ErrFailed) {
		t.Fatalf("Print with a hung browser: %v, want ErrFailed", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("a hung browser held the request %s", d)
	}
	if runtime.GOOS == "linux" {
		time.Sleep(100 * time.Millisecond)
		if out, err := exec.Command("pgrep", "-f", "sleep 31.7").Output(); err == nil {
			t.Errorf("the hung browser's child outlived the timeout: pid %s", out)
		}
	}
}
