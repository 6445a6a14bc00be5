//go:build unix && !linux

package runner

import (
	"os/exec"
	"syscall"
)

// setProcAttr puts the engine in its own process group, so a terminal's
// Ctrl-C reaches hotrun alone and hotrun stops the engine in order.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}
