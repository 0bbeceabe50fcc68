//go:build !unix

package pdfprint

import "os/exec"

// ownGroup: elsewhere the timeout kills the browser process alone.
func ownGroup(*exec.Cmd) (reap func()) { return func() {} }
