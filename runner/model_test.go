package runner

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hotrun-dev/hotrun/builder"
	"github.com/hotrun-dev/hotrun/event"
	"github.com/hotrun-dev/hotrun/gosrc"
	"github.com/hotrun-dev/hotrun/hot/protocol"
)

// The model's tests play sequences of inputs, with no process: sim answers
// the model's calls to engines the way a healthy engine would, unless a
// test says otherwise (fault), and leaves builds and timers to the test.

type sim struct {
	t       *testing.T
	m       *model
	now     time.Time
	pending []action      // builds and timers the test answers itself
	events  []event.Event // everything published, in order
	calls   []action      // every call to an engine, in order
	pids    int
	// fault, when set, answers an action instead of a healthy engine:
	// (nil, true) leaves it unanswered (a hung engine).
	fault func(a action) (input, bool)
	queue []input
	// disk is the logic tree now, each file's digest by its path under
	// the logic directory; staged is what each build job read of it.
	disk   map[string]gosrc.Digest
	staged map[int]map[string]gosrc.Digest
}

func newSim(t *testing.T) *sim {
	t.Helper()
	s := &sim{
		t:      t,
		now:    time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC),
		pids:   100,
		disk:   map[string]gosrc.Digest{"main.go": dg("v0")},
		staged: map[int]map[string]gosrc.Digest{},
		m: newModel(modelConfig{
			mode:          ModeHotSwap,
			maxVersions:   100,
			snapshotEvery: 5 * time.Second,
			statePath:     "/p/.hotrun/state/snapshot.json",
		}),
	}
	return s
}

// in decides on one input, then answers the engine calls it led to, and
// theirs, until only builds and timers are left.
func (s *sim) in(in input) {
	s.t.Helper()
	s.queue = append(s.queue, in)
	for len(s.queue) > 0 {
		next := s.queue[0]
		s.queue = s.queue[1:]
		s.now = s.now.Add(10 * time.Millisecond)
		for _, a := range s.m.update(s.now, next) {
			s.carry(a)
		}
		s.checkEngines(next)
	}
}

// checkEngines fails the test when the engines snapshot last published
// does not say what the model holds, after any input of any test: the
// snapshot is published whenever it changes.
func (s *sim) checkEngines(after input) {
	s.t.Helper()
	var shown event.Engines
	for i := len(s.events) - 1; i >= 0; i-- {
		if e, ok := s.events[i].(event.Engines); ok {
			shown = e
			break
		}
	}
	var want []string
	for _, e := range s.m.engines {
		want = append(want, fmt.Sprintf("%d %s %v v%d %v", e.pid, e.state, e == s.m.serving, e.live, e.loaded))
	}
	var got []string
	for _, e := range shown.Engines {
		got = append(got, fmt.Sprintf("%d %s %v v%d %v", e.PID, e.State, e.Serving, e.Live, e.Loaded))
	}
	if !slices.Equal(got, want) {
		s.t.Fatalf("after %T the engines snapshot says %q; the model holds %q", after, got, want)
	}
}

// render is an engines snapshot in a line: each engine as "pid state v
// [loaded] (why)", the serving one starred; then how the last one ended,
// while none serves.
func render(e event.Engines) string {
	var parts []string
	for _, en := range e.Engines {
		p := fmt.Sprintf("%d %s", en.PID, en.State)
		if en.Serving {
			p += "*"
		}
		if en.Live != 0 {
			p += fmt.Sprintf(" v%d", en.Live)
		}
		if len(en.Loaded) > 0 {
			p += fmt.Sprintf(" %v", en.Loaded)
		}
		if en.Why != "" {
			p += " (" + en.Why + ")"
		}
		parts = append(parts, p)
	}
	out := strings.Join(parts, "; ")
	if x := e.Ended; x != nil {
		out += fmt.Sprintf(" | ended %d code %d", x.PID, x.Code)
		if x.Expected {
			out += " expected"
		}
		if e.WasLive != 0 {
			out += fmt.Sprintf(" was v%d", e.WasLive)
		}
	}
	if e.GaveUp != "" {
		out += " | gave up"
	}
	return out
}

// snapshots renders the engines snapshots published since mark.
func (s *sim) snapshots(mark int) []string {
	var out []string
	for _, e := range find[event.Engines](s, mark) {
		out = append(out, render(e))
	}
	return out
}

func (s *sim) carry(a action) {
	switch a := a.(type) {
	case actPublish:
		s.events = append(s.events, a.ev)
		return
	case actBuild, actCancelBuild, actRetryAfter, actSpecAfter:
		if b, ok := a.(actBuild); ok {
			s.staged[b.id] = maps.Clone(s.disk) // a build stages as it starts, unless restage says otherwise
		}
		s.pending = append(s.pending, a)
		return
	case actKeepSource, actPrune:
		if _, ok := a.(actPrune); ok {
			s.queue = append(s.queue, inPruned{})
		}
		return
	}
	s.calls = append(s.calls, a)
	if s.fault != nil {
		if in, ok := s.fault(a); ok {
			if in != nil {
				s.queue = append(s.queue, in)
			}
			return
		}
	}
	switch a := a.(type) {
	case actStart:
		s.pids++
		s.queue = append(s.queue, inStarted{e: a.e, pid: s.pids})
	case actStatus:
		s.queue = append(s.queue, inStatus{e: a.e, first: a.first, gen: a.gen, st: Status{Live: a.e.live, Loaded: a.e.loaded, Protocol: protocol.Version}})
	case actLoad:
		s.queue = append(s.queue, inLoaded{e: a.e, n: a.n, took: 15 * time.Millisecond})
	case actActivate:
		s.queue = append(s.queue, inActivated{e: a.e, n: a.n})
	case actSnapshot:
		s.queue = append(s.queue, inSnapshotted{e: a.e, purpose: a.purpose})
	case actCheckState:
		s.queue = append(s.queue, inStateChecked{e: a.e})
	case actDrain:
		code, sig := 0, ""
		if a.kill {
			code, sig = -1, "killed"
		}
		s.queue = append(s.queue, inDrained{e: a.e, old: a.old, code: code, signal: sig})
	case actTakeover:
		s.queue = append(s.queue, inTookOver{e: a.e})
	case actPing:
		s.queue = append(s.queue, inPong{e: a.e})
	case actKill:
		if !a.e.exited {
			s.queue = append(s.queue, inExited{e: a.e, code: -1, signal: "killed", outside: true})
		}
	default:
		s.t.Fatalf("sim: no answer for %T", a)
	}
}

// build answers the build under way: ok says whether the logic built; the
// engine builds whenever the job asked for it.
func (s *sim) build(ok bool) int {
	s.t.Helper()
	i := slices.IndexFunc(s.pending, func(a action) bool {
		b, is := a.(actBuild)
		return is && b.id == s.m.job.running
	})
	if i < 0 {
		s.t.Fatalf("no build under way (pending %v)", s.pending)
	}
	a := s.pending[i].(actBuild)
	s.pending = slices.Delete(s.pending, i, i+1)
	res := jobResult{id: a.id, version: a.n, spec: a.spec, staged: s.staged[a.id]}
	if a.withEngine {
		res.engine = &builder.Result{Path: fmt.Sprintf("/p/.hotrun/bin/engine.%d", a.n)}
	}
	if ok {
		res.logic = &builder.Result{Path: fmt.Sprintf("/p/.hotrun/build/v%d.so", a.n)}
		res.final = event.BuildOK{Version: a.n, Target: event.TargetLogic}
	} else {
		res.logicErr = errors.New("logic/main.go:3:1: syntax error")
		res.final = event.BuildFail{Version: a.n, Target: event.TargetLogic}
	}
	s.in(inBuilt{res: res})
	return a.n
}

// save is a logic edit that builds and goes live (or not).
func (s *sim) save(ok bool) int {
	s.t.Helper()
	s.write("main.go", fmt.Sprintf("save%d", s.m.next+1))
	s.change([]string{"main.go"})
	return s.build(ok)
}

// dg is the digest of content c.
func dg(c string) gosrc.Digest { return gosrc.Sum([]byte(c)) }

// write saves the logic file f with content c; "" removes it.
func (s *sim) write(f, c string) {
	if c == "" {
		delete(s.disk, f)
		return
	}
	s.disk[f] = dg(c)
}

// change is the watcher's Change of the logic files fs, as the disk holds
// them now; touched are files it read too and found unchanged.
func (s *sim) change(fs []string, touched ...string) {
	s.t.Helper()
	in := inChange{kind: event.KindLogic, read: map[string]gosrc.Digest{}}
	for _, f := range fs {
		in.files = append(in.files, "logic/"+f)
		in.read[f] = s.disk[f]
	}
	for _, f := range touched {
		in.read[f] = s.disk[f]
	}
	s.in(in)
}

// restage has the build under way read the logic tree again, as the disk
// holds it now: a build whose staging came after a save.
func (s *sim) restage() { s.staged[s.m.job.running] = maps.Clone(s.disk) }

// stage reports what the speculative build under way staged.
func (s *sim) stage() {
	s.t.Helper()
	s.in(inStaged{id: s.m.job.running, tree: s.staged[s.m.job.running]})
}

// speculate plays the first event of a burst and its timer: a speculative
// build starts, staging the disk as it is.
func (s *sim) speculate() {
	s.t.Helper()
	s.in(inActivity{kind: event.KindLogic})
	i := slices.IndexFunc(s.pending, func(a action) bool { _, ok := a.(actSpecAfter); return ok })
	if i < 0 {
		s.t.Fatal("no speculative build armed")
	}
	s.pending = slices.Delete(s.pending, i, i+1)
	s.in(inSpecDue{})
	if !s.m.job.spec {
		s.t.Fatal("no speculative build started")
	}
}

// hostEdit is an edit to a package the engine holds.
func (s *sim) hostEdit() {
	s.in(inChange{files: []string{"game/game.go"}, kind: event.KindHost})
}

// retry fires the crash replacement's timer.
func (s *sim) retry() {
	s.t.Helper()
	i := slices.IndexFunc(s.pending, func(a action) bool { _, ok := a.(actRetryAfter); return ok })
	if i < 0 {
		s.t.Fatal("no replacement is due")
	}
	s.pending = slices.Delete(s.pending, i, i+1)
	s.in(inRetryDue{})
}

func (s *sim) serving() *engine {
	s.t.Helper()
	if s.m.serving == nil {
		s.t.Fatal("no engine serves")
	}
	return s.m.serving
}

func (s *sim) wantLive(n int) {
	s.t.Helper()
	if got := s.m.live(); got != n {
		s.t.Fatalf("live = v%d, want v%d\nevents:\n%s", got, n, s.log())
	}
	if v := s.m.versions[n]; v == nil || v.state != event.VersionLive {
		s.t.Fatalf("v%d is %+v in the list, want live", n, v)
	}
}

// log is the events, one a line, for failure messages.
func (s *sim) log() string {
	var b strings.Builder
	for _, e := range s.events {
		fmt.Fprintf(&b, "  %s %+v\n", e.Name(), e)
	}
	return b.String()
}

// find returns the events of type E published since mark.
func find[E event.Event](s *sim, mark int) []E {
	var out []E
	for _, e := range s.events[mark:] {
		if x, ok := e.(E); ok {
			out = append(out, x)
		}
	}
	return out
}

// start runs the session's first build and engine up to v1 live.
func (s *sim) start() *engine {
	s.t.Helper()
	s.in(inBegin{})
	s.build(true)
	s.wantLive(1)
	return s.serving()
}

func callNames(calls []action) []string {
	var out []string
	for _, a := range calls {
		out = append(out, strings.TrimPrefix(fmt.Sprintf("%T", a), "runner.act"))
	}
	return out
}

// TestModelHandoverOrder: a new engine takes over only after the serving
// one saved its state and the new one read it: save, check, drain,
// takeover, in that order.
func TestModelHandoverOrder(t *testing.T) {
	s := newSim(t)
	old := s.start()
	s.save(true)
	s.wantLive(2)
	mark := len(s.calls)
	s.hostEdit()
	s.build(true)
	s.wantLive(3)
	got := strings.Join(callNames(s.calls[mark:]), " ")
	if want := "Start Status Load Snapshot CheckState Drain Takeover Snapshot"; got != want {
		t.Errorf("calls = %s\nwant    %s", got, want)
	}
	if s.serving() == old || !old.exited {
		t.Error("the old engine still serves")
	}
	exits := find[event.EngineExit](s, 0)
	if len(exits) != 1 || exits[0].Reason != fmt.Sprintf("handed over to pid %d", s.serving().pid) {
		t.Errorf("exit events %+v, want one: handed over, no last words", exits)
	}
	// The restart says why, and names the lab that shows why it must be.
	restarts := find[event.EngineRestart](s, 0)
	if len(restarts) != 1 || restarts[0].Reason != "a package the engine holds changed; hotrun lab shared-struct shows why" {
		t.Errorf("restart events %+v, want one that names the shared-struct lab", restarts)
	}
}

// TestModelStateTypeChange is issue 18's first reproduction: a change to
// the state's types that the new engine can't read. The old engine keeps
// serving with its state, the new one is stopped, one sentence says why;
// the revert hands over as usual.
func TestModelStateTypeChange(t *testing.T) {
	s := newSim(t)
	old := s.start()
	unreadable := &CommandError{Op: "check-state", Code: protocol.CodeStateUnreadable,
		Msg: "This engine can't read the saved state into *game.State: field Snapshot.Visits: json: invalid use of ,string struct tag.", Explain: "Revert the change to the state's types …"}
	s.fault = func(a action) (input, bool) {
		if c, ok := a.(actCheckState); ok {
			return inStateChecked{e: c.e, err: unreadable}, true
		}
		return nil, false
	}
	mark := len(s.events)
	s.hostEdit()
	s.build(true)
	if s.serving() != old || old.state != engServing {
		t.Fatalf("the old engine does not serve on: %+v", old)
	}
	s.wantLive(1)
	for _, c := range s.calls {
		if d, ok := c.(actDrain); ok && d.old == old {
			t.Fatal("the old engine was drained for an engine that can't read its state")
		}
	}
	var said bool
	for _, l := range find[event.Log](s, mark) {
		said = said || l.Level == "error" && strings.Contains(l.Text, "Snapshot.Visits") && strings.Contains(l.Text, fmt.Sprintf("pid %d keeps serving v1", old.pid))
	}
	if !said {
		t.Errorf("no sentence names the field and the engine that serves on:\n%s", s.log())
	}
	if len(s.m.engines) != 1 {
		t.Errorf("%d engines, want the old one alone", len(s.m.engines))
	}
	if !s.m.pendingHost {
		t.Error("the host change is forgotten: the next save would not build a new engine")
	}

	// A logic save meanwhile builds a new engine again (the change is
	// still pending): with the state's type reverted, it reads the state.
	s.fault = nil
	s.hostEdit()
	s.build(true)
	if s.serving() == old {
		t.Fatal("the revert did not hand over")
	}
	s.wantLive(3)
}

// TestModelTakeoverRefused: the state check passed, yet the final state
// can't be read (a value the new type refuses): the new engine refuses it
// (strict) and an engine of the build before takes the kept snapshot back.
func TestModelTakeoverRefused(t *testing.T) {
	s := newSim(t)
	old := s.start()
	oldBuild := old.build
	refused := false
	s.fault = func(a action) (input, bool) {
		if tk, ok := a.(actTakeover); ok && tk.strict && !refused {
			refused = true
			return inTookOver{e: tk.e, err: &CommandError{Op: "takeover", Code: protocol.CodeStateUnreadable, Msg: "can't read it.", Path: "/p/.hotrun/state/snapshot.json.rejected-1"}}, true
		}
		return nil, false
	}
	s.hostEdit()
	s.build(true)
	if !refused {
		t.Fatal("the takeover after a host change was not strict")
	}
	e := s.serving()
	if e.build != oldBuild || e == old {
		t.Fatalf("serving %+v, want a new engine of the build before", e)
	}
	last := s.calls[len(s.calls)-2] // the takeover, then its snapshot
	if tk, ok := last.(actTakeover); !ok || tk.path != "/p/.hotrun/state/snapshot.json.rejected-1" {
		t.Errorf("the engine of the build before took over with %+v, want the kept snapshot", last)
	}
	s.wantLive(1)
}

// TestModelCrashedVersionIsNeverFallback is issue 18's third
// reproduction: versions that crash the engine once each are suspects;
// the replacement falls back to the newest version no engine died on,
// never to a suspect; a version that crashes twice is blamed.
func TestModelCrashedVersionIsNeverFallback(t *testing.T) {
	s := newSim(t)
	s.start()
	for range 3 {
		s.save(true) // v2..v4: good
	}
	s.wantLive(4)
	for n := 5; n <= 7; n++ {
		s.save(true)
		s.wantLive(n)
		e := s.serving()
		mark := len(s.events)
		s.in(inExited{e: e, code: 2, words: "panic: boom"})
		if s.m.versions[n].suspect == "" || s.m.versions[n].state == event.VersionBlamed {
			t.Fatalf("v%d after one crash: %+v, want suspect, not blamed", n, s.m.versions[n])
		}
		if len(s.pending) == 0 {
			t.Fatalf("no replacement after v%d crashed:\n%s", n, s.log())
		}
		wait := s.pending[len(s.pending)-1].(actRetryAfter).d
		if wait != 0 {
			t.Errorf("the replacement after v%d's crash waits %s; it serves a version no engine died on", n, wait)
		}
		s.retry()
		s.wantLive(4)
		var said bool
		for _, l := range find[event.Log](s, mark) {
			said = said || strings.Contains(l.Text, fmt.Sprintf("the engine died on v%d: the new engine serves v4", n))
		}
		if !said {
			t.Errorf("the fallback is not explained:\n%s", s.log())
		}
		// Go's exit code for a panic no recover caught: the exit names
		// the lab that shows one.
		for _, x := range find[event.EngineExit](s, mark) {
			if !strings.Contains(x.Reason, "unexpected exit") || !strings.Contains(x.Reason, "hotrun lab panic") {
				t.Errorf("the exit of an engine dead with code 2 says %q; want it unexpected, and the panic lab named", x.Reason)
			}
		}
	}
	// v7, made live again by hand, crashes again: blamed.
	s.in(inKey{op: reqActivate, n: 7})
	s.wantLive(7)
	s.in(inExited{e: s.serving(), code: 2, words: "panic: boom"})
	if s.m.versions[7].state != event.VersionBlamed {
		t.Errorf("v7 after two crashes: %+v, want blamed", s.m.versions[7])
	}
	s.retry()
	s.wantLive(4)
}

// TestModelOutsideKillsBlameNothing: an engine killed from outside is
// replaced on the version it served, at once, and nothing is suspected.
func TestModelOutsideKillsBlameNothing(t *testing.T) {
	s := newSim(t)
	s.start()
	s.save(true)
	for range 2 {
		s.in(inExited{e: s.serving(), code: -1, signal: "killed", outside: true})
		s.retry()
		s.wantLive(2)
	}
	if v := s.m.versions[2]; v.suspect != "" || v.state == event.VersionBlamed {
		t.Errorf("v2 after two outside kills: %+v", v)
	}
	for _, x := range find[event.EngineExit](s, 0) {
		if strings.Contains(x.Reason, "hotrun lab") {
			t.Errorf("a kill from outside names a lab: %q", x.Reason)
		}
	}
}

// TestModelBackForwardAfterReplacement: b and f reach the versions built
// for the serving engine even when it holds only the one it started with
// (after R, a hang or a crash).
func TestModelBackForwardAfterReplacement(t *testing.T) {
	s := newSim(t)
	s.start()
	s.save(true)
	s.save(true)
	s.wantLive(3)
	s.in(inKey{op: reqRestart})
	if got := s.serving().loaded; !slices.Equal(got, []int{3}) {
		t.Fatalf("the new engine holds %v, want [3]", got)
	}
	s.in(inKey{op: reqRollback})
	s.wantLive(2)
	s.in(inKey{op: reqRollback})
	s.wantLive(1)
	s.in(inKey{op: reqForward})
	s.wantLive(2)
	s.in(inKey{op: reqForward})
	s.wantLive(3)
	mark := len(s.events)
	s.in(inKey{op: reqForward})
	if logs := find[event.Log](s, mark); len(logs) != 1 || logs[0].Text != "no version to switch to" {
		t.Errorf("f past the newest: %+v", logs)
	}
}

// TestModelHungEngine: an engine that stops answering is shown hung, then
// replaced with its state after the grace; its exit says hotrun killed it,
// not that it handed over.
func TestModelHungEngine(t *testing.T) {
	s := newSim(t)
	old := s.start()
	hung := true
	s.fault = func(a action) (input, bool) {
		if p, ok := a.(actPing); ok && p.e == old && hung {
			return inPong{e: old, err: context.DeadlineExceeded}, true
		}
		return nil, false
	}
	obs := func() inPulse { return inPulse{obs: map[*engine]observation{old: {}}} }
	mark := len(s.events)
	s.in(obs())
	if old.state != engHung {
		t.Fatalf("engine %s after a ping timed out, want hung", old.state)
	}
	if got, want := s.snapshots(mark), []string{fmt.Sprintf("%d hung* v1 [1]", old.pid)}; !slices.Equal(got, want) {
		t.Errorf("engines snapshots %q, want %q: hung, and still the one that serves", got, want)
	}
	s.now = s.now.Add(hangGrace)
	s.in(obs())
	if s.serving() == old {
		t.Fatal("the hung engine was not replaced")
	}
	s.wantLive(1)
	exits := find[event.EngineExit](s, 0)
	if len(exits) != 1 || !strings.HasPrefix(exits[0].Reason, "killed by hotrun: it was hung") {
		t.Errorf("exit events %+v, want one that says hotrun killed it, hung", exits)
	}
}

// TestModelIssue10 plays the faults of issue 10 through the model.
func TestModelIssue10(t *testing.T) {
	t.Run("interface first, logic second", func(t *testing.T) {
		s := newSim(t)
		old := s.start()
		s.hostEdit()
		s.build(false) // the logic does not build against the new interface
		if s.serving() != old || len(s.m.engines) != 1 {
			t.Fatal("an engine was started for a logic that does not build")
		}
		s.save(true)
		if s.serving() == old {
			t.Fatal("no handover once the logic builds")
		}
		s.wantLive(3)
	})
	t.Run("an init that never returns", func(t *testing.T) {
		s := newSim(t)
		old := s.start()
		s.fault = func(a action) (input, bool) {
			if l, ok := a.(actLoad); ok && l.n == 2 {
				return inLoaded{e: l.e, n: 2, err: context.DeadlineExceeded}, true
			}
			return nil, false
		}
		s.save(true)
		if s.m.versions[2].state != event.VersionBlamed {
			t.Errorf("v2: %+v, want blamed", s.m.versions[2])
		}
		if s.serving() == old {
			t.Error("the engine stuck in the load was not replaced")
		}
		s.wantLive(1)
	})
	t.Run("os.Exit in init blames the loading version only", func(t *testing.T) {
		s := newSim(t)
		s.start()
		s.fault = func(a action) (input, bool) {
			if l, ok := a.(actLoad); ok && l.n == 2 {
				return inExited{e: l.e, code: 1, words: "bye"}, true
			}
			return nil, false
		}
		s.save(true)
		if s.m.versions[2].state != event.VersionBlamed || s.m.versions[1].suspect != "" {
			t.Errorf("v1 %+v, v2 %+v: want v2 blamed, v1 above suspicion", s.m.versions[1], s.m.versions[2])
		}
		s.retry()
		s.wantLive(1)
	})
	t.Run("the same death twice at start stops the retries", func(t *testing.T) {
		s := newSim(t)
		s.fault = func(a action) (input, bool) {
			if st, ok := a.(actStart); ok {
				return inStarted{e: st.e, err: errors.New("start"), words: "bind: address already in use"}, true
			}
			return nil, false
		}
		s.in(inBegin{})
		s.build(true)
		s.retry()
		if s.m.gaveUp == "" {
			t.Error("hotrun kept starting an engine that dies the same way each time")
		}
		if got := s.snapshots(0); got[len(got)-1] != " | ended 0 code -1 | gave up" {
			t.Errorf("engines snapshots %q, want the last to say none serves, why, and that hotrun gave up", got)
		}
		if x := find[event.Engines](s, 0); !strings.Contains(x[len(x)-1].Ended.Reason, "address already in use") {
			t.Errorf("the snapshot's end %+v does not say why the engine did not start", x[len(x)-1].Ended)
		}
		if slices.ContainsFunc(s.pending, func(a action) bool { _, ok := a.(actRetryAfter); return ok }) {
			t.Error("a third start is due")
		}
	})
	t.Run("a first logic that does not build", func(t *testing.T) {
		s := newSim(t)
		s.in(inBegin{})
		s.build(false)
		if e := s.serving(); e.live != 0 {
			t.Errorf("the first engine serves v%d, want none until a version builds", e.live)
		}
		s.save(true)
		s.wantLive(2)
	})
	t.Run("a status older than a switch is no word", func(t *testing.T) {
		s := newSim(t)
		e := s.start()
		s.save(true)
		var asked *actStatus
		s.fault = func(a action) (input, bool) {
			if st, ok := a.(actStatus); ok && asked == nil {
				asked = &st
				return nil, true // answered later, below
			}
			return nil, false
		}
		e.doubt = true
		s.in(inPulse{obs: map[*engine]observation{e: {heard: 7}}})
		if asked == nil {
			t.Fatal("no status asked after a doubt")
		}
		s.in(inKey{op: reqRollback})
		s.wantLive(1)
		s.in(inStatus{e: e, gen: asked.gen, st: Status{Live: 2, Loaded: []int{1, 2}}})
		s.wantLive(1)
		if !e.doubt {
			t.Error("a stale status was taken for the engine's word")
		}
	})
	t.Run("an engine that answers again is re-read", func(t *testing.T) {
		s := newSim(t)
		e := s.start()
		e.doubt = true
		mark := len(s.calls)
		s.in(inPulse{obs: map[*engine]observation{e: {heard: 5}}})
		if got := callNames(s.calls[mark:]); !slices.Contains(got, "Status") {
			t.Errorf("calls %v, want its status re-read", got)
		}
	})
}

// TestModelAdopt: an engine a killed hotrun left serving is taken over as
// it is; the first build of the new session swaps into it when the source
// still makes its build, and hands over to a new engine when not. Version
// numbers go on above every number it was asked to load.
func TestModelAdopt(t *testing.T) {
	for _, same := range []bool{true, false} {
		t.Run(fmt.Sprintf("same engine build %v", same), func(t *testing.T) {
			s := newSim(t)
			e := &engine{}
			s.in(inAdopted{e: e, pid: 4242, path: "/p/.hotrun/bin/engine.7",
				st: Status{Live: 7, Loaded: []int{5, 7}, Paths: []string{"/p/v5.so", "/p/v7.so"}, Newest: 9, Serving: true}})
			s.wantLive(7)
			if e.pid != 4242 || s.serving() != e {
				t.Fatalf("the adopted engine is not the one serving: %+v", e)
			}
			i := slices.IndexFunc(s.pending, func(a action) bool { b, ok := a.(actBuild); return ok && b.withEngine })
			if i < 0 {
				t.Fatal("no build of the engine and the logic after adopting")
			}
			a := s.pending[i].(actBuild)
			s.pending = slices.Delete(s.pending, i, i+1)
			if a.n != 10 {
				t.Errorf("the first version of the session is v%d, want v10: above every number the engine was asked to load", a.n)
			}
			if a.sameAs != "/p/.hotrun/bin/engine.7" {
				t.Errorf("the build compares its engine with %q, want the adopted one's executable", a.sameAs)
			}
			s.in(inBuilt{sameEngine: same, res: jobResult{id: a.id, version: a.n,
				engine: &builder.Result{Path: "/p/.hotrun/bin/engine.10"}, logic: &builder.Result{Path: "/p/v10.so"}}})
			s.wantLive(10)
			if got := s.serving() == e; got != same {
				t.Errorf("the adopted engine serves v10: %v, want %v", got, same)
			}
			if same && len(s.m.engines) != 1 {
				t.Errorf("%d engines, want the adopted one alone", len(s.m.engines))
			}
			// Settled: no later build reads the two executables again.
			s.in(inKey{op: reqRebuild})
			rebuilt := false
			for _, a := range s.pending {
				if b, ok := a.(actBuild); ok {
					rebuilt = true
					if b.sameAs != "" {
						t.Errorf("a build after the adoption was settled compares its engine with %q", b.sameAs)
					}
				}
			}
			if !rebuilt {
				t.Error("no build after R")
			}
		})
	}
}

// TestModelSessionRestore: the first engine of a session restores the
// last session's snapshot, unless -fresh; later ones always do.
func TestModelSessionRestore(t *testing.T) {
	for _, fresh := range []bool{false, true} {
		s := newSim(t)
		s.m.cfg.fresh = fresh
		s.start()
		var paths []string
		for _, c := range s.calls {
			if tk, ok := c.(actTakeover); ok {
				paths = append(paths, tk.path)
			}
		}
		s.in(inKey{op: reqRestart})
		for _, c := range s.calls {
			if tk, ok := c.(actTakeover); ok {
				paths = append(paths, tk.path)
			}
		}
		want := s.m.cfg.statePath
		if fresh {
			want = ""
		}
		if len(paths) < 2 || paths[0] != want || paths[len(paths)-1] != s.m.cfg.statePath {
			t.Errorf("fresh %v: takeovers with %q, want %q first, then the snapshot", fresh, paths, want)
		}
	}
}

// TestModelHostChangeDuringReplacement: a shared-package edit saved while
// a replacement of the serving engine is readied (here: after a load that
// never returned) still gets its new engine, once built; the replacement
// of the old build taking over meanwhile does not end the host change.
func TestModelHostChangeDuringReplacement(t *testing.T) {
	s := newSim(t)
	old := s.start()
	var stuck *engine
	s.fault = func(a action) (input, bool) {
		switch a := a.(type) {
		case actLoad:
			if a.n == 2 {
				return inLoaded{e: a.e, n: 2, err: context.DeadlineExceeded}, true
			}
		case actStart:
			if stuck == nil {
				stuck = a.e
				return nil, true // the replacement starts later, below
			}
		}
		return nil, false
	}
	s.save(true) // v2's init never returns: a replacement of the old build is readied
	if stuck == nil {
		t.Fatal("no replacement for the engine stuck in the load")
	}
	s.hostEdit() // saved while the replacement starts
	s.fault = nil
	s.in(inStarted{e: stuck, pid: 777})
	if s.serving() != stuck {
		t.Fatalf("the replacement did not take over from %d", old.pid)
	}
	s.build(true) // the new engine build and v3
	if e := s.serving(); e == stuck || e.build != s.m.newest {
		t.Fatalf("v3's new engine did not take over: serving %+v", e)
	}
	s.wantLive(3)
}

// TestModelSpeculativeConfirm: a build started on the first event of a
// burst is the change's build only when it staged each file the watcher
// read as the watcher read it at the burst's end; otherwise it is canceled
// without a word and a new build reads the tree again. Either way the
// version built holds what the disk holds, and takes the next number.
func TestModelSpeculativeConfirm(t *testing.T) {
	tests := []struct {
		name    string
		play    func(s *sim)
		confirm bool
		changes int // change events; 0 means 1
	}{
		{"staged what the burst ended with", func(s *sim) {
			s.write("main.go", "a")
			s.speculate()
			s.stage()
			s.change([]string{"main.go"})
		}, true, 0},
		{"saved again after the staging", func(s *sim) {
			s.write("main.go", "a")
			s.speculate()
			s.stage()
			s.write("main.go", "b")
			s.change([]string{"main.go"})
		}, false, 0},
		{"staged after the burst ended", func(s *sim) {
			s.write("main.go", "a")
			s.speculate()
			s.change([]string{"main.go"})
			s.stage()
		}, true, 0},
		{"staged after the burst ended and a save after it", func(s *sim) {
			s.write("main.go", "a")
			s.speculate()
			s.change([]string{"main.go"})
			s.write("main.go", "b")
			s.restage()
			s.stage()
		}, false, 0},
		{"its staging failed", func(s *sim) {
			s.write("main.go", "a")
			s.speculate()
			s.change([]string{"main.go"})
			s.staged[s.m.job.running] = nil
			s.build(false)
		}, false, 0},
		{"built before the burst ended", func(s *sim) {
			s.write("main.go", "a")
			s.speculate()
			s.build(true)
			s.change([]string{"main.go"})
		}, true, 0},
		{"built on a file caught in the middle of its save", func(s *sim) {
			// The editor truncated greet.go, the build read it so, and
			// the editor wrote it back as it was: the burst changed
			// util.go alone, but the watcher read greet.go too.
			s.write("greet.go", "truncated")
			s.speculate()
			s.write("greet.go", "g0")
			s.write("util.go", "u1")
			s.build(true)
			s.change([]string{"util.go"}, "greet.go")
		}, false, 0},
		{"a file removed after the staging", func(s *sim) {
			s.speculate()
			s.stage()
			s.write("greet.go", "")
			s.change([]string{"greet.go"})
		}, false, 0},
		{"a file removed before the staging", func(s *sim) {
			s.write("greet.go", "")
			s.speculate()
			s.stage()
			s.change([]string{"greet.go"})
		}, true, 0},
		{"two changes before it staged", func(s *sim) {
			s.write("main.go", "a")
			s.speculate()
			s.change([]string{"main.go"})
			s.write("greet.go", "g1")
			s.change([]string{"greet.go"})
			s.stage()
		}, false, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSim(t)
			s.write("greet.go", "g0")
			s.start()
			spec := s.m.job.id + 1
			mark := len(s.events)
			tt.play(s)
			if got := s.m.job.id == spec; got != tt.confirm {
				t.Errorf("the speculative build is the change's: %v, want %v\n%s", got, tt.confirm, s.log())
			}
			if s.m.job.running != 0 {
				s.build(true)
			}
			s.wantLive(2)
			if !maps.Equal(s.m.lastLogic, s.disk) {
				t.Errorf("v2 built %v, want the disk's %v", s.m.lastLogic, s.disk)
			}
			if n := len(find[event.BuildCanceled](s, mark)); n != 0 {
				t.Errorf("%d build.canceled events: a speculative build goes without a word", n)
			}
			if n, want := len(find[event.Change](s, mark)), max(tt.changes, 1); n != want {
				t.Errorf("%d change events, want %d", n, want)
			}
		})
	}
}

// TestModelNothingChanged: a change after which the logic tree is, byte
// for byte, what the last version was built from builds nothing; any
// other does, even when the files it names are as they were built.
func TestModelNothingChanged(t *testing.T) {
	tests := []struct {
		name  string
		play  func(s *sim)
		build bool
	}{
		{"reverted after a failed build", func(s *sim) {
			s.write("main.go", "broken")
			s.change([]string{"main.go"})
			s.build(false)
			s.write("main.go", "v0")
			s.change([]string{"main.go"})
		}, false},
		{"one of two failed edits reverted", func(s *sim) {
			s.write("main.go", "m1")
			s.change([]string{"main.go"})
			s.build(false)
			s.write("greet.go", "g1")
			s.change([]string{"greet.go"})
			s.build(false)
			s.write("greet.go", "g0")
			s.change([]string{"greet.go"})
		}, true},
		{"a save the build under way read already", func(s *sim) {
			s.write("main.go", "a")
			s.change([]string{"main.go"})
			s.write("main.go", "b")
			s.restage()
			s.build(true)
			s.change([]string{"main.go"})
		}, false},
		{"the tree unknown: a build staged nothing", func(s *sim) {
			s.write("main.go", "a")
			s.change([]string{"main.go"})
			s.staged[s.m.job.running] = nil
			s.build(false)
			s.write("main.go", "v0")
			s.change([]string{"main.go"})
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSim(t)
			s.write("greet.go", "g0")
			s.start()
			tt.play(s)
			if got := s.m.job.running != 0; got != tt.build {
				t.Errorf("a build after the last change: %v, want %v\n%s", got, tt.build, s.log())
			}
		})
	}
}

// TestModelSourcesAfterHandover: a handover leaves the old build's
// versions gone, and their sources stay while they are in the list: the
// diff of the new engine's first version is against them.
func TestModelSourcesAfterHandover(t *testing.T) {
	s := newSim(t)
	s.start()
	s.save(true)
	s.hostEdit()
	s.build(true)
	s.wantLive(3)
	var kept map[int]bool
	s.m.pruning = false
	s.m.prune()
	for _, a := range s.m.out {
		if p, ok := a.(actPrune); ok {
			kept = p.sources
		}
	}
	if s.m.versions[2].state != event.VersionGone || !kept[2] {
		t.Errorf("v2 is %s, its source kept: %v; want gone and kept", s.m.versions[2].state, kept[2])
	}
}

// TestModelEngines plays a session and checks the engines snapshots each
// step publishes, in order: what the screen and the probes read of the
// engines, and nothing else tells them.
func TestModelEngines(t *testing.T) {
	const why = "a package the engine holds changed"
	s := newSim(t)
	steps := []struct {
		name string
		do   func()
		want []string
	}{
		{"the first engine", func() { s.in(inBegin{}); s.build(true) }, []string{
			"0 starting", "101 standby", "101 standby v1 [1]", "101 serving* v1 [1]"}},
		{"a save swapped in", func() { s.save(true) }, []string{"101 serving* v2 [1 2]"}},
		{"a roll back", func() { s.in(inKey{op: reqRollback}) }, []string{"101 serving* v1 [1 2]"}},
		{"a failed build changes no engine", func() { s.save(false) }, nil},
		// Blue/green: the old engine serves until the new one took over.
		{"a host change", func() { s.hostEdit(); s.build(true) }, []string{
			"101 serving* v1 [1 2]; 0 starting (" + why + ")",
			"101 serving* v1 [1 2]; 102 standby (" + why + ")",
			"101 serving* v1 [1 2]; 102 standby v4 [4] (" + why + ")",
			"101 draining* v1 [1 2] (handed over to pid 102); 102 standby v4 [4] (" + why + ")",
			"102 standby v4 [4] (" + why + ") | ended 101 code 0 expected was v1",
			"102 serving* v4 [4] (" + why + ")"}},
		{"a crash", func() { s.in(inExited{e: s.serving(), code: 2, words: "panic: boom"}) }, []string{
			" | ended 102 code 2 was v4"}},
		{"its replacement", func() { s.retry() }, []string{
			"0 starting | ended 102 code 2 was v4",
			"103 standby | ended 102 code 2 was v4",
			"103 standby v4 [4] | ended 102 code 2 was v4",
			"103 serving* v4 [4]"}},
	}
	for _, st := range steps {
		mark := len(s.events)
		st.do()
		if got := s.snapshots(mark); !slices.Equal(got, st.want) {
			t.Errorf("%s: snapshots\n\t%s\nwant\n\t%s", st.name, strings.Join(got, "\n\t"), strings.Join(st.want, "\n\t"))
		}
	}
	last := find[event.Engines](s, 0)
	if e, ok := last[len(last)-1].Serving(); !ok || e.Since.IsZero() || !e.Since.Equal(s.m.versions[4].liveAt) {
		t.Errorf("the serving engine's live since %v, want when v4 went live in it (%v)", e.Since, s.m.versions[4].liveAt)
	}

	// Its memory names it: a figure of another engine is no figure of
	// this one.
	mark := len(s.events)
	e := s.serving()
	s.in(inPulse{obs: map[*engine]observation{e: {rss: 50 << 20}}})
	if mem := find[event.Memory](s, mark); len(mem) != 1 || mem[0].PID != e.pid || mem[0].RSSBytes != 50<<20 {
		t.Errorf("memory events %+v, want one of pid %d", mem, e.pid)
	}
}
