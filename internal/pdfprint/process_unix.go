//go:build unix

package pdfprint

import (
	"os/exec"
	"syscall"
)

// ownGroup starts Chromium in a process group of its own, so that a
// timeout ends its zygote and renderers too, not just the browser
// process, and reap kills whatever of the group is left after it exits.
func ownGroup(cmd *exec.Cmd) (reap func()) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	return func() {
		if cmd.Process != nil {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // ESRCH when none is left
		}
	}
}
