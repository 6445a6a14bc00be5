package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hotrun-dev/hotrun/event"
)

// session is hotrun running in-process, as `hotrun -json`, on a scratch
// copy of the example module.
type session struct {
	t      *testing.T
	dir    string            // the scratch module
	addr   string            // the engine's HTTP address
	events chan event.Record // every event hotrun printed, in order
	cancel context.CancelFunc
	done   chan error     // run's result
	stdin  io.WriteCloser // hotrun's standard input: headless commands
	log    strings.Builder
}

// exampleCopy copies ../../example to a temporary directory and points its
// replace directive at this repository.
func exampleCopy(t *testing.T) string { return moduleCopy(t, "../../example") }

// moduleCopy copies the module at src to a temporary directory and points
// its replace directive at this repository's engine library.
func moduleCopy(t *testing.T, src string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), filepath.Base(src))
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(filepath.Join(dir, ".hotrun"))
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	mod := filepath.Join(dir, "go.mod")
	b, err := os.ReadFile(mod)
	if err != nil {
		t.Fatal(err)
	}
	b = regexp.MustCompile(`(?m)^replace (\S+) => .*$`).ReplaceAll(b, []byte("replace $1 => "+filepath.Join(repo, "hot")))
	if err := os.WriteFile(mod, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func freeAddr(t *testing.T) string {
	t.Helper()
	addr, err := unusedAddr()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

func startSession(t *testing.T, args ...string) *session {
	t.Helper()
	if testing.Short() {
		t.Skip("end to end: builds the example and runs its engine; skipped with -short")
	}
	return runSession(t, exampleCopy(t), freeAddr(t), args...)
}

// startSessionAt is startSession with the engine on addr.
func startSessionAt(t *testing.T, addr string, args ...string) *session {
	t.Helper()
	return runSession(t, exampleCopy(t), addr, args...)
}

// restartSession starts hotrun again in the project of an earlier session,
// on the same address.
func restartSession(t *testing.T, prev *session, args ...string) *session {
	t.Helper()
	return runSession(t, prev.dir, prev.addr, args...)
}

func runSession(t *testing.T, dir, addr string, args ...string) *session {
	t.Helper()
	s := &session{t: t, dir: dir, addr: addr, events: make(chan event.Record, 10000), done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	pr, pw := io.Pipe()
	inr, inw := io.Pipe()
	s.stdin = inw
	args = append([]string{"-json", "-config", "", "-dir", s.dir}, args...)
	args = append(args, "--", "-addr", s.addr)
	go func() {
		err := run(ctx, args, inr, pw, io.Discard)
		pw.Close()
		s.done <- err
	}()
	go func() {
		defer close(s.events)
		sc := bufio.NewScanner(pr)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			rec, err := event.UnmarshalRecord(sc.Bytes())
			if err != nil {
				t.Errorf("hotrun -json printed a line that is not an event: %q: %v", sc.Text(), err)
				continue
			}
			s.events <- rec
		}
	}()
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			t.Logf("events:\n%s", s.log.String())
		}
	})
	return s
}

// stop cancels hotrun and waits for it to return.
func (s *session) stop() error {
	s.cancel()
	s.stdin.Close()
	for range s.events {
	}
	select {
	case err := <-s.done:
		s.done <- err
		return err
	case <-time.After(30 * time.Second):
		s.t.Fatal("hotrun did not return within 30s of cancel")
		return nil
	}
}

// waitFor reads events until one satisfies ok, failing the test after d.
func waitFor[E event.Event](s *session, d time.Duration, ok func(E) bool) E {
	s.t.Helper()
	timeout := time.After(d)
	for {
		select {
		case rec, open := <-s.events:
			if !open {
				err := <-s.done
				s.done <- err
				s.t.Fatalf("hotrun ended (%v) while waiting for %T", err, *new(E))
			}
			fmt.Fprintf(&s.log, "%s %s\n", rec.Time.Format("15:04:05.000"), event.Format(rec.Event))
			if e, is := rec.Event.(E); is && (ok == nil || ok(e)) {
				return e
			}
		case <-timeout:
			s.t.Fatalf("no %T event within %s", *new(E), d)
		}
	}
}

// command writes a headless command line to hotrun's stdin.
func (s *session) command(c string) {
	s.t.Helper()
	if _, err := io.WriteString(s.stdin, c+"\n"); err != nil {
		s.t.Fatal(err)
	}
}

func (s *session) get(path string) (int, string) {
	s.t.Helper()
	resp, err := http.Get("http://" + s.addr + path)
	if err != nil {
		s.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (s *session) edit(rel string, fn func(string) string) {
	s.t.Helper()
	p := filepath.Join(s.dir, rel)
	b, err := os.ReadFile(p)
	if err != nil {
		s.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(fn(string(b))), 0o644); err != nil {
		s.t.Fatal(err)
	}
}

func replace(old, new string) func(string) string {
	return func(s string) string { return strings.Replace(s, old, new, 1) }
}

const (
	buildWait = 3 * time.Minute // a cold build cache on a busy 2-core machine
	loadWait  = time.Minute
)

// TestReloadLoop is the original demo, end to end: version 1001 serves; an
// edit to the logic's main.go goes live with visits still counting in the
// same engine process; an edit to a logic sub-package goes live; a compile
// error keeps the old version serving and names the file and line; a plugin
// without the symbol is rejected; stopping hotrun leaves no engine.
func TestReloadLoop(t *testing.T) {
	s := startSession(t)
	start := waitFor[event.EngineStart](s, buildWait, nil)
	waitFor(s, loadWait, func(e event.LoadOK) bool { return e.Version == 1 })

	_, body := s.get("/hello?name=test")
	if want := "hello test, this is golang plugin test!, version=1001, name=game1, oldversion=0, oldName=, visits=1"; body != want {
		t.Fatalf("v1 answered\n%q\nwant\n%q", body, want)
	}
	s.get("/hello?name=test")

	s.edit("logic/main.go", func(src string) string {
		return strings.NewReplacer("1001", "1002", `"game1"`, `"game2"`).Replace(src)
	})
	waitFor(s, buildWait, func(e event.Change) bool { return e.Kind == event.KindLogic })
	ok := waitFor(s, loadWait, func(e event.LoadOK) bool { return e.Version > 1 })
	_, body = s.get("/hello?name=test")
	if want := "hello test, this is golang plugin test!, version=1002, name=game2, oldversion=1001, oldName=game1, visits=3"; body != want {
		t.Fatalf("after the edit\n%q\nwant\n%q", body, want)
	}

	s.edit("logic/greet/greet.go", replace("hello %s,", "hi %s,"))
	ok = waitFor(s, loadWait, func(e event.LoadOK) bool { return e.Version > ok.Version })
	if _, body = s.get("/hello?name=test"); !strings.HasPrefix(body, "hi test,") || !strings.HasSuffix(body, "visits=4") {
		t.Fatalf("after editing the greet sub-package: %q", body)
	}

	s.edit("logic/main.go", func(src string) string { return src + "\nfunc broken( {\n" })
	fail := waitFor(s, buildWait, func(e event.BuildFail) bool { return e.Target == event.TargetLogic })
	if len(fail.Diagnostics) == 0 || !strings.HasSuffix(fail.Diagnostics[0].File, filepath.Join("logic", "main.go")) || fail.Diagnostics[0].Line == 0 {
		t.Errorf("compile error diagnostics = %+v, want logic/main.go:line", fail.Diagnostics)
	}
	if strings.Contains(fail.Error, ".hotrun") {
		t.Errorf("the error names hotrun's staging copy: %s", fail.Error)
	}
	if _, body = s.get("/hello?name=test"); !strings.Contains(body, "version=1002") {
		t.Errorf("a compile error took the app down: %q", body)
	}

	s.edit("logic/main.go", func(src string) string {
		src = strings.Replace(src, "\nfunc broken( {\n", "", 1)
		return strings.Replace(src, "var Logic game.Logic", "var Logik game.Logic", 1)
	})
	rej := waitFor(s, buildWait, func(e event.LoadFail) bool { return true })
	if !strings.Contains(rej.Error, "Logic") || rej.Explain == "" {
		t.Errorf("wrong-symbol rejection = %+v, want it to name Logic and explain", rej)
	}
	if code, body := s.get("/hello?name=test"); code != 200 || !strings.Contains(body, "version=1002") {
		t.Errorf("after a rejected version: %d %q", code, body)
	}

	// The same engine served every version: no restart for logic edits.
	if err := syscall.Kill(start.PID, 0); err != nil {
		t.Fatalf("engine pid %d is gone: %v", start.PID, err)
	}
	if err := s.stop(); err != nil {
		t.Fatalf("hotrun returned %v", err)
	}
	if err := syscall.Kill(start.PID, 0); err == nil {
		t.Errorf("engine pid %d still running after hotrun returned", start.PID)
	}
	if _, err := os.Stat("/proc/" + strconv.Itoa(start.PID)); err == nil {
		t.Errorf("engine pid %d still in /proc", start.PID)
	}
}
