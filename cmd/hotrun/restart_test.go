package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hotrun-dev/hotrun/event"
)

// visits returns the visit count in an answer of the example.
func visits(t *testing.T, body string) int {
	t.Helper()
	m := regexp.MustCompile(`visits=(\d+)`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no visits in %q", body)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// client is a steady client of the engine: one request at a time, each on
// a new connection (so a refused connection would show), until stopped.
type client struct {
	sent, failed atomic.Int64
	mu           sync.Mutex // guards errs
	errs         []string   // the first failures, for the report
	stop         chan struct{}
	done         chan struct{}
	longest      atomic.Int64 // the longest wait for one answer, in ns
}

func steadyClient(url string) *client {
	c := &client{stop: make(chan struct{}), done: make(chan struct{})}
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 60 * time.Second}
	go func() {
		defer close(c.done)
		// Bounded: at most 100 000 requests, and never past the test.
		for i := 0; i < 100000; i++ {
			select {
			case <-c.stop:
				return
			default:
			}
			start := time.Now()
			resp, err := hc.Get(url)
			if d := int64(time.Since(start)); d > c.longest.Load() {
				c.longest.Store(d)
			}
			c.sent.Add(1)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode != 200 {
					err = fmt.Errorf("status %d", resp.StatusCode)
				}
			}
			if err != nil {
				c.failed.Add(1)
				c.mu.Lock()
				if len(c.errs) < 5 {
					c.errs = append(c.errs, time.Now().Format("15:04:05.000 ")+err.Error())
				}
				c.mu.Unlock()
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	return c
}

func (c *client) finish(t *testing.T) {
	t.Helper()
	close(c.stop)
	<-c.done
	t.Logf("steady client: %d requests, %d failed, longest wait %s", c.sent.Load(), c.failed.Load(), time.Duration(c.longest.Load()))
	if c.failed.Load() > 0 {
		t.Errorf("%d of %d requests failed: %v", c.failed.Load(), c.sent.Load(), c.errs)
	}
}

// TestStructChangeRestartsWithState adds a field to the shared state struct:
// hotrun can't hot-swap that, so it rebuilds the engine and restarts it with
// its state carried over, while a steady client sees no failed request.
// It does so 5 times, with 20 hot swaps of the logic in between: the
// figures the issue asks for.
func TestStructChangeRestartsWithState(t *testing.T) {
	s := startSession(t)
	first := waitFor[event.EngineStart](s, buildWait, nil)
	waitFor(s, loadWait, func(e event.LoadOK) bool { return true })
	for range 3 {
		s.get("/hello?name=test")
	}
	c := steadyClient("http://" + s.addr + "/hello?name=test")
	pid := first.PID
	const restarts, swaps = 5, 20
	swapped := 0
	for i := range restarts {
		s.edit("game/game.go", replace("type State struct {", fmt.Sprintf("type State struct {\n\tadded%d int // a field added while hotrun runs", i)))
		waitFor(s, buildWait, func(e event.Change) bool { return e.Kind == event.KindHost })
		waitFor(s, buildWait, func(e event.EngineRestart) bool { return e.PID == pid })
		next := waitFor(s, loadWait, func(e event.EngineStart) bool { return true })
		if next.PID == pid {
			t.Fatalf("restart %d: same pid %d", i, pid)
		}
		pid = next.PID
		rest := waitFor(s, loadWait, func(e event.StateRestored) bool { return true })
		if rest.Error != "" {
			t.Fatalf("restart %d: state not restored: %s", i, rest.Error)
		}
		waitFor(s, loadWait, func(e event.LoadOK) bool { return true })
		for range swaps / restarts {
			s.edit("logic/greet/greet.go", replace("golang plugin test!", "golang plugin test!!"))
			waitFor(s, buildWait, func(e event.LoadOK) bool { return true })
			swapped++
		}
	}
	c.finish(t)
	t.Logf("%d state-carrying restarts and %d hot swaps under the steady client", restarts, swapped)
	_, body := s.get("/hello?name=test")
	if got, min := visits(t, body), 4+int(c.sent.Load()); got != min {
		t.Errorf("visits = %d after %d restarts; want %d: every request counted once", got, restarts, min)
	}
}

// TestCrashRecovery kills the engine: hotrun restarts it with the last good
// version and the last snapshot of its state.
func TestCrashRecovery(t *testing.T) {
	s := startSession(t, "-snapshot-every", "100ms")
	start := waitFor[event.EngineStart](s, buildWait, nil)
	waitFor(s, loadWait, func(e event.LoadOK) bool { return true })
	s.edit("logic/main.go", replace("1001", "1002"))
	waitFor(s, buildWait, func(e event.LoadOK) bool { return e.Version == 2 })
	for range 3 {
		s.get("/hello?name=test")
	}
	// The periodic snapshot (every 100 ms here) takes the visits: wait
	// until the file on disk holds them, then kill.
	snap := filepath.Join(s.dir, ".hotrun", "state", "snapshot.json")
	for deadline := time.Now().Add(loadWait); ; {
		if b, _ := os.ReadFile(snap); strings.Contains(string(b), `"Visits":3`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no snapshot with the 3 visits within %s", loadWait)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := syscall.Kill(start.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	exit := waitFor(s, loadWait, func(e event.EngineExit) bool { return e.PID == start.PID })
	if exit.Signal != "killed" {
		t.Errorf("exit = %+v, want signal killed", exit)
	}
	waitFor(s, loadWait, func(e event.EngineStart) bool { return e.PID != start.PID })
	waitFor(s, loadWait, func(e event.StateRestored) bool { return e.Error == "" })
	waitFor(s, loadWait, func(e event.LoadOK) bool { return e.Version == 2 })
	_, body := s.get("/hello?name=test")
	if !strings.Contains(body, "version=1002") || visits(t, body) != 4 {
		t.Errorf("after the crash: %q, want version=1002 and visits=4", body)
	}
}

// TestBadVersions: a check hook that panics, an init that panics, a handler
// that panics, and an init that exits the process. Each time the last good
// version keeps serving; then rollback and forward switch between loaded
// versions with no build.
func TestBadVersions(t *testing.T) {
	s := startSession(t)
	waitFor(s, buildWait, func(e event.LoadOK) bool { return e.Version == 1 })
	s.get("/hello?name=test")

	add := func(code string) { s.edit("logic/main.go", func(src string) string { return src + code }) }
	undo := func(code string) { s.edit("logic/main.go", replace(code, "")) }

	const check = "\nfunc Check() error { panic(\"check boom\") }\n"
	add(check)
	fail := waitFor(s, buildWait, func(e event.LoadFail) bool { return true })
	if !strings.Contains(fail.Error, "check boom") || fail.Explain == "" {
		t.Errorf("panicking check: %+v", fail)
	}
	undo(check)

	const initPanic = "\nfunc init() { panic(\"init boom\") }\n"
	add(initPanic)
	fail = waitFor(s, buildWait, func(e event.LoadFail) bool { return e.Version > fail.Version })
	if !strings.Contains(fail.Error, "init boom") || fail.Explain == "" {
		t.Errorf("panicking init: %+v", fail)
	}
	undo(initPanic)
	if _, body := s.get("/hello?name=test"); visits(t, body) != 2 {
		t.Errorf("after two rejected versions: %q", body)
	}

	s.edit("logic/greet/greet.go", replace("func Hello(name string, version int, model string, s game.Snapshot) string {",
		"func Hello(name string, version int, model string, s game.Snapshot) string {\n\tif name == \"boom\" {\n\t\tpanic(\"handler boom\")\n\t}"))
	v := waitFor(s, buildWait, func(e event.LoadOK) bool { return true }).Version
	if code, _ := s.get("/hello?name=boom"); code != 500 {
		t.Errorf("a panicking handler answered %d, want 500", code)
	}
	p := waitFor(s, loadWait, func(e event.Panic) bool { return true })
	if p.Version != v || p.Value != "handler boom" || !strings.Contains(p.Where, "greet") {
		t.Errorf("panic event %+v", p)
	}
	if code, _ := s.get("/hello?name=test"); code != 200 {
		t.Errorf("after a handler panic: %d", code)
	}

	s.command("b")
	rb := waitFor(s, loadWait, func(e event.Rollback) bool { return true })
	if rb.From != v || rb.To != 1 {
		t.Errorf("rollback %+v, want %d -> 1", rb, v)
	}
	if code, _ := s.get("/hello?name=boom"); code != 200 {
		t.Errorf("after rollback to v1, boom answered %d", code)
	}
	s.command("f")
	if fw := waitFor(s, loadWait, func(e event.Rollback) bool { return true }); fw.To != v {
		t.Errorf("forward %+v, want -> %d", fw, v)
	}

	const exit = "\nfunc init() { os.Exit(3) }\n"
	s.edit("logic/main.go", func(src string) string {
		return strings.Replace(src, "import (", "import (\n\t\"os\"", 1) + exit
	})
	dead := waitFor(s, buildWait, func(e event.LoadFail) bool { return true })
	if !strings.Contains(dead.Error, "exited") {
		t.Errorf("an init that exits: %+v", dead)
	}
	waitFor(s, loadWait, func(e event.EngineStart) bool { return true })
	waitFor(s, loadWait, func(e event.LoadOK) bool { return e.Version == v })
	if _, body := s.get("/hello?name=test"); !strings.Contains(body, "version=1001") {
		t.Errorf("after a version that kills the engine: %q", body)
	}
}

// TestEngineThatCantStart edits the engine so that it exits as it starts:
// the new engine never takes over, the old one keeps serving, and hotrun
// does not retry the same failure; a fix then takes over.
func TestEngineThatCantStart(t *testing.T) {
	s := startSession(t)
	first := waitFor[event.EngineStart](s, buildWait, nil)
	waitFor(s, buildWait, func(e event.LoadOK) bool { return true })
	s.edit("engine/main.go", replace("flag.Parse()", "flag.Parse()\n\tos.Exit(7)"))
	s.edit("engine/main.go", replace("import (", "import (\n\t\"os\""))
	waitFor(s, buildWait, func(e event.EngineExit) bool { return e.Code == 7 })
	waitFor(s, loadWait, func(e event.Log) bool { return strings.Contains(e.Text, "keeps serving") })
	time.Sleep(3 * time.Second)
	if n := strings.Count(s.log.String(), "(code 7)"); n != 1 {
		t.Errorf("%d exits with code 7, want 1: no retries of the same failure", n)
	}
	if code, body := s.get("/hello?name=test"); code != 200 || !strings.Contains(body, "version=1001") {
		t.Errorf("the old engine stopped serving: %d %q", code, body)
	}
	if err := syscall.Kill(first.PID, 0); err != nil {
		t.Errorf("the first engine is gone: %v", err)
	}
	s.edit("engine/main.go", replace("\n\tos.Exit(7)", "\n\t_ = os.Args"))
	next := waitFor(s, buildWait, func(e event.EngineStart) bool { return true })
	waitFor(s, loadWait, func(e event.EngineExit) bool { return e.PID == first.PID })
	servingVersion(s, loadWait, 3)
	if next.PID == first.PID {
		t.Error("no new engine")
	}
}

// TestRestartMode runs the example in restart mode: every edit is a new
// engine executable with the logic compiled in, started with the state and
// the listening socket of the one before, and a steady client sees no
// failed request.
func TestRestartMode(t *testing.T) {
	s := startSession(t, "-mode", "restart")
	first := waitFor[event.EngineStart](s, buildWait, nil)
	waitFor(s, loadWait, func(e event.LoadOK) bool { return e.Version == 1 })
	s.get("/hello?name=test")
	c := steadyClient("http://" + s.addr + "/hello?name=test")
	pid := first.PID
	for i, v := range []string{"1002", "1003", "1004"} {
		s.edit("logic/main.go", replace(fmt.Sprint(1001+i), v))
		next := waitFor(s, buildWait, func(e event.EngineStart) bool { return true })
		if next.PID == pid {
			t.Fatalf("edit %d: no new engine", i)
		}
		pid = next.PID
		waitFor(s, loadWait, func(e event.LoadOK) bool { return e.Version == i+2 })
	}
	c.finish(t)
	_, body := s.get("/hello?name=test")
	if !strings.Contains(body, "version=1004, name=game1, oldversion=1003") {
		t.Errorf("after three edits: %q", body)
	}
	if got, want := visits(t, body), 2+int(c.sent.Load()); got != want {
		t.Errorf("visits = %d, want %d: state lost across restarts", got, want)
	}
	s.edit("logic/main.go", func(src string) string { return src + "\nfunc broken( {\n" })
	fail := waitFor(s, buildWait, func(e event.BuildFail) bool { return true })
	if len(fail.Diagnostics) == 0 || !strings.HasSuffix(fail.Diagnostics[0].File, "main.go") || strings.Contains(fail.Error, "hotrunlogic") {
		t.Errorf("compile error in restart mode: %+v", fail)
	}
	if _, body := s.get("/hello?name=test"); !strings.Contains(body, "version=1004") {
		t.Errorf("a compile error took the app down: %q", body)
	}
}
