package runner

import (
	"os/exec"
	"syscall"
)

// setProcAttr puts the engine in its own process group, so a terminal's
// Ctrl-C reaches hotrun alone and hotrun stops the engine in order, and
// asks the kernel to send the engine SIGTERM if hotrun itself dies without
// a chance to (SIGKILL, a crash): the engine library takes it as a stop,
// drains, saves the state for the next session, and exits. No engine is
// left running. (Elsewhere the engine notices its control connection
// close and does the same.)
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
