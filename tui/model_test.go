package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/hotrun-dev/hotrun/event"
)

// TestModel feeds record batches and keys to the model and checks what the
// screen says, and what it does not.
func TestModel(t *testing.T) {
	tests := []struct {
		name    string
		msgs    []tea.Msg
		want    []string // each must appear in the view
		notWant []string // none may appear
		calls   string   // what reached the controller
	}{
		{
			name: "before anything",
			want: []string{"engine starting…", "no version live yet", "build  idle", "no requests yet"},
		},
		{
			name: "running session",
			msgs: []tea.Msg{RecordsMsg(session())},
			want: []string{
				"example.com/app", "engine running · pid 4242", "v2 live since 10:00:41",
				"2 versions loaded", "48.0 MB RSS", "✓ v2 built in 1.24s", "requests · 12",
				"/api/orders?page=2#11", "500", "panic in v2 recovered at logic.Handler",
			},
		},
		{
			// The header is the supervisor's engines snapshot: loads and
			// starts alone are timeline lines (a standby engine loads
			// before it serves).
			name: "loads alone change no header",
			msgs: []tea.Msg{RecordsMsg{
				at(0, event.EngineStart{PID: 7}),
				at(1, event.LoadOK{Version: 1}), at(2, event.LoadOK{Version: 2}), at(3, event.LoadOK{Version: 3}),
			}},
			want:    []string{"engine starting…", "no version live yet", "• engine started, pid 7", "✓ v3 live (loaded in"},
			notWant: []string{"v3 live since", "versions loaded", "engine running"},
		},
		{
			name: "the header is the engines snapshot",
			msgs: []tea.Msg{RecordsMsg{at(3, serving(7, 3, 3, 1, 2, 3))}},
			want: []string{"engine running · pid 7", "v3 live since 10:00:03 · 3 versions loaded"},
		},
		{
			name: "engine exit",
			msgs: []tea.Msg{RecordsMsg{
				at(0, event.EngineStart{PID: 7}), at(1, serving(7, 1, 1, 1)),
				at(50, event.EngineExit{PID: 7, Code: 2, Reason: "unexpected exit; its last words: fatal error: concurrent map writes"}),
				at(50, event.Engines{Engines: []event.EngineInfo{}, WasLive: 1,
					Ended: &event.EngineExit{PID: 7, Code: 2, Reason: "unexpected exit; its last words: fatal error: concurrent map writes"}}),
			}},
			want: []string{"engine exited (code 2)", "v1 was live · unexpected exit; its last words: fatal error",
				"✗ engine pid 7 exited (code 2): unexpected exit"},
			notWant: []string{"versions loaded"},
		},
		{
			name: "a request cut at a handover",
			msgs: []tea.Msg{RecordsMsg{
				at(0, event.EngineStart{PID: 7}),
				at(1, event.RequestCut{Method: "GET", Path: "/events", Duration: event.Duration(61e9), Version: 3, Hijacked: true}),
			}},
			want: []string{"cut GET /events (a connection its handler took over) after 1m1s"},
		},
		{
			name: "generators before a build: one line when well, the output when not",
			msgs: []tea.Msg{RecordsMsg{
				at(0, event.Generate{Command: "templ generate", Duration: event.Duration(12e6), Output: "(✓) Complete [ updates=1 ]", Files: []string{"logic/views/hello_templ.go"}}),
				at(1, event.Generate{Command: "templ generate", Duration: event.Duration(9e6), Output: "(✗) parsing error: line 10, col 14", Error: "exit status 1"}),
			}},
			want:    []string{"templ generate ok in 12ms: wrote logic/views/hello_templ.go", "templ generate failed: exit status 1", "parsing error: line 10, col 14"},
			notWant: []string{"Complete [ updates=1 ]"},
		},
		{
			name: "a suspect version in the list",
			msgs: []tea.Msg{RecordsMsg{at(2, event.Versions{Versions: []event.VersionInfo{
				{Version: 4, State: event.VersionBuilt, Suspect: "the engine died while it was live (panic: boom)"},
				{Version: 3, State: event.VersionLive},
			}})}, press("v")},
			want: []string{"suspect: the engine died while it was live (panic: boom)"},
		},
		{
			name: "engine killed by a signal",
			msgs: []tea.Msg{RecordsMsg{at(0, event.EngineStart{PID: 7}), at(50, event.EngineExit{PID: 7, Code: -1, Signal: "killed"}),
				at(50, event.Engines{Engines: []event.EngineInfo{}, Ended: &event.EngineExit{PID: 7, Code: -1, Signal: "killed"}})}},
			want: []string{"engine exited (signal killed)", "✗ engine pid 7 exited (signal killed)"},
		},
		{
			// Blue/green: the engine that serves goes on while the next
			// one starts beside it.
			name: "a restart: the engine serves on while the next one starts",
			msgs: []tea.Msg{RecordsMsg(session()), RecordsMsg{
				at(50, event.EngineRestart{PID: 4242, Reason: "memory: 20 versions loaded, the limit"}),
				at(50, starting(4343, "memory: 20 versions loaded, the limit", serving(4242, 2, 41.4, 1, 2))),
			}},
			want: []string{"engine running · pid 4242 · next pid 4343 starting…", "v2 live since 10:00:41 · 2 versions loaded · 48.0 MB RSS",
				"! engine restarting (pid 4242): memory: 20 versions loaded, the limit"},
			notWant: []string{"was live", "exited"},
		},
		{
			name: "the old engine drains",
			msgs: []tea.Msg{RecordsMsg(session()), RecordsMsg{at(50, event.Engines{Engines: []event.EngineInfo{
				{PID: 4242, State: event.EngineDraining, Serving: true, Live: 2, Since: t0.Add(41 * time.Second), Loaded: []int{1, 2}, Why: "handed over to pid 4343"},
				{PID: 4343, State: event.EngineStandby, Live: 2, Loaded: []int{2}},
			}})}},
			want: []string{"engine handing over · pid 4242 · next pid 4343 starting…", "v2 live since 10:00:41"},
		},
		{
			name: "while none serves nothing is live",
			msgs: []tea.Msg{RecordsMsg(session()), RecordsMsg{
				at(50.2, event.EngineExit{PID: 4242, Code: 0, Reason: "handed over to pid 4343", Expected: true}),
				at(50.2, event.Engines{Engines: []event.EngineInfo{{PID: 4343, State: event.EngineStandby, Live: 2, Loaded: []int{2}}}, WasLive: 2,
					Ended: &event.EngineExit{PID: 4242, Code: 0, Reason: "handed over to pid 4343", Expected: true}}),
			}},
			want:    []string{"engine starting… · pid 4343", "v2 was live · handed over to pid 4343", "10:00:50   engine pid 4242 exited (code 0): handed over"},
			notWant: []string{"\n v2 live", "48.0 MB RSS", "2 versions loaded", "engine exited", "! engine pid"},
		},
		{
			// R, as the supervisor's blue/green handover reports it: the
			// new engine starts and takes over before the old one exits.
			name: "restart asked for, seen through",
			msgs: []tea.Msg{RecordsMsg(session()), press("R"), RecordsMsg{
				at(50, event.EngineRestart{PID: 4242, Reason: "restart asked for"}),
				at(50, starting(4343, "restart asked for", serving(4242, 2, 41.4, 1, 2))),
				at(50.3, event.EngineStart{PID: 4343}),
				at(50.4, event.StateSaved{Bytes: 49, Duration: ms(1)}),
				at(50.5, event.EngineExit{PID: 4242, Code: 0, Reason: "handed over to pid 4343", Expected: true}),
				at(50.6, event.StateRestored{Bytes: 49}),
				at(50.6, serving(4343, 2, 50.6, 2)),
			}},
			calls: "restart",
			want: []string{
				"engine running · pid 4343", "v2 live since 10:00:50 · 1 version loaded", "state saved 10:00:50",
				"engine restart requested", "! engine restarting (pid 4242): restart asked for",
				"engine pid 4242 exited (code 0): handed over to pid 4343", "• engine started, pid 4343", "✓ state restored (49 bytes)",
			},
			notWant: []string{"(switched)", "48.0 MB", "was live", "starting…"},
		},
		{
			name:    "a new engine has nothing live until it takes over",
			msgs:    []tea.Msg{RecordsMsg(session()), RecordsMsg{at(51, starting(4343, "", event.Engines{WasLive: 2, Ended: &event.EngineExit{PID: 4242, Code: 2, Reason: "unexpected exit"}}))}},
			want:    []string{"engine starting… · pid 4343", "v2 was live · unexpected exit"},
			notWant: []string{"\n v2 live", "2 versions loaded"},
		},
		{
			name: "an engine that stopped answering",
			msgs: []tea.Msg{RecordsMsg(session()), RecordsMsg{at(50, event.EngineHung{PID: 4242, Since: event.Duration(3e9)}),
				at(50, event.Engines{Engines: []event.EngineInfo{{PID: 4242, State: event.EngineUnresponsive, Serving: true, Live: 2, Loaded: []int{1, 2}}}})}},
			want: []string{"engine not answering · pid 4242", "engine pid 4242 not answering for 3s"},
		},
		{
			name: "hotrun gave up starting it",
			msgs: []tea.Msg{RecordsMsg{at(5, event.Engines{Ended: &event.EngineExit{Code: -1, Reason: "it did not start: bind: address already in use"},
				GaveUp: "bind: address already in use"})}},
			want: []string{"engine exited (code -1)", "no version live yet · not started again until a change or R · it did not start"},
		},
		{
			name:    "the memory of another engine is not this one's",
			msgs:    []tea.Msg{RecordsMsg(session()), RecordsMsg{at(51, serving(4343, 2, 51, 2))}},
			want:    []string{"engine running · pid 4343", "v2 live since 10:00:51 · 1 version loaded"},
			notWant: []string{"MB RSS"},
		},
		{
			name:    "state saved: a note in the header, not in the timeline",
			msgs:    []tea.Msg{RecordsMsg{at(0, event.EngineStart{PID: 7}), at(1, serving(7, 1, 1, 1)), at(48, event.StateSaved{Bytes: 41}), at(53, event.StateSaved{Bytes: 49})}},
			want:    []string{"v1 live since 10:00:01 · 1 version loaded · state saved 10:00:53"},
			notWant: []string{"saved (", "49 bytes", "state saved 10:00:48"},
		},
		{
			name: "state not restored: a warning and the kept file",
			msgs: []tea.Msg{RecordsMsg{at(0, event.EngineStart{PID: 7}), at(0.1, event.StateRestored{Bytes: 1200,
				Error: "gob: type mismatch: no fields matched compiling decoder for State",
				Kept:  ".hotrun/state/state.rejected"})}},
			want: []string{
				"! state not restored (fresh state): gob: type mismatch: no fields",
				"  snapshot kept at .hotrun/state/state.rejected",
			},
			notWant: []string{"state restored"},
		},
		{
			name:    "state not restored, no file kept",
			msgs:    []tea.Msg{RecordsMsg{at(0.1, event.StateRestored{Error: "read .hotrun/state/state: permission denied"})}},
			want:    []string{"! state not restored (fresh state): read .hotrun/state/state: permissi"},
			notWant: []string{"snapshot kept"},
		},
		{
			// The engine's durations come rounded to 0.1 ms: zero is fast.
			name: "a request too fast to time",
			msgs: []tea.Msg{RecordsMsg{at(1, event.Request{Method: "GET", Path: "/hello", Status: 200, Version: 1})}},
			want: []string{"/hello", "200   <0.1ms v1"},
		},
		{
			name: "building",
			msgs: []tea.Msg{RecordsMsg{at(58.5, event.BuildStart{Version: 3, Target: event.TargetLogic})}},
			want: []string{"building v3 · 1.5s"},
		},
		{
			name: "building the engine",
			msgs: []tea.Msg{RecordsMsg{at(59, event.BuildStart{Target: event.TargetEngine})}},
			want: []string{"building engine · 1.0s"},
		},
		{
			name: "build failed with diagnostics and source",
			msgs: []tea.Msg{RecordsMsg(session()), RecordsMsg(failed())},
			want: []string{
				"✗ v3 failed after 812ms · 2 errors",
				"logic/handler.go:13:3: declared and not used: n",
				"13 │ n := s.Hits.Add(1)",
				"logic/handler.go:14:29: undefined: cnt",
				`14 │ fmt.Fprintf(w, "hello %d\n", cnt)`,
			},
		},
		{
			name: "diagnostics stay while the next build runs",
			msgs: []tea.Msg{RecordsMsg(failed()), RecordsMsg{at(59, event.BuildStart{Version: 4})}},
			want: []string{"building v4", "v3's errors, until a build succeeds:", "undefined: cnt"},
		},
		{
			name:    "diagnostics go with the next good build",
			msgs:    []tea.Msg{RecordsMsg(failed()), RecordsMsg{at(59, event.BuildStart{Version: 4}), at(59.5, event.BuildOK{Version: 4, Duration: ms(900)})}},
			want:    []string{"✓ v4 built in 900ms"},
			notWant: []string{"undefined: cnt\n", "13 │"},
		},
		{
			name: "a diagnostic without its source line",
			msgs: []tea.Msg{RecordsMsg{at(59, event.BuildFail{Version: 4, Duration: ms(5), Diagnostics: []event.Diagnostic{
				{File: "no/such/file.go", Line: 3, Col: 1, Msg: "syntax error"}}})}},
			want:    []string{"no/such/file.go:3:1: syntax error"},
			notWant: []string{"3 │"},
		},
		{
			name: "build failed without diagnostics",
			msgs: []tea.Msg{RecordsMsg{at(59, event.BuildFail{Version: 4, Duration: ms(5), Error: "go: cannot find main module"})}},
			want: []string{"✗ v4 failed after 5ms", "go: cannot find main module"},
		},
		{
			name: "build canceled",
			msgs: []tea.Msg{RecordsMsg{at(58, event.BuildStart{Version: 4}), at(59, event.BuildCanceled{Version: 4})}},
			want: []string{"v4 canceled, a newer change made it stale"},
		},
		{
			name: "rejected load with explanation and raw error",
			msgs: []tea.Msg{RecordsMsg{at(50, event.LoadFail{Version: 5,
				Error:   "plugin.Open: plugin was built with a different version of package example.com/app/shared",
				Explain: "shared changed: hotrun restarts the engine"})}},
			want: []string{"v5 rejected: shared changed: hotrun restarts the engine", "plugin.Open: plugin was built"},
		},
		{
			name: "rolled back",
			msgs: []tea.Msg{RecordsMsg{at(2, serving(7, 2, 2, 1, 2)), at(30, event.Rollback{From: 2, To: 1}), at(30, serving(7, 1, 30, 1, 2))}},
			want: []string{"! rolled back v2 → v1", "v1 live since 10:00:30 (switched) · 2 versions loaded"},
		},
		{
			name: "and forward again to the newest",
			msgs: []tea.Msg{RecordsMsg{at(2, serving(7, 2, 2, 1, 2)), at(30, event.Rollback{From: 2, To: 1}), at(30, serving(7, 1, 30, 1, 2)),
				at(40, event.Rollback{From: 1, To: 2}), at(40, serving(7, 2, 40, 1, 2))}},
			want:    []string{"rolled back v2 → v1", "switched forward v1 → v2", "v2 live since 10:00:40 · 2 versions loaded"},
			notWant: []string{"(switched)"},
		},
		{
			name: "engine output and hotrun warnings in the timeline",
			msgs: []tea.Msg{RecordsMsg{
				at(1, event.Log{Source: event.SourceEngine, Stream: "stdout", Text: "\x1b[31mred\x1b[0m\tline"}),
				at(2, event.Log{Source: event.SourceHotrun, Level: "error", Text: "cannot watch: too many open files"}),
				at(3, event.Change{Files: []string{"a.go", "b.go", "c.go", "d.go"}, Kind: event.KindHost}),
			}},
			want:    []string{"│ red    line", "✗ cannot watch: too many open files", "change: a.go, b.go, c.go and 1 more (engine: restart needed)"},
			notWant: []string{"\x1b[31m"},
		},
		{
			name:  "keys reach the controller",
			msgs:  keys("r", "R", "b", "f"),
			calls: "rebuild,restart,rollback,forward",
			want:  []string{"rebuild requested", "engine restart requested", "rollback requested", "forward requested"},
		},
		{
			name:    "filter by path",
			msgs:    append(append([]tea.Msg{RecordsMsg(session())}, keys("/")...), append(typed("login"), press("enter"))...),
			want:    []string{"filter /login", "/login#4", "/login#10"},
			notWant: []string{"/api/items#7"},
		},
		{
			name:    "filter by status class",
			msgs:    append(append([]tea.Msg{RecordsMsg(session())}, keys("/")...), append(typed("5"), press("enter"))...),
			want:    []string{"/api/orders?page=2#5", "/api/orders?page=2#11"},
			notWant: []string{"/login#4", "/#6"},
		},
		{
			name:    "filter by version",
			msgs:    append(append([]tea.Msg{RecordsMsg(requests(1, 3)), RecordsMsg{at(2, event.Request{Method: "GET", Path: "/old", Status: 200, Version: 1})}}, keys("/")...), append(typed("v1"), press("enter"))...),
			want:    []string{"/old"},
			notWant: []string{"/api/items#1"},
		},
		{
			name:    "escape drops the filter",
			msgs:    append(append([]tea.Msg{RecordsMsg(session())}, keys("/")...), append(typed("login"), press("esc"))...),
			want:    []string{"/api/items#7", "/login#4"},
			notWant: []string{"filter /"},
		},
		{
			name: "filter matching nothing",
			msgs: append(append([]tea.Msg{RecordsMsg(session())}, keys("/")...), append(typed("nothing"), press("enter"))...),
			want: []string{"no request matches /nothing"},
		},
		{
			name:    "clear the log",
			msgs:    append([]tea.Msg{RecordsMsg(session())}, press("c")),
			want:    []string{"no requests yet", "v2 live"},
			notWant: []string{"/login#4"},
		},
		{
			name:    "pause holds the view while requests arrive",
			msgs:    []tea.Msg{RecordsMsg(requests(1, 20)), press("p"), RecordsMsg(requests(10, 30))},
			want:    []string{"paused, 30 new", "/api/orders?page=2#17"},
			notWant: []string{"#29 "},
		},
		{
			name: "unpause follows the tail again",
			msgs: []tea.Msg{RecordsMsg(requests(1, 20)), press("p"), RecordsMsg(requests(10, 30)), press("p")},
			want: []string{"/api/orders?page=2#29"},
		},
		{
			name:    "scrolled up stays put",
			msgs:    []tea.Msg{RecordsMsg(requests(1, 100)), press("pgup"), RecordsMsg(requests(20, 50))},
			want:    []string{"scrolled, 61 below (G)", "#88"},
			notWant: []string{"#89 "},
		},
		{
			name:    "scrolling down to the bottom follows again",
			msgs:    []tea.Msg{RecordsMsg(requests(1, 100)), press("up"), press("down"), RecordsMsg(requests(20, 5))},
			want:    []string{"#4 "},
			notWant: []string{"scrolled"},
		},
		{
			name: "mouse wheel scrolls the request log",
			msgs: []tea.Msg{RecordsMsg(requests(1, 100)), tea.MouseWheelMsg{X: 10, Y: 8, Button: tea.MouseWheelUp}},
			want: []string{"scrolled, 3 below"},
		},
		{
			name: "home shows the oldest",
			msgs: []tea.Msg{RecordsMsg(requests(1, 100)), press("g")},
			want: []string{"/#0 ", "scrolled, 88 below"},
		},
		{
			name: "tab focuses the timeline, keys act on it",
			msgs: []tea.Msg{RecordsMsg(session()), press("tab"), press("up")},
			want: []string{"▸ timeline · scrolled, 1 below", "  requests"},
		},
		{
			name: "help",
			msgs: keys("?"),
			want: []string{"clear pane", "pause pane", "newest, follow", "q quit"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctl := &fakeControl{}
			m, _ := update(t, newTestModel(ctl), tt.msgs...)
			view := ansi.Strip(content(m))
			for _, w := range tt.want {
				if !strings.Contains(view, w) {
					t.Errorf("view lacks %q:\n%s", w, view)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(view, w) {
					t.Errorf("view has %q:\n%s", w, view)
				}
			}
			if got := ctl.String(); got != tt.calls {
				t.Errorf("controller calls = %q, want %q", got, tt.calls)
			}
		})
	}
}

// TestQuit checks that q and ctrl+c quit, and that the stream closing does.
func TestQuit(t *testing.T) {
	for _, msg := range []tea.Msg{press("q"), press("ctrl+c"), streamClosedMsg{}} {
		_, cmd := update(t, newTestModel(nil), msg)
		if cmd == nil {
			t.Fatalf("%v: no command", msg)
		}
		if _, ok := cmd().(tea.QuitMsg); !ok {
			t.Errorf("%v: command does not quit", msg)
		}
	}
	// While the filter is edited, q is text, not quit.
	m, cmd := update(t, newTestModel(nil), press("/"), press("q"))
	if cmd != nil {
		if _, ok := cmd().(tea.QuitMsg); ok {
			t.Error("q quit while typing a filter")
		}
	}
	if got := m.filter.Value(); got != "q" {
		t.Errorf("filter = %q, want q", got)
	}
}

// TestSizes checks that every frame fills the terminal exactly, whatever its
// size, so the terminal never wraps or scrolls.
func TestSizes(t *testing.T) {
	sizes := [][2]int{{80, 24}, {40, 10}, {120, 40}, {20, 5}, {200, 60}, {80, 3}}
	states := map[string][]tea.Msg{
		"session": {RecordsMsg(session())},
		"failed":  {RecordsMsg(session()), RecordsMsg(failed())},
		"help":    {RecordsMsg(session()), press("?")},
		"filter":  {RecordsMsg(session()), press("/"), press("a")},
	}
	for name, msgs := range states {
		for _, sz := range sizes {
			t.Run(fmt.Sprintf("%s/%dx%d", name, sz[0], sz[1]), func(t *testing.T) {
				m, _ := update(t, newTestModel(nil), msgs...)
				m, _ = update(t, m, tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
				lines := strings.Split(content(m), "\n")
				if len(lines) != sz[1] {
					t.Errorf("%d lines, want %d", len(lines), sz[1])
				}
				for i, l := range lines {
					if w := ansi.StringWidth(l); w > sz[0] {
						t.Errorf("line %d is %d wide, want ≤ %d: %q", i, w, sz[0], ansi.Strip(l))
					}
				}
			})
		}
	}
}

// TestBackground checks that a light terminal gets the light styles.
func TestBackground(t *testing.T) {
	m, _ := update(t, newTestModel(nil), tea.BackgroundColorMsg{Color: ansi.White})
	if m.isDark {
		t.Error("white background taken for dark")
	}
}

// TestBounded checks that a flood leaves the request log and the timeline at
// their sizes.
func TestBounded(t *testing.T) {
	m := NewModel(Options{LogLines: 1000, Now: fixedNow})
	for range 50 {
		batch := requests(0, 1000)
		for i := range 20 {
			batch = append(batch, at(0, event.Log{Source: event.SourceEngine, Text: fmt.Sprint("line ", i)}))
		}
		m, _ = update(t, m, RecordsMsg(batch))
	}
	if n, c := m.reqs.lines.len(), cap(m.reqs.lines.buf); n != 1000 || c > 1000 {
		t.Errorf("request log holds %d (capacity %d), want 1000 (≤ 1000)", n, c)
	}
	if n, c := m.timeline.lines.len(), cap(m.timeline.lines.buf); n != timelineLines || c > timelineLines {
		t.Errorf("timeline holds %d (capacity %d), want %d", n, c, timelineLines)
	}
	if got := m.reqs.lines.total; got != 50_000 {
		t.Errorf("total = %d, want 50000", got)
	}
}

// TestTick checks that a build start begins a fast tick loop at once and that
// the superseded loop ends.
func TestTick(t *testing.T) {
	m := newTestModel(nil)
	if m.Init() == nil {
		t.Fatal("Init returns no command")
	}
	m, cmd := update(t, m, RecordsMsg{at(59, event.BuildStart{Version: 2})})
	if cmd == nil || m.tickGen != 1 {
		t.Fatalf("build start: cmd %v, tick generation %d, want a command and 1", cmd, m.tickGen)
	}
	if _, cmd = update(t, m, tickMsg{gen: 0}); cmd != nil {
		t.Error("a superseded tick re-armed itself")
	}
	if _, cmd = update(t, m, tickMsg{gen: 1}); cmd == nil {
		t.Error("the current tick did not re-arm itself")
	}
}
