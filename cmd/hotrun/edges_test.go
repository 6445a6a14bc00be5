package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hotrun-dev/hotrun/event"
)

// The edges of issue 18, each reproduced with real processes.

// TestStateTypeChange changes how the shared state encodes a field
// (Visits as a JSON string): the new engine can't read what the serving
// one saved. The serving engine keeps serving with its visits, one
// sentence names the field; the revert hands over with every visit.
func TestStateTypeChange(t *testing.T) {
	s := startSession(t)
	first := waitFor[event.EngineStart](s, buildWait, nil)
	servingVersion(s, buildWait, 1)
	for range 5 {
		s.get("/hello?name=test")
	}
	orig, err := os.ReadFile(filepath.Join(s.dir, "game", "game.go"))
	if err != nil {
		t.Fatal(err)
	}
	s.edit("game/game.go", replace("\tVisits     int\n", "\tVisits     int `json:\",string\"`\n"))
	refused := waitFor(s, buildWait, func(e event.Log) bool {
		return e.Level == "error" && strings.Contains(e.Text, "can't read the saved state")
	})
	for _, want := range []string{"*game.State", "invalid use of ,string", "keeps serving v1", "Revert"} {
		if !strings.Contains(refused.Text, want) {
			t.Errorf("the refusal %q does not say %q", refused.Text, want)
		}
	}
	if _, body := s.get("/hello?name=test"); visits(t, body) != 6 {
		t.Errorf("after the refused handover: %q, want visits=6 from the same engine", body)
	}
	if !engineAlive(first.PID) {
		t.Error("the engine that served is gone")
	}
	if err := os.WriteFile(filepath.Join(s.dir, "game", "game.go"), orig, 0o644); err != nil {
		t.Fatal(err)
	}
	next := waitFor(s, buildWait, func(e event.EngineStart) bool { return e.PID != first.PID })
	servingVersion(s, buildWait, 3)
	if _, body := s.get("/hello?name=test"); visits(t, body) != 7 {
		t.Errorf("after the revert's handover to pid %d: %q, want visits=7", next.PID, body)
	}
	if kept, _ := filepath.Glob(filepath.Join(s.dir, ".hotrun", "state", "snapshot.json.rejected*")); len(kept) != 0 {
		t.Errorf("a snapshot was set aside although no engine tried to take it: %v", kept)
	}
}

// TestLongRequestHandover holds a request open (a stream, a long poll)
// through a shared-package edit: the others wait for the drain (1s), not
// for it; it is cut, and the cut is an event with its method and path.
func TestLongRequestHandover(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end")
	}
	dir, addr := exampleCopy(t), freeAddr(t)
	patch := func(old, new string) {
		t.Helper()
		p := filepath.Join(dir, "engine", "main.go")
		b, _ := os.ReadFile(p)
		if !strings.Contains(string(b), old) {
			t.Fatalf("no %q in %s", old, p)
		}
		os.WriteFile(p, []byte(strings.Replace(string(b), old, new, 1)), 0o644)
	}
	patch("\t\"net/http\"", "\t\"net/http\"\n\t\"time\"")
	patch("\tlog.Printf(\"engine: serving on", `	mux.Handle("GET /slow", h.Handler(func(w http.ResponseWriter, r *http.Request, _ game.Logic) {
		select {
		case <-r.Context().Done():
		case <-time.After(time.Minute):
		}
	}))
	log.Printf("engine: serving on`)
	s := runSession(t, dir, addr)
	servingVersion(s, buildWait, 1)
	slow := make(chan error, 1)
	go func() {
		_, _, err := httpGet("http://" + addr + "/slow?export=all")
		slow <- err
	}()
	time.Sleep(300 * time.Millisecond)
	c := steadyClient("http://" + addr + "/hello?name=test")
	time.Sleep(300 * time.Millisecond)
	s.edit("game/game.go", replace("type State struct {", "type State struct {\n\tadded int // a shared-package edit"))
	cut := waitFor(s, buildWait, func(e event.RequestCut) bool { return true })
	if cut.Method != "GET" || cut.Path != "/slow?export=all" || time.Duration(cut.Duration) < 500*time.Millisecond {
		t.Errorf("cut %+v, want GET /slow?export=all that ran a while", cut)
	}
	servingVersion(s, loadWait, 2)
	time.Sleep(300 * time.Millisecond)
	c.finish(t)
	if longest := time.Duration(c.longest.Load()); longest > 5*time.Second {
		t.Errorf("a request waited %s through the handover: the long one held it", longest)
	}
	select {
	case <-slow:
	case <-time.After(10 * time.Second):
		t.Error("the long request still runs after the handover")
	}
}

// TestHangupStopsCleanly closes hotrun's terminal (SIGHUP): the engine
// drains, saves its state and stops, and no control directory is left.
func TestHangupStopsCleanly(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end")
	}
	dir, addr := exampleCopy(t), freeAddr(t)
	s, p := procSession(t, dir, addr)
	eng := waitFor[event.EngineStart](s, buildWait, nil)
	servingVersion(s, buildWait, 1)
	for range 2 {
		s.get("/hello?name=test")
	}
	p.Signal(syscall.SIGHUP)
	select {
	case err := <-s.done:
		s.done <- err
		if err != nil {
			t.Errorf("hotrun after SIGHUP: %v, want exit 0", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("hotrun still runs 30s after SIGHUP")
	}
	if engineAlive(eng.PID) {
		t.Error("the engine outlived hotrun's SIGHUP")
	}
	if dirs := controlDirs(eng.PID); len(dirs) != 0 {
		t.Errorf("control directories left: %v", dirs)
	}
	b, _ := os.ReadFile(filepath.Join(dir, ".hotrun", "state", "snapshot.json"))
	if !strings.Contains(string(b), `"Visits":2`) {
		t.Errorf("the state saved at the hangup: %s, want 2 visits (no probe: -config \"\")", b)
	}
}

// TestRollbackAfterRestart: after R the new engine holds only the version
// it started with; b and f still reach the versions built for it.
func TestRollbackAfterRestart(t *testing.T) {
	s := startSession(t)
	servingVersion(s, buildWait, 1)
	s.edit("logic/main.go", replace("1001", "1002"))
	servingVersion(s, buildWait, 2)
	s.command("R")
	waitFor(s, loadWait, func(e event.EngineRestart) bool { return true })
	waitFor(s, loadWait, func(e event.EngineStart) bool { return true })
	servingVersion(s, loadWait, 2)
	s.command("b")
	servingVersion(s, loadWait, 1)
	if _, body := s.get("/hello?name=test"); !strings.Contains(body, "version=1001") {
		t.Errorf("after b: %q", body)
	}
	s.command("f")
	servingVersion(s, loadWait, 2)
	if _, body := s.get("/hello?name=test"); !strings.Contains(body, "version=1002") {
		t.Errorf("after f: %q", body)
	}
}

// TestSaveDuringBuild saves the logic while a version builds, after the
// build read it (issue 20): the version is what was built, and so are its
// diff and line counts; the save is the next version's. The quiet period is
// long, so that the save's change comes after the build ends instead of
// canceling it.
func TestSaveDuringBuild(t *testing.T) {
	s := startSession(t, "-debounce", "20s")
	// The first build starts at once. Once it staged the logic's main
	// package, it has read the logic: save then.
	deadline := time.Now().Add(buildWait)
	for {
		if staged, _ := filepath.Glob(filepath.Join(s.dir, ".hotrun", "stage", "*", "logic", "main.go")); len(staged) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first build staged nothing")
		}
		time.Sleep(5 * time.Millisecond)
	}
	s.edit("logic/main.go", replace("modelVersion = 1001", "modelVersion = 1002"))
	waitFor(s, buildWait, func(e event.BuildOK) bool { return e.Version == 1 })
	servingVersion(s, loadWait, 1)
	if _, body := s.get("/hello?name=test"); !strings.Contains(body, "version=1001,") {
		t.Fatalf("v1 answered %q, want version=1001: the build read the logic before the save", body)
	}
	s.command("d 1")
	if d := waitFor[event.Diff](s, loadWait, nil); !strings.Contains(d.Text, "+\tmodelVersion = 1001") || strings.Contains(d.Text, "1002") {
		t.Errorf("v1's diff shows what it was not built from:\n%s", d.Text)
	}

	// The next version, built at once rather than after the quiet
	// period, holds the save, and says so.
	s.command("rebuild")
	var v2 event.VersionInfo
	waitFor(s, buildWait, func(e event.Versions) bool {
		for _, v := range e.Versions {
			if v.Version == 2 && v.State == event.VersionLive {
				v2 = v
				return true
			}
		}
		return false
	})
	if len(v2.Files) != 1 || !strings.HasSuffix(v2.Files[0].Path, filepath.Join("logic", "main.go")) || v2.Files[0].Added != 1 || v2.Files[0].Removed != 1 {
		t.Errorf("v2 changed %+v, want logic/main.go +1 -1", v2.Files)
	}
	s.command("d 2")
	if d := waitFor[event.Diff](s, loadWait, nil); !strings.Contains(d.Text, "-\tmodelVersion = 1001") || !strings.Contains(d.Text, "+\tmodelVersion = 1002") {
		t.Errorf("v2's diff is not the save:\n%s", d.Text)
	}
}
