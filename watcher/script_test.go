package watcher

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotrun-dev/hotrun/event"
	"github.com/hotrun-dev/hotrun/gosrc"
)

// TestMain raises the default -parallel: the script subtests spend nearly
// all their time waiting for quiet periods, not on the CPU, so running only
// GOMAXPROCS (2 here) of them at a time would make the suite needlessly
// slow. An explicit -parallel wins.
func TestMain(m *testing.M) {
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		_ = flag.Set("test.parallel", "12")
	}
	os.Exit(m.Run())
}

// Timings for the scripts. The debounce is above the default so that a
// scheduling stall on a busy machine does not split one burst in two; the
// waits are generous because the machine is shared.
const (
	scriptDebounce = 100 * time.Millisecond
	scriptPoll     = 25 * time.Millisecond
	changeTimeout  = 10 * time.Second
)

// TestScripts runs every testdata/*.txt script against a real watcher on a
// real directory, once with inotify and once polling.
//
// A script is a list of commands, one a line; # starts a comment line.
// Arguments are separated by spaces; a Go double-quoted string is one
// argument. Paths are relative to the watched root.
//
//	write PATH CONTENT   create or truncate PATH (and its parents)
//	append PATH CONTENT  append to PATH
//	mkdir PATH           create PATH and its parents
//	rm PATH              remove PATH and anything below it
//	mv FROM TO           rename
//	touch PATH           set PATH's modification time to a later time
//	symlink TARGET LINK  create LINK pointing at TARGET (taken literally)
//	sleep DURATION       wait
//	watch [exclude=GLOB] [include=GLOB]...
//	                     start the watcher; commands before it set up the tree
//	change PATH...       expect one Change with exactly these files
//	nochange             expect no Change for a few quiet periods
func TestScripts(t *testing.T) {
	scripts, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(scripts) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	for _, mode := range []string{"inotify", "poll"} {
		t.Run(mode, func(t *testing.T) {
			if mode == "poll" && testing.Short() {
				t.Skip("polling suite skipped in -short mode")
			}
			for _, s := range scripts {
				name := strings.TrimSuffix(filepath.Base(s), ".txt")
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					runScript(t, s, mode == "poll")
				})
			}
		})
	}
}

func runScript(t *testing.T, file string, poll bool) {
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	root := t.TempDir()
	var h *harness
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		args, err := splitArgs(line)
		if err != nil {
			t.Fatalf("%s:%d: %v", file, n, err)
		}
		at := fmt.Sprintf("%s:%d: %s", filepath.Base(file), n, line)
		abs := func(i int) string {
			if i >= len(args) {
				t.Fatalf("%s: missing argument", at)
			}
			return filepath.Join(root, filepath.FromSlash(args[i]))
		}
		switch args[0] {
		case "write", "append":
			p := abs(1)
			must(t, at, os.MkdirAll(filepath.Dir(p), 0o755))
			flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
			if args[0] == "append" {
				flags = os.O_WRONLY | os.O_CREATE | os.O_APPEND
			}
			fh, err := os.OpenFile(p, flags, 0o644)
			must(t, at, err)
			if len(args) > 2 {
				_, err = fh.WriteString(args[2])
				must(t, at, err)
			}
			must(t, at, fh.Close())
		case "mkdir":
			must(t, at, os.MkdirAll(abs(1), 0o755))
		case "rm":
			must(t, at, os.RemoveAll(abs(1)))
		case "mv":
			must(t, at, os.Rename(abs(1), abs(2)))
		case "touch":
			p := abs(1)
			fi, err := os.Stat(p)
			must(t, at, err)
			later := fi.ModTime().Add(2 * time.Second)
			must(t, at, os.Chtimes(p, later, later))
		case "symlink":
			must(t, at, os.Symlink(args[1], abs(2)))
		case "sleep":
			d, err := time.ParseDuration(args[1])
			must(t, at, err)
			time.Sleep(d)
		case "watch":
			cfg := Config{Roots: []string{root}, Debounce: scriptDebounce, Poll: poll, PollInterval: scriptPoll}
			for _, a := range args[1:] {
				k, v, _ := strings.Cut(a, "=")
				switch k {
				case "exclude":
					cfg.Exclude = append(cfg.Exclude, v)
				case "include":
					cfg.Include = append(cfg.Include, v)
				default:
					t.Fatalf("%s: unknown option %q", at, a)
				}
			}
			h = startWatcher(t, cfg)
		case "change":
			if h == nil {
				t.Fatalf("%s: no watch yet", at)
			}
			want := slices.Clone(args[1:])
			slices.Sort(want)
			got := h.nextChange(t, at)
			if !slices.Equal(got, want) {
				t.Fatalf("%s: got change %q, want %q", at, got, want)
			}
		case "nochange":
			if h == nil {
				t.Fatalf("%s: no watch yet", at)
			}
			h.noChange(t, at)
		default:
			t.Fatalf("%s: unknown command", at)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if h != nil {
		if ws := h.rec.warnings(); len(ws) > 0 {
			t.Errorf("unexpected warnings: %q", ws)
		}
	}
}

func must(t *testing.T, at string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", at, err)
	}
}

// splitArgs splits a script line at spaces; a double-quoted Go string is
// one argument.
func splitArgs(line string) ([]string, error) {
	var args []string
	for line = strings.TrimSpace(line); line != ""; line = strings.TrimSpace(line) {
		if line[0] == '"' {
			end := 1
			for end < len(line) && line[end] != '"' {
				if line[end] == '\\' {
					end++
				}
				end++
			}
			if end >= len(line) {
				return nil, fmt.Errorf("unterminated string: %s", line)
			}
			s, err := strconv.Unquote(line[:end+1])
			if err != nil {
				return nil, err
			}
			args = append(args, s)
			line = line[end+1:]
			continue
		}
		i := strings.IndexByte(line, ' ')
		if i < 0 {
			i = len(line)
		}
		args = append(args, line[:i])
		line = line[i:]
	}
	return args, nil
}

// harness runs one watcher for one test.
type harness struct {
	w     *Watcher
	root  string
	quiet time.Duration // how long "no change" is waited for
	rec   *recorder
}

// startWatcher starts a watcher on cfg (its Events are replaced by a
// recorder) and stops it when the test ends.
func startWatcher(t testing.TB, cfg Config) *harness {
	t.Helper()
	rec := &recorder{}
	cfg.Events = rec
	w, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return runWatcher(t, w, cfg, rec)
}

func runWatcher(t testing.TB, w *Watcher, cfg Config, rec *recorder) *harness {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1) // Run's result; the cleanup waits on it, so Run ends with the test
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		if _, ok := <-w.Changes(); ok {
			// An undelivered change is fine; a channel left open is not.
			for range w.Changes() {
			}
		}
	})
	quiet := 4 * w.debounce
	if cfg.Poll {
		quiet += 3 * w.interval
	}
	return &harness{w: w, root: cfg.Roots[0], quiet: quiet, rec: rec}
}

// nextChange waits for the next Change and returns its files relative to
// the root, slash-separated. It also checks the invariants every Change
// keeps.
func (h *harness) nextChange(t testing.TB, at string) []string {
	t.Helper()
	select {
	case c, ok := <-h.w.Changes():
		if !ok {
			t.Fatalf("%s: Changes closed", at)
		}
		checkChange(t, at, c)
		var rel []string
		for _, f := range c.Files {
			r, err := filepath.Rel(h.root, f)
			if err != nil {
				t.Fatal(err)
			}
			rel = append(rel, filepath.ToSlash(r))
		}
		slices.Sort(rel)
		return rel
	case <-time.After(changeTimeout):
		t.Fatalf("%s: no change within %s", at, changeTimeout)
	}
	return nil
}

// noChange checks that no Change arrives within a few quiet periods.
func (h *harness) noChange(t testing.TB, at string) {
	t.Helper()
	select {
	case c := <-h.w.Changes():
		t.Fatalf("%s: unexpected change %q", at, c.Files)
	case <-time.After(h.quiet):
	}
}

// checkChange checks what every Change promises: absolute, sorted,
// deduplicated files, the sorted, deduplicated directories of them, and
// the digest of each file that exists (the tests write nothing while a
// Change is checked, so the disk holds what the watcher read).
func checkChange(t testing.TB, at string, c Change) {
	t.Helper()
	if len(c.Files) == 0 {
		t.Fatalf("%s: empty change", at)
	}
	if !slices.IsSorted(c.Files) || len(slices.Compact(slices.Clone(c.Files))) != len(c.Files) {
		t.Fatalf("%s: files not sorted and unique: %q", at, c.Files)
	}
	var dirs []string
	for _, f := range c.Files {
		if !filepath.IsAbs(f) {
			t.Fatalf("%s: relative path %q", at, f)
		}
		dirs = append(dirs, filepath.Dir(f))
	}
	slices.Sort(dirs)
	if dirs = slices.Compact(dirs); !slices.Equal(dirs, c.Dirs) {
		t.Fatalf("%s: dirs %q, want %q", at, c.Dirs, dirs)
	}
	for _, f := range c.Files {
		b, err := os.ReadFile(f)
		d, ok := c.Digests[f]
		switch {
		case err != nil && ok:
			t.Fatalf("%s: %s is gone, but the change has its digest", at, f)
		case err == nil && !ok:
			t.Fatalf("%s: %s has no digest", at, f)
		case err == nil && d != gosrc.Sum(b):
			t.Fatalf("%s: %s: digest %s, want %s", at, f, d, gosrc.Sum(b))
		}
	}
}

// recorder is an event.Publisher that keeps what it is given.
type recorder struct {
	mu     sync.Mutex // guards events: Run publishes while the test reads
	events []event.Event
}

func (r *recorder) Publish(e event.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) all() []event.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

func (r *recorder) warnings() []string {
	var ws []string
	for _, e := range r.all() {
		if l, ok := e.(event.Log); ok && l.Level == "warn" {
			ws = append(ws, l.Text)
		}
	}
	return ws
}
