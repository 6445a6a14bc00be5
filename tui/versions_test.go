package tui

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/hotrun-dev/hotrun/event"
)

// diff12 is the runner's diff of the logic tree from v1 to v2.
const diff12 = `diff --git a/logic/main.go b/logic/main.go
--- a/logic/main.go
+++ b/logic/main.go
@@ -9,9 +9,9 @@ type logic struct{}
 
 // Version is the number the example's engine shows.
-func (logic) Version() int { return 1001 }
+func (logic) Version() int { return 1002 }
 
-func (logic) Name() string { return "game1" }
+func (logic) Name() string { return "game2" }
 
 func (logic) Hello(name string, visits int) string {
 	return fmt.Sprintf("version=%d, name=%s", 1002, name)
diff --git a/logic/util/greet.go b/logic/util/greet.go
--- a/logic/util/greet.go
+++ b/logic/util/greet.go
@@ -3,3 +3,4 @@ package util
 func Greet(name string) string {
+	name = strings.TrimSpace(name)
 	return "hello " + name
 }
`

func newDiffControl() *fakeControl {
	return &fakeControl{diffs: map[string]string{"1-2": diff12, "2-3": "", "1-3": diff12}}
}

// swapped is session() as the supervisor's model tells it: its version
// list, with versions rejected, failed and blamed after v2, and what the
// probes answered on v1 and then on v2.
func swapped() []event.Record {
	built := func(sec float64) time.Time { return t0.Add(time.Duration(sec * float64(time.Second))) }
	rs := session()
	rs = append(rs,
		at(2.6, event.Probe{Version: 1, Request: "GET /hello?name=test", Status: 200, Duration: ms(1.4), Body: "version=1001, name=test"}),
		at(41.45, event.Change{Files: []string{"logic/main.go", "logic/util/greet.go"}, Kind: event.KindLogic,
			Stats: []event.FileChange{{Path: "logic/main.go", Added: 2, Removed: 2}, {Path: "logic/util/greet.go", Added: 1}}}),
		at(41.5, event.Probe{Version: 2, Request: "GET /hello?name=test", Status: 200, Duration: ms(1.2),
			Body: "version=1002, name=test", Previous: "version=1001, name=test"}),
		at(41.5, event.Probe{Version: 2, Request: "POST /items {}", Duration: ms(0.3), Error: "dial tcp 127.0.0.1:8080: connect: connection refused"}),
		at(52, event.Blame{Version: 5, Reason: "the engine died loading it (signal SIGSEGV)"}),
		at(55, event.Versions{DiskBytes: 212 << 20, Versions: []event.VersionInfo{
			{Version: 6, State: event.VersionFailed, Why: "logic/main.go:14:29: undefined: cnt", Built: built(54.8), BuildDuration: ms(812),
				Files: []event.FileChange{{Path: "logic/main.go", Added: 1, Removed: 1}}},
			{Version: 5, State: event.VersionBlamed, Why: "the engine died loading it (signal SIGSEGV)", Built: built(51), BuildDuration: ms(1190),
				Files: []event.FileChange{{Path: "logic/unsafe.go", Added: 12}}},
			{Version: 4, State: event.VersionRejected, Why: `check failed: Hello("test") panicked: nil map`, Built: built(48), BuildDuration: ms(1205), LoadDuration: ms(3.1),
				Files: []event.FileChange{{Path: "logic/main.go", Added: 3, Removed: 1}}},
			{Version: 3, State: event.VersionLoaded, Built: built(44), BuildDuration: ms(1188), LoadDuration: ms(2.7),
				Files: []event.FileChange{{Path: "logic/util/greet.go", Added: 1, Removed: 1}}},
			{Version: 2, State: event.VersionLive, Built: built(41.3), BuildDuration: ms(1236), LoadDuration: ms(2.9),
				Files: []event.FileChange{{Path: "logic/main.go", Added: 2, Removed: 2}, {Path: "logic/util/greet.go", Added: 1}}},
			{Version: 1, State: event.VersionLoaded, Built: built(2.4), BuildDuration: ms(1412), LoadDuration: ms(3.2)},
		}}),
	)
	slices.SortStableFunc(rs, func(a, b event.Record) int { return a.Time.Compare(b.Time) })
	return rs
}

// drive feeds msgs to m as bubbletea would, running the commands that
// fetch a diff and feeding back their answer, so the screen test starts
// from a model that holds it.
func drive(t *testing.T, m Model, msgs ...tea.Msg) Model {
	t.Helper()
	for _, msg := range msgs {
		var cmd tea.Cmd
		m, cmd = update(t, m, msg)
		for _, d := range diffs(cmd) {
			m, _ = update(t, m, d)
		}
	}
	return m
}

// diffs runs cmd and returns the diffs it fetched. Only commands that
// return at once are run: the model makes no other kind here.
func diffs(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	switch msg := cmd().(type) {
	case diffMsg:
		return []tea.Msg{msg}
	case tea.BatchMsg:
		var out []tea.Msg
		for _, c := range msg {
			out = append(out, diffs(c)...)
		}
		return out
	}
	return nil
}

// TestScreenVersions: golden screens of the version list, a diff, the
// probe pane and the presenter layout, at 80×24 and 120×40.
func TestScreenVersions(t *testing.T) {
	tests := []struct {
		name string
		big  bool
		msgs []tea.Msg
	}{
		{"probes", false, []tea.Msg{RecordsMsg(swapped())}},
		{"versions", false, append([]tea.Msg{RecordsMsg(swapped())}, keys("v", "down", "m", "up", "up")...)},
		{"diff", false, append([]tea.Msg{RecordsMsg(swapped())}, keys("v", "enter")...)},
		{"diff_marked", false, append([]tea.Msg{RecordsMsg(swapped())}, keys("v", "down", "m", "up", "up", "D", "n")...)},
		{"big", true, []tea.Msg{RecordsMsg(swapped())}},
	}
	for _, tt := range tests {
		for _, size := range [][2]int{{80, 24}, {120, 40}} {
			t.Run(fmt.Sprintf("%s_%dx%d", tt.name, size[0], size[1]), func(t *testing.T) {
				t.Parallel()
				m := NewModel(Options{Project: "example.com/app", Control: newDiffControl(), Now: fixedNow, Big: tt.big})
				m = drive(t, m, append([]tea.Msg{tea.WindowSizeMsg{Width: size[0], Height: size[1]}}, tt.msgs...)...)
				got := screenSize(t, m, size[0], size[1])
				golden.RequireEqual(t, []byte(got))
			})
		}
	}
}

// TestVersionKeys checks what the version list's keys ask of the
// controller.
func TestVersionKeys(t *testing.T) {
	ctl := newDiffControl()
	m := NewModel(Options{Control: ctl, Now: fixedNow})
	m = drive(t, m, RecordsMsg(swapped()), press("v"))
	// v2 is live and selected: l does nothing but say so.
	m = drive(t, m, press("l"))
	if ctl.String() != "" {
		t.Errorf("l on the live version called %q", ctl.String())
	}
	// v3 is loaded: l makes it live.
	m = drive(t, m, press("up"), press("l"))
	// v4 is rejected: l refuses.
	m = drive(t, m, press("up"), press("l"))
	// enter on v4 diffs it against v3; D against the mark (v1).
	m = drive(t, m, press("esc"), press("v"), press("down"), press("m"), press("up"), press("up"), press("D"))
	if got, want := ctl.String(), "activate 3,diff 1 3"; got != want {
		t.Errorf("controller calls = %q, want %q", got, want)
	}
	if m.view != viewDiff || m.diff.from != 1 || m.diff.to != 3 {
		t.Errorf("view %d, diff v%d → v%d; want the diff view of v1 → v3", m.view, m.diff.from, m.diff.to)
	}
	// esc returns to the list, and again to the panes.
	m = drive(t, m, press("esc"))
	if m.view != viewVersions {
		t.Errorf("esc from the diff: view %d, want the version list", m.view)
	}
	m = drive(t, m, press("esc"))
	if m.view != viewMain {
		t.Errorf("esc from the list: view %d, want the panes", m.view)
	}
	view := m.timelineText()
	for _, want := range []string{"v4 can't go live: the engine rejected it", "v2 is live already",
		"v3: make live requested", "change: logic/main.go +2 −2, logic/util/greet.go +1 −0", "v5 blamed: the engine died"} {
		if !strings.Contains(view, want) {
			t.Errorf("timeline lacks %q:\n%s", want, view)
		}
	}
	// A diff that fails says why, in the diff view.
	m = drive(t, m, press("v"), press("home"), press("enter"))
	if !strings.Contains(content(m), "no such version") {
		t.Errorf("failed diff not shown:\n%s", content(m))
	}
}

// TestVersionKeysAfterRestart checks l on the states a new engine leaves:
// built (the supervisor loads it) and gone (nothing can).
func TestVersionKeysAfterRestart(t *testing.T) {
	ctl := newDiffControl()
	m := NewModel(Options{Control: ctl, Now: fixedNow})
	m = drive(t, m, RecordsMsg{at(60, event.Versions{Versions: []event.VersionInfo{
		{Version: 3, State: event.VersionLive},
		{Version: 2, State: event.VersionBuilt},
		{Version: 1, State: event.VersionGone, Why: "no engine holds it, and none can load it"},
	}})}, press("v"), press("down"), press("l"), press("down"), press("l"))
	if got, want := ctl.String(), "activate 2"; got != want {
		t.Errorf("controller calls = %q, want %q", got, want)
	}
	screen := ansi.Strip(content(m))
	for _, want := range []string{"v2: make live requested", "v1 can't go live: no engine holds it and its files are removed"} {
		if !strings.Contains(m.timelineText(), want) {
			t.Errorf("timeline lacks %q:\n%s", want, m.timelineText())
		}
	}
	for _, want := range []string{"v2     built", "v1     gone", "no engine holds it, and none can load it"} {
		if !strings.Contains(screen, want) {
			t.Errorf("version list lacks %q:\n%s", want, screen)
		}
	}
}

// TestIdle checks that nothing ticks while nothing happens: the screen
// redraws only when a message changes it (#14).
func TestIdle(t *testing.T) {
	m := newTestModel(nil)
	m, cmd := update(t, m, RecordsMsg(session()))
	if cmd != nil {
		t.Error("an idle session schedules a command")
	}
	m, _ = update(t, m, RecordsMsg{at(50, event.BuildStart{Version: 3, Target: event.TargetLogic})})
	m, _ = update(t, m, RecordsMsg{at(51, event.BuildOK{Version: 3, Target: event.TargetLogic, Duration: ms(900)})})
	if _, cmd = update(t, m, tickMsg{gen: m.tickGen}); cmd != nil {
		t.Error("the spinner's tick goes on after the build ended")
	}
}

// timelineText is every line the timeline holds, one a line.
func (m *Model) timelineText() string {
	var tl strings.Builder
	for seq := m.timeline.lines.first(); seq < m.timeline.lines.total; seq++ {
		tl.WriteString(m.timeline.lines.at(seq).text + "\n")
	}
	return tl.String()
}

// TestChangeCounted checks that the timeline's change line gets its counts
// of lines from the version list when the change came without them: the
// supervisor counts them when it builds the version.
func TestChangeCounted(t *testing.T) {
	m := newTestModel(nil)
	m, _ = update(t, m, RecordsMsg{
		at(1, event.Change{Files: []string{"logic/main.go"}, Kind: event.KindLogic}),
		at(1.1, event.BuildStart{Version: 2, Target: event.TargetLogic}),
		at(2, event.Versions{Versions: []event.VersionInfo{{Version: 2, State: event.VersionBuilding}}}),
	})
	if want := "change: logic/main.go\n"; !strings.Contains(m.timelineText(), want) {
		t.Errorf("before the build: timeline lacks %q:\n%s", want, m.timelineText())
	}
	m, _ = update(t, m, RecordsMsg{at(3, event.Versions{Versions: []event.VersionInfo{
		// Named by their place in the logic tree, not in the project.
		{Version: 2, State: event.VersionLive, Files: []event.FileChange{{Path: "main.go", Added: 2, Removed: 1}}},
	}})})
	if want := "change: logic/main.go +2 −1\n"; !strings.Contains(m.timelineText(), want) {
		t.Errorf("timeline lacks %q:\n%s", want, m.timelineText())
	}
}

// TestPlainDiffFiles checks n and N in a plain unified diff, the
// supervisor's form: its files start at "---" lines, with no "diff" line.
func TestPlainDiffFiles(t *testing.T) {
	plain := "--- v1/main.go\n+++ v2/main.go\n@@ -1,3 +1,3 @@\n a\n--- x\n+b\n c\n" +
		"--- v1/greet/greet.go\n+++ v2/greet/greet.go\n@@ -1 +1 @@\n-d\n+e\n"
	ctl := &fakeControl{diffs: map[string]string{"1-2": plain}}
	m := NewModel(Options{Control: ctl, Now: fixedNow})
	m.height = 8 // a short screen, so the diff scrolls
	m = drive(t, m, RecordsMsg{at(1, event.Versions{Versions: []event.VersionInfo{
		{Version: 2, State: event.VersionLive}, {Version: 1, State: event.VersionLoaded}}}), at(1, serving(7, 2, 1, 1, 2))}, press("d"))
	if m.view != viewDiff || len(m.diff.lines) != 12 {
		t.Fatalf("view %d with %d lines, want the diff view of 12", m.view, len(m.diff.lines))
	}
	m = drive(t, m, press("n"))
	if got := m.diff.lines[m.diff.top]; got != "--- v1/greet/greet.go" {
		t.Errorf("n: top line %q, want the second file's header", got)
	}
	m = drive(t, m, press("N"))
	if m.diff.top != 0 {
		t.Errorf("N: top %d, want 0 (the removed line \"-- x\" is no header)", m.diff.top)
	}
}

// TestForgottenVersions checks that the list says how many older versions
// the supervisor no longer lists, below the oldest it does.
func TestForgottenVersions(t *testing.T) {
	m := NewModel(Options{Project: "example.com/app", Now: fixedNow})
	list := event.Versions{Forgotten: 950, Versions: []event.VersionInfo{
		{Version: 1001, State: event.VersionLive},
		{Version: 1000, State: event.VersionGone},
	}}
	m = drive(t, m, append([]tea.Msg{tea.WindowSizeMsg{Width: 100, Height: 30}, RecordsMsg{at(1, list)}}, keys("v")...)...)
	got := screenSize(t, m, 100, 30)
	if !strings.Contains(got, "… and 950 older versions before, gone") {
		t.Errorf("the list does not count the forgotten versions:\n%s", got)
	}
}
