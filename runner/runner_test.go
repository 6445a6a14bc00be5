package runner

import (
	"context"
	"os"
	"path/filepath"
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

func TestLastGoodAndCrashes(t *testing.T) {
	var got []event.Event
	l := &loop{
		ev:      event.PublisherFunc(func(e event.Event) { got = append(got, e) }),
		bad:     map[int]string{},
		loaded:  []int{1, 2, 3},
		active:  2,
		history: []int{1, 2, 3},
	}
	if v := l.lastGood(); v != 3 {
		t.Fatalf("lastGood = %d, want 3", v)
	}
	// v3 serving at two crashes in a minute: it is taken for the cause.
	l.onCrash(3)
	if l.retry == nil || l.bad[3] != "" {
		t.Fatalf("first crash: retry %v, bad %v", l.retry, l.bad)
	}
	l.onCrash(3)
	if l.bad[3] == "" {
		t.Fatal("v3 not marked bad after two crashes while it served")
	}
	l.loaded, l.active = nil, -1 // a new engine holds nothing yet
	if v := l.lastGood(); v != 2 {
		t.Errorf("lastGood = %d, want 2", v)
	}
	for range maxCrashes - 2 {
		l.onCrash(0)
	}
	if l.retry != nil {
		t.Error("still restarting after a crash loop")
	}
	if len(got) == 0 {
		t.Error("no warning published")
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
