//go:build unix

package runner

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// lockProject takes .hotrun/lock for this process, so that one hotrun at a
// time runs in a project: two would share the state snapshot and the build
// directory and delete each other's plugins. The kernel drops the lock when
// the process dies, however it dies, so a lock is never stale.
func lockProject(out string) (release func(), err error) {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, fmt.Errorf("runner: %w", err)
	}
	path := filepath.Join(out, "lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("runner: lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		b, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			who := "another hotrun"
			if pid, perr := strconv.Atoi(strings.TrimSpace(string(b))); perr == nil {
				who = fmt.Sprintf("another hotrun (pid %d)", pid)
			}
			return nil, fmt.Errorf("runner: %w: %s runs in this project (%s); stop it first", ErrLocked, who, filepath.Dir(out))
		}
		return nil, fmt.Errorf("runner: lock: %w", err)
	}
	f.Truncate(0)
	f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return func() { f.Close() }, nil
}
