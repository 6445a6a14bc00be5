package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestBenchShort runs the bench as CI does, in -short mode without air or
// the live TUI, so it can't rot. It checks the table's structure and the
// figures that are facts rather than speeds: no failed request while
// hot-swapping, state kept, one build per burst. It never judges
// wall-clock speed.
func TestBenchShort(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end: builds hotrun and the example and runs them; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	var out bytes.Buffer
	var progress io.Writer = io.Discard
	if testing.Verbose() {
		progress = os.Stderr
	}
	if err := run(ctx, []string{"-short", "-no-air"}, &out, progress); err != nil {
		t.Fatalf("bench: %v\n%s", err, out.String())
	}
	table := out.String()
	t.Logf("\n%s", table)

	cells := func(prefix string) []string { return cellsIn(t, table, prefix) }
	// The chat project's table follows the example's.
	_, chat, found := strings.Cut(table, "**chat**")
	if !found {
		t.Fatalf("no table for the chat project")
	}
	if c := cellsIn(t, chat, "failed requests"); !strings.HasPrefix(c[1], "0 of ") || c[1] == "0 of 0" {
		t.Errorf("chat: hot-swap failed requests = %q, want 0 of some", c[1])
	}
	if c := cellsIn(t, chat, "save-to-live ÷ floor"); !strings.HasSuffix(c[1], " ×") {
		t.Errorf("chat: hot-swap ratio = %q", c[1])
	}
	if c := cellsIn(t, chat, "state (visits)"); c[1] != "kept" {
		t.Errorf("chat: hot-swap state = %q, want kept", c[1])
	}
	// The builder alone: both routes for both projects, the route named.
	for _, want := range []string{"| example | fast ×", "| example | go build ×", "| chat | fast ×", "| chat | go build ×"} {
		if !strings.Contains(table, want) {
			t.Errorf("builder table has no row %q", want)
		}
	}
	for _, want := range []string{"**example**, where hot-swap's save-to-live", "**chat**, where hot-swap's save-to-live", "watcher (write → change event", "load (build.ok → load.ok)"} {
		if !strings.Contains(table, want) {
			t.Errorf("no breakdown %q", want)
		}
	}
	if h := cells("figure"); len(h) != 6 || h[1] != "hotrun hot-swap" {
		t.Errorf("header = %q", h)
	}
	msRE := regexp.MustCompile(`^[0-9.]+ m?s\b`)
	if c := cells("save-to-live, one-line"); !msRE.MatchString(c[1]) {
		t.Errorf("hot-swap save-to-live = %q, want a duration", c[1])
	}
	if c := cells("bare `go build`"); !strings.HasPrefix(c[1], "plugin: ") || !msRE.MatchString(strings.TrimPrefix(c[1], "plugin: ")) {
		t.Errorf("plugin floor = %q", c[1])
	}
	if c := cells("save-to-live ÷ floor"); !strings.HasSuffix(c[1], " ×") {
		t.Errorf("hot-swap ratio = %q", c[1])
	}
	if c := cells("failed requests"); !strings.HasPrefix(c[1], "0 of ") || c[1] == "0 of 0" {
		t.Errorf("hot-swap failed requests = %q, want 0 of some", c[1])
	}
	if c := cells("state (visits)"); c[1] != "kept" {
		t.Errorf("hot-swap state = %q, want kept", c[1])
	}
	if c := cells("engine RSS after N"); strings.Count(c[1], "MB") != 3 {
		t.Errorf("memory row = %q, want 3 figures", c[1])
	}
	cells("… with recycling")
	// A build canceled because the burst went on is no build.
	var started, canceled int
	if c := cells("builds started by one burst"); sscanf(c[1], "%d (%d canceled", &started, &canceled) != nil || started-canceled != 1 {
		t.Errorf("builds per burst = %q, want 1 not canceled", c[1])
	}
	if c := cells("TUI: request lines/s"); c[1] == "" {
		t.Errorf("TUI lines/s empty")
	}
	cells("longest gap")
	// The fault run: the state survives every fault. (A crash may take the
	// one request in flight with it, so failures are shown, not asserted.)
	_, faults, found := strings.Cut(table, "### Faults")
	if !found {
		t.Fatal("no fault table")
	}
	if c := cellsIn(t, faults, "state (visits) through"); c[1] != "kept" {
		t.Errorf("faults: state = %q, want kept", c[1])
	}
	if c := cellsIn(t, faults, "requests failed / sent, outside"); strings.HasSuffix(c[1], "/ 0") {
		t.Errorf("faults: no requests sent: %q", c[1])
	}
}

// cellsIn returns the cells of the first row of table that starts with
// prefix.
func cellsIn(t *testing.T, table, prefix string) []string {
	t.Helper()
	for _, line := range strings.Split(table, "\n") {
		if strings.HasPrefix(line, "| "+prefix) {
			f := strings.Split(strings.Trim(line, "|"), "|")
			for i := range f {
				f[i] = strings.TrimSpace(f[i])
			}
			return f
		}
	}
	t.Fatalf("no row %q in the table", prefix)
	return nil
}

func TestSample(t *testing.T) {
	s := sample{3 * time.Millisecond, time.Millisecond, 2 * time.Millisecond, 10 * time.Millisecond}
	if got := s.median(); got != 2500*time.Microsecond {
		t.Errorf("median = %v", got)
	}
	if got := s.String(); got != "2.50 ms (1.00–10.0 ms)" {
		t.Errorf("String = %q", got)
	}
	if got := ms(1255 * time.Millisecond); got != "1.25 s" && got != "1.26 s" {
		t.Errorf("ms(1255ms) = %q", got)
	}
	if got := newestV16([]string{"v1.52.0", "v1.67.4", "v1.61.9", "v1.67.10", "v1.70.0"}); got != "v1.67.10" {
		t.Errorf("newestV16 = %q", got)
	}
}

func sscanf(s, format string, args ...any) error {
	_, err := fmt.Sscanf(s, format, args...)
	return err
}
