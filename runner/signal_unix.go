//go:build unix

package runner

import (
	"os/exec"
	"syscall"
)

// signalGroup sends sig to the engine's process group: the engine and
// anything it started.
func signalGroup(cmd *exec.Cmd, sig syscall.Signal) {
	if cmd.Process != nil {
		syscall.Kill(-cmd.Process.Pid, sig)
	}
}
