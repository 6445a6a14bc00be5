package lab

import (
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hotrun-dev/hotrun/event"
	"github.com/hotrun-dev/hotrun/hot/protocol"
)

// recorder is a stream that keeps what it is given.
type recorder struct {
	mu   sync.Mutex // guards evs: the guide publishes from its own goroutine
	evs  []event.Event
	seen int // lab looks after the event it returned last
}

func (r *recorder) Publish(e event.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evs = append(r.evs, e)
}

// lab waits for a lab event that ok accepts, after the one it returned
// last, and returns it.
func (r *recorder) lab(t *testing.T, what string, ok func(event.Lab) bool) event.Lab {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		r.mu.Lock()
		for i := r.seen; i < len(r.evs); i++ {
			if l, isLab := r.evs[i].(event.Lab); isLab && ok(l) {
				r.seen = i + 1
				r.mu.Unlock()
				return l
			}
		}
		r.mu.Unlock()
	}
	t.Fatalf("no lab event: %s", what)
	return event.Lab{}
}

func answerBody(v int, body string) event.Probe {
	return event.Probe{Version: v, Request: "GET /hello?name=again", Status: 200, Body: body}
}

// TestGuide plays a lab's first step as events: the guide passes every
// event on, says the step is done when its events came (and not before),
// explains it, opens the next step, keeps the place in the progress file,
// and moves between steps on n and p.
func TestGuide(t *testing.T) {
	dir := t.TempDir()
	rec := &recorder{}
	progress := OpenProgress(filepath.Join(dir, "config", "labs.json"))
	g := New(Config{Lab: globalVar(), Dir: filepath.Join(dir, "project"), Events: rec, Progress: progress})
	defer g.Close()
	rec.lab(t, "the first step opened", func(l event.Lab) bool {
		return l.What == event.LabOpened && l.Step == 1 && l.Steps == 3 && l.Title == "A global in the logic"
	})

	g.Publish(event.EngineStart{PID: 7})
	g.Publish(event.LoadOK{Version: 1})
	g.Publish(answerBody(1, "hello again, version=1001, visits=2")) // no calls yet: not done
	g.Publish(event.Change{Files: []string{"logic/main.go"}, Kind: event.KindLogic})
	g.Publish(event.LoadOK{Version: 2})
	g.Publish(answerBody(2, "hello test, version=1001, visits=3, calls=1"))
	g.Publish(answerBody(2, "hello again, version=1001, visits=4, calls=2"))
	done := rec.lab(t, "the first step done", func(l event.Lab) bool { return l.What == event.LabDone })
	if done.Step != 2 || done.Then == nil || done.Then.Step != 1 || !slices.Equal(done.Passed, []int{1}) ||
		done.Then.Seen != `v2 answered GET /hello?name=again with "hello again, version=1001, visits=4, calls=2"` {
		t.Errorf("done: %+v, then %+v", done, done.Then)
	}
	rec.mu.Lock()
	n := 0
	for _, e := range rec.evs {
		if _, ok := e.(event.Probe); ok {
			n++
		}
	}
	rec.mu.Unlock()
	if n != 3 {
		t.Errorf("the guide passed %d probes on, want 3", n)
	}
	if r := progress.Get("global-var"); r.Step != 2 || !slices.Equal(r.Passed, []int{1}) || r.Dir != filepath.Join(dir, "project") {
		t.Errorf("progress: %+v", r)
	}

	g.Next()
	rec.lab(t, "step 3 shown", func(l event.Lab) bool { return l.What == event.LabOpened && l.Step == 3 })
	g.Prev()
	g.Prev()
	back := rec.lab(t, "step 1 shown again", func(l event.Lab) bool { return l.What == event.LabOpened && l.Step == 1 })
	if back.Then == nil || back.Then.Step != 1 || back.Then.Did == "" {
		t.Errorf("a done step shown again: want its own explanation, got %+v", back.Then)
	}

	// A new guide on the same progress goes on where this one stopped.
	g.Close()
	rec2 := &recorder{}
	g2 := New(Config{Lab: globalVar(), Dir: filepath.Join(dir, "project"), Events: rec2, Progress: progress})
	defer g2.Close()
	again := rec2.lab(t, "the lab opened again", func(l event.Lab) bool { return l.What == event.LabOpened })
	if again.Step != 1 || !slices.Equal(again.Passed, []int{1}) {
		t.Errorf("opened again at step %d, passed %v; want step 1 (shown last), 1 passed", again.Step, again.Passed)
	}
}

// TestChecks plays the events of what each check waits for, and of what
// it must not take for it.
func TestChecks(t *testing.T) {
	tests := []struct {
		name string
		chk  check
		evs  []event.Event
		done bool
	}{
		{"a handover", handover("game/game.go"), []event.Event{
			event.Change{Files: []string{"/p/game/game.go"}, Kind: event.KindHost},
			event.EngineStart{PID: 2}, event.EngineExit{PID: 1, Reason: "handed over to pid 2"},
		}, true},
		{"a new engine that died is no handover", handover(""), []event.Event{
			event.Change{Files: []string{"/p/game/game.go"}, Kind: event.KindHost},
			event.EngineStart{PID: 2}, event.EngineExit{PID: 2, Code: 1},
		}, false},
		{"a change to another file", handover("game/game.go"), []event.Event{
			event.Change{Files: []string{"/p/engine/main.go"}, Kind: event.KindHost},
			event.EngineStart{PID: 2}, event.EngineExit{PID: 1},
		}, false},
		{"a swap", swap(), []event.Event{event.Change{Kind: event.KindLogic}, event.LoadOK{Version: 2}}, true},
		{"a new engine is no swap", swap(), []event.Event{event.Change{Kind: event.KindLogic}, event.EngineStart{PID: 3}, event.LoadOK{Version: 2}}, false},
		{"a load refused for its init", refused(protocol.CodeInitPanic), []event.Event{event.LoadFail{Version: 3, Code: protocol.CodeInitPanic}}, true},
		{"a load refused for another reason", refused(protocol.CodeInitPanic), []event.Event{event.LoadFail{Version: 3, Code: protocol.CodeWrongType}}, false},
		{"a panic contained", contained(), []event.Event{
			event.Panic{Version: 2, Value: "boom"}, event.Probe{Version: 2, Status: 500}, event.Probe{Version: 2, Status: 200},
		}, true},
		{"a panic that took the engine", contained(), []event.Event{
			event.Probe{Version: 2, Status: 200}, event.Panic{Version: 2}, event.EngineStart{PID: 9},
		}, false},
		{"an engine dead of a panic, replaced", dies(), []event.Event{
			event.EngineExit{PID: 1, Code: 2}, event.EngineStart{PID: 5}, event.LoadOK{Version: 2},
		}, true},
		{"an engine stopped by hotrun", dies(), []event.Event{
			event.EngineExit{PID: 1, Code: 0}, event.EngineStart{PID: 5}, event.LoadOK{Version: 2},
		}, false},
		{"ticks of two versions after a swap", ticksFrom(), []event.Event{
			event.Log{Source: event.SourceEngine, Text: "lab: tick from version 1001"},
			event.LoadOK{Version: 3},
			event.Log{Source: event.SourceEngine, Text: "lab: tick from version 1002"},
			event.Log{Source: event.SourceEngine, Text: "lab: tick from version 1001"},
		}, true},
		{"ticks of one version", ticksFrom(), []event.Event{
			event.LoadOK{Version: 3},
			event.Log{Source: event.SourceEngine, Text: "lab: tick from version 1002"},
			event.Log{Source: event.SourceEngine, Text: "lab: tick from version 1002"},
		}, false},
		{"a unit on two versions", units("tick"), []event.Event{event.Unit{Unit: "tick", Version: 4}, event.Unit{Unit: "tick", Version: 5}}, true},
		{"two loads held", grows(2), []event.Event{
			event.Memory{VersionsLoaded: 1, RSSBytes: 15 << 20},
			event.LoadOK{Version: 2}, event.LoadOK{Version: 3}, event.Memory{VersionsLoaded: 3, RSSBytes: 20 << 20},
		}, true},
		{"two loads reported with the memory read before them", grows(2), []event.Event{
			event.Memory{VersionsLoaded: 1, RSSBytes: 15 << 20},
			event.LoadOK{Version: 2}, event.LoadOK{Version: 3}, event.Memory{VersionsLoaded: 3, RSSBytes: 15 << 20},
		}, false},
		{"a recycled engine", recycled(), []event.Event{
			event.EngineRestart{PID: 1}, event.EngineStart{PID: 2}, event.EngineExit{PID: 1}, event.Memory{VersionsLoaded: 1},
		}, true},
		{"either order", both(swap(), answer(says("x=1"))), []event.Event{
			event.Probe{Body: "x=1"}, event.Change{Kind: event.KindLogic}, event.LoadOK{Version: 2},
		}, true},
		{"in order only", seq(swap(), answer(says("x=1"))), []event.Event{
			event.Probe{Body: "x=1"}, event.Change{Kind: event.KindLogic}, event.LoadOK{Version: 2},
		}, false},
	}
	for _, tt := range tests {
		s := &session{dir: "/p", wd: "/", pid: 1, live: 1}
		done := false
		for _, e := range tt.evs {
			if !done {
				done = tt.chk.see(s, e)
			}
			s.observe(e)
		}
		if done != tt.done {
			t.Errorf("%s: done %v, want %v", tt.name, done, tt.done)
		}
		if done && tt.chk.seen() == "" {
			t.Errorf("%s: done, and nothing seen", tt.name)
		}
	}
}

// TestUnitsSay holds the units check to what happened between the two
// versions: a swap in the same engine, or a new engine that took over.
func TestUnitsSay(t *testing.T) {
	tests := []struct {
		name string
		evs  []event.Event
		want string
	}{
		{"a swap", []event.Event{
			event.Unit{Unit: "tick", Version: 4}, event.LoadOK{Version: 5}, event.Unit{Unit: "tick", Version: 5},
		}, `the unit "tick" ran on v4, then on v5 after the swap`},
		{"a handover", []event.Event{
			event.Unit{Unit: "tick", Version: 4}, event.EngineStart{PID: 2}, event.LoadOK{Version: 5}, event.Unit{Unit: "tick", Version: 5},
		}, `the unit "tick" ran on v4, then on v5 in the engine that took over`},
	}
	for _, tt := range tests {
		s := &session{dir: "/p", wd: "/", pid: 1, live: 1}
		c := units("tick")
		done := false
		for _, e := range tt.evs {
			if !done {
				done = c.see(s, e)
			}
			s.observe(e)
		}
		if !done {
			t.Fatalf("%s: not done", tt.name)
		}
		if got := c.seen(); got != tt.want {
			t.Errorf("%s: seen %q, want %q", tt.name, got, tt.want)
		}
	}
}
