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

