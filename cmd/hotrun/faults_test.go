package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hotrun-dev/hotrun/event"
	"github.com/hotrun-dev/hotrun/runner"
)

// The fault tests: each reproduces a way the supervisor used to lose the
// server or its state, with real processes, and checks what happens now.

// servingVersion waits until the version list says v is live.
func servingVersion(s *session, d time.Duration, v int) {
	s.t.Helper()
	waitFor(s, d, func(e event.Versions) bool {
		for _, r := range e.Versions {
			if r.Version == v && r.State == event.VersionLive {
				return true
			}
		}
		return false
	})
}

// TestInterfaceFirst adds a method to the shared Logic interface before the
// logic implements it: the logic doesn't build, so the engine keeps serving,
// untouched, under a steady client; when the logic implements it, one new
// engine takes over, state kept.
func TestInterfaceFirst(t *testing.T) {
	s := startSession(t)
	first := waitFor[event.EngineStart](s, buildWait, nil)
	waitFor(s, loadWait, func(e event.LoadOK) bool { return e.Version == 1 })
	s.get("/hello?name=test")
	c := steadyClient("http://" + s.addr + "/hello?name=test")

	s.edit("game/game.go", replace("\tName() string\n", "\tName() string\n\t// Motto is new: the logic implements it next.\n\tMotto() string\n"))
	waitFor(s, buildWait, func(e event.Change) bool { return e.Kind == event.KindHost })
	fail := waitFor(s, buildWait, func(e event.BuildFail) bool { return e.Target == event.TargetLogic })
	if len(fail.Diagnostics) == 0 || !strings.Contains(fail.Error, "Motto") {
		t.Errorf("the logic's build failure doesn't name the missing method: %+v", fail)
	}
	waitFor(s, loadWait, func(e event.Log) bool { return strings.Contains(e.Text, "keeps serving") })
	// Give a restart loop, if there were one, the time to show.
	time.Sleep(3 * time.Second)

	s.edit("logic/main.go", replace("func (model) Name() string { return modelName }",
		"func (model) Name() string { return modelName }\n\nfunc (model) Motto() string { return \"ready\" }"))
	next := waitFor(s, buildWait, func(e event.EngineStart) bool { return true })
	if next.PID == first.PID {
		t.Fatal("no new engine for the new interface")
	}
	servingVersion(s, loadWait, 3)
	c.finish(t)
	_, body := s.get("/hello?name=test")
	if got, want := visits(t, body), 2+int(c.sent.Load()); got != want {
		t.Errorf("visits = %d, want %d: state lost in the handover", got, want)
	}
	s.stop()
	starts := strings.Count(s.log.String(), "engine   started")
	if starts != 2 {
		t.Errorf("%d engines started, want 2 (the first, and one handover):\n%s", starts, s.log.String())
	}
}

// TestInitNeverReturns loads a version whose init blocks forever: it fails
// with a plain sentence, is blamed, and the engine (stuck in the load) is
// replaced on the last good version with its state; the next save goes
// live.
func TestInitNeverReturns(t *testing.T) {
	s := startSession(t)
	first := waitFor[event.EngineStart](s, buildWait, nil)
	waitFor(s, loadWait, func(e event.LoadOK) bool { return e.Version == 1 })
	for range 3 {
		s.get("/hello?name=test")
	}
	const hang = "\nfunc init() { select {} }\n"
	s.edit("logic/main.go", func(src string) string { return src + hang })
	fail := waitFor(s, buildWait, func(e event.LoadFail) bool { return e.Version == 2 })
	if !strings.Contains(fail.Error, "did not finish loading") {
		t.Errorf("load.fail = %+v", fail)
	}
	waitFor(s, loadWait, func(e event.Blame) bool { return e.Version == 2 })
	next := waitFor(s, loadWait, func(e event.EngineStart) bool { return true })
	if next.PID == first.PID {
		t.Fatal("same engine")
	}
	servingVersion(s, loadWait, 1)
	if _, body := s.get("/hello?name=test"); !strings.Contains(body, "version=1001") || visits(t, body) != 4 {
		t.Errorf("after the hung init: %q, want v1 and visits=4", body)
	}
	s.edit("logic/main.go", func(src string) string {
		return strings.Replace(strings.Replace(src, hang, "", 1), "1001", "1003", 1)
	})
	servingVersion(s, buildWait, 3)
	if _, body := s.get("/hello?name=test"); !strings.Contains(body, "version=1003") || visits(t, body) != 5 {
		t.Errorf("after the fix: %q", body)
	}
}

// hungWait is how long a stopped engine may take to be shown as hung: an
// idle one is pinged every 5 s, and a ping times out after 3 s.
const hungWait = 15 * time.Second

// TestStoppedEngine stops the engine with SIGSTOP: briefly, and hotrun
// shows it hung, then re-reads what it holds when it answers again; then
// for longer than the grace period, and hotrun replaces it with its state.
func TestStoppedEngine(t *testing.T) {
	s := startSession(t, "-snapshot-every", "200ms")
	first := waitFor[event.EngineStart](s, buildWait, nil)
	waitFor(s, loadWait, func(e event.LoadOK) bool { return e.Version == 1 })
	s.edit("logic/main.go", replace("1001", "1002"))
	servingVersion(s, buildWait, 2)
	for range 3 {
		s.get("/hello?name=test")
	}
	time.Sleep(time.Second) // a snapshot with the 3 visits

	syscall.Kill(first.PID, syscall.SIGSTOP)
	waitFor(s, hungWait, func(e event.EngineHung) bool { return e.PID == first.PID })
	syscall.Kill(first.PID, syscall.SIGCONT)
	waitFor(s, 10*time.Second, func(e event.Log) bool { return strings.Contains(e.Text, "answers again") })
	s.command("b")
	if rb := waitFor(s, loadWait, func(e event.Rollback) bool { return true }); rb.From != 2 || rb.To != 1 {
		t.Errorf("rollback after the stop: %+v", rb)
	}
	s.command("f")
	waitFor(s, loadWait, func(e event.Rollback) bool { return e.To == 2 })
	time.Sleep(time.Second)

	syscall.Kill(first.PID, syscall.SIGSTOP)
	defer syscall.Kill(first.PID, syscall.SIGCONT)
	waitFor(s, hungWait, func(e event.EngineHung) bool { return e.PID == first.PID })
	next := waitFor(s, 30*time.Second, func(e event.EngineStart) bool { return true })
	servingVersion(s, loadWait, 2)
	if _, body := s.get("/hello?name=test"); !strings.Contains(body, "version=1002") || visits(t, body) != 4 {
		t.Errorf("after the replacement of a stopped engine: %q, want v2 and visits=4", body)
	}
	if next.PID == first.PID {
		t.Error("not replaced")
	}
}

// TestCrashBlame: a version whose init exits is blamed, not the one
// serving; two kills from outside blame nothing.
func TestCrashBlame(t *testing.T) {
	s := startSession(t)
	start := waitFor[event.EngineStart](s, buildWait, nil)
	waitFor(s, loadWait, func(e event.LoadOK) bool { return e.Version == 1 })
	s.edit("logic/main.go", func(src string) string {
		return strings.Replace(src, "import (", "import (\n\t\"os\"", 1) + "\nfunc init() { os.Exit(3) }\n"
	})
	if b := waitFor(s, buildWait, func(e event.Blame) bool { return true }); b.Version != 2 {
		t.Errorf("blamed v%d, want v2 (the one that loaded)", b.Version)
	}
	next := waitFor(s, loadWait, func(e event.EngineStart) bool { return e.PID != start.PID })
	servingVersion(s, loadWait, 1)

	for i := range 2 {
		syscall.Kill(next.PID, syscall.SIGKILL)
		waitFor(s, loadWait, func(e event.EngineExit) bool { return e.PID == next.PID })
		next = waitFor(s, loadWait, func(e event.EngineStart) bool { return true })
		servingVersion(s, loadWait, 1)
		if _, body := s.get("/hello?name=test"); !strings.Contains(body, "version=1001") {
			t.Errorf("after outside kill %d: %q", i+1, body)
		}
	}
	if strings.Contains(s.log.String(), "blame    v1") {
		t.Errorf("v1 blamed for outside kills:\n%s", s.log.String())
	}
}

// TestCrashLoopEndsOnLastGood: a version that crashes the engine a moment
// after it goes live is suspect: the replacement serves the last version
// no engine died on, and the crash does not repeat.
func TestCrashLoopEndsOnLastGood(t *testing.T) {
	s := startSession(t)
	waitFor(s, buildWait, func(e event.LoadOK) bool { return e.Version == 1 })
	s.edit("logic/main.go", func(src string) string {
		src = strings.Replace(src, "import (", "import (\n\t\"time\"", 1)
		return src + "\nfunc init() { go func() { time.Sleep(1500 * time.Millisecond); panic(\"late boom\") }() }\n"
	})
	// v2 takes the engine down once: it is suspect, and the replacement
	// falls back to v1, which no engine died on, at once.
	waitFor(s, 2*buildWait, func(e event.Versions) bool {
		for _, v := range e.Versions {
			if v.Version == 2 && v.Suspect != "" {
				return true
			}
		}
		return false
	})
	servingVersion(s, loadWait, 1)
	time.Sleep(3 * time.Second) // no crash of v1 follows
	if code, body := s.get("/hello?name=test"); code != 200 || !strings.Contains(body, "version=1001") {
		t.Errorf("after the crash: %d %q", code, body)
	}
	if n := strings.Count(s.log.String(), "unexpected exit"); n != 1 {
		t.Errorf("%d crashes, want 1: a suspect is never fallen back to\n%s", n, s.log.String())
	}
}

// TestTwoInstances: a second hotrun in the same project exits with an
// error that names the first one's pid.
func TestTwoInstances(t *testing.T) {
	s := startSession(t)
	waitFor(s, buildWait, func(e event.LoadOK) bool { return true })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := run(ctx, []string{"-json", "-config", "", "-dir", s.dir}, strings.NewReader(""), io.Discard, io.Discard)
	if !errors.Is(err, runner.ErrLocked) || !strings.Contains(err.Error(), "pid "+strconv.Itoa(os.Getpid())) {
		t.Errorf("second hotrun: %v, want a lock error naming pid %d", err, os.Getpid())
	}
}

// TestLongLine: one engine line of 2 MiB is cut with a marker, and the
// lines after it still show.
func TestLongLine(t *testing.T) {
	s := startSession(t)
	waitFor(s, buildWait, func(e event.LoadOK) bool { return true })
	s.edit("logic/main.go", func(src string) string {
		src = strings.Replace(src, "import (", "import (\n\t\"fmt\"\n\t\"strings\"", 1)
		return src + "\nfunc init() { fmt.Println(strings.Repeat(\"x\", 2<<20)); fmt.Println(\"after the long line\") }\n"
	})
	cut := waitFor(s, buildWait, func(e event.Log) bool { return strings.HasPrefix(e.Text, "xxxx") })
	if !strings.Contains(cut.Text, "line cut") || len(cut.Text) > 100<<10 {
		t.Errorf("long line: %d bytes, ends %q", len(cut.Text), cut.Text[max(0, len(cut.Text)-60):])
	}
	waitFor(s, loadWait, func(e event.Log) bool { return e.Text == "after the long line" })
}

// TestPortInUse: the engine can't listen; hotrun shows its own words (the
// bind error) and does not retry the same failure blindly.
func TestPortInUse(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	s := startSessionAt(t, ln.Addr().String())
	e := waitFor(s, buildWait, func(e event.Log) bool { return e.Level == "error" && strings.Contains(e.Text, "same way") })
	if !strings.Contains(e.Text, "address already in use") {
		t.Errorf("give-up message %q doesn't say the bind error", e.Text)
	}
}

// TestSessionKeepsState: a new hotrun session in the same project restores
// the state of the last one (also after the last one was killed); -fresh
// starts empty.
func TestSessionKeepsState(t *testing.T) {
	s := startSession(t)
	waitFor(s, buildWait, func(e event.LoadOK) bool { return true })
	for range 3 {
		s.get("/hello?name=test")
	}
	s.stop()

	s2 := restartSession(t, s)
	r := waitFor(s2, buildWait, func(e event.StateRestored) bool { return true })
	if r.Error != "" || r.Saved.IsZero() {
		t.Errorf("restore: %+v", r)
	}
	waitFor(s2, loadWait, func(e event.LoadOK) bool { return true })
	if _, body := s2.get("/hello?name=test"); visits(t, body) != 4 {
		t.Errorf("second session: %q, want visits=4", body)
	}
	s2.stop()

	s3 := restartSession(t, s, "-fresh")
	waitFor(s3, buildWait, func(e event.LoadOK) bool { return true })
	if _, body := s3.get("/hello?name=test"); visits(t, body) != 1 {
		t.Errorf("-fresh session: %q, want visits=1", body)
	}
}

// procSession is hotrun run as users run it, a process of its own, with
// -json output read into events: one that a test can kill.
func procSession(t *testing.T, dir, addr string, args ...string) (*session, *os.Process) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	argv := append([]string{"hotrun", "-json", "-config", "", "-dir", dir}, args...)
	argv = append(argv, "--", "-addr", addr)
	p, err := os.StartProcess(exe, argv, &os.ProcAttr{Files: []*os.File{nil, pw, nil}})
	pw.Close()
	if err != nil {
		t.Fatal(err)
	}
	s := &session{t: t, dir: dir, addr: addr, events: make(chan event.Record, 10000), done: make(chan error, 1)}
	go func() {
		defer close(s.events)
		defer pr.Close()
		sc := bufio.NewScanner(pr)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if rec, err := event.UnmarshalRecord(sc.Bytes()); err == nil {
				s.events <- rec
			}
		}
	}()
	go func() {
		st, err := p.Wait()
		if err == nil && !st.Success() {
			err = fmt.Errorf("hotrun ended: %s", st)
		}
		s.done <- err
	}()
	t.Cleanup(func() {
		p.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(30 * time.Second):
			p.Kill()
		}
		if t.Failed() {
			t.Logf("events of pid %d:\n%s", p.Pid, s.log.String())
		}
	})
	return s, p
}

// TestKilledHotrunEngineServesOn kills hotrun itself (kill -9, a process
// of its own as users run it): its engine serves on, its clients never
// notice, and a hotrun started again attaches to it: the same process,
// its versions and state, no restart; then an edit swaps into it and a
// shared-package edit hands over to a new engine with the sockets.
func TestKilledHotrunEngineServesOn(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end")
	}
	dir, addr := exampleCopy(t), freeAddr(t)
	s1, p := procSession(t, dir, addr)
	first := waitFor[event.EngineStart](s1, buildWait, nil)
	servingVersion(s1, buildWait, 1)
	c := steadyClient("http://" + addr + "/hello?name=test")

	time.Sleep(500 * time.Millisecond)
	p.Kill()
	p.Wait()
	time.Sleep(2 * time.Second) // the engine is an orphan now; it serves on
	if !engineAlive(first.PID) {
		t.Fatal("the engine stopped with hotrun")
	}

	s2, _ := procSession(t, dir, addr)
	waitFor(s2, loadWait, func(e event.Log) bool { return strings.Contains(e.Text, "took over the engine") })
	servingVersion(s2, buildWait, 2) // the start's build swaps into the same engine
	s2.edit("logic/main.go", replace("1001", "1002"))
	servingVersion(s2, buildWait, 3)
	if _, body := s2.get("/hello?name=test"); !strings.Contains(body, "version=1002") {
		t.Errorf("after the edit: %q", body)
	}
	s2.edit("game/game.go", replace("type State struct {", "type State struct {\n\tadded int // a shared-package edit"))
	next := waitFor(s2, buildWait, func(e event.EngineStart) bool { return e.PID != first.PID })
	servingVersion(s2, buildWait, 4)
	c.finish(t)
	// Every visit counted: hotrun's probe is off (-config ""), so the
	// client's, the one after the edit and this one.
	if _, body := s2.get("/hello?name=test"); visits(t, body) != int(c.sent.Load())+2 {
		t.Errorf("visits %d after %d requests: state lost: %q", visits(t, body), c.sent.Load(), body)
	}
	starts := 0
	for _, l := range strings.Split(s2.log.String(), "\n") {
		if strings.Contains(l, "engine   started") {
			starts++
		}
	}
	if next.PID == first.PID || starts != 2 {
		t.Errorf("%d engines started by the second hotrun, want the adopted one and the handover's:\n%s", starts, s2.log.String())
	}
}

// TestOrphanGraceEnds: an engine whose hotrun was killed and that nobody
// attaches to within its orphan grace saves its state and exits; the next
// session restores the state and leaves no control directory behind.
func TestOrphanGraceEnds(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end")
	}
	dir, addr := exampleCopy(t), freeAddr(t)
	s1, p := procSession(t, dir, addr, "-orphan-grace", "2s")
	first := waitFor[event.EngineStart](s1, buildWait, nil)
	servingVersion(s1, buildWait, 1)
	for range 3 {
		s1.get("/hello?name=test")
	}
	p.Kill()
	p.Wait()
	for deadline := time.Now().Add(30 * time.Second); engineAlive(first.PID); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the orphan engine still runs 30s after hotrun was killed, with a 2s grace")
		}
	}
	s2 := restartSession(t, &session{dir: dir, addr: addr})
	servingVersion(s2, buildWait, 1)
	if _, body := s2.get("/hello?name=test"); visits(t, body) != 4 {
		t.Errorf("after the orphan's grace: %q, want visits=4", body)
	}
	if dirs := controlDirs(first.PID); len(dirs) != 0 {
		t.Errorf("the dead engine's control directory is still there: %v", dirs)
	}
}

// engineAlive reports whether pid runs (and is not a zombie).
func engineAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return syscall.Kill(pid, 0) == nil
	}
	f := strings.Fields(string(b))
	return len(f) > 2 && f[2] != "Z"
}

// controlDirs lists the control directories of engine pid.
func controlDirs(pid int) []string {
	var out []string
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "hotrun-*"))
	for _, d := range dirs {
		if b, err := os.ReadFile(filepath.Join(d, "engine.pid")); err == nil && strings.TrimSpace(string(b)) == strconv.Itoa(pid) {
			out = append(out, d)
		}
	}
	return out
}

// TestUnreachableVersionsRemoved: a version's plugin stays while the
// serving engine can still switch to it (rollback works), and goes once no
// engine can load it again (after a new engine build takes over).
func TestUnreachableVersionsRemoved(t *testing.T) {
	s := startSession(t)
	waitFor(s, buildWait, func(e event.LoadOK) bool { return e.Version == 1 })
	s.edit("logic/main.go", replace("1001", "1002"))
	servingVersion(s, buildWait, 2)
	plugins := func() []string {
		m, _ := filepath.Glob(filepath.Join(s.dir, ".hotrun", "build", "*.so"))
		return m
	}
	if n := len(plugins()); n != 2 {
		t.Fatalf("%d plugins after two versions, want 2: %v", n, plugins())
	}
	s.command("b")
	waitFor(s, loadWait, func(e event.Rollback) bool { return e.To == 1 })
	s.command("f")
	waitFor(s, loadWait, func(e event.Rollback) bool { return e.To == 2 })

	s.edit("game/game.go", replace("type State struct {", "type State struct {\n\tadded int // a field: a new engine build"))
	servingVersion(s, buildWait, 3)
	// onlyV3 waits for the plugins to come down to v3's, pruned off the
	// loop, and says when they don't.
	onlyV3 := func(after string) {
		var left []string
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if left = plugins(); len(left) == 1 {
				break
			}
		}
		if len(left) != 1 || !strings.Contains(filepath.Base(left[0]), ".v3.") {
			t.Errorf("plugins after %s: %v, want v3's alone", after, left)
		}
	}
	onlyV3("the new engine took over")
	// A version the engine refuses is never loaded again: its plugin goes
	// too, and v3's stays.
	s.edit("logic/main.go", replace("var Logic game.Logic", "var Logik game.Logic"))
	waitFor(s, buildWait, func(e event.LoadFail) bool { return true })
	onlyV3("a rejected version")
	// The version list says so.
	waitFor(s, loadWait, func(e event.Versions) bool {
		gone := 0
		for _, r := range e.Versions {
			if r.Version < 3 && r.State == event.VersionGone {
				gone++
			}
		}
		return gone == 2
	})
}

// TestTickingEngine runs an engine that does its work in ticks through
// Run, not in HTTP requests: each tick shows as a unit event on the version
// it ran on, through a swap; a panic in one tick is contained, and the
// ticks go on.
func TestTickingEngine(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end")
	}
	dir := exampleCopy(t)
	main := filepath.Join(dir, "engine", "main.go")
	b, err := os.ReadFile(main)
	if err != nil {
		t.Fatal(err)
	}
	src := strings.Replace(string(b), "\tdefer h.Close()\n", `	defer h.Close()
	go func() {
		for range time.Tick(20 * time.Millisecond) {
			h.Run("tick", func(l game.Logic) error {
				l.Hello("tick", game.Snapshot{})
				return nil
			})
		}
	}()
`, 1)
	src = strings.Replace(src, "import (", "import (\n\t\"time\"", 1)
	if err := os.WriteFile(main, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	s := runSession(t, dir, freeAddr(t))
	waitFor(s, buildWait, func(e event.Unit) bool { return e.Unit == "tick" && e.Version == 1 && e.Error == "" })

	s.edit("logic/greet/greet.go", replace("func Hello(name string, version int, model string, s game.Snapshot) string {",
		"func Hello(name string, version int, model string, s game.Snapshot) string {\n\tif name == \"tick\" {\n\t\tpanic(\"tick boom\")\n\t}"))
	bad := waitFor(s, buildWait, func(e event.Unit) bool { return e.Version == 2 && e.Error != "" })
	if !strings.Contains(bad.Error, "tick boom") {
		t.Errorf("a panicking tick: %+v", bad)
	}
	p := waitFor(s, loadWait, func(e event.Panic) bool { return e.Version == 2 })
	if !strings.Contains(p.Where, "greet") {
		t.Errorf("panic event %+v doesn't name the file", p)
	}
	waitFor(s, loadWait, func(e event.Unit) bool { return e.Version == 2 }) // the ticks go on
	if code, _ := s.get("/hello?name=test"); code != 200 {
		t.Errorf("the engine stopped serving after panicking ticks: %d", code)
	}
	s.edit("logic/greet/greet.go", replace("\tif name == \"tick\" {\n\t\tpanic(\"tick boom\")\n\t}", ""))
	waitFor(s, buildWait, func(e event.Unit) bool { return e.Version == 3 && e.Error == "" })
}
