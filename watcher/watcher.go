package watcher

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/fsnotify/fsnotify"
	ignore "github.com/sabhiram/go-gitignore"

	"github.com/hotrun-dev/hotrun/event"
	"github.com/hotrun-dev/hotrun/gosrc"
)

// Defaults for the zero values of Config.
const (
	DefaultDebounce     = 50 * time.Millisecond
	DefaultPollInterval = 250 * time.Millisecond
)

// Errors returned by Run.
var (
	ErrRunning = errors.New("watcher: Run called twice")
	ErrClosed  = errors.New("watcher: watcher already closed")
)

// sysctlHint is the fix named in the warning when inotify runs out of
// watches.
const sysctlHint = "sudo sysctl fs.inotify.max_user_watches=524288"

// Config says what to watch and how. Only Roots is required.
type Config struct {
	// Roots are absolute directories, watched recursively: typically the
	// user's module root. A root inside another root is watched once.
	Roots []string

	// Debounce is the quiet period that ends a burst: a Change is delivered
	// once no event arrived for this long. 0 means DefaultDebounce.
	Debounce time.Duration

	// Include holds doublestar globs, relative to the root and
	// slash-separated, of extra files that count, such as "templates/**".
	// An Include glob also reaches into directories that are ignored by
	// default (vendor, testdata, node_modules, dot-directories).
	Include []string

	// Exclude holds doublestar globs, relative to the root, of paths that
	// never count. A glob that matches a directory excludes all below it.
	Exclude []string

	// Poll forces polling instead of inotify, for Docker volumes and network
	// mounts where inotify sees nothing.
	Poll bool

	// PollInterval is the time between two walks when polling. 0 means
	// DefaultPollInterval.
	PollInterval time.Duration

	// Verbose publishes an event.Ignored, with the reason, for every path
	// the watcher sees and ignores.
	Verbose bool

	// Events receives warnings (event.Log from event.SourceHotrun, level
	// "warn") and event.Ignored. nil means event.Discard.
	Events event.Publisher
}

// Change is one burst of saves: every file whose content changed, that was
// created, or that was removed.
type Change struct {
	Files []string // absolute paths, sorted, deduplicated; real files only (never an editor temp file)
	Dirs  []string // the directories of Files, sorted, deduplicated (the lead maps them to Go packages)
	// Digests is the content of every counted file the watcher read to
	// make this Change, by absolute path: the files of Files that exist,
	// and the touched ones it found unchanged. A file of Files that is
	// not here was removed. So a consumer can tell, reading nothing,
	// whether what it did meanwhile (a build started early) read the
	// content the burst ended with.
	Digests map[string]gosrc.Digest
}

// fileState is what the watcher remembers of a counted file.
type fileState struct {
	digest gosrc.Digest
}

// statKey is what polling compares between two walks. The inode catches a
// rename over a file with the same size within the file system's timestamp
// granularity.
type statKey struct {
	mtime int64
	size  int64
	ino   uint64
}

// A Watcher watches roots and delivers one Change per burst of saves.
// Create it with New, then call Run.
type Watcher struct {
	cfg      Config
	roots    []string
	pub      event.Publisher
	debounce time.Duration
	interval time.Duration

	// changes carries Changes to the consumer. Run is its only sender and
	// closes it on return. Unbuffered: Run keeps merging new bursts into the
	// undelivered one, so a slow consumer gets one bigger Change instead of
	// a queue of stale ones.
	changes chan Change

	// activity carries early hints (see Activity); Run is its only sender.
	// Buffered by one and sent without blocking: a hint is worth nothing
	// late.
	activity chan string

	running atomic.Bool // set by the first Run; a second Run is an error

	// mu guards fsw: Close may be called from any goroutine while Run's
	// goroutine swaps inotify for polling.
	mu  sync.Mutex
	fsw *fsnotify.Watcher // nil when polling or closed

	// addWatch adds one inotify watch (fsnotify's Add, or a test's
	// replacement); it takes mu.
	addWatch func(dir string) error

	// Everything below belongs to the goroutine that calls New and then
	// Run; nothing else touches it, so it needs no lock.
	polling  bool
	files    map[string]fileState         // every counted file, by absolute path
	dirs     map[string]string            // every walked directory → its real path (symlinks resolved)
	realDirs map[string]string            // real path → the walked directory that stands for it (stops symlink loops)
	ignores  map[string]*ignore.GitIgnore // directory → its .gitignore
	embeds   map[string][]embedPattern    // directory → the //go:embed patterns of its .go files
	// fileEmbeds holds the //go:embed patterns of each .go file that has
	// some: a save reads again only the files it touched.
	fileEmbeds map[string][]embedPattern
	// reads holds, during a scan or a flush, the digest of each file read
	// so far, so that no file is read twice in one; nil otherwise.
	reads    map[string]gosrc.Digest
	dirty    map[string]struct{} // paths touched in the current burst
	poll     map[string]statKey  // polling: every file of the last walk; nil until primed
	visited  map[string]struct{} // polling: directories the current walk reached; nil outside pollOnce
	reported map[string]struct{} // Verbose: paths already reported in this burst, so a log file written in a loop is reported once
}

// New validates cfg, scans the roots (hashing every file that counts) and
// sets up the watches. The watches are released when Run returns, or by
// Close if Run is never called.
func New(cfg Config) (*Watcher, error) { return newWatcher(cfg, nil) }

// newWatcher is New with a replacement for fsnotify's Add, so that tests can
// run out of inotify watches on purpose.
func newWatcher(cfg Config, addWatch func(fsw *fsnotify.Watcher, dir string) error) (*Watcher, error) {
	if len(cfg.Roots) == 0 {
		return nil, errors.New("watcher: no roots to watch")
	}
	if cfg.Debounce < 0 || cfg.PollInterval < 0 {
		return nil, errors.New("watcher: negative Debounce or PollInterval")
	}
	var roots []string
	for _, r := range cfg.Roots {
		if !filepath.IsAbs(r) {
			return nil, fmt.Errorf("watcher: root %q is not an absolute path", r)
		}
		r = filepath.Clean(r)
		fi, err := os.Stat(r)
		if err != nil {
			return nil, fmt.Errorf("watcher: root: %w", err)
		}
		if !fi.IsDir() {
			return nil, fmt.Errorf("watcher: root %s is not a directory", r)
		}
		roots = append(roots, r)
	}
	for _, globs := range [][]string{cfg.Include, cfg.Exclude} {
		for _, g := range globs {
			if !doublestar.ValidatePattern(g) {
				return nil, fmt.Errorf("watcher: bad glob %q", g)
			}
		}
	}
	// A root inside another root would be walked twice; keep the outer one.
	// Sorting puts an ancestor before its descendants.
	slices.Sort(roots)
	roots = slices.Compact(roots)
	roots = slices.DeleteFunc(roots, func(r string) bool {
		for _, o := range roots {
			if o != r && len(r) > len(o) && r[:len(o)] == o && r[len(o)] == filepath.Separator {
				return true
			}
		}
		return false
	})

	w := &Watcher{
		cfg:        cfg,
		roots:      roots,
		pub:        cfg.Events,
		debounce:   cfg.Debounce,
		interval:   cfg.PollInterval,
		changes:    make(chan Change),
		activity:   make(chan string, 1),
		polling:    cfg.Poll,
		files:      map[string]fileState{},
		dirs:       map[string]string{},
		realDirs:   map[string]string{},
		ignores:    map[string]*ignore.GitIgnore{},
		embeds:     map[string][]embedPattern{},
		fileEmbeds: map[string][]embedPattern{},
		dirty:      map[string]struct{}{},
		reported:   map[string]struct{}{},
	}
	if w.pub == nil {
		w.pub = event.Discard
	}
	if w.debounce == 0 {
		w.debounce = DefaultDebounce
	}
	if w.interval == 0 {
		w.interval = DefaultPollInterval
	}
	if addWatch == nil {
		addWatch = (*fsnotify.Watcher).Add
	}
	w.addWatch = func(dir string) error {
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.fsw == nil {
			return nil
		}
		return addWatch(w.fsw, dir)
	}
	if !w.polling {
		fsw, err := fsnotify.NewWatcher()
		switch {
		case errors.Is(err, syscall.EMFILE):
			// Every fsnotify watcher is one inotify instance, and the
			// instances per user are limited too.
			w.fallBack(fmt.Sprintf("watcher: out of inotify instances (fs.inotify.max_user_instances); polling every %s instead, which is slower. Raise the limit: sudo sysctl fs.inotify.max_user_instances=512", w.interval))
		case err != nil:
			w.fallBack(fmt.Sprintf("watcher: inotify unavailable (%v); polling every %s instead", err, w.interval))
		default:
			w.fsw = fsw
		}
	}
	if err := w.scan(); err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

// Changes returns the channel on which Run delivers one Change per burst.
// Run closes it when it returns.
func (w *Watcher) Changes() <-chan Change { return w.changes }

// Activity receives the path of the first event of each burst that may
// count, as soon as it happens, before the debounce ends and before the
// content is compared: a hint that a Change may follow, so that a consumer
// can start work early and check it against the Change. It is never closed
// and never blocks the watcher (a hint not taken is dropped). Polling sends
// no hints.
func (w *Watcher) Activity() <-chan string { return w.activity }

// Close releases the inotify watches. Run calls it on return; call it
// yourself only for a Watcher that is never Run. Close is safe to call more
// than once and from any goroutine.
func (w *Watcher) Close() error {
	w.mu.Lock()
	fsw := w.fsw
	w.fsw = nil
	w.mu.Unlock()
	if fsw == nil {
		return nil
	}
	if err := fsw.Close(); err != nil {
		return fmt.Errorf("watcher: close: %w", err)
	}
	return nil
}

// Run watches until ctx is done and returns nil then. It closes Changes on
// return. It returns ErrClosed if Close was called first, and ErrRunning if
// the Watcher already runs.
func (w *Watcher) Run(ctx context.Context) error {
	if !w.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer close(w.changes)
	defer w.Close()

	w.mu.Lock()
	fsw := w.fsw
	w.mu.Unlock()
	if fsw == nil && !w.polling {
		return ErrClosed
	}
	var evs <-chan fsnotify.Event
	var errs <-chan error
	if fsw != nil {
		evs, errs = fsw.Events, fsw.Errors
	}

	// timer ends a burst. Since Go 1.23 Reset and Stop need no draining.
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	// ticker drives polling; nil (and tick nil) while inotify works.
	var ticker *time.Ticker
	var tick <-chan time.Time
	defer func() {
		if ticker != nil {
			ticker.Stop()
		}
	}()

	var pending *Change // a burst the consumer has not taken yet
	burst := false      // an inotify burst is under way: Activity has been told
	for {
		if w.polling && ticker == nil {
			// Polling from the start, or inotify ran out of watches while
			// handling the last event: its channels are closed now.
			ticker = time.NewTicker(w.interval)
			tick = ticker.C
			evs, errs = nil, nil
		}
		// Send only when there is a pending burst; a nil channel never
		// sends. (select evaluates the value even then, hence next.)
		var out chan<- Change
		var next Change
		if pending != nil {
			out, next = w.changes, *pending
		}
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-evs:
			if !ok {
				evs = nil // a closed channel is always ready: stop selecting it
				if w.polling {
					continue // closed by fallBack; the ticker takes over
				}
				if ctx.Err() != nil {
					return nil
				}
				return ErrClosed
			}
			if w.handle(ev) {
				if !burst {
					burst = true
					select {
					case w.activity <- ev.Name:
					default: // the consumer has not taken the last one: it knows
					}
				}
				timer.Reset(w.debounce)
			}
		case err, ok := <-errs:
			if !ok {
				errs = nil // closed together with evs, which ends the loop
				continue
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				// The kernel dropped events: compare everything.
				w.markAll()
				timer.Reset(w.debounce)
				continue
			}
			w.warn(fmt.Sprintf("watcher: %v", err))
		case <-tick:
			if w.pollOnce() {
				// Let one whole interval pass without a difference, so a
				// checkout that spans two walks stays one burst.
				timer.Reset(w.interval + w.debounce)
			}
		case <-timer.C:
			// The quiet period is measured from the last event handled, not
			// the last one that happened: if this goroutine fell behind, an
			// event may be waiting. Take what is waiting before deciding
			// that the burst is over.
			if w.drain(evs) {
				timer.Reset(w.debounce)
				continue
			}
			burst = false
			c := w.flush()
			if len(c.Files) > 0 {
				pending = merge(pending, c)
			}
		case out <- next:
			pending = nil
		}
	}
}

// handle notes one inotify event and reports whether it belongs to the
// current burst.
func (w *Watcher) handle(ev fsnotify.Event) bool {
	if ev.Op == fsnotify.Chmod {
		// touch, chmod, and the first note of an unlink: never a content
		// change, and an unlink also sends Remove.
		return false
	}
	return w.touch(ev.Name, false)
}

// drain handles the events fsnotify is waiting to deliver, without
// blocking, and reports whether any belonged to the burst.
func (w *Watcher) drain(evs <-chan fsnotify.Event) bool {
	more := false
	// Bounded, so that a writer faster than this loop cannot keep a burst
	// open here forever; the timer gets another chance.
	for range 4096 {
		select {
		case ev, ok := <-evs:
			if !ok {
				return more
			}
			more = w.handle(ev) || more
		default:
			return more
		}
	}
	return more
}

// merge adds the files of c to pending and recomputes the directories;
// c's digests, the later ones, win.
func merge(pending *Change, c Change) *Change {
	if pending == nil {
		return &c
	}
	files := append(pending.Files, c.Files...)
	slices.Sort(files)
	m := newChange(slices.Compact(files))
	m.Digests = pending.Digests
	if m.Digests == nil {
		m.Digests = map[string]gosrc.Digest{}
	}
	for _, f := range c.Files {
		delete(m.Digests, f) // removed since, unless c read it
	}
	maps.Copy(m.Digests, c.Digests)
	return &m
}

// newChange returns the Change for sorted, deduplicated files.
func newChange(files []string) Change {
	dirs := make([]string, 0, len(files))
	for _, f := range files {
		dirs = append(dirs, filepath.Dir(f))
	}
	slices.Sort(dirs)
	return Change{Files: files, Dirs: slices.Compact(dirs)}
}

// warn publishes a warning for people.
func (w *Watcher) warn(text string) {
	w.pub.Publish(event.Log{Source: event.SourceHotrun, Level: "warn", Text: text})
}

// ignored publishes an event.Ignored when Verbose, once per path per burst.
func (w *Watcher) ignored(p, reason string) {
	if !w.cfg.Verbose {
		return
	}
	if _, ok := w.reported[p]; ok {
		return
	}
	if len(w.reported) > 10000 {
		clear(w.reported) // a flood of distinct ignored paths must not grow memory without bound
	}
	w.reported[p] = struct{}{}
	w.pub.Publish(event.Ignored{Path: p, Reason: reason})
}

// fallBack switches to polling for good and says so once.
func (w *Watcher) fallBack(text string) {
	if w.polling {
		return
	}
	w.polling = true
	w.poll = nil // the first walk compares every file's content
	w.warn(text)
	w.Close()
}

// watch adds an inotify watch on dir, falling back to polling when the
// system runs out of watches.
func (w *Watcher) watch(dir string) {
	if w.polling {
		return
	}
	err := w.addWatch(dir)
	switch {
	case err == nil:
	case errors.Is(err, syscall.ENOSPC):
		w.fallBack(fmt.Sprintf("watcher: out of inotify watches (fs.inotify.max_user_watches); polling every %s instead, which is slower. Raise the limit: %s", w.interval, sysctlHint))
	case errors.Is(err, os.ErrNotExist), errors.Is(err, fsnotify.ErrClosed):
		// Removed before the watch was added: the Remove event follows.
	default:
		w.warn(fmt.Sprintf("watcher: watch %s: %v", dir, err))
	}
}
