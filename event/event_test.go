package event

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestRoundTrip checks that every event survives the JSON form: the engine
// speaks it over the control socket and -json prints it.
func TestRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 28, 10, 0, 0, 123456789, time.UTC)
	events := []Event{
		Change{Files: []string{"logic/main.go"}, Packages: []string{"m/logic"}, Kind: KindLogic},
		Ignored{Path: "a~", Reason: "editor temp file"},
		BuildStart{Version: 2, Target: TargetLogic},
		BuildOK{Version: 2, Target: TargetLogic, Duration: Duration(1500 * time.Millisecond), Path: "/x.so"},
		BuildFail{Version: 3, Target: TargetLogic, Duration: Duration(time.Second), Error: "e", Diagnostics: []Diagnostic{{File: "a.go", Line: 1, Col: 2, Msg: "m"}}},
		BuildCanceled{Version: 4, Target: TargetLogic},
		LoadOK{Version: 2, Duration: Duration(3 * time.Millisecond)},
		LoadFail{Version: 3, Error: "e", Explain: "x"},
		Rollback{From: 3, To: 2},
		EngineStart{PID: 42},
		EngineExit{PID: 42, Code: -1, Signal: "killed", Reason: "r", Expected: true},
		EngineRestart{PID: 42, Reason: "r"},
		Request{Method: "GET", Path: "/", Status: 200, Duration: Duration(37 * time.Microsecond), Version: 2},
		Panic{Version: 2, Value: "boom", Where: "f.go:3"},
		Memory{PID: 42, RSSBytes: 1 << 20, VersionsLoaded: 2},
		Engines{Engines: []EngineInfo{
			{PID: 42, State: EngineServing, Serving: true, Live: 2, Since: at, Loaded: []int{1, 2}},
			{PID: 43, State: EngineStandby, Live: 2, Loaded: []int{2}, Why: "restart asked for"},
		}},
		Engines{Engines: []EngineInfo{}, Ended: &EngineExit{PID: 42, Code: 2, Reason: "unexpected exit"}, WasLive: 2, GaveUp: "panic: boom"},
		Log{Source: SourceEngine, Stream: "stderr", Text: "hi"},
		StateSaved{Bytes: 10, Duration: Duration(time.Millisecond)},
		StateRestored{Bytes: 10, Error: "bad", Kept: "s.rejected"},
		LoadFail{Version: 4, Error: "e", Explain: "x", Code: "init-panic"},
		Lab{What: LabDone, Lab: "global-var", Limit: "l", Steps: 3, Step: 2, Title: "t", Goal: "g", File: "f.go", Line: 3, Passed: []int{1},
			Then: &LabExplain{Step: 1, Title: "t1", Seen: "s", Did: "d", Rule: "r", Link: "https://go.dev/"}},
		Trial{Lab: "race", What: "w", Opens: []TrialOpen{{File: "a.so", Built: "go build", Version: 1001}, {File: "b.so", Built: "go build -race", Error: "e", Code: "different-package"}}},
	}
	for _, e := range events {
		b, err := MarshalRecord(Record{Time: at, Event: e})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(b), `{"time":"2026-11-28T10:00:00.123456789Z","event":"`+e.Name()+`"`) {
			t.Errorf("%s: JSON form does not start with time and event: %s", e.Name(), b)
		}
		r, err := UnmarshalRecord(b)
		if err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		if !r.Time.Equal(at) || !reflect.DeepEqual(r.Event, e) {
			t.Errorf("%s: round trip gave %#v, want %#v", e.Name(), r.Event, e)
		}
		if Format(e) == "" {
			t.Errorf("%s: no plain form", e.Name())
		}
	}
	if _, err := UnmarshalRecord([]byte(`{"event":"nope"}`)); err == nil {
		t.Error("an unknown event decoded")
	}
}

// TestDecoders checks the decoder's table: each name is its type's Name,
// and each type has a plain form.
func TestDecoders(t *testing.T) {
	for name, d := range decoders {
		e, err := d([]byte("{}"))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if e.Name() != name {
			t.Errorf("the decoder of %q makes a %T, named %q", name, e, e.Name())
		}
	}
}

func TestStreamDropsOnlyRequests(t *testing.T) {
	s := NewStream(1)
	s.Publish(Request{})
	s.Publish(Request{}) // full: dropped, not blocking
	if s.Dropped() != 1 {
		t.Errorf("dropped %d, want 1", s.Dropped())
	}
	done := make(chan struct{})
	go func() { s.Publish(LoadOK{Version: 1}); close(done) }() // blocks until read
	<-s.Records()
	<-done
	if r := <-s.Records(); r.Event.(LoadOK).Version != 1 {
		t.Errorf("got %v", r.Event)
	}
}
