package watcher

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/hotrun-dev/hotrun/event"
	"github.com/hotrun-dev/hotrun/gosrc"
)

func writeFile(t testing.TB, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestStorm writes a thousand files in one burst, as a git checkout does,
// and expects one Change carrying all of them.
func TestStorm(t *testing.T) {
	if testing.Short() {
		t.Skip("1000-file storm skipped in -short mode")
	}
	for _, poll := range []bool{false, true} {
		// Not parallel: two storms at once on two cores only test the
		// machine.
		t.Run(fmt.Sprintf("poll=%v", poll), func(t *testing.T) {
			root := t.TempDir()
			writeFile(t, filepath.Join(root, "go.mod"), "module example.com/storm\n")
			// A long debounce: one burst must stay one even if the
			// writing goroutine stalls on a busy machine.
			h := startWatcher(t, Config{Roots: []string{root}, Debounce: 300 * time.Millisecond, Poll: poll, PollInterval: 100 * time.Millisecond})
			for round, content := range []string{"package p%d\n", "package p%d // changed\n"} {
				for i := range 1000 {
					writeFile(t, filepath.Join(root, fmt.Sprintf("p%d", i%10), fmt.Sprintf("f%d.go", i)), fmt.Sprintf(content, i%10))
				}
				at := fmt.Sprintf("round %d", round)
				if got := h.nextChange(t, at); len(got) != 1000 {
					t.Fatalf("%s: change of %d files, want 1000 (first %q, warnings %q)", at, len(got), got[:min(3, len(got))], h.rec.warnings())
				}
				h.noChange(t, at)
			}
		})
	}
}

// TestOutOfWatches runs out of inotify watches, at start and while
// running, and expects one warning naming the fix and changes still seen by
// polling.
func TestOutOfWatches(t *testing.T) {
	for _, when := range []string{"start", "running"} {
		t.Run(when, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			writeFile(t, filepath.Join(root, "a.go"), "package a\n")
			writeFile(t, filepath.Join(root, "sub", "b.go"), "package sub\n")
			limit := int32(1) // the root only
			if when == "running" {
				limit = 2 // the root and sub
			}
			var added atomic.Int32
			rec := &recorder{}
			cfg := Config{Roots: []string{root}, Debounce: scriptDebounce, PollInterval: scriptPoll, Events: rec}
			w, err := newWatcher(cfg, func(fsw *fsnotify.Watcher, dir string) error {
				if added.Add(1) > limit {
					return fmt.Errorf("add %s: %w", dir, syscall.ENOSPC)
				}
				return fsw.Add(dir)
			})
			if err != nil {
				t.Fatal(err)
			}
			cfg.Poll = true // for the harness's quiet period
			h := runWatcher(t, w, cfg, rec)
			writeFile(t, filepath.Join(root, "new", "c.go"), "package c\n")
			if got := h.nextChange(t, "new/c.go"); strings.Join(got, " ") != "new/c.go" {
				t.Fatalf("got %q, want [new/c.go]", got)
			}
			writeFile(t, filepath.Join(root, "new2", "d.go"), "package d\n")
			writeFile(t, filepath.Join(root, "sub", "b.go"), "package sub // 2\n")
			if got := h.nextChange(t, "new2/d.go"); strings.Join(got, " ") != "new2/d.go sub/b.go" {
				t.Fatalf("got %q, want [new2/d.go sub/b.go]", got)
			}
			ws := rec.warnings()
			if len(ws) != 1 || !strings.Contains(ws[0], sysctlHint) {
				t.Fatalf("warnings %q, want one naming %q", ws, sysctlHint)
			}
		})
	}
}

// TestVerbose checks that ignored paths are published with their reasons.
func TestVerbose(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	writeFile(t, filepath.Join(root, ".gitignore"), "*.log\n")
	writeFile(t, filepath.Join(root, "a.go"), "package a\n")
	writeFile(t, filepath.Join(root, "node_modules", "x.js"), "x")
	h := startWatcher(t, Config{Roots: []string{root}, Debounce: scriptDebounce, Verbose: true, Exclude: []string{"gen/**"}})
	for name, content := range map[string]string{
		"a_test.go":     "package a\n",
		"app.log":       "line\n",
		"README.md":     "# hi\n",
		"a.go.tmp1":     "package a\n",
		"gen/g.go":      "package gen\n",
		"a.go___jb_tmp": "package a\n",
	} {
		writeFile(t, filepath.Join(root, name), content)
	}
	h.noChange(t, "ignored files")
	want := map[string]string{
		"node_modules": "node_modules directory",
		"a_test.go":    gosrc.ReasonTest,
		"app.log":      reasonGitignore,
		"README.md":    gosrc.ReasonNotBuild,
		"a.go.tmp1":    gosrc.ReasonTemp,
		"gen":          "excluded by glob gen/**",
	}
	got := map[string]string{}
	for _, e := range h.rec.all() {
		if ig, ok := e.(event.Ignored); ok {
			r, _ := filepath.Rel(root, ig.Path)
			got[filepath.ToSlash(r)] = ig.Reason
		}
	}
	for p, reason := range want {
		if got[p] != reason {
			t.Errorf("%s: reason %q, want %q (all: %q)", p, got[p], reason, got)
		}
	}
}

// TestRun checks the life cycle: Run returns nil on cancel and closes
// Changes; a second Run and a Run after Close fail.
func TestRun(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	w, err := New(Config{Roots: []string{root}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1) // Run's result
	go func() { done <- w.Run(ctx) }()
	time.Sleep(10 * time.Millisecond)
	if err := w.Run(ctx); !errors.Is(err, ErrRunning) {
		t.Errorf("second Run: %v, want ErrRunning", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	if _, ok := <-w.Changes(); ok {
		t.Error("Changes not closed")
	}

	w2, err := New(Config{Roots: []string{root}})
	if err != nil {
		t.Fatal(err)
	}
	if err := w2.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w2.Run(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Run after Close: %v, want ErrClosed", err)
	}

	// Close while running ends Run.
	w3, err := New(Config{Roots: []string{root}})
	if err != nil {
		t.Fatal(err)
	}
	done3 := make(chan error, 1) // Run's result
	go func() { done3 <- w3.Run(context.Background()) }()
	time.Sleep(10 * time.Millisecond)
	if err := w3.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done3:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("Run after Close while running: %v, want ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after Close")
	}
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	file := filepath.Join(root, "f")
	writeFile(t, file, "")
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"no roots", Config{}, "no roots"},
		{"relative", Config{Roots: []string{"rel"}}, "not an absolute path"},
		{"missing", Config{Roots: []string{filepath.Join(root, "nope")}}, "no such file"},
		{"file", Config{Roots: []string{file}}, "not a directory"},
		{"glob", Config{Roots: []string{root}, Exclude: []string{"[x"}}, "bad glob"},
		{"negative", Config{Roots: []string{root}, Debounce: -1}, "negative"},
	} {
		_, err := New(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "watcher: ") {
			t.Errorf("%s: error %v, want watcher: …%s…", tc.name, err, tc.want)
		}
	}
}

// TestNestedRoots checks that a root inside another is watched once.
func TestNestedRoots(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	sub := filepath.Join(root, "sub")
	writeFile(t, filepath.Join(sub, "a.go"), "package sub\n")
	h := startWatcher(t, Config{Roots: []string{root, sub, root + "/"}, Debounce: scriptDebounce})
	writeFile(t, filepath.Join(sub, "a.go"), "package sub // 2\n")
	if got := h.nextChange(t, "sub/a.go"); strings.Join(got, " ") != "sub/a.go" {
		t.Fatalf("got %q", got)
	}
	h.noChange(t, "after")
}

// TestSlowConsumer checks that bursts the consumer has not taken yet are
// merged into one Change rather than queued.
func TestSlowConsumer(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	h := startWatcher(t, Config{Roots: []string{root}, Debounce: 20 * time.Millisecond})
	writeFile(t, filepath.Join(root, "a.go"), "package a\n")
	time.Sleep(300 * time.Millisecond) // a burst ends, nobody reads
	writeFile(t, filepath.Join(root, "b.go"), "package a\n")
	time.Sleep(300 * time.Millisecond)
	seen := map[string]bool{}
	for n := 0; len(seen) < 2; n++ {
		if n == 2 {
			t.Fatalf("files spread over more than 2 changes: %v", seen)
		}
		for _, f := range h.nextChange(t, "merged") {
			seen[f] = true
		}
	}
}

func TestParseEmbedLine(t *testing.T) {
	for line, want := range map[string]string{
		" static/* hello.txt":              "static/*|hello.txt",
		` "with space.txt" ` + "`b q`":     "with space.txt|b q",
		" all:dist ./x/../y":               "all:dist|y",
		" ../up .":                         "",
		"\timages/*.png\ttemplates/*.tmpl": "images/*.png|templates/*.tmpl",
	} {
		var got []string
		for _, p := range parseEmbedLine(line) {
			s := strings.Join(p.elems, "/")
			if p.all {
				s = "all:" + s
			}
			got = append(got, s)
		}
		if strings.Join(got, "|") != want {
			t.Errorf("parseEmbedLine(%q) = %q, want %q", line, got, want)
		}
	}
}

// TestMergeDigests: a Change merged into one not taken yet keeps the later
// content of each file, and no digest for a file removed since.
func TestMergeDigests(t *testing.T) {
	d := func(s string) gosrc.Digest { return gosrc.Sum([]byte(s)) }
	first := newChange([]string{"/r/a.go", "/r/b.go"})
	first.Digests = map[string]gosrc.Digest{"/r/a.go": d("a1"), "/r/b.go": d("b1"), "/r/c.go": d("c1")}
	second := newChange([]string{"/r/a.go", "/r/b.go"})
	second.Digests = map[string]gosrc.Digest{"/r/a.go": d("a2")} // b.go removed
	m := merge(merge(nil, first), second)
	want := map[string]gosrc.Digest{"/r/a.go": d("a2"), "/r/c.go": d("c1")}
	if !maps.Equal(m.Digests, want) {
		t.Fatalf("merged digests %v, want %v", m.Digests, want)
	}
}
