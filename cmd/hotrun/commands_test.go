package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/hotrun-dev/hotrun/event"
)

// fakeRunner records the calls the headless commands make.
type fakeRunner struct {
	mu    sync.Mutex // guards calls
	calls []string
}

func (f *fakeRunner) add(s string)   { f.mu.Lock(); f.calls = append(f.calls, s); f.mu.Unlock() }
func (f *fakeRunner) Rebuild()       { f.add("rebuild") }
func (f *fakeRunner) Restart()       { f.add("restart") }
func (f *fakeRunner) Rollback()      { f.add("rollback") }
func (f *fakeRunner) Forward()       { f.add("forward") }
func (f *fakeRunner) Activate(n int) { f.add(fmt.Sprintf("activate %d", n)) }
func (f *fakeRunner) Diff(from, to int) (string, error) {
	f.add(fmt.Sprintf("diff %d %d", from, to))
	if to > 5 {
		return "", errors.New("runner: diff: no v6")
	}
	return fmt.Sprintf("--- v%d\n+++ v%d\n", from, to), nil
}

// TestCommands: the headless mode's stdin commands reach the runner, and a
// diff goes on the stream as an event.
func TestCommands(t *testing.T) {
	in := "r\nR\nb\nf\nd 3\nd v1 v3\n  live 2 \nv 4\nd\nlive x\nd 6\nnonsense\n"
	var (
		run fakeRunner
		evs []event.Event
	)
	readCommands(strings.NewReader(in), &run, nil, event.PublisherFunc(func(e event.Event) { evs = append(evs, e) }))
	want := []string{"rebuild", "restart", "rollback", "forward", "diff 2 3", "diff 1 3", "activate 2", "activate 4", "diff 5 6"}
	if !slices.Equal(run.calls, want) {
		t.Errorf("calls = %q, want %q", run.calls, want)
	}
	var got []string
	for _, e := range evs {
		got = append(got, event.Format(e))
	}
	wantEv := []string{
		"diff     v2 -> v3\n--- v2\n+++ v3",
		"diff     v1 -> v3\n--- v1\n+++ v3",
		`warn: diff: want "d N" or "d A B" (version numbers)`,
		`warn: live: want "live N" (a version number)`,
		"error: diff v5 v6: runner: diff: no v6",
	}
	if !slices.Equal(got, wantEv) {
		t.Errorf("events = %q, want %q", got, wantEv)
	}
}

// TestGate: nothing passes a closed gate, so a late command never
// publishes on a closed stream.
func TestGate(t *testing.T) {
	var n int
	g := &gate{p: event.PublisherFunc(func(event.Event) { n++ })}
	g.Publish(event.Log{})
	g.close()
	g.Publish(event.Log{})
	if n != 1 {
		t.Errorf("%d events passed, want 1", n)
	}
}
