// Package pdfprint renders HTML documents to PDF with headless Chromium
// (--headless --print-to-pdf), the browser the page tests already use, so
// a printed page and its PDF come from one layout engine and samspill
// needs no PDF library. The document is written to a private temporary
// folder and opened as a file: it must carry everything inline (styles,
// SVG), and Chromium is started with its network features off, so
// rendering never fetches anything.
package pdfprint

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// Errors at the package boundary.
var (
	// ErrNoChromium means no Chromium binary was configured or found on
	// PATH: callers tell people to print from their browser instead.
	ErrNoChromium = errors.New("no Chromium binary to render PDF")
	// ErrBusy means every rendering slot stayed taken until the request's
	// context ended.
	ErrBusy = errors.New("PDF renderer busy")
	// ErrFailed means Chromium ran but made no PDF (or timed out).
	ErrFailed = errors.New("PDF rendering failed")
)

// Defaults.
const (
	DefaultTimeout    = 30 * time.Second
	DefaultConcurrent = 2
)

// binaries are the names looked up on PATH when no binary is configured,
// in order: Debian's, other distributions', Google's.
var binaries = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// Find returns the Chromium to run: configured when not "" (it must
// exist), else the first of chromium, chromium-browser, google-chrome on
// PATH; ErrNoChromium when there is none.
func Find(configured string) (string, error) {
	if configured != "" {
		p, err := exec.LookPath(configured)
		if err != nil {
			return "", fmt.Errorf("%w: %s: %w", ErrNoChromium, configured, err)
		}
		return p, nil
	}
	for _, name := range binaries {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoChromium
}

// Printer renders PDFs, at most Concurrent at once. The zero value is not
// usable; use New.
type Printer struct {
	binary  string
	timeout time.Duration
	slots   chan struct{}
}

// New returns a printer running binary ("" means none: Print answers
// ErrNoChromium), each rendering bounded by timeout (DefaultTimeout if not
// positive), at most concurrent at once (DefaultConcurrent if not
// positive): Chromium takes a few hundred MB and a core while it prints.
func New(binary string, timeout time.Duration, concurrent int) *Printer {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if concurrent <= 0 {
		concurrent = DefaultConcurrent
	}
	return &Printer{binary: binary, timeout: timeout, slots: make(chan struct{}, concurrent)}
}

// Available reports whether the printer has a Chromium to run.
func (p *Printer) Available() bool { return p != nil && p.binary != "" }

// Print renders a complete HTML document (UTF-8, everything inline) to
// PDF; the page size and margins are the document's @page rules.
func (p *Printer) Print(ctx context.Context, html []byte) ([]byte, error) {
	if !p.Available() {
		return nil, ErrNoChromium
	}
	select {
	case p.slots <- struct{}{}:
		defer func() { <-p.slots }()
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %w", ErrBusy, ctx.Err())
	}
	dir, err := os.MkdirTemp("", "samspill-pdf-")
	if err != nil {
		return nil, fmt.Errorf("pdf: temporary folder: %w", err)
	}
	defer os.RemoveAll(dir)
	in := filepath.Join(dir, "document.html")
	out := filepath.Join(dir, "document.pdf")
	if err := os.WriteFile(in, html, 0o600); err != nil {
		return nil, fmt.Errorf("pdf: write document: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, p.binary,
		"--headless",
		"--no-sandbox", // runs as the service's own unprivileged user, often in a container without user namespaces
		"--disable-gpu",
		"--disable-extensions",
		"--disable-background-networking",
		"--disable-component-update",
		"--disable-sync",
		"--disable-default-apps",
		"--no-first-run",
		"--no-default-browser-check",
		"--mute-audio",
		// Nothing but the file itself: any http(s) fetch would go to a
		// proxy that does not exist.
		"--proxy-server=127.0.0.1:9",
		"--proxy-bypass-list=<-loopback>",
		"--user-data-dir="+filepath.Join(dir, "profile"),
		"--no-pdf-header-footer",
		"--print-to-pdf="+out,
		"file://"+in,
	)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+dir)
	// Chromium's own grandchildren (its zygote and renderers) keep the
	// pipes open after a timeout kill; WaitDelay ends the wait anyway.
	cmd.WaitDelay = 2 * time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	reap := ownGroup(cmd)
	err = cmd.Run()
	reap()
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w: %s did not finish within %s: %w", ErrFailed, p.binary, p.timeout, ctx.Err())
		}
		return nil, fmt.Errorf("%w: %s: %w: %s", ErrFailed, p.binary, err, tail(stderr.Bytes()))
	}
	pdf, err := os.ReadFile(out)
	if err != nil || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		return nil, fmt.Errorf("%w: %s wrote no PDF: %s", ErrFailed, p.binary, tail(stderr.Bytes()))
	}
	return pdf, nil
}

// tail is the end of Chromium's chatter, enough to say why it failed.
func tail(b []byte) string {
	const max = 600
	b = bytes.TrimSpace(b)
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return string(b)
}
