package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/hotrun-dev/hotrun/event"
)

// When hotrun dies without stopping its engine (kill -9, out of memory),
// the engine serves on for its orphan grace (Config.OrphanGrace), and a
// hotrun started in the project meanwhile attaches to it: the same
// process, its versions, its connections. What it needs to find the
// engine is the serving engine's record, .hotrun/engine.json, which the
// loop writes whenever another engine takes over and removes when it
// stops the engine itself.

// An engine's control directory holds its control socket and pidFile,
// which names the engine's process: a later hotrun removes the directories
// of engines that are gone, and never one of an engine that lives.
const (
	controlSock = "control.sock"
	pidFile     = "engine.pid"
)

// record is what .hotrun/engine.json says of the serving engine.
type record struct {
	PID     int    `json:"pid"`
	Control string `json:"control"` // its control socket
	Path    string `json:"path"`    // its executable, the engine build it runs
	Mode    string `json:"mode"`
	Hotrun  int    `json:"hotrun"` // the pid of the hotrun that started it
}

func recordPath(out string) string { return filepath.Join(out, "engine.json") }

// readRecord returns the record of an engine that may still serve, or nil.
func readRecord(out string) *record {
	b, err := os.ReadFile(recordPath(out))
	if err != nil {
		return nil
	}
	var r record
	if json.Unmarshal(b, &r) != nil || r.PID <= 0 || !alive(r.PID) {
		os.Remove(recordPath(out))
		return nil
	}
	return &r
}

// writeRecord records the serving engine; a nil one removes the record.
func writeRecord(out string, r *record) error {
	if r == nil {
		err := os.Remove(recordPath(out))
		if errors.Is(err, os.ErrNotExist) {
			err = nil
		}
		return err
	}
	b, _ := json.Marshal(r)
	tmp := recordPath(out) + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, recordPath(out))
}

// AttachEngine connects to an engine that an earlier hotrun started and
// left serving (it was killed): pid is the engine's process, sock its
// control socket. The engine hands its listening sockets over again. It
// is not hotrun's child: its output is not seen again, and its exit is
// noticed when its control connection closes and its process is gone.
func AttachEngine(ctx context.Context, pid int, sock string, events event.Publisher) (*Engine, error) {
	if !alive(pid) {
		return nil, fmt.Errorf("runner: attach: pid %d is gone", pid)
	}
	e := &Engine{
		pid:       pid,
		dir:       filepath.Dir(sock),
		events:    events,
		exited:    make(chan struct{}),
		procDone:  make(chan struct{}),
		pending:   make(map[int64]chan answer),
		listeners: make(map[string]*os.File),
		words:     lastWords{max: 5},
	}
	c, err := (&net.Dialer{Timeout: 2 * time.Second}).DialContext(ctx, "unix", sock)
	if err != nil {
		return nil, fmt.Errorf("runner: attach to pid %d: %w", pid, err)
	}
	e.conn = c
	e.ctl.Add(1)
	go func() {
		defer e.ctl.Done()
		e.readControl(c.(*net.UnixConn))
	}()
	go func() {
		// Not hotrun's child: no Wait. The connection closes when the
		// engine exits (or stops serving hotrun); then the process goes.
		e.ctl.Wait()
		for alive(pid) {
			time.Sleep(50 * time.Millisecond)
		}
		close(e.procDone)
		os.RemoveAll(e.dir)
		close(e.exited)
		e.failPending()
	}()
	return e, nil
}

// sweepControlDirs removes the control directories (os.TempDir/hotrun-*)
// that engines of this user left when they died without hotrun (killed
// while orphans, or with the hotrun that started them): the ones whose
// engine is gone. A directory of an engine that lives, or one not
// recognizably an engine's, is left alone.
func sweepControlDirs() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "hotrun-*"))
	for _, d := range dirs {
		fi, err := os.Lstat(d)
		if err != nil || !fi.IsDir() || !ownedByMe(fi) {
			continue
		}
		ents, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		names := make([]string, 0, len(ents))
		for _, e := range ents {
			names = append(names, e.Name())
		}
		b, err := os.ReadFile(filepath.Join(d, pidFile))
		pid, perr := strconv.Atoi(strings.TrimSpace(string(b)))
		switch {
		case err == nil && perr == nil:
			if !alive(pid) && onlyEngineFiles(names) {
				os.RemoveAll(d)
			}
		case len(names) == 0 && time.Since(fi.ModTime()) > time.Hour:
			os.Remove(d) // an engine that never started
		}
	}
}

// onlyEngineFiles reports whether a directory holds nothing but what an
// engine's control directory holds.
func onlyEngineFiles(names []string) bool {
	for _, n := range names {
		if n != pidFile && n != controlSock {
			return false
		}
	}
	return true
}
