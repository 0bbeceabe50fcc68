// Package serveproc builds the samspill binary and runs `samspill serve` as
// a child process, for the harnesses that must treat the server as users
// do: the crash harness kills it with SIGKILL, the multi-instance test runs
// several, the load harness drives one over loopback.
package serveproc

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Package is the import path of the samspill command.
const Package = "github.com/samspill/samspill/cmd/samspill"

var (
	listening  = regexp.MustCompile(`listening on (http://\S+)`)
	adminToken = regexp.MustCompile(`^(ssp_[A-Za-z0-9_-]{43})$`)
)

// Build compiles the samspill command into dir and returns the binary's
// path. It runs the go command of PATH from the current directory, which
// must lie inside the module.
func Build(ctx context.Context, dir string) (string, error) { return BuildWith(ctx, dir) }

// BuildWith is Build with extra flags for go build, placed before the
// package, such as -race (a server whose data races the harness should
// see in its output).
func BuildWith(ctx context.Context, dir string, flags ...string) (string, error) {
	bin := filepath.Join(dir, "samspill")
	args := append(append([]string{"build", "-o", bin}, flags...), Package)
	cmd := exec.CommandContext(ctx, "go", args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build %s %s: %w\n%s", strings.Join(flags, " "), Package, err, out)
	}
	return bin, nil
}

// Process is one running `samspill serve`.
type Process struct {
	cmd *exec.Cmd
	// URL is the address the server printed, e.g. http://127.0.0.1:41234.
	URL string
	// Token is the admin token the server printed on a fresh installation,
	// "" when it printed none.
	Token string

	out    *lockedBuffer // stdout and stderr, for diagnostics
	exited chan struct{}
	err    error // Wait's result, once exited is closed
}

// Start runs bin with args (which must include "serve" and an --addr that
// picks a port, such as 127.0.0.1:0) and extra environment variables, and
// returns once the server has printed the address it listens on. It fails
// when the process exits first or startTimeout passes.
func Start(ctx context.Context, bin string, args, env []string, startTimeout time.Duration) (*Process, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p := &Process{cmd: cmd, out: &lockedBuffer{}, exited: make(chan struct{})}
	cmd.Stderr = p.out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	ready := make(chan struct{})
	go func() {
		r := bufio.NewReader(stdout)
		announced := false
		for {
			line, err := r.ReadString('\n')
			_, _ = p.out.Write([]byte(line))
			if m := adminToken.FindStringSubmatch(strings.TrimSpace(line)); m != nil && !announced {
				p.Token = m[1]
			}
			if m := listening.FindStringSubmatch(line); m != nil && !announced {
				p.URL, announced = m[1], true
				close(ready)
			}
			if err != nil {
				break
			}
		}
		p.err = cmd.Wait()
		close(p.exited)
	}()
	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case <-ready:
		return p, nil
	case <-p.exited:
		return nil, fmt.Errorf("serve exited before listening: %v\n%s", p.err, p.Output())
	case <-timer.C:
	case <-ctx.Done():
	}
	_ = p.Kill()
	return nil, fmt.Errorf("serve did not listen within %s\n%s", startTimeout, p.Output())
}

// Pid is the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Kill sends SIGKILL and waits for the process to be gone.
func (p *Process) Kill() error {
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill serve: %w", err)
	}
	<-p.exited
	return nil
}

// Stop sends SIGTERM and waits up to timeout for a clean exit; a process
// still running then is killed and reported.
func (p *Process) Stop(timeout time.Duration) error {
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stop serve: %w", err)
	}
	select {
	case <-p.exited:
		if p.err != nil {
			return fmt.Errorf("serve exited with %w\n%s", p.err, p.Output())
		}
		return nil
	case <-time.After(timeout):
		_ = p.Kill()
		return fmt.Errorf("serve did not stop within %s; killed\n%s", timeout, p.Output())
	}
}

// Exited is closed when the process has ended.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Output is what the process has printed so far (stdout and stderr).
func (p *Process) Output() string { return p.out.String() }

// lockedBuffer is a bytes.Buffer safe for concurrent writers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

var _ io.Writer = (*lockedBuffer)(nil)

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
