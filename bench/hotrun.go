package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hotrun-dev/hotrun/event"
)

// session is the hotrun binary running as `hotrun -json` on a scratch copy
// of the example, with every event it printed kept in order.
type session struct {
	cmd  *exec.Cmd
	dir  string // the scratch module
	addr string // the engine's HTTP address
	logf *os.File

	mu   sync.Mutex     // guards recs and done
	recs []event.Record // every event, in the order hotrun printed them
	done bool           // stdout closed: hotrun ended
	wake chan struct{}  // cap 1: a new record or the end; never closed

	next int // the next record wait looks at; only the bench goroutine uses it
}

// startSession starts bin on dir, serving on addr, with extra flags.
// stderr goes to a log file in dir's parent, for a failed run's report.
func startSession(bin, dir, addr string, extra ...string) (*session, error) {
	args := append([]string{"-json", "-config", "", "-dir", dir}, extra...)
	args = append(args, "--", "-addr", addr)
	cmd := exec.Command(bin, args...)
	cmd.Dir = filepath.Dir(dir)
	// A group of its own, so a forced stop reaches hotrun's children too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	logf, err := os.Create(dir + ".hotrun.log")
	if err != nil {
		return nil, err
	}
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start hotrun: %w", err)
	}
	s := &session{cmd: cmd, dir: dir, addr: addr, logf: logf, wake: make(chan struct{}, 1)}
	go s.read(out)
	return s, nil
}

// read keeps every event line; it never blocks hotrun on a slow reader.
func (s *session) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		rec, err := event.UnmarshalRecord(sc.Bytes())
		if err != nil {
			fmt.Fprintf(s.logf, "bench: not an event: %q\n", sc.Text())
			continue
		}
		s.mu.Lock()
		s.recs = append(s.recs, rec)
		s.mu.Unlock()
		s.signal()
	}
	s.mu.Lock()
	s.done = true
	s.mu.Unlock()
	s.signal()
}

func (s *session) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// mark is the index of the next event hotrun prints.
func (s *session) mark() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.recs)
}

// since returns the events from index i on.
func (s *session) since(i int) []event.Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]event.Record(nil), s.recs[min(i, len(s.recs)):]...)
}

// wait reads events from where the last wait stopped until ok accepts one.
func (s *session) wait(ctx context.Context, d time.Duration, what string, ok func(event.Event) bool) (event.Record, error) {
	timeout := time.NewTimer(d)
	defer timeout.Stop()
	for {
		s.mu.Lock()
		recs, done := s.recs[s.next:], s.done
		s.mu.Unlock()
		for _, r := range recs {
			s.next++
			if ok(r.Event) {
				return r, nil
			}
		}
		if done {
			return event.Record{}, fmt.Errorf("hotrun ended while waiting for %s (see %s)", what, s.logf.Name())
		}
		select {
		case <-s.wake:
		case <-timeout.C:
			return event.Record{}, fmt.Errorf("no %s within %s (see %s); the last events:\n%s", what, d, s.logf.Name(), s.tail(20))
		case <-ctx.Done():
			return event.Record{}, ctx.Err()
		}
	}
}

// tail formats the last n events other than requests, for an error.
func (s *session) tail(n int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var lines []string
	for i := len(s.recs) - 1; i >= 0 && len(lines) < n; i-- {
		switch s.recs[i].Event.(type) {
		case event.Request, event.Versions, event.Memory, event.StateSaved:
			continue
		}
		lines = append(lines, s.recs[i].Time.Format("15:04:05.000 ")+event.Format(s.recs[i].Event))
	}
	slices.Reverse(lines)
	return strings.Join(lines, "\n")
}

// skip makes the next wait start at the events hotrun prints from now on.
func (s *session) skip() { s.next = s.mark() }

// enginePID is the pid of the engine that started last.
func (s *session) enginePID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.recs) - 1; i >= 0; i-- {
		if e, ok := s.recs[i].Event.(event.EngineStart); ok {
			return e.PID
		}
	}
	return 0
}

// stop interrupts hotrun as Ctrl-C would and waits for it; past 30 s it
// kills hotrun's process group.
func (s *session) stop() error {
	defer s.logf.Close()
	s.cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return nil // interrupted: its exit code is not the bench's business
		}
		return err
	case <-time.After(30 * time.Second):
		syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-done
		return fmt.Errorf("hotrun did not stop within 30s of an interrupt; killed")
	}
}

// cpuTicks is the user+system CPU time of process pid, in clock ticks.
func cpuTicks(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name may hold spaces: the fields start after its ')'.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	k, _ := strconv.ParseInt(f[12], 10, 64)
	return u + k
}

// clockTick is USER_HZ, 100 on every Linux the bench runs on.
const clockTick = 100
