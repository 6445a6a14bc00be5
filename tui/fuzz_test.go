package tui

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/hotrun-dev/hotrun/event"
)

// The fuzz tests feed the screen what hotrun never controls: the engine's
// output, its answers to probes, the user's file names and diffs, the
// compiler's messages, the terminal's size. After each step the screen must
// hold: no panic (not even one the screen recovered), exactly as many lines
// as the terminal has rows, none wider than its columns, and nothing that
// moves the cursor or changes the terminal: the only escape sequences are
// the styles' (SGR), and the text is UTF-8 without control characters.
// Seeds are in testdata/fuzz/FuzzX; `go test -fuzz '^FuzzX$' ./tui` looks
// for more.

// texts are the strings the generator draws from, besides the fuzzer's own:
// the shapes that broke screens before (wide runes, combining marks,
// escapes, line breaks, long lines, invalid UTF-8).
var texts = []string{
	"", "x", "GET", "/hello?name=test", "logic/main.go", "hello test, version=1001, name=game1",
	"日本語のテキスト", "👍🏽 e\u0301 \u200d", "a\tb", "line one\nline two\r\nthree", "\x1b[2J\x1b[H", "\x1b]8;;http://x\x07link\x1b]8;;\x07",
	"\u009b2J", "\xff\xfe", "\x00\x07\x08\x7f", strings.Repeat("long ", 60), strings.Repeat("界", 120),
	"--- a/x.go\n+++ b/x.go\n@@ -1 +1 @@\n-a\n+b", "diff --git a/x b/x",
}

// gen turns the fuzzer's bytes into choices.
type gen struct {
	b     []byte
	texts []string
}

func (g *gen) byte() byte {
	if len(g.b) == 0 {
		return 0
	}
	c := g.b[0]
	g.b = g.b[1:]
	return c
}

// n returns a number in [0, max).
func (g *gen) n(max int) int { return int(g.byte()) % max }

// num returns a number for a version, a status, a line: mostly small, now
// and then zero, negative or huge.
func (g *gen) num() int {
	switch c := g.byte(); {
	case c < 200:
		return int(c % 8)
	case c < 220:
		return 200 + int(c)%400
	case c < 240:
		return -int(c)
	case c < 250:
		return 1 << 40
	default:
		return -1 << 40
	}
}

func (g *gen) text() string {
	s := g.texts[g.n(len(g.texts))]
	if g.byte()%4 == 0 {
		s += g.texts[g.n(len(g.texts))]
	}
	return s
}

func (g *gen) dur() event.Duration {
	return event.Duration(time.Duration(g.num()) * time.Duration(1+g.n(3)) * time.Millisecond)
}

func (g *gen) files() []event.FileChange {
	fs := make([]event.FileChange, g.n(4))
	for i := range fs {
		fs[i] = event.FileChange{Path: g.text(), Added: g.num(), Removed: g.num()}
	}
	return fs
}

var states = []string{event.VersionBuilding, event.VersionBuilt, event.VersionLoaded, event.VersionLive,
	event.VersionRejected, event.VersionFailed, event.VersionBlamed, event.VersionGone, "odd"}

var engineStates = []string{event.EngineStarting, event.EngineStandby, event.EngineServing, event.EngineDraining,
	event.EngineUnresponsive, "odd"}

// event returns one event of any kind.
func (g *gen) event() event.Event {
	target := event.TargetLogic
	if g.byte()%3 == 0 {
		target = event.TargetEngine
	}
	switch g.n(26) {
	case 0:
		kind := event.KindLogic
		if g.byte()%2 == 0 {
			kind = event.KindHost
		}
		var fs []string
		for range g.n(5) {
			fs = append(fs, g.text())
		}
		return event.Change{Files: fs, Kind: kind, Stats: g.files()}
	case 1:
		return event.BuildStart{Version: g.num(), Target: target}
	case 2:
		return event.BuildOK{Version: g.num(), Target: target, Duration: g.dur(), Route: g.text()}
	case 3:
		ds := make([]event.Diagnostic, g.n(4))
		for i := range ds {
			ds[i] = event.Diagnostic{File: g.text(), Line: g.num(), Col: g.num(), Msg: g.text(), Source: g.text()}
		}
		return event.BuildFail{Version: g.num(), Target: target, Duration: g.dur(), Error: g.text(), Diagnostics: ds}
	case 4:
		return event.BuildCanceled{Version: g.num(), Target: target}
	case 5:
		return event.LoadOK{Version: g.num(), Duration: g.dur()}
	case 6:
		return event.LoadFail{Version: g.num(), Error: g.text(), Explain: g.text()}
	case 7:
		return event.Rollback{From: g.num(), To: g.num()}
	case 8:
		return event.EngineStart{PID: g.num()}
	case 9:
		return event.EngineExit{PID: g.num(), Code: g.num(), Signal: g.text(), Reason: g.text(), Expected: g.byte()%2 == 0}
	case 10:
		return event.EngineRestart{PID: g.num(), Reason: g.text()}
	case 11:
		return event.EngineHung{PID: g.num(), Since: g.dur()}
	case 12, 13:
		return event.Request{Method: g.text(), Path: g.text(), Status: g.num(), Duration: g.dur(), Version: g.num()}
	case 14:
		return event.Unit{Unit: g.text(), Duration: g.dur(), Version: g.num(), Error: g.text()}
	case 15:
		return event.Panic{Version: g.num(), Value: g.text(), Where: g.text()}
	case 16:
		return event.Memory{PID: g.num(), RSSBytes: int64(g.num()) << 20, VersionsLoaded: g.num()}
	case 17:
		src := event.SourceEngine
		if g.byte()%2 == 0 {
			src = event.SourceHotrun
		}
		return event.Log{Source: src, Level: []string{"", "info", "warn", "error"}[g.n(4)], Text: g.text()}
	case 18:
		if g.byte()%2 == 0 {
			return event.StateSaved{Bytes: g.num(), Duration: g.dur()}
		}
		return event.StateRestored{Bytes: g.num(), Error: g.text(), Kept: g.text()}
	case 19:
		vs := make([]event.VersionInfo, g.n(8))
		for i := range vs {
			vs[i] = event.VersionInfo{Version: g.num(), State: states[g.n(len(states))], Why: g.text(), Suspect: []string{"", g.text()}[g.n(2)],
				Built: t0.Add(time.Duration(g.num()) * time.Second), BuildDuration: g.dur(), LoadDuration: g.dur(), Files: g.files()}
		}
		return event.Versions{Versions: vs, Forgotten: g.num(), DiskBytes: int64(g.num()) << 30}
	case 20:
		return event.Diff{From: g.num(), To: g.num(), Text: g.text()}
	case 21:
		if g.byte()%2 == 0 {
			return event.RequestCut{Method: g.text(), Path: g.text(), Duration: g.dur(), Version: g.num(), Hijacked: g.byte()%2 == 0}
		}
	case 22:
		es := make([]event.EngineInfo, g.n(4))
		for i := range es {
			loaded := make([]int, g.n(4))
			for j := range loaded {
				loaded[j] = g.num()
			}
			es[i] = event.EngineInfo{PID: g.num(), State: engineStates[g.n(len(engineStates))], Serving: g.byte()%2 == 0, Live: g.num(),
				Since: t0.Add(time.Duration(g.num()) * time.Second), Loaded: loaded, Why: g.text()}
		}
		e := event.Engines{Engines: es, WasLive: g.num(), GaveUp: []string{"", g.text()}[g.n(2)]}
		if g.byte()%2 == 0 {
			e.Ended = &event.EngineExit{PID: g.num(), Code: g.num(), Signal: g.text(), Reason: g.text(), Expected: g.byte()%2 == 0}
		}
		return e
	case 23:
		var fs []string
		for range g.n(3) {
			fs = append(fs, g.text())
		}
		return event.Generate{Command: g.text(), Duration: g.dur(), Output: g.text(), Files: fs, Error: []string{"", g.text()}[g.n(2)]}
	case 24:
		// A lab's state: any number of steps, any text.
		l := event.Lab{What: []string{event.LabOpened, event.LabStatus, event.LabDone, event.LabComplete}[g.n(4)], Lab: g.text(), Limit: g.text(),
			Steps: g.n(6), Step: g.num(), Title: g.text(), Goal: g.text(), File: []string{"", g.text()}[g.n(2)], Line: g.num(),
			Status: g.text(), Complete: g.byte()%4 == 0}
		for range g.n(4) {
			l.Passed = append(l.Passed, g.num())
		}
		if g.byte()%2 == 0 {
			l.Then = &event.LabExplain{Step: g.num(), Title: g.text(), Seen: g.text(), Did: g.text(), Rule: g.text(), Link: g.text()}
		}
		return l
	}
	return event.Probe{Version: g.num(), Request: g.text(), Status: g.num(), Duration: g.dur(), Body: g.text(), Previous: g.text(), Error: []string{"", g.text()}[g.n(2)]}
}

// keyMsgs are the keys the screen answers to, and some it doesn't.
var keyMsgs = []tea.Msg{
	tea.KeyPressMsg{Code: tea.KeyTab}, tea.KeyPressMsg{Code: tea.KeyEnter}, tea.KeyPressMsg{Code: tea.KeyEscape},
	tea.KeyPressMsg{Code: tea.KeyUp}, tea.KeyPressMsg{Code: tea.KeyDown}, tea.KeyPressMsg{Code: tea.KeyPgUp},
	tea.KeyPressMsg{Code: tea.KeyPgDown}, tea.KeyPressMsg{Code: tea.KeyHome}, tea.KeyPressMsg{Code: tea.KeyEnd},
	tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}, tea.KeyPressMsg{Code: tea.KeyBackspace},
	tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl}, tea.KeyPressMsg{Code: 'd', Mod: tea.ModCtrl},
	tea.MouseWheelMsg{Button: tea.MouseWheelUp, Y: 5}, tea.MouseWheelMsg{Button: tea.MouseWheelDown, Y: 20},
	tea.MouseWheelMsg{Button: tea.MouseWheelUp, Y: 1000},
}

// letters are the screen's letter keys, and two it ignores.
const letters = "rRbfvdmDlnNcp/jkgGq?xé"

// msg returns one message: an event batch, a key, a size, a diff answer,
// a tick or a background colour.
func (g *gen) msg(m *Model) tea.Msg {
	switch g.n(10) {
	case 0, 1, 2, 3:
		rs := make(RecordsMsg, 1+g.n(4))
		for i := range rs {
			rs[i] = at(float64(g.num()), g.event())
		}
		return rs
	case 4:
		return keyMsgs[g.n(len(keyMsgs))]
	case 5, 6:
		r := []rune(letters)[g.n(len([]rune(letters)))]
		k := tea.KeyPressMsg{Code: r, Text: string(r)}
		if r >= 'A' && r <= 'Z' {
			k = tea.KeyPressMsg{Code: r + ('a' - 'A'), ShiftedCode: r, Mod: tea.ModShift, Text: string(r)}
		}
		return k
	case 7:
		return tea.WindowSizeMsg{Width: g.n(256), Height: g.n(100)}
	case 8:
		// The answer to the diff asked for last, as the controller
		// gives it; now and then a failure, or one for the presenter.
		d, last := m.diff, false
		if g.byte()%3 == 0 {
			d, last = m.lastDiff, true
		}
		msg := diffMsg{from: d.from, to: d.to, text: g.text(), last: last}
		if g.byte()%5 == 0 {
			msg.err = os.ErrNotExist
		}
		return msg
	}
	if g.byte()%2 == 0 {
		return tickMsg{gen: m.tickGen}
	}
	return tea.BackgroundColorMsg{Color: ansi.White}
}

// checkScreen fails t unless m's screen holds (see the top of this file).
func checkScreen(t *testing.T, m *Model, dir string) {
	t.Helper()
	if m.guard.total > 0 {
		logs, _ := filepath.Glob(filepath.Join(dir, "crash-*.log"))
		slices.Sort(logs)
		var log []byte
		if len(logs) > 0 {
			log, _ = os.ReadFile(logs[len(logs)-1])
		}
		t.Fatalf("the screen panicked (and recovered); its crash log:\n%s", log)
	}
	s := m.View().Content
	lines := strings.Split(s, "\n")
	if len(lines) != m.height {
		t.Fatalf("%d lines on a screen of %d rows:\n%s", len(lines), m.height, s)
	}
	for i, l := range lines {
		if w := ansi.StringWidth(l); w > m.width {
			t.Fatalf("line %d is %d columns wide on a screen of %d: %q", i, w, m.width, l)
		}
		if !utf8.ValidString(l) {
			t.Fatalf("line %d is not UTF-8: %q", i, l)
		}
		var state byte
		for rest := l; rest != ""; {
			seq, _, n, st := ansi.DecodeSequence(rest, state, nil)
			state, rest = st, rest[n:]
			if seq[0] == ansi.ESC && !(ansi.HasCsiPrefix(seq) && seq[len(seq)-1] == 'm') {
				t.Fatalf("line %d holds the escape sequence %q: %q", i, seq, l)
			}
			if r, _ := utf8.DecodeRuneInString(seq); seq[0] != ansi.ESC && (r < ' ' || r == 0x7f || r >= 0x80 && r < 0xa0) {
				t.Fatalf("line %d holds the control character %U: %q", i, r, l)
			}
		}
	}
}

// fuzzModel is a model as Run makes it, with its crash logs in dir.
func fuzzModel(dir string, big bool) Model {
	return NewModel(Options{Project: "example.com/app", Control: newDiffControl(), Now: fixedNow, CrashDir: dir, LogLines: 64, Big: big})
}

// FuzzModel feeds the screen random sequences of events, keys, sizes and
// diffs.
func FuzzModel(f *testing.F) {
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, ops []byte, a, b string) {
		g := &gen{b: ops, texts: append(slices.Clip(texts), a, b)}
		m := fuzzModel(dir, g.byte()%4 == 0)
		m, _ = update(t, m, tea.WindowSizeMsg{Width: 1 + g.n(200), Height: 1 + g.n(80)})
		checkScreen(t, &m, dir)
		for len(g.b) > 0 {
			m, _ = update(t, m, g.msg(&m))
			checkScreen(t, &m, dir)
		}
	})
}

// FuzzDiff shows a diff text, in the diff view and in the presenter
// layout, and scrolls it.
func FuzzDiff(f *testing.F) {
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, text string, w, h uint8, keys []byte) {
		for _, big := range []bool{false, true} {
			m := fuzzModel(dir, big)
			m, _ = update(t, m, tea.WindowSizeMsg{Width: 1 + int(w), Height: 1 + int(h)%100},
				RecordsMsg{at(1, event.Versions{Versions: []event.VersionInfo{{Version: 2, State: event.VersionLive}, {Version: 1, State: event.VersionLoaded}}})},
				tea.KeyPressMsg{Code: 'd', Text: "d"},
				diffMsg{from: 1, to: 2, text: text},
				RecordsMsg{at(2, event.Diff{From: 1, To: 2, Text: text})})
			checkScreen(t, &m, dir)
			g := &gen{b: keys}
			for len(g.b) > 0 {
				var msg tea.Msg = keyMsgs[g.n(len(keyMsgs))]
				if g.byte()%2 == 0 {
					r := []rune("nNjkgG")[g.n(6)]
					msg = tea.KeyPressMsg{Code: r, Text: string(r)}
				}
				m, _ = update(t, m, msg)
				checkScreen(t, &m, dir)
			}
		}
	})
}

// FuzzProbe shows a probe's answer after the one before, at any size, and
// checks the highlight of what changed.
func FuzzProbe(f *testing.F) {
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, req, body, previous, errText string, status int, w, h uint8) {
		m := fuzzModel(dir, h%5 == 0)
		m, _ = update(t, m, tea.WindowSizeMsg{Width: 1 + int(w), Height: 1 + int(h)%100},
			RecordsMsg{at(1, event.Probe{Version: 1, Request: req, Status: status, Body: previous})})
		checkScreen(t, &m, dir)
		m, _ = update(t, m, RecordsMsg{at(2, event.Probe{Version: 2, Request: req, Status: status, Body: body, Previous: previous, Error: errText})})
		checkScreen(t, &m, dir)
		// The highlight keeps the text whole and cuts it on runes.
		for _, pair := range [][2]string{{body, previous}, {previous, body}} {
			s, o := clean(pair[0]), clean(pair[1])
			p, e := differs(s, o)
			if p < 0 || p > e || e > len(s) || !utf8.ValidString(s[p:e]) && utf8.ValidString(s) {
				t.Fatalf("differs(%q, %q) = %d, %d", s, o, p, e)
			}
			if got := ansi.Strip(m.changed(s, o, m.st.good)); got != s {
				t.Fatalf("changed(%q, %q) shows %q", s, o, got)
			}
		}
	})
}

// TestHostileText is what the fuzzers found, kept as a test: text from
// outside hotrun (the engine's exit reason and signal, request methods,
// file names in diagnostics and version lists, the filter, the project's
// name) with line breaks, escapes, C1 controls and bytes that are not
// UTF-8 left the screen with extra lines or sequences that move the
// cursor.
func TestHostileText(t *testing.T) {
	const bad = "a\nb\x1b[2J\u009b2J\xff\t"
	rs := RecordsMsg{
		at(1, event.EngineStart{PID: 7}),
		at(2, event.Request{Method: bad, Path: bad, Status: 200, Version: 1}),
		at(3, event.BuildFail{Version: 2, Target: event.TargetLogic, Error: bad,
			Diagnostics: []event.Diagnostic{{File: bad, Line: 1, Col: 2, Msg: bad, Source: bad}}}),
		at(4, event.Versions{Versions: []event.VersionInfo{{Version: 2, State: bad, Why: bad, Files: []event.FileChange{{Path: bad, Added: 1}}}}}),
		at(5, event.Probe{Version: 2, Request: bad, Status: 200, Body: bad, Previous: bad + "x"}),
		at(6, event.Log{Source: event.SourceEngine, Text: bad}),
		at(7, event.EngineRestart{PID: 7, Reason: bad}),
		at(8, event.EngineExit{PID: 7, Code: 2, Signal: bad, Reason: bad}),
		at(8, event.Engines{Engines: []event.EngineInfo{{PID: 8, State: bad, Why: bad}}, Ended: &event.EngineExit{PID: 7, Code: 2, Signal: bad, Reason: bad}}),
	}
	for _, size := range [][2]int{{80, 24}, {100, 40}, {20, 6}} {
		for _, keys := range [][]tea.Msg{nil, {press("v")}, {press("/"), tea.KeyPressMsg{Code: 0x9b, Text: "\u009b"}}} {
			m := NewModel(Options{Project: bad, Now: fixedNow})
			m, _ = update(t, m, append([]tea.Msg{tea.WindowSizeMsg{Width: size[0], Height: size[1]}, rs}, keys...)...)
			checkScreen(t, &m, "")
		}
	}
}
