package tui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/hotrun-dev/hotrun/event"
)

// bomb is an event of a kind the screen does not know, whose JSON form
// panics: the timeline writes such an event as its name and JSON.
type bomb struct{}

func (bomb) Name() string                 { return "bomb" }
func (bomb) MarshalJSON() ([]byte, error) { panic("bomb: boom") }

// panicky is a controller whose Rebuild and Diff panic.
type panicky struct{ fakeControl }

func (c *panicky) Rebuild() { panic("rebuild: boom") }
func (c *panicky) Diff(from, to int) (string, error) {
	panic("diff: boom")
}

// crashLogs returns the crash logs in dir, each checked to hold want and a
// stack unless want is "".
func crashLogs(t *testing.T, dir string, want string) []string {
	t.Helper()
	logs, err := filepath.Glob(filepath.Join(dir, "crash-*.log"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range logs {
		b, err := os.ReadFile(l)
		if err != nil {
			t.Fatal(err)
		}
		if want != "" && (!strings.Contains(string(b), want) || !strings.Contains(string(b), "goroutine ")) {
			t.Errorf("%s lacks %q and a stack:\n%s", l, want, b)
		}
	}
	return logs
}

// TestCrashEvent: an event that makes the screen panic is skipped, the
// rest of its batch is applied, a crash log names it, and the timeline
// says so.
func TestCrashEvent(t *testing.T) {
	dir := t.TempDir()
	m := NewModel(Options{CrashDir: dir, Now: fixedNow})
	m, _ = update(t, m, RecordsMsg(append(session(),
		at(50, bomb{}),
		at(51, serving(4242, 3, 51, 1, 2, 3)),
	)))
	if m.liveVersion() != 3 {
		t.Errorf("live v%d: the records after the panic were not applied", m.liveVersion())
	}
	logs := crashLogs(t, dir, "panic: bomb: boom")
	if len(logs) != 1 {
		t.Fatalf("%d crash logs, want 1", len(logs))
	}
	want := "hotrun's screen recovered from a panic in the screen: bomb: boom\n  while handling a bomb event, which it skipped; stack in " + logs[0]
	if !strings.Contains(m.timelineText(), want) {
		t.Errorf("timeline lacks %q:\n%s", want, m.timelineText())
	}
	// The timeline and requests before it stay: the event fed no part.
	if !strings.Contains(m.timelineText(), "v2 live") || m.reqs.lines.len() != 12 {
		t.Errorf("a panic in an event of no part of its own reset a part:\n%s", m.timelineText())
	}
}

// TestCrashKey: a key whose controller call panics leaves the screen
// running: the next keys work, and the timeline says what happened.
func TestCrashKey(t *testing.T) {
	dir := t.TempDir()
	ctl := &panicky{}
	m := NewModel(Options{CrashDir: dir, Control: ctl, Now: fixedNow})
	m, _ = update(t, m, RecordsMsg(session()))
	m, cmd := update(t, m, press("r"))
	if cmd != nil {
		if _, ok := cmd().(tea.QuitMsg); ok {
			t.Fatal("one panic quit the screen")
		}
	}
	m, _ = update(t, m, press("R"))
	if got := ctl.String(); got != "restart" {
		t.Errorf("controller calls after the panic = %q, want restart", got)
	}
	logs := crashLogs(t, dir, "panic: rebuild: boom")
	if len(logs) != 1 {
		t.Fatalf("%d crash logs, want 1", len(logs))
	}
	if want := "recovered from a panic in the screen: rebuild: boom\n  while handling the key r; stack in " + logs[0]; !strings.Contains(m.timelineText(), want) {
		t.Errorf("timeline lacks %q:\n%s", want, m.timelineText())
	}
	if !strings.Contains(m.timelineText(), "engine restart requested") {
		t.Errorf("the key after the panic did nothing:\n%s", m.timelineText())
	}
}

// TestCrashDiff: a diff whose fetching panics (off the loop, where
// bubbletea would end the program) comes back as a message, and the diff
// view gives way to the panes.
func TestCrashDiff(t *testing.T) {
	dir := t.TempDir()
	m := NewModel(Options{CrashDir: dir, Control: &panicky{}, Now: fixedNow})
	m, cmd := update(t, m, RecordsMsg(session()), press("d"))
	if m.view != viewDiff || cmd == nil {
		t.Fatalf("d: view %d, command %v; want the diff view and a command", m.view, cmd)
	}
	msg := cmd()
	if _, ok := msg.(cmdPanicMsg); !ok {
		t.Fatalf("the panicking diff command returned %T, want a cmdPanicMsg", msg)
	}
	m, _ = update(t, m, msg)
	if m.view != viewMain {
		t.Errorf("view %d after the diff panicked, want the panes", m.view)
	}
	if want := "recovered from a panic in the diff view: diff: boom\n  while asking for the diff v1 → v2; reset"; !strings.Contains(m.timelineText(), want) {
		t.Errorf("timeline lacks %q:\n%s", want, m.timelineText())
	}
	if len(crashLogs(t, dir, "panic: diff: boom")) != 1 {
		t.Error("no crash log")
	}
}

// TestCrashDraw: a part of the screen that panics while drawn shows a line
// that says so while the rest of the screen is drawn; the next message
// resets it, puts the news on the timeline, and the part draws again.
func TestCrashDraw(t *testing.T) {
	dir := t.TempDir()
	m := NewModel(Options{CrashDir: dir, Now: fixedNow})
	m, _ = update(t, m, tea.WindowSizeMsg{Width: 100, Height: 30}, RecordsMsg(swapped()))
	if len(m.probes) == 0 {
		t.Fatal("no probes to break")
	}
	armed := true
	m.drawHook = func(part string) {
		if part == partProbes && armed {
			armed = false
			panic("probes: boom")
		}
	}
	// As under Run: View asks the loop for the repair.
	m.guard.wake, m.guard.done = make(chan struct{}, 1), make(chan struct{})
	defer close(m.guard.done)
	screen := ansi.Strip(content(m))
	if msg := m.waitRepair()(); msg != (repairMsg{}) {
		t.Errorf("after a panic in View the loop got %#v, want a repairMsg", msg)
	}
	// The log holds the probes' answers, as the events that reproduce them.
	logs := crashLogs(t, dir, `"event":"probe","version":2,"request":"GET /hello?name=test"`)
	if len(logs) != 1 {
		t.Fatalf("%d crash logs, want 1", len(logs))
	}
	for _, want := range []string{
		" ✗ the probe pane failed to draw and is being reset; stack in " + logs[0][:20], // cut at the edge
		"engine running · pid 4242", "requests · 12", "timeline", "v versions",
	} {
		if !strings.Contains(screen, want) {
			t.Errorf("screen lacks %q:\n%s", want, screen)
		}
	}
	if n := len(strings.Split(screen, "\n")); n != 30 {
		t.Errorf("screen of %d lines, want 30", n)
	}
	// Drawn again before a message: still the line, and no second log.
	content(m)
	if n := len(crashLogs(t, dir, "")); n != 1 {
		t.Errorf("%d crash logs after a second frame, want 1", n)
	}

	m, _ = update(t, m, RecordsMsg{at(60, event.Log{Source: event.SourceEngine, Text: "still here"})})
	if len(m.probes) != 0 {
		t.Errorf("the probe pane was not reset: %d rows", len(m.probes))
	}
	if want := "recovered from a panic in the probe pane: probes: boom\n  while drawing the probe pane; reset; stack in " + logs[0]; !strings.Contains(m.timelineText(), want) {
		t.Errorf("timeline lacks %q:\n%s", want, m.timelineText())
	}
	m, _ = update(t, m, RecordsMsg{at(61, event.Probe{Version: 2, Request: "GET /hello", Status: 200, Body: "hi again"})})
	if screen := ansi.Strip(content(m)); !strings.Contains(screen, "GET /hello  200 <0.1ms v2  hi again") || strings.Contains(screen, "✗ the probe pane") {
		t.Errorf("the probe pane does not draw again after its reset:\n%s", screen)
	}
}

// TestCrashDrawScreen is TestCrashDraw in a bubbletea program, replayed
// into a terminal emulator: the panic never reaches bubbletea, and the
// screen after the next message has the news and no broken part.
func TestCrashDrawScreen(t *testing.T) {
	dir := t.TempDir()
	m := NewModel(Options{CrashDir: dir, Now: fixedNow})
	m, _ = update(t, m, tea.WindowSizeMsg{Width: 100, Height: 30}, RecordsMsg(swapped()))
	armed := true
	m.drawHook = func(part string) {
		if part == partProbes && armed {
			armed = false
			panic("probes: boom")
		}
	}
	got := screenSize(t, m, 100, 30, RecordsMsg{at(60, event.Log{Source: event.SourceEngine, Text: "still here"})})
	for _, want := range []string{"✗ hotrun's screen recovered from a panic in the probe pane: probes: boom",
		"  while drawing the probe pane; reset; stack in /", "│ still here", "requests · 12"} {
		if !strings.Contains(got, want) {
			t.Errorf("screen lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "failed to draw") || strings.Contains(got, "probes ──") {
		t.Errorf("the probe pane is still broken, or was not reset:\n%s", got)
	}
	if n := len(crashLogs(t, dir, "panic: probes: boom")); n != 1 {
		t.Errorf("%d crash logs, want 1", n)
	}
}

// TestCrashGivesUp: a part that panics again after every reset makes the
// screen give up at the (crashLimit+1)th panic: it quits, for Run to
// return ErrCrashed and the caller to show plain lines.
func TestCrashGivesUp(t *testing.T) {
	dir := t.TempDir()
	m := NewModel(Options{CrashDir: dir, Now: fixedNow})
	m, _ = update(t, m, RecordsMsg(session()))
	m.drawHook = func(part string) {
		if part == partRequests {
			panic("requests: boom")
		}
	}
	var cmd tea.Cmd
	for i := range crashLimit + 1 {
		if m.guard.gaveUp {
			t.Fatalf("gave up after %d panics, want %d", i, crashLimit+1)
		}
		content(m)
		m, cmd = update(t, m, RecordsMsg{at(60, event.Log{Text: "a frame"})})
	}
	if !m.guard.gaveUp {
		t.Fatalf("still drawing after %d panics", crashLimit+1)
	}
	if cmd == nil {
		t.Fatal("no command once given up")
	}
	if _, ok := cmd().(tea.QuitMsg); !ok {
		t.Error("the screen does not quit once given up")
	}
	if got := content(m); !strings.Contains(got, "gives way to plain lines") {
		t.Errorf("screen once given up: %q", got)
	}
	if n := len(crashLogs(t, dir, "panic: requests: boom")); n != crashLimit+1 {
		t.Errorf("%d crash logs, want %d", n, crashLimit+1)
	}
}

// TestCrashLogsKept: a project keeps the newest crashLogsKept crash logs.
func TestCrashLogsKept(t *testing.T) {
	dir := t.TempDir()
	for i := range crashLogsKept + 5 {
		// Older sessions' logs, named as WriteCrash names them.
		name := filepath.Join(dir, fmt.Sprintf("crash-20260101-000000.%03d.log", i))
		if err := os.WriteFile(name, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	path, err := WriteCrash(dir, "a test", "boom", []byte("goroutine 1 [running]:\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	logs := crashLogs(t, dir, "")
	if len(logs) != crashLogsKept || logs[len(logs)-1] != path {
		t.Errorf("%d logs, the newest %s; want %d, the newest %s", len(logs), logs[len(logs)-1], crashLogsKept, path)
	}
	if filepath.Base(logs[0]) != "crash-20260101-000000.006.log" {
		t.Errorf("oldest log kept: %s, want crash-20260101-000000.006.log", logs[0])
	}
}

// TestRunCrashed: Run gives up on a screen that keeps panicking: it
// returns ErrCrashed, having left the alternate screen, and leaves the rest
// of the stream to the caller.
func TestRunCrashed(t *testing.T) {
	dir := t.TempDir()
	records := make(chan event.Record, 100)
	for _, r := range session() {
		records <- r
	}
	var out syncBuffer
	errc := runAsync(context.Background(), Options{Records: records, Control: &panicky{}, CrashDir: dir,
		Input: strings.NewReader(strings.Repeat("r", crashLimit+1)), Output: &out, Now: fixedNow})
	select {
	case err := <-errc:
		if !errors.Is(err, ErrCrashed) || !strings.Contains(err.Error(), dir) {
			t.Fatalf("Run returned %v, want ErrCrashed naming the last crash log", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run went on after the panics kept coming")
	}
	if !strings.Contains(out.String(), "\x1b[?1049l") {
		t.Error("the alternate screen was not left")
	}
	if n := len(crashLogs(t, dir, "panic: rebuild: boom")); n != crashLimit+1 {
		t.Errorf("%d crash logs, want %d", n, crashLimit+1)
	}
	// The stream is the caller's again: nothing reads it.
	records <- at(70, event.Log{Text: "after"})
	select {
	case r := <-records:
		if r.Event.(event.Log).Text != "after" {
			t.Errorf("read back %v", r.Event)
		}
	case <-time.After(time.Second):
		t.Error("the screen's batcher took a record after Run returned")
	}
}
