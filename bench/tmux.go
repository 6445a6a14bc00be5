package main

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// tmuxServer is a tmux server of the bench's own: its socket is a path in
// the scratch directory (tmux -S; -L's sockets outlive their server in
// /tmp/tmux-UID), so the user's tmux, and anyone else's sessions, never
// meet the bench's, and kill-server ends only the bench's.
type tmuxServer struct {
	socket string
}

// do runs one tmux command on the bench's server.
func (t *tmuxServer) do(args ...string) (string, error) {
	out, err := exec.Command("tmux", append([]string{"-S", t.socket}, args...)...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("tmux %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// start starts a server with one session, name, of w×h running the shell
// command cmd (none of the user's settings: -f /dev/null), and returns the
// pid of the pane's process: cmd's, when it execs. The pane stays after cmd
// exits, so dead can say how it ended.
func (t *tmuxServer) start(name string, w, h int, cmd string) (int, error) {
	if _, err := t.do("-f", "/dev/null", "new-session", "-d", "-s", name, "-x", strconv.Itoa(w), "-y", strconv.Itoa(h), cmd,
		";", "set-option", "-t", name, "remain-on-exit", "on"); err != nil {
		return 0, err
	}
	out, err := t.do("display-message", "-p", "-t", name, "#{pane_pid}")
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(out))
}

// capture is the text on session name's screen, one line a row, no escapes.
func (t *tmuxServer) capture(name string) (string, error) {
	return t.do("capture-pane", "-p", "-t", name)
}

// dead reports whether the process in session name's pane has exited.
func (t *tmuxServer) dead(name string) bool {
	out, err := t.do("display-message", "-p", "-t", name, "#{pane_dead}")
	return err != nil || strings.TrimSpace(out) == "1"
}

// quit presses q in session name, which quits hotrun and so stops its
// engine, waits up to wait for the pane's process to end, and ends the
// server. It reports whether the process ended by itself.
func (t *tmuxServer) quit(name string, wait time.Duration) bool {
	t.do("send-keys", "-t", name, "q")
	ended := false
	for deadline := time.Now().Add(wait); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if t.dead(name) {
			ended = true
			break
		}
	}
	// Our server only: its socket is ours. A process still running gets
	// the hangup.
	t.do("kill-server")
	return ended
}

// shellQuote quotes s for the sh -c that tmux runs a command with.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
