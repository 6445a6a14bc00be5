package runner

import (
	"os/exec"
	"syscall"
)

// setProcAttr puts the engine in its own process group, so a terminal's
// Ctrl-C reaches hotrun alone and hotrun stops the engine in order, and
// asks the kernel to kill the engine if hotrun itself dies without a chance
// to (SIGKILL, a crash): no engine is ever left running.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
