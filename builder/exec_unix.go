//go:build unix

package builder

import (
	"os/exec"
	"syscall"
	"time"
)

// killGroup makes cancelling cmd kill its whole process group: the go
// command's compile and link children too, which would otherwise run on and
// hold the CPU after a newer save made the build stale.
func killGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	cmd.WaitDelay = 2 * time.Second
}
