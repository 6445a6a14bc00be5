//go:build unix

package runner

import (
	"os"
	"strconv"
	"strings"
	"syscall"
)

// signalGroup sends sig to the engine's process group (its pid: hotrun
// starts it as the leader of a group of its own): the engine and anything
// it started.
func signalGroup(pid int, sig syscall.Signal) {
	if pid > 0 {
		syscall.Kill(-pid, sig)
	}
}

// alive reports whether process pid runs. A zombie does not: an engine
// whose hotrun died is nobody's child, and where nothing reaps orphans (a
// container's init) it stays a zombie after it exits.
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil && err != syscall.EPERM {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true // no /proc (macOS, FreeBSD): kill said it exists
	}
	// pid (comm) S ...: the state follows the last ')'.
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z'
	}
	return true
}

// ownedByMe reports whether fi belongs to this process's user.
func ownedByMe(fi os.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Getuid()
}
