package tui

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/hotrun-dev/hotrun/event"
)

// t0 is when every scripted session starts; the clock of the model under
// test stands at t0+60s, so elapsed times never depend on the run.
var t0 = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return t0.Add(60 * time.Second) }

// at is a record published sec seconds into the session.
func at(sec float64, e event.Event) event.Record {
	return event.Record{Time: t0.Add(time.Duration(sec * float64(time.Second))), Event: e}
}

func ms(f float64) event.Duration { return event.Duration(f * float64(time.Millisecond)) }

// fakeControl records which keys reached the controller. Its Diff
// answers from diffs, keyed "1-2".
type fakeControl struct {
	mu    sync.Mutex // guards calls: the model calls from bubbletea's goroutine
	calls []string
	diffs map[string]string
}

func (c *fakeControl) add(s string)   { c.mu.Lock(); c.calls = append(c.calls, s); c.mu.Unlock() }
func (c *fakeControl) Rebuild()       { c.add("rebuild") }
func (c *fakeControl) Restart()       { c.add("restart") }
func (c *fakeControl) Rollback()      { c.add("rollback") }
func (c *fakeControl) Forward()       { c.add("forward") }
func (c *fakeControl) Activate(n int) { c.add(fmt.Sprintf("activate %d", n)) }
func (c *fakeControl) Diff(from, to int) (string, error) {
	c.add(fmt.Sprintf("diff %d %d", from, to))
	if d, ok := c.diffs[fmt.Sprintf("%d-%d", from, to)]; ok {
		return d, nil
	}
	return "", fmt.Errorf("runner: diff v%d v%d: no such version", from, to)
}
func (c *fakeControl) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.calls, ",")
}

func newTestModel(ctl Controller) Model {
	return NewModel(Options{Project: "example.com/app", Control: ctl, Now: fixedNow})
}

// serving is the supervisor's engines snapshot of one engine, pid, that
// serves version live since sec seconds into the session and holds loaded.
func serving(pid, live int, sec float64, loaded ...int) event.Engines {
	return event.Engines{Engines: []event.EngineInfo{{PID: pid, State: event.EngineServing, Serving: true,
		Live: live, Since: t0.Add(time.Duration(sec * float64(time.Second))), Loaded: loaded}}}
}

// starting is the engines snapshot of engine pid starting (standby: it
// has a pid), beside es's engines.
func starting(pid int, why string, es event.Engines) event.Engines {
	es.Engines = append(slices.Clone(es.Engines), event.EngineInfo{PID: pid, State: event.EngineStandby, Why: why})
	return es
}

// session is a short, typical run: engine up, two versions built and
// loaded, some requests and engine output.
func session() []event.Record {
	rs := []event.Record{
		at(0, event.EngineStart{PID: 4242}),
		at(0, starting(4242, "", event.Engines{})),
		at(0.1, event.Log{Source: event.SourceEngine, Stream: "stderr", Text: "listening on :8080"}),
		at(1, event.BuildStart{Version: 1, Target: event.TargetLogic}),
		at(2.4, event.BuildOK{Version: 1, Target: event.TargetLogic, Duration: ms(1412)}),
		at(2.5, event.LoadOK{Version: 1, Duration: ms(3.2)}),
		at(2.5, serving(4242, 1, 2.5, 1)),
		at(40, event.Change{Files: []string{"logic/handler.go"}, Kind: event.KindLogic}),
		at(40.1, event.BuildStart{Version: 2, Target: event.TargetLogic}),
		at(41.3, event.BuildOK{Version: 2, Target: event.TargetLogic, Duration: ms(1236)}),
		at(41.4, event.LoadOK{Version: 2, Duration: ms(2.9)}),
		at(41.4, serving(4242, 2, 41.4, 1, 2)),
		at(42, event.Log{Source: event.SourceHotrun, Level: "warn", Text: "3 versions loaded: the engine restarts at 20"}),
		at(45, event.Memory{PID: 4242, RSSBytes: 48 << 20, VersionsLoaded: 2}),
		at(46, event.Panic{Version: 2, Value: "runtime error: index out of range [3] with length 3", Where: "logic.Handler"}),
	}
	return append(rs, requests(44, 12)...)
}

// requests returns n requests, one every 100 ms from sec on, with a mix of
// methods, paths and statuses.
func requests(sec float64, n int) []event.Record {
	paths := []string{"/", "/api/items", "/api/items/42", "/static/app.js", "/login", "/api/orders?page=2"}
	methods := []string{"GET", "GET", "GET", "GET", "POST", "GET"}
	statuses := []int{200, 200, 404, 304, 302, 500}
	rs := make([]event.Record, n)
	for i := range n {
		k := i % len(paths)
		rs[i] = at(sec+float64(i)/10, event.Request{
			Method: methods[k], Path: fmt.Sprintf("%s#%d", paths[k], i), Status: statuses[k],
			Duration: ms(0.4 + float64(i%7)*3.1), Version: 2,
		})
	}
	return rs
}

// failed is a build of v3 that failed with two diagnostics, each with the
// line the builder read from the user's file: the screen reads no file
// (there is no logic/handler.go here).
func failed() []event.Record {
	return []event.Record{
		at(55, event.Change{Files: []string{"logic/handler.go"}, Kind: event.KindLogic}),
		at(55.1, event.BuildStart{Version: 3, Target: event.TargetLogic}),
		at(55.9, event.BuildFail{Version: 3, Target: event.TargetLogic, Duration: ms(812),
			Error: "exit status 1",
			Diagnostics: []event.Diagnostic{
				{File: "logic/handler.go", Line: 13, Col: 3, Msg: "declared and not used: n", Source: "\t\tn := s.Hits.Add(1)"},
				{File: "logic/handler.go", Line: 14, Col: 29, Msg: "undefined: cnt", Source: "\t\tfmt.Fprintf(w, \"hello %d\\n\", cnt)"},
			}}),
	}
}

// update feeds msgs to m in order and returns the model and the last command.
func update(t testing.TB, m Model, msgs ...tea.Msg) (Model, tea.Cmd) {
	t.Helper()
	var cmd tea.Cmd
	for _, msg := range msgs {
		var tm tea.Model
		tm, cmd = m.Update(msg)
		m = tm.(Model)
	}
	return m, cmd
}

// keys turns "r", "ctrl+c", "tab", "/" … into key presses.
func keys(names ...string) []tea.Msg {
	var out []tea.Msg
	for _, n := range names {
		out = append(out, press(n))
	}
	return out
}

func press(n string) tea.KeyPressMsg {
	switch n {
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "pgup":
		return tea.KeyPressMsg{Code: tea.KeyPgUp}
	case "end":
		return tea.KeyPressMsg{Code: tea.KeyEnd}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	}
	r := []rune(n)[0]
	if r >= 'A' && r <= 'Z' {
		return tea.KeyPressMsg{Code: r + ('a' - 'A'), ShiftedCode: r, Mod: tea.ModShift, Text: n}
	}
	return tea.KeyPressMsg{Code: r, Text: n}
}

func typed(s string) []tea.Msg {
	var out []tea.Msg
	for _, r := range s {
		out = append(out, tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	return out
}

func content(m Model) string { return m.View().Content }
