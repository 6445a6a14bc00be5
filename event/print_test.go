package event

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// TestPlain checks the plain lines of the events whose text spans lines,
// or sums up a list.
func TestPlain(t *testing.T) {
	at := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		e    Event
		want string
	}{
		{"probe", Probe{Version: 2, Request: "GET /hello", Status: 200, Duration: Duration(time.Millisecond), Body: "hello v2", Previous: "hello v1"},
			"10:00:00.000 probe    v2 GET /hello 200 1ms: hello v2\n  was: hello v1\n"},
		// A chat room's answer: its lines kept, under the probe's line.
		{"probe of several lines", Probe{Version: 2, Request: "GET /show?room=a", Status: 200, Duration: Duration(time.Millisecond),
			Body: "chat v2\r\n[a] hi1\r\n[a] hi2\r\n", Previous: "chat v1\n[a] hi1"},
			"10:00:00.000 probe    v2 GET /show?room=a 200 1ms: chat v2\n  [a] hi1\n  [a] hi2\n  was: chat v1\n       [a] hi1\n"},
		{"a request cut at a handover", RequestCut{Method: "GET", Path: "/events", Duration: Duration(2 * time.Second), Version: 3},
			"10:00:00.000 cut      request GET /events after 2s: still under way when the engine handed over; its client must reconnect\n"},
		{"a lab's step done, and the next one", Lab{What: LabDone, Lab: "global-var", Steps: 3, Step: 2, Title: "A swap", Goal: "Save.", File: "logic/main.go", Line: 15,
			Then: &LabExplain{Step: 1, Title: "A global", Seen: "calls=2", Did: "It swapped.", Rule: "Globals live on.", Link: "https://go.dev/ref/spec"}},
			"10:00:00.000 lab      global-var 1/3 done: A global\n  seen: calls=2\n  did: It swapped.\n  why: Globals live on.\n  see: https://go.dev/ref/spec\n" +
				"  next: global-var 2/3 A swap: Save. (edit logic/main.go:15)\n"},
		{"a lab's status", Lab{What: LabStatus, Lab: "race", Steps: 2, Step: 1, Status: "running the experiment…"},
			"10:00:00.000 lab      race 1/2: running the experiment…\n"},
		{"a trial", Trial{Lab: "race", What: "the logic built with -race", Opens: []TrialOpen{{File: "x.so", Built: "go build -race", Error: "plugin was built with a different version of package runtime"}}},
			"10:00:00.000 trial    race: the logic built with -race\n  plugin.Open(x.so), built by go build -race: plugin was built with a different version of package runtime\n"},
		{"a suspect in the version list", Versions{Versions: []VersionInfo{{Version: 4, State: VersionBuilt, Suspect: "the engine died while it was live"}}},
			"10:00:00.000 versions 1\n  v4    built      (suspect: the engine died while it was live)\n"},
		// The engines in one line; the exit's reason is the exit's line.
		{"a handover under way", Engines{Engines: []EngineInfo{
			{PID: 42, State: EngineDraining, Serving: true, Live: 2, Loaded: []int{1, 2}},
			{PID: 43, State: EngineStandby, Live: 2, Loaded: []int{2}, Why: "restart asked for"}}},
			"10:00:00.000 engines  pid 42 draining v2 (2 loaded); pid 43 standby v2 (1 loaded)\n"},
		{"no engine serves", Engines{Engines: []EngineInfo{{PID: 44, State: EngineStarting}},
			Ended: &EngineExit{PID: 43, Code: 2, Reason: "unexpected exit"}, WasLive: 2},
			"10:00:00.000 engines  none serves; pid 44 starting\n"},
		{"hotrun gave up", Engines{Engines: []EngineInfo{}, Ended: &EngineExit{PID: 44, Code: 2}, GaveUp: "panic: boom"},
			"10:00:00.000 engines  none serves; not started again until a change or R\n"},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		if err := NewPlain(&b).Print(Record{Time: at, Event: tt.e}); err != nil {
			t.Fatal(err)
		}
		if b.String() != tt.want {
			t.Errorf("%s: printed\n%s\nwant\n%s", tt.name, b.String(), tt.want)
		}
	}
}

// bomb is an event whose JSON form panics.
type bomb struct{}

func (bomb) Name() string                 { return "bomb" }
func (bomb) MarshalJSON() ([]byte, error) { panic("boom") }

// TestPrintPanic checks that a record whose text panics is an error of its
// own, with nothing written, and that the printer goes on.
func TestPrintPanic(t *testing.T) {
	for name, newPrinter := range map[string]func(io.Writer) Printer{"plain": NewPlain, "json": NewJSON} {
		var b bytes.Buffer
		p := newPrinter(&b)
		err := p.Print(Record{Event: bomb{}})
		var pp *PrintPanic
		if !errors.As(err, &pp) || pp.Event != "bomb" || pp.Value != "boom" || !strings.Contains(string(pp.Stack), "MarshalJSON") {
			t.Errorf("%s: Print of a panicking event returned %v, want a PrintPanic with its name, value and stack", name, err)
		}
		if b.Len() != 0 {
			t.Errorf("%s: wrote %q for it", name, b.String())
		}
		if err := p.Print(Record{Event: LoadOK{Version: 2}}); err != nil || !strings.Contains(b.String(), "2") {
			t.Errorf("%s: the next record: %v, %q", name, err, b.String())
		}
		// No event at all is a panic of the same kind.
		if err := p.Print(Record{}); !errors.As(err, &pp) {
			t.Errorf("%s: Print of no event returned %v, want a PrintPanic", name, err)
		}
	}
}
