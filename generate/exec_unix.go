//go:build unix

package generate

import (
	"os/exec"
	"syscall"
	"time"
)

// killGroup makes canceling cmd kill its whole process group: sh, the
// generator and whatever it started (go run builds, then runs, a child),
// which would otherwise write files after a newer save made the build
// stale.
func killGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	cmd.WaitDelay = 2 * time.Second
}
