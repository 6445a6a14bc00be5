package runner

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hotrun-dev/hotrun/event"
)

func TestInherit(t *testing.T) {
	dir := t.TempDir()
	open := func(name string) *os.File {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	l := &loop{listeners: map[string]*os.File{
		"tcp:127.0.0.1:9000": open("b"),
		"tcp:127.0.0.1:8080": open("a"),
	}}
	files, spec := l.inherit()
	if want := "tcp:127.0.0.1:8080=3;tcp:127.0.0.1:9000=4"; spec != want {
		t.Errorf("spec = %q, want %q", spec, want)
	}
	if len(files) != 2 || files[0] != l.listeners["tcp:127.0.0.1:8080"] {
		t.Errorf("files out of order with the spec")
	}
}

func TestCrashBlame(t *testing.T) {
	live := time.Now()
	b := &engineBuild{}
	tests := []struct {
		name    string
		crashes []crash
		blamed  bool // v2 blamed
		suspect bool // v2 suspected
		gaveUp  bool // no more replacements
		target  int  // what the replacement serves
	}{
		{"one crash", []crash{{version: 2}}, false, true, false, 1},
		{"two outside kills", []crash{{version: 2, outside: true}, {version: 2, outside: true}}, false, false, false, 2},
		{"an outside kill, then a crash", []crash{{version: 2, outside: true}, {version: 2}}, false, true, false, 1},
		{"two crashes on v2", []crash{{version: 2}, {version: 2}}, true, true, false, 1},
		{"the same death twice at start", []crash{{early: true, words: "bind: address already in use"}, {early: true, words: "bind: address already in use"}}, false, false, true, 0},
		{"two different deaths at start", []crash{{early: true, words: "a"}, {early: true, words: "b"}}, false, false, false, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newModel(modelConfig{mode: ModeHotSwap, snapshotEvery: 5 * time.Second})
			m.served = b
			m.versions = map[int]*version{
				1: {n: 1, state: event.VersionLoaded, build: b, so: "1.so", liveAt: live.Add(-time.Minute)},
				2: {n: 2, state: event.VersionLive, build: b, so: "2.so", liveAt: live},
			}
			for _, c := range tt.crashes {
				c.at = time.Now()
				m.now = c.at
				m.crashed(c)
			}
			if blamed := m.versions[2].state == event.VersionBlamed; blamed != tt.blamed {
				t.Errorf("v2 blamed = %v, want %v (actions %v)", blamed, tt.blamed, m.out)
			}
			if suspect := m.versions[2].suspect != ""; suspect != tt.suspect {
				t.Errorf("v2 suspect = %v, want %v", suspect, tt.suspect)
			}
			if (m.gaveUp != "") != tt.gaveUp {
				t.Errorf("gave up = %q, want %v", m.gaveUp, tt.gaveUp)
			}
			if !tt.gaveUp && m.retryTarget != tt.target {
				t.Errorf("the replacement serves v%d, want v%d", m.retryTarget, tt.target)
			}
		})
	}
}

func TestOutsideSignal(t *testing.T) {
	for sig, want := range map[syscall.Signal]bool{syscall.SIGKILL: true, syscall.SIGTERM: true, syscall.SIGSEGV: false, syscall.SIGABRT: false, 0: false} {
		if got := outsideSignal(sig); got != want {
			t.Errorf("outsideSignal(%v) = %v, want %v", sig, got, want)
		}
	}
}

func TestReadLinesCutsLongLines(t *testing.T) {
	long := strings.Repeat("x", 2<<20)
	in := "first\n" + long + "\nafter\n" + strings.Repeat("y", 100) + "\nlast without newline"
	var got []string
	readLines(strings.NewReader(in), 1024, func(s string) { got = append(got, s) })
	if len(got) != 5 {
		t.Fatalf("got %d lines, want 5", len(got))
	}
	if got[0] != "first" || got[2] != "after" || got[4] != "last without newline" {
		t.Errorf("lines around the long one: %q %q %q", got[0], got[2], got[4])
	}
	if want := strings.Repeat("x", 1024) + fmt.Sprintf(" … [line cut: %d more bytes]", 2<<20-1024); got[1] != want {
		t.Errorf("cut line ends %q", got[1][1000:])
	}
}

func TestStats(t *testing.T) {
	a := map[string]string{"main.go": "a\nb\nc\n", "gone.go": "x\n"}
	b := map[string]string{"main.go": "a\nB\nc\nd\n", "new.go": "y\nz\n"}
	got := stats(a, b)
	want := []event.FileChange{{Path: "gone.go", Removed: 1}, {Path: "main.go", Added: 2, Removed: 1}, {Path: "new.go", Added: 2}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("stats = %v, want %v", got, want)
	}
	d := diffTrees("v1", "v2", a, b)
	if !strings.Contains(d, "--- v1/main.go") || !strings.Contains(d, "+B") {
		t.Errorf("diff:\n%s", d)
	}
}

func TestUnstageEvent(t *testing.T) {
	p := unstageEvent(event.Panic{Where: "m/.hotrun/stage/b12/logic/greet.Hello /x/.hotrun/stage/b12/logic/greet/greet.go:14"}).(event.Panic)
	if want := "m/logic/greet.Hello /x/logic/greet/greet.go:14"; p.Where != want {
		t.Errorf("Where = %q, want %q", p.Where, want)
	}
	f := unstageEvent(event.LoadFail{Error: "plugin.Open(\"/x/.hotrun/stage/static/logic\")"}).(event.LoadFail)
	if f.Error != "plugin.Open(\"/x/logic\")" {
		t.Errorf("Error = %q", f.Error)
	}
}

// TestFromEngine: an engine's events are the control protocol's; one that
// claims the supervisor's own is not believed.
func TestFromEngine(t *testing.T) {
	for _, tt := range []struct {
		e    event.Event
		want bool
	}{
		{event.LoadOK{Version: 2}, true},
		{event.Request{Method: "GET"}, true},
		{event.Unit{Unit: "tick"}, true},
		{event.Log{Source: event.SourceEngine}, true},
		{event.StateRestored{}, true},
		{event.Engines{}, false},
		{event.Versions{}, false},
		{event.EngineExit{PID: 7}, false},
		{event.Blame{Version: 2}, false},
		{event.Memory{}, false},
	} {
		if got := fromEngine(tt.e); got != tt.want {
			t.Errorf("fromEngine(%s) = %v, want %v", tt.e.Name(), got, tt.want)
		}
	}
}

func TestChooseMode(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if m, why := chooseMode(ctx, ModeRestart); m != ModeRestart || why != "" {
		t.Errorf("asked for restart: %q, %q", m, why)
	}
	t.Setenv("CC", "no-such-compiler-hotrun")
	if m, why := chooseMode(ctx, ""); m != ModeRestart || why == "" {
		t.Errorf("without a C compiler: %q, %q; want restart mode and a reason", m, why)
	}
}

// TestForgetEnded checks that a long session's version list stays the same
// size: ended versions beyond keepEnded are forgotten, oldest first, and
// none that may still serve is.
func TestForgetEnded(t *testing.T) {
	b := &engineBuild{}
	l := newModel(modelConfig{})
	l.served, l.newest = b, b
	const saves = 1000
	for n := 1; n <= saves; n++ {
		state := event.VersionGone
		switch {
		case n == saves:
			state = event.VersionLive
		case n%100 == 0:
			state = event.VersionFailed
		case n == 7:
			state = event.VersionRejected // ended too, but still shown with why
		}
		l.versions[n] = &version{n: n, state: state, build: b}
	}
	l.serving = &engine{build: b, live: saves, loaded: []int{saves}, state: engServing}
	l.engines = []*engine{l.serving}
	l.refreshStates()
	var ended []int
	for n, v := range l.versions {
		if v.state == event.VersionGone || v.state == event.VersionFailed {
			ended = append(ended, n)
		}
	}
	slices.Sort(ended)
	if len(ended) != keepEnded || ended[0] != saves-keepEnded {
		t.Errorf("kept %d ended versions from v%d, want %d from v%d", len(ended), ended[0], keepEnded, saves-keepEnded)
	}
	if l.forgotten != saves-2-keepEnded {
		t.Errorf("forgotten = %d, want %d", l.forgotten, saves-2-keepEnded)
	}
	for _, n := range []int{7, saves} {
		if l.versions[n] == nil {
			t.Errorf("v%d forgotten; it is not ended", n)
		}
	}
}

// TestPulseEvery checks when the loop may slow its pulse: only when one
// engine serves, silent, with nothing under way.
func TestPulseEvery(t *testing.T) {
	tests := []struct {
		name string
		set  func(m *model, e *engine)
		want time.Duration
	}{
		{"serving alone, quiet", func(*model, *engine) {}, idlePulse},
		{"it reported work", func(_ *model, e *engine) { e.quiet = false }, pingEvery},
		{"a standby beside it", func(m *model, _ *engine) { m.engines = append(m.engines, &engine{state: engStandby}) }, pingEvery},
		{"hung", func(_ *model, e *engine) { e.state = engHung }, pingEvery},
		{"status in doubt", func(_ *model, e *engine) { e.doubt = true }, pingEvery},
		{"a load under way", func(_ *model, e *engine) { e.loading = 3 }, pingEvery},
		{"a build under way", func(m *model, _ *engine) { m.job.running = 1 }, pingEvery},
		{"a replacement waits", func(m *model, _ *engine) { m.retrying = true }, pingEvery},
		{"no engine serves", func(m *model, _ *engine) { m.serving = nil }, pingEvery},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &engine{pid: 42, state: engServing, quiet: true}
			m := newModel(modelConfig{snapshotEvery: 5 * time.Second})
			m.serving, m.engines = e, []*engine{e}
			tt.set(m, e)
			if got := m.pulseEvery(); got != tt.want {
				t.Errorf("pulseEvery = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestMissedAtTakeover checks which version an engine taking over loads
// because its build ended while the engine was readied: one whose build
// was under way when the replacement began (it had claimed its number),
// and never an older one a rollback chose not to serve.
func TestMissedAtTakeover(t *testing.T) {
	b := &engineBuild{}
	tests := []struct {
		name   string
		states map[int]string // at the replacement
		after  map[int]string // when the new engine takes over
		live   int            // what the new engine serves
		want   int
	}{
		{"built under way", map[int]string{22: event.VersionLive, 23: event.VersionBuilding}, map[int]string{23: event.VersionBuilt}, 22, 23},
		{"built after", map[int]string{22: event.VersionLive}, map[int]string{23: event.VersionBuilt}, 22, 23},
		{"nothing new", map[int]string{22: event.VersionLive}, nil, 22, 0},
		{"a rollback's choice", map[int]string{20: event.VersionLive, 22: event.VersionBuilt}, nil, 20, 0},
		{"failed under way", map[int]string{22: event.VersionLive, 23: event.VersionBuilding}, map[int]string{23: event.VersionFailed}, 22, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newModel(modelConfig{})
			l.newest = b
			for n, s := range tt.states {
				l.versions[n] = &version{n: n, state: s, build: b}
				l.next = max(l.next, n)
			}
			e := &engine{build: b, newAbove: l.builtUpTo()}
			for n, s := range tt.after {
				if l.versions[n] == nil {
					l.versions[n] = &version{n: n, build: b}
				}
				l.versions[n].state = s
			}
			e.live = tt.live
			if got := l.missed(e); got != tt.want {
				t.Errorf("missed = v%d, want v%d", got, tt.want)
			}
		})
	}
}

// TestBoundAddr: a socket asked for with port 0 is named by the port the
// kernel gave it, for the probes; any other by the address asked for.
func TestBoundAddr(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := boundAddr("tcp:127.0.0.1:0", f); got != ln.Addr().String() {
		t.Errorf("boundAddr of port 0 = %q, want %q", got, ln.Addr())
	}
	if got := boundAddr("tcp:127.0.0.1:8080", f); got != "127.0.0.1:8080" {
		t.Errorf("boundAddr of a fixed port = %q, want the asked address", got)
	}
	for addr, want := range map[string]string{"[::]:80": "[::1]:80", ":80": "127.0.0.1:80", "0.0.0.0:80": "127.0.0.1:80", "10.0.0.1:80": "10.0.0.1:80"} {
		if got := dialable(addr); got != want {
			t.Errorf("dialable(%q) = %q, want %q", addr, got, want)
		}
	}
}
