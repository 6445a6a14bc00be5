//go:build unix

package runner

import (
	"os/exec"
	"syscall"
)

// setProcAttr puts the engine in its own process group, so a terminal's
// Ctrl-C reaches hotrun alone and hotrun stops the engine in order. When
// hotrun dies without a chance to stop it (SIGKILL, out of memory), the
// engine notices its control connection close and serves on for its
// orphan grace, for the next hotrun to attach to: so no Pdeathsig.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}
