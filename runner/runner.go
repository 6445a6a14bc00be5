// Package runner runs the hot-reload loop: it builds the user's engine and
// logic with the builder, starts the engine and steers it over a private
// control socket, and turns every change the watcher reports into a new
// version swapped into the running engine — or, when the change touches a
// package the engine holds, into a new engine.
//
// The engine side, the library the user's engine imports, is the sub-package
// host. This package is the supervisor side, inside hotrun: it never prints
// (everything it does is an event) and never draws.
package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/hotrun-dev/hotrun/builder"
	"github.com/hotrun-dev/hotrun/event"
	"github.com/hotrun-dev/hotrun/runner/host"
	"github.com/hotrun-dev/hotrun/watcher"
)

// Config configures a Runner.
type Config struct {
	Dir        string   // the user's module root
	Engine     string   // engine package, relative to Dir ("./engine")
	Logic      string   // logic plugin package, relative to Dir ("./logic")
	Root       string   // where diagnostics are relative to; "" means Dir
	EngineArgs []string // arguments for the engine
	Flags      []string // go build flags for the engine and every plugin
	// PluginLDFlags go to plugin builds only; "" means "-s -w", which cuts
	// link time and may differ from the engine's.
	PluginLDFlags string
	Watch         watcher.Config // Roots default to Dir; Events is set by Run
	Events        event.Publisher

	// MaxVersions recycles the engine (a restart that carries its state)
	// once it holds this many plugin versions: Go never unloads one. 0
	// means 100; negative means never.
	MaxVersions int
	// MaxRSS recycles the engine once its resident memory passes this many
	// bytes; 0 means never.
	MaxRSS int64
	// SnapshotEvery is how often the engine saves its state, for crash
	// recovery (a save that changed nothing writes nothing); 0 means 5s.
	SnapshotEvery time.Duration

	// Fresh starts with empty state instead of restoring the last
	// session's snapshot.
	Fresh bool

	// Mode is ModeHotSwap or ModeRestart; "" chooses hot swap where Go
	// plugins work and restart mode elsewhere, and says so.
	Mode string
}

// Modes.
const (
	// ModeHotSwap builds each version as a plugin and swaps it into the
	// running engine.
	ModeHotSwap = "hotswap"
	// ModeRestart builds each version into the engine executable and
	// restarts it, state and sockets carried over: for systems and builds
	// without Go plugins.
	ModeRestart = "restart"
)

// Runner is the hot-reload loop. Create it with New, run it with Run; its
// Rebuild, Restart, Rollback and Forward methods may be called from any
// goroutine while it runs (they are the TUI's keys).
type Runner struct {
	cfg      Config
	requests chan request // from the Controller methods to the loop; buffered, dropped when full
}

type request int

const (
	reqRebuild request = iota
	reqRestart
	reqRollback
	reqForward
)

// New returns a Runner for cfg.
func New(cfg Config) *Runner {
	if cfg.Events == nil {
		cfg.Events = event.Discard
	}
	if cfg.PluginLDFlags == "" {
		cfg.PluginLDFlags = "-s -w"
	}
	if cfg.MaxVersions == 0 {
		cfg.MaxVersions = 100
	}
	if cfg.SnapshotEvery == 0 {
		cfg.SnapshotEvery = 5 * time.Second
	}
	return &Runner{cfg: cfg, requests: make(chan request, 16)}
}

// Rebuild asks for a new logic build now, even if nothing changed.
func (r *Runner) Rebuild() { r.ask(reqRebuild) }

// Restart asks for the engine to be restarted.
func (r *Runner) Restart() { r.ask(reqRestart) }

// Rollback asks the engine to switch to the version loaded before the
// active one.
func (r *Runner) Rollback() { r.ask(reqRollback) }

// Forward undoes a Rollback.
func (r *Runner) Forward() { r.ask(reqForward) }

// Activate asks for version n, loaded in the serving engine, to become
// live. (In progress: the version list's "make it live" key.)
func (r *Runner) Activate(n int) {}

// Diff returns the unified diff of the logic tree from version from to
// version to. (In progress.)
func (r *Runner) Diff(from, to int) (string, error) {
	return "", errors.New("runner: diff: not available yet")
}

// Addrs returns the addresses the engine listens on ("127.0.0.1:12345"),
// as it handed them to hotrun. (In progress.)
func (r *Runner) Addrs() []string { return nil }

func (r *Runner) ask(q request) {
	select {
	case r.requests <- q:
	default: // the loop is busy with a pile of them already; one more adds nothing
	}
}

// Run builds, starts the engine and reloads on every change until ctx is
// done; then it stops the engine and returns. It returns an error only when
// it can't start at all (no module, no such package).
func (r *Runner) Run(ctx context.Context) error {
	dir, err := filepath.Abs(r.cfg.Dir)
	if err != nil {
		return fmt.Errorf("runner: %w", err)
	}
	mode, why := chooseMode(ctx, r.cfg.Mode)
	if why != "" {
		r.cfg.Events.Publish(event.Log{Source: event.SourceHotrun, Level: "warn", Text: why})
	}
	r.cfg.Mode = mode
	b, err := builder.New(ctx, builder.Config{
		Dir:           dir,
		Engine:        r.cfg.Engine,
		Logic:         r.cfg.Logic,
		Root:          r.cfg.Root,
		Flags:         r.cfg.Flags,
		PluginLDFlags: r.cfg.PluginLDFlags,
	})
	if err != nil {
		return err
	}
	if err := b.Clean(); err != nil {
		return err
	}
	wcfg := r.cfg.Watch
	if len(wcfg.Roots) == 0 {
		wcfg.Roots = []string{dir}
	}
	wcfg.Events = r.cfg.Events
	w, err := watcher.New(wcfg)
	if err != nil {
		return fmt.Errorf("runner: %w", err)
	}

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return w.Run(gctx) })
	state := filepath.Join(dir, builder.OutDir, "state")
	if err := os.RemoveAll(state); err != nil {
		return fmt.Errorf("runner: %w", err)
	}
	if err := os.MkdirAll(state, 0o700); err != nil {
		return fmt.Errorf("runner: %w", err)
	}
	l := &loop{
		cfg:       r.cfg,
		dir:       dir,
		statePath: filepath.Join(state, "snapshot.json"),
		b:         b,
		ev:        r.cfg.Events,
		changes:   w.Changes(),
		activity:  w.Activity(),
		reqs:      r.requests,
		results:   make(chan jobResult, 1),
	}
	g.Go(func() error { return l.run(gctx) })
	err = g.Wait()
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

// loop is the state of one Run. Only its run goroutine touches it.
type loop struct {
	cfg       Config
	dir       string
	statePath string // the engine's state snapshot
	b         *builder.Builder
	ev        event.Publisher
	changes   <-chan watcher.Change
	activity  <-chan string // the watcher's early hints
	reqs      <-chan request
	results   chan jobResult // from the build job to the loop; the loop always drains it

	engine     *builder.Result     // the last good engine build; nil before
	eng        *Engine             // the running engine; nil while none
	started    bool                // an engine ran in this session: the next one restores its state
	listeners  map[string]*os.File // the app's listening sockets, held across engine restarts
	lastLogic  string              // content hash of the last logic tree built
	next       int                 // the last version number handed out
	so         map[int]string      // every version built, by number: its .so
	bad        map[int]string      // versions that took the engine down, and how
	loaded     []int               // versions loaded into the running engine, in load order
	history    []int               // versions that went live, in order, across engines
	active     int                 // index into loaded of the version serving; -1 for none
	wantEngine bool                // an engine build is owed (a host change not yet built)

	job     context.CancelFunc // cancels the build job under way; nil while none
	jobID   int                // numbers the jobs: a result of another is stale
	jobVer  int                // the version the job builds (a speculative job's is not claimed yet)
	jobHash string             // the content hash of the logic tree it builds
	jobSpec bool               // it started early, on the watcher's hint, and no Change has confirmed it yet
	held    *jobResult         // a speculative job's result, waiting for its Change
	specAt  <-chan time.Time   // when to start a speculative job; nil for none
	jobs    int                // build jobs started and not yet reported

	crashes []crash          // recent unexpected exits, for the crash-loop limit
	retry   <-chan time.Time // when to restart a crashed engine; nil for not now
	lastMem event.Memory     // the last memory reported
}

type crash struct {
	at      time.Time
	version int // the version serving when the engine died
}

type jobResult struct {
	id      int // the job's jobID
	version int
	spec    bool            // started speculatively: its events were not published
	final   event.Event     // the logic build's BuildOK or BuildFail, nil if canceled
	engine  *builder.Result // set when the job built the engine
	logic   *builder.Result // set when the logic build succeeded
	err     error
	hash    string // content hash of the logic tree the job built
}

// Crash-loop policy: restarts are spaced by restartBackoff times the
// crashes in the last minute, and stop at maxCrashes until a change or R.
const (
	restartBackoff = time.Second
	maxCrashes     = 5
)

func (l *loop) run(ctx context.Context) error {
	l.so = make(map[int]string)
	l.bad = make(map[int]string)
	l.listeners = make(map[string]*os.File)
	l.active = -1
	l.wantEngine = true
	l.startJob(ctx, true, false)
	defer l.shutdown()

	tick := time.NewTicker(l.cfg.SnapshotEvery)
	defer tick.Stop()
	for {
		var exited <-chan struct{}
		if l.eng != nil {
			exited = l.eng.Exited()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()

		case c, ok := <-l.changes:
			if !ok {
				return nil
			}
			l.onChange(ctx, c)

		case p := <-l.activity:
			l.onActivity(ctx, p)

		case <-l.specAt:
			l.specAt = nil
			if l.job == nil && !l.wantEngine && l.eng != nil {
				l.startJob(ctx, false, true)
			}

		case res := <-l.results:
			l.jobs--
			l.onResult(ctx, res)

		case q := <-l.reqs:
			l.onRequest(ctx, q)

		case <-exited:
			l.ev.Publish(l.eng.ExitEvent("unexpected exit"))
			l.takeListeners(l.eng)
			l.eng = nil
			l.onCrash(l.current())

		case <-l.retry:
			l.retry = nil
			if l.eng == nil {
				l.restart(ctx, "restarting after a crash", l.lastGood())
			}

		case <-tick.C:
			l.tick(ctx)
		}
	}
}

func (l *loop) warn(msg string) {
	l.ev.Publish(event.Log{Source: event.SourceHotrun, Level: "warn", Text: msg})
}

// onCrash handles an engine that exited on its own while version v served
// (0: as it started) and schedules its restart, unless it is a crash loop.
func (l *loop) onCrash(v int) {
	now := time.Now()
	l.crashes = append(l.crashes, crash{at: now, version: v})
	for len(l.crashes) > 0 && now.Sub(l.crashes[0].at) > time.Minute {
		l.crashes = l.crashes[1:]
	}
	// A version that was serving at two crashes in a minute is taken for
	// the cause: the engine restarts with the version before it.
	same := 0
	for _, c := range l.crashes {
		if c.version == v && v != 0 {
			same++
		}
	}
	if same >= 2 {
		l.bad[v] = "the engine died twice while it served"
		l.warn(fmt.Sprintf("v%d was serving at two engine crashes in a minute; restarting with the version before it", v))
	}
	if len(l.crashes) >= maxCrashes {
		l.warn(fmt.Sprintf("the engine crashed %d times in a minute; not restarting it until the next change (or R)", len(l.crashes)))
		l.crashes = nil
		l.retry = nil
		return
	}
	l.retry = time.After(restartBackoff * time.Duration(len(l.crashes)-1))
}

// lastGood returns the newest version that went live and did not take the
// engine down, preferring the one that was serving.
func (l *loop) lastGood() int {
	if v := l.current(); v != 0 && l.bad[v] == "" {
		return v
	}
	for i := len(l.history) - 1; i >= 0; i-- {
		if v := l.history[i]; l.bad[v] == "" {
			return v
		}
	}
	return 0
}

func (l *loop) tick(ctx context.Context) {
	if l.eng == nil {
		return
	}
	l.snapshot(ctx)
	rss := l.memory()
	if l.cfg.MaxRSS > 0 && rss > l.cfg.MaxRSS {
		l.restart(ctx, fmt.Sprintf("memory: the engine holds %d MB, over the limit of %d MB", rss>>20, l.cfg.MaxRSS>>20), l.current())
	}
}

// snapshot asks the engine to save its state for crash recovery.
func (l *loop) snapshot(ctx context.Context) {
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := l.eng.Snapshot(sctx); err != nil && !errors.Is(err, ErrEngineExited) {
		l.warn("state snapshot: " + err.Error())
	}
}

func (l *loop) onChange(ctx context.Context, c watcher.Change) {
	pkgs, kind := l.b.Classify(c.Files)
	if kind == "" {
		return
	}
	l.ev.Publish(event.Change{Files: l.rel(c.Files), Packages: pkgs, Kind: kind})
	if kind == event.KindHost {
		l.wantEngine = true
	} else if !l.wantEngine {
		h, err := l.b.LogicHash()
		if err == nil && l.confirm(ctx, h) {
			return
		}
		// A save that changed no byte of the logic tree (the watcher saw a
		// rename or a revert) builds nothing.
		if err == nil && h == l.lastLogic && l.job == nil {
			return
		}
		if err == nil {
			l.startJobHashed(ctx, false, false, h)
			return
		}
	}
	l.startJob(ctx, l.wantEngine, false)
}

// onActivity starts a logic build as soon as the watcher sees the first
// event of a burst, instead of after its quiet period: the build then runs
// while the debounce waits. It stays unpublished until the Change confirms
// that it built the content the burst ended with (confirm); otherwise it is
// canceled without a word.
func (l *loop) onActivity(ctx context.Context, path string) {
	if l.cfg.Mode != ModeHotSwap || l.wantEngine || l.job != nil || l.eng == nil || l.specAt != nil {
		return
	}
	if _, kind := l.b.Classify([]string{path}); kind != event.KindLogic {
		return
	}
	// Not at once: an editor that truncates and then writes sends its
	// first event before the content is there. A few milliseconds catch
	// the write that follows and still save most of the debounce.
	l.specAt = time.After(specDelay)
}

// specDelay is how long after the first event of a burst a speculative
// build starts.
const specDelay = 5 * time.Millisecond

// confirm reports whether the speculative build, running or finished,
// built exactly the logic tree whose hash is h; then it publishes it as the
// build of this change.
func (l *loop) confirm(ctx context.Context, h string) bool {
	switch {
	case l.job != nil && l.jobSpec && l.jobHash == h:
		l.jobSpec = false
		l.next = l.jobVer // claimed: versions count what users see built
		l.ev.Publish(event.BuildStart{Version: l.jobVer, Target: event.TargetLogic})
		return true
	case l.held != nil && l.held.hash == h:
		res := *l.held
		l.held, l.jobSpec = nil, false
		l.next = res.version
		l.ev.Publish(event.BuildStart{Version: res.version, Target: event.TargetLogic})
		l.onResult(ctx, res)
		return true
	}
	return false
}

func (l *loop) onRequest(ctx context.Context, q request) {
	switch q {
	case reqRebuild:
		l.startJob(ctx, l.wantEngine, false)
	case reqRestart:
		l.crashes = nil
		l.restart(ctx, "restart asked for", l.lastGood())
	case reqRollback, reqForward:
		to := l.active - 1
		if q == reqForward {
			to = l.active + 1
		}
		if l.cfg.Mode == ModeRestart {
			l.warn("restart mode keeps no other version in the engine to switch to; edit and save instead")
			return
		}
		if l.eng == nil || to < 0 || to >= len(l.loaded) {
			l.warn("no version to switch to")
			return
		}
		if err := l.eng.Activate(ctx, l.loaded[to]); err != nil {
			l.warn(err.Error())
			return
		}
		l.active = to
	}
}

// startJob cancels the build under way, if any, and starts one for a new
// version: the engine first when withEngine, then the logic.
func (l *loop) startJob(ctx context.Context, withEngine, spec bool) {
	// Hash before building: a save during the build must not be mistaken
	// for content this build already has.
	hash, _ := l.b.LogicHash()
	l.startJobHashed(ctx, withEngine, spec, hash)
}

// startJobHashed is startJob for a logic tree whose hash the caller has
// just taken.
func (l *loop) startJobHashed(ctx context.Context, withEngine, spec bool, hash string) {
	if l.job != nil {
		l.job()
		if !l.jobSpec {
			l.ev.Publish(event.BuildCanceled{Version: l.jobVer, Target: event.TargetLogic})
		}
	}
	l.held, l.specAt = nil, nil
	// A speculative job claims its number only when confirmed, so that a
	// canceled one leaves no gap in the versions.
	n := l.next + 1
	if !spec {
		l.next = n
	}
	l.jobID++
	id := l.jobID
	jctx, cancel := context.WithCancel(ctx)
	l.job, l.jobVer, l.jobHash, l.jobSpec = cancel, n, hash, spec
	l.jobs++
	pub := l.ev
	if spec {
		pub = event.Discard // published on confirmation, if it comes
	}
	go func() {
		res := l.build(jctx, n, withEngine, pub)
		res.id, res.hash, res.spec = id, hash, spec
		l.results <- res
	}()
}

// build runs in the job goroutine and publishes the build events to pub.
func (l *loop) build(ctx context.Context, n int, withEngine bool, pub event.Publisher) jobResult {
	res := jobResult{version: n}
	if l.cfg.Mode == ModeRestart {
		// One build makes the whole app: the engine with this version in.
		l.ev.Publish(event.BuildStart{Version: n, Target: event.TargetLogic})
		r, err := l.b.BuildStatic(ctx, n)
		if err != nil {
			if ctx.Err() == nil {
				l.ev.Publish(failEvent(n, event.TargetLogic, r.Duration, err))
			}
			res.err = err
			return res
		}
		l.ev.Publish(event.BuildOK{Version: n, Target: event.TargetLogic, Duration: event.Duration(r.Duration), Path: r.Path})
		res.engine, res.logic = &r, &r
		return res
	}
	if withEngine {
		l.ev.Publish(event.BuildStart{Target: event.TargetEngine})
		r, err := l.b.BuildEngine(ctx)
		if err != nil {
			if ctx.Err() != nil {
				res.err = ctx.Err()
				return res
			}
			l.ev.Publish(failEvent(0, event.TargetEngine, r.Duration, err))
			res.err = err
			return res
		}
		l.ev.Publish(event.BuildOK{Target: event.TargetEngine, Duration: event.Duration(r.Duration), Path: r.Path})
		res.engine = &r
	}
	pub.Publish(event.BuildStart{Version: n, Target: event.TargetLogic})
	r, err := l.b.BuildLogic(ctx, n)
	if err != nil {
		if ctx.Err() == nil {
			res.final = failEvent(n, event.TargetLogic, r.Duration, err)
			pub.Publish(res.final)
		}
		res.err = err
		return res
	}
	res.final = event.BuildOK{Version: n, Target: event.TargetLogic, Duration: event.Duration(r.Duration), Path: r.Path}
	pub.Publish(res.final)
	res.logic = &r
	return res
}

func failEvent(n int, target string, d time.Duration, err error) event.BuildFail {
	ev := event.BuildFail{Version: n, Target: target, Duration: event.Duration(d), Error: err.Error()}
	var be *builder.BuildError
	if errors.As(err, &be) {
		ev.Diagnostics = be.Diagnostics
		ev.Error = be.Error()
	}
	return ev
}

func (l *loop) onResult(ctx context.Context, res jobResult) {
	if res.id == l.jobID {
		l.job = nil
	}
	if res.spec && res.id == l.jobID {
		if l.jobSpec {
			l.held = &res // no Change yet: wait for it
			return
		}
		if res.final != nil {
			l.ev.Publish(res.final) // confirmed while it ran
		}
	}
	if res.engine != nil {
		l.engine = res.engine
		l.wantEngine = false
	}
	if res.id != l.jobID {
		return // a stale job, canceled for a newer one
	}
	if res.err != nil && res.engine == nil && l.engine == nil {
		return // no engine yet: nothing to run until a change fixes the build
	}
	if res.logic != nil {
		l.so[res.version] = res.logic.Path
		l.lastLogic = res.hash
	}
	if res.engine != nil || l.eng == nil {
		// A new engine, or none running: start it with this version, or
		// the one that served last.
		n := l.lastGood()
		if res.logic != nil {
			n = res.version
		}
		why := "a package the engine holds changed"
		switch {
		case !l.started:
			why = ""
		case l.cfg.Mode == ModeRestart:
			why = fmt.Sprintf("restart mode: v%d is a new engine", n)
		}
		l.restart(ctx, why, n)
		return
	}
	if res.logic != nil {
		l.load(ctx, res.version)
	}
}

// load asks the running engine to load version n, after checking that the
// plugin and the engine were built alike: a mismatch would kill the engine
// with a fatal error no recover catches.
func (l *loop) load(ctx context.Context, n int) {
	if err := builder.Compatible(l.engine.Path, l.so[n]); err != nil {
		l.ev.Publish(event.LoadFail{Version: n, Error: err.Error(),
			Explain: "hotrun did not ask the engine to load it: the engine and this plugin were built differently (Go version or flags), which would crash the engine. Rebuilding the engine."})
		l.wantEngine = true
		l.startJob(ctx, true, false)
		return
	}
	lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err := l.eng.Load(lctx, n, l.so[n])
	var ce *CommandError
	switch {
	case err == nil:
	case errors.Is(err, ErrEngineExited):
		// The plugin took the engine down as it loaded (os.Exit or a fatal
		// error in an init): never load it again.
		l.bad[n] = "the engine died while loading it"
		l.ev.Publish(event.LoadFail{Version: n, Error: "the engine exited while loading this version",
			Explain: "Something in the new version's initialization ended the process (os.Exit, log.Fatal, a fatal runtime error); hotrun restarts the engine with the last good version."})
		return
	case errors.As(err, &ce) && strings.Contains(ce.Msg, "different version of package"):
		// Go's own check found a package the engine holds changed under
		// it: only a new engine can take this version.
		l.warn("the engine holds an older copy of a package this version needs; rebuilding and restarting the engine")
		l.wantEngine = true
		l.startJob(ctx, true, false)
		return
	default:
		return // the engine reported load.fail itself
	}
	l.loaded = append(l.loaded, n)
	l.active = len(l.loaded) - 1
	l.good(n)
	l.snapshot(ctx) // a crash from now on restores the state as of this swap
	l.memory()
	if l.cfg.MaxVersions > 0 && len(l.loaded) >= l.cfg.MaxVersions {
		l.restart(ctx, fmt.Sprintf("memory: %d versions loaded, the limit (Go never unloads a plugin)", len(l.loaded)), n)
	}
}

// current returns the version serving, or 0.
func (l *loop) current() int {
	if l.active < 0 || l.active >= len(l.loaded) {
		return 0
	}
	return l.loaded[l.active]
}

// restart stops the running engine, if any, with its state saved, starts
// the last good engine build with the state restored and the app's sockets
// inherited, and loads version n (none when n is 0).
func (l *loop) restart(ctx context.Context, why string, n int) {
	if l.engine == nil {
		l.warn("no engine build to start; fix the build and save")
		return
	}
	if l.eng != nil {
		l.ev.Publish(event.EngineRestart{PID: l.eng.PID(), Reason: why})
		if err := l.eng.Stop(10 * time.Second); err != nil {
			l.warn("the engine could not save its state: " + err.Error())
		}
		l.ev.Publish(l.eng.ExitEvent("stopped by hotrun: " + why))
		l.takeListeners(l.eng)
		l.eng = nil
	}
	env := []string{host.EnvState + "=" + l.statePath}
	if l.started {
		env = append(env, host.EnvRestore+"="+l.statePath)
	}
	files, spec := l.inherit()
	if spec != "" {
		env = append(env, host.EnvListeners+"="+spec)
	}
	path := l.engine.Path
	if l.cfg.Mode == ModeRestart {
		// Each version is its own engine executable.
		if p, ok := l.so[n]; ok {
			path = p
		}
		env = append(env, fmt.Sprintf("%s=%d", host.EnvStaticVersion, n))
	}
	eng, err := StartEngine(ctx, EngineConfig{
		Path:     path,
		Args:     l.cfg.EngineArgs,
		Dir:      l.dir,
		BuildDir: l.b.BuildDir(),
		Env:      env,
		Files:    files,
		Events:   l.ev,
	})
	if err != nil {
		l.ev.Publish(event.Log{Source: event.SourceHotrun, Level: "error", Text: err.Error()})
		if errors.Is(err, ErrEngineExited) {
			l.started = true
			l.onCrash(0)
		}
		return
	}
	l.eng = eng
	l.started = true
	l.lastMem = event.Memory{} // a new process: report its memory afresh
	l.loaded, l.active = nil, -1
	if l.cfg.Mode == ModeRestart {
		// The engine loaded its version as it started; ask which it serves.
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		v, err := eng.Current(cctx)
		cancel()
		if err == nil && v > 0 {
			l.loaded, l.active = []int{v}, 0
			l.good(v)
		} else if n > 0 {
			l.bad[n] = "it failed to start"
		}
		return
	}
	if n > 0 && l.bad[n] == "" {
		l.load(ctx, n)
	}
}

// good records that version n went live.
func (l *loop) good(n int) {
	l.history = append(l.history, n)
	if len(l.history) > 100 {
		l.history = l.history[1:]
	}
}

// takeListeners keeps the sockets a departing engine handed over.
func (l *loop) takeListeners(e *Engine) {
	for name, f := range e.Listeners() {
		if old := l.listeners[name]; old != nil {
			old.Close()
		}
		l.listeners[name] = f
	}
}

// inherit lists the held sockets for the next engine: its descriptors 3,
// 4, … and the EnvListeners value that names them.
func (l *loop) inherit() ([]*os.File, string) {
	names := make([]string, 0, len(l.listeners))
	for name := range l.listeners {
		names = append(names, name)
	}
	sort.Strings(names)
	var files []*os.File
	var spec []string
	for i, name := range names {
		files = append(files, l.listeners[name])
		spec = append(spec, fmt.Sprintf("%s=%d", name, 3+i))
	}
	return files, strings.Join(spec, ";")
}

func (l *loop) memory() int64 {
	if l.eng == nil {
		return 0
	}
	rss := l.eng.RSS()
	// Report a change, not every tick: at least a MiB, or another version.
	m := event.Memory{RSSBytes: rss, VersionsLoaded: len(l.loaded)}
	if rss > 0 && (m.VersionsLoaded != l.lastMem.VersionsLoaded || abs(rss-l.lastMem.RSSBytes) >= 1<<20) {
		l.ev.Publish(m)
		l.lastMem = m
	}
	return rss
}

// shutdown cancels the build under way, waits for it, stops the engine and
// closes the sockets it held.
func (l *loop) shutdown() {
	if l.job != nil {
		l.job()
	}
	for ; l.jobs > 0; l.jobs-- {
		<-l.results
	}
	if l.eng != nil {
		l.eng.Stop(5 * time.Second)
		l.ev.Publish(l.eng.ExitEvent("hotrun stopped it"))
		l.takeListeners(l.eng)
		l.eng = nil
	}
	for _, f := range l.listeners {
		f.Close()
	}
}

// rel makes paths relative to the project root for people to read.
func (l *loop) rel(files []string) []string {
	root := l.cfg.Root
	if root == "" {
		root = l.dir
	}
	out := make([]string, len(files))
	for i, f := range files {
		if r, err := filepath.Rel(root, f); err == nil && !filepath.IsAbs(r) && r[0] != '.' {
			out[i] = r
		} else {
			out[i] = f
		}
	}
	return out
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// chooseMode settles the mode: the one asked for, or hot swap where Go
// plugins work (Linux, macOS, FreeBSD, with cgo and a C compiler) and
// restart mode elsewhere. why says what was chosen for the user, if not
// what they asked.
func chooseMode(ctx context.Context, asked string) (mode, why string) {
	if asked != "" {
		return asked, ""
	}
	if reason := noPlugins(ctx); reason != "" {
		return ModeRestart, "Go plugins can't be used here (" + reason + "): running in restart mode, which rebuilds and restarts the engine on every change, state kept"
	}
	return ModeHotSwap, ""
}

// noPlugins says why the go command here can't build plugins, or "".
func noPlugins(ctx context.Context) string {
	out, err := exec.CommandContext(ctx, "go", "env", "GOOS", "CC").Output()
	if err != nil {
		return "go env failed: " + err.Error()
	}
	f := strings.Fields(string(out))
	if len(f) < 2 {
		return "no C compiler configured"
	}
	switch f[0] {
	case "linux", "darwin", "freebsd":
	default:
		return "GOOS=" + f[0] + " has no plugin support"
	}
	if _, err := exec.LookPath(f[1]); err != nil {
		return "no C compiler (" + f[1] + ") for cgo"
	}
	return ""
}
