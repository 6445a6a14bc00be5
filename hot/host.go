// Package hot is the engine side of hotrun: the small library your engine
// imports to load versions of its logic, swap them in while requests keep
// flowing, carry its state across restarts, and report what happens. It
// uses only the standard library, and requiring it adds nothing else to
// your go.mod.
//
// # The model
//
// The engine owns the state; the logic plugin owns the code. The plugin's
// main package exports one symbol (by default "Logic") whose type T is
// declared in a package that both the engine and the plugin import, so it
// is one type in both. [New] takes T as a type parameter. Every request
// handled through [Host.Handler], and every unit of work run through
// [Host.Run], reads the current version once, so it runs start to end on
// one version: in-flight work on the old version finishes on it. A panic in
// the logic is recovered and reported; the engine keeps serving.
//
// Go never unloads a plugin, and a plugin path that was opened once can't
// be opened again. So a version, once loaded, stays in the process:
// switching back to it needs no build.
//
// A plugin may also export two hooks: func Check() error runs before the
// version takes traffic (an error, a panic or running past
// Config.CheckTimeout rejects it), and func Migrate(state any) error runs
// with Config.State to bring it to what the new version expects (Erlang's
// code_change; an error or a panic rejects the version).
//
// # Under hotrun and alone
//
// Under hotrun the environment names a private control socket: the engine
// listens there, hotrun connects, tells it which versions to load and
// activate, and receives its events (loads, rejections, requests, panics)
// as JSON lines. The engine only loads plugins from hotrun's build
// directory. Run alone, [Host.Start] loads the plugin path it is given, so
// the engine still works without hotrun.
//
// Under hotrun a new engine is started beside the one serving whenever a
// change needs one (a shared package edited, a restart, a crash). Its
// [Host.Start] returns only when it is to serve: it first loads and checks
// its version without traffic; the engine serving saves its state and this
// one decodes it without taking it (a state it can't read, because its
// types changed, keeps the old engine serving); then the engine before it
// drains and saves its final state, and only then does this one restore
// that state and return from Start. Call [Host.Listen] before Start, so
// the new engine holds the listening socket from its first moment and
// connections wait in the backlog, never refused.
//
// A drain lets the requests under way finish for a short grace (hotrun's
// drain, 1s), since every other request waits for the next engine
// meanwhile; one that has already run longer (a stream) is cut at once,
// and at the end [Host.Serve] cuts the ones still running, connections a
// handler took over (a websocket, through Hijack) included, and reports
// each. A swap of the logic cuts nothing. A connection that
// must live through engine restarts lives in the engine and runs each
// message with [Host.Run]; its client reconnects after a handover.
//
// If hotrun goes away without stopping the engine (killed), the engine
// serves on for its orphan grace (hotrun's orphan_grace, 2m), and a hotrun
// started meanwhile attaches to it; past the grace it stops as if asked:
// it drains, saves its state, and Serve returns.
//
// # What the state must guarantee
//
// Config.State is saved while requests run: every few seconds while the
// engine serves requests or units, every minute when it serves none, at
// every swap, before every load, and at a handover. It is never torn, with
// no extra care, when it is only touched by requests run through
// [Host.Handler] and units run through [Host.Run]: a save waits for those
// under way and holds new ones back for the moment it takes. One that has
// already run long (a stream) is not waited for: the save gives up, says
// which request held it, and holds nothing back. State touched elsewhere
// too (a goroutine of the engine's own, a long-lived connection) must be a
// [sync.Locker] (the save takes its lock, or its RLock when it has one) or
// a [json.Marshaler] that takes its own lock. A save that fails is
// reported each time. A snapshot that can't be restored (an error or a
// panic) is kept as snapshot.json.rejected-TIME, never overwritten, and
// the engine starts fresh; the error names the type and, where it can
// tell, the field. Config.Restore may be called twice before the engine
// serves (a trial at the handover, then the takeover): it must replace the
// state whole.
//
// The protocol between hotrun and this library is package protocol, which
// your code never needs.
package hot

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"plugin"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hotrun-dev/hotrun/hot/protocol"
)

// Config configures a Host. The zero value works: symbol "Logic", no hooks.
type Config[T any] struct {
	// Symbol is the name the plugin exports; "" means "Logic".
	Symbol string

	// Check, when set, runs on a freshly opened version before it takes
	// traffic. An error, a panic or running past CheckTimeout rejects the
	// version and the current one keeps serving.
	Check        func(T) error
	CheckTimeout time.Duration // 0 means 5s

	// OnSwap, when set, runs just before next becomes current; prev is the
	// version it replaces (the zero T for the first). This is where the
	// engine moves state from one version to the next, in the spirit of
	// Erlang's code_change. A panic rejects next.
	OnSwap func(prev, next T)

	// State, when set, is the engine's state (a pointer): hotrun carries it
	// across engine restarts, which a change to a package the engine holds
	// needs, restores the last snapshot after a crash, and restores the last
	// session's when hotrun starts again. It is saved with encoding/json, so
	// it may implement json.Marshaler and json.Unmarshaler; JSON keeps every
	// other value when a field is added or removed. Save and Restore, when
	// set, replace encoding/json; Save must then take the state's own lock.
	// See "What the state must guarantee" in the package doc.
	State   any
	Save    func(w io.Writer) error
	Restore func(r io.Reader) error

	// Logger receives the engine-side messages when no hotrun is attached;
	// nil means the standard logger.
	Logger *log.Logger
}

// version is one loaded plugin version.
type version[T any] struct {
	n       int
	path    string
	value   T
	migrate func(any) error // the plugin's Migrate hook, nil when it has none
}

// Host loads versions of a logic plugin and serves the current one.
type Host[T any] struct {
	cfg Config[T]

	cur atomic.Pointer[version[T]] // the version new requests run on; nil until the first load

	// mu serializes Load, Activate and the takeover. A load whose init
	// never returns holds it for good: nothing that answers hotrun's
	// liveness and state questions may take it.
	mu sync.Mutex

	verMu  sync.Mutex          // guards loaded and newest
	loaded map[int]*version[T] // every version opened in this process, by number
	newest int                 // the highest version number a load asked for, opened or not

	// work tracks the requests and units under way on the state: a
	// snapshot waits for them, a drain reports the ones it cuts.
	work work

	serving     chan struct{} // closed when this engine takes traffic: at once alone, at the takeover under hotrun
	servingOnce sync.Once
	pendingOK   *protocol.LoadOK // the load of a standby engine, reported at the takeover; guarded by mu

	handMu sync.Mutex // guards held and ctl
	held   []listener // every listener the engine serves on, to hand to hotrun

	out *outbox // events and replies to hotrun; nil when run alone
	// orphanGrace is how long the engine serves on when hotrun goes away
	// without stopping it: a hotrun started meanwhile attaches to it.
	orphanGrace time.Duration
	buildDir    string // where plugins may come from under hotrun
	statePath   string // where snapshots go under hotrun; "" for none
	ctl         *controlServer

	conns    conns      // connections accepted by Serve and not yet closed
	srvMu    sync.Mutex // guards servers
	servers  []*server  // started by Serve; shut down by a stop
	stopOnce sync.Once
	stopping chan struct{} // closed when hotrun asks the engine to stop
	stopped  chan struct{} // closed when the stop is done: state saved, reply sent

	// snapMu serializes snapshots, and guards lastSnap: commands run
	// concurrently, and a periodic save that read the state earlier must
	// not land its file over the one a stop wrote after it.
	snapMu   sync.Mutex
	lastSnap [32]byte // hash of the last snapshot written

	started       chan struct{} // closed when Start has done its loading
	firstLoad     chan struct{} // closed when the first version becomes current
	firstLoadOnce sync.Once
}

// New returns a Host for logic of type T.
func New[T any](cfg Config[T]) *Host[T] {
	if cfg.Symbol == "" {
		cfg.Symbol = "Logic"
	}
	if cfg.CheckTimeout == 0 {
		cfg.CheckTimeout = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = log.Default()
	}
	// Alone, a host serves from the start; attach, under hotrun, makes it
	// a standby until the takeover.
	serving := make(chan struct{})
	close(serving)
	return &Host[T]{
		cfg:       cfg,
		serving:   serving,
		loaded:    make(map[int]*version[T]),
		stopping:  make(chan struct{}),
		stopped:   make(chan struct{}),
		firstLoad: make(chan struct{}),
		started:   make(chan struct{}),
	}
}

// Start attaches the host to hotrun when the environment names a control
// socket; hotrun then says what to load. Under hotrun, Start returns only
// when this engine is to serve: hotrun starts a new engine beside the one
// serving, has it load and check its version without traffic, and only then
// hands it the state and the listening sockets. An engine whose Start
// returns an error must exit.
//
// Run alone, Start loads pluginPath as version 1, and an empty pluginPath
// is an error that says what to do.
func (h *Host[T]) Start(pluginPath string) error {
	defer close(h.started)
	sock := os.Getenv(protocol.EnvControl)
	if sock != "" {
		if err := h.attach(sock); err != nil {
			return err
		}
	}
	if syms, n := protocol.Static(); syms != nil {
		// Restart mode: the logic was compiled into this engine; there is
		// nothing to open, and no other version will come to this process.
		start := time.Now()
		if err := h.open("", n, staticMap(syms)); err != nil {
			h.emit(protocol.LoadFail{Version: n, Error: err.Error(), Explain: explain(err), Code: code(err)})
			if h.out != nil {
				h.out.flush(5 * time.Second) // the engine is about to exit: let hotrun hear why
			}
			return err
		}
		h.reportLive(protocol.LoadOK{Version: n, Duration: protocol.Duration(time.Since(start))})
	} else if sock == "" {
		if pluginPath == "" {
			return errors.New("hot: no logic plugin to load: run the engine under hotrun, or build the logic with `go build -buildmode=plugin -o logic.so ./logic` and pass its path")
		}
		if err := h.load(pluginPath, 1); err != nil {
			return err
		}
	}
	select {
	case <-h.serving:
		return nil
	case <-h.stopping:
		return errors.New("hot: hotrun stopped this engine before it served")
	}
}

// attach listens on hotrun's control socket.
func (h *Host[T]) attach(sock string) error {
	h.buildDir = os.Getenv(protocol.EnvBuildDir)
	if h.buildDir == "" {
		return fmt.Errorf("hot: %s is set but %s is not: the engine must be started by hotrun", protocol.EnvControl, protocol.EnvBuildDir)
	}
	h.statePath = os.Getenv(protocol.EnvState)
	h.serving, h.servingOnce = make(chan struct{}), sync.Once{}
	// One critical section with the hand-over of the listeners Listen
	// opened before, so that one opened meanwhile is handed once.
	h.handMu.Lock()
	h.out = newOutbox()
	for _, l := range h.held {
		if !l.inherited {
			h.hand(l) // queued until hotrun connects
		}
	}
	h.handMu.Unlock()
	ctl, err := listenControl(sock, h)
	if err != nil {
		return err
	}
	h.handMu.Lock()
	h.ctl = ctl
	h.orphanGrace = orphanGrace()
	h.handMu.Unlock()
	// The engine's output goes to pipes hotrun reads: once hotrun is gone
	// (killed), a write to them would end the engine with SIGPIPE, and it
	// is to serve on for its orphan grace.
	signal.Ignore(syscall.SIGPIPE)
	// Under hotrun a SIGTERM is a stop: drain, save the state, return from
	// Serve.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM)
	go func() {
		select {
		case <-sigs:
			h.stop(0)
			h.markStopped()
		case <-ctl.done:
		}
		signal.Stop(sigs)
	}()
	return nil
}

func (h *Host[T]) markServing() { h.servingOnce.Do(func() { close(h.serving) }) }

// orphaned is how long the engine serves on without hotrun: its orphan
// grace when it serves, none before it took over.
func (h *Host[T]) orphaned() time.Duration {
	if !h.isServing() {
		return 0
	}
	return h.orphanGrace
}

// orphanGrace reads the orphan grace hotrun gave the engine.
func orphanGrace() time.Duration {
	d, err := time.ParseDuration(os.Getenv(protocol.EnvOrphanGrace))
	if err != nil {
		return 0
	}
	return d
}

// isServing reports whether this engine has taken over.
func (h *Host[T]) isServing() bool {
	select {
	case <-h.serving:
		return true
	default:
		return false
	}
}

// takeover is hotrun's "takeover" command: restore the state the engine
// before this one saved (path, "" for none), run the current version's
// Migrate and OnSwap hooks on it, and let Start return. A strict takeover
// refuses a state it can't read and stays a standby: the engine before,
// of another build, may serve that state again.
func (h *Host[T]) takeover(path string, strict bool) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	select {
	case <-h.serving:
		return nil
	default:
	}
	if path != "" {
		if err := h.restore(path, strict); err != nil {
			return err
		}
	}
	if v := h.cur.Load(); v != nil {
		if v.migrate != nil {
			if err := h.guard("migrate", func() error { return v.migrate(h.cfg.State) }); err != nil {
				h.emit(protocol.Log{Source: "engine", Level: "warn", Text: fmt.Sprintf("v%d: migrate after the takeover: %v", v.n, err)})
			}
		}
		if err := h.onSwap(*new(T), v.value); err != nil {
			h.emit(protocol.Log{Source: "engine", Level: "warn", Text: fmt.Sprintf("v%d: %v", v.n, err)})
		}
	}
	h.markServing()
	if h.pendingOK != nil {
		h.emit(*h.pendingOK)
		h.pendingOK = nil
	}
	return nil
}

// status reports what the engine holds: the version serving, every
// version loaded (and the plugin each came from), the highest version
// number it was ever asked to load, and whether it has taken over. It
// takes no lock a hung load may hold.
func (h *Host[T]) status() protocol.Reply {
	rep := protocol.Reply{Serving: h.isServing(), Protocol: protocol.Version}
	if v := h.cur.Load(); v != nil {
		rep.Version = v.n
	}
	h.verMu.Lock()
	for n := range h.loaded {
		rep.Loaded = append(rep.Loaded, n)
	}
	slices.Sort(rep.Loaded)
	for _, n := range rep.Loaded {
		rep.Paths = append(rep.Paths, h.loaded[n].path)
	}
	rep.Newest = h.newest
	h.verMu.Unlock()
	return rep
}

// Close stops listening for hotrun's commands. Loaded versions stay mapped:
// Go can't unload a plugin.
func (h *Host[T]) Close() error {
	h.handMu.Lock()
	ctl := h.ctl
	h.handMu.Unlock()
	if ctl != nil {
		return ctl.close()
	}
	return nil
}

// Current returns the version requests run on now, and its number (0 and
// false when none is loaded yet).
func (h *Host[T]) Current() (T, int, bool) {
	v := h.cur.Load()
	if v == nil {
		var zero T
		return zero, 0, false
	}
	return v.value, v.n, true
}

// load opens the plugin at path as version n and, if it passes the check,
// makes it current. On any error the current version keeps serving.
//
// An engine that serves saves its state first, if it changed since the
// last save: the new version's init may end the process (os.Exit, a fatal
// error no recover catches), and the next engine restores what it saved.
func (h *Host[T]) load(path string, n int) error {
	if h.statePath != "" && h.isServing() {
		if err := h.snapshot(); err != nil {
			h.emit(protocol.Log{Source: "engine", Level: "warn", Text: fmt.Sprintf("before loading v%d, the state was not saved: %v", n, err)})
		}
	}
	start := time.Now()
	err := h.open(path, n, nil)
	if err != nil {
		h.emit(protocol.LoadFail{Version: n, Error: err.Error(), Explain: explain(err), Code: code(err)})
		return err
	}
	h.reportLive(protocol.LoadOK{Version: n, Duration: protocol.Duration(time.Since(start))})
	return nil
}

// reportLive reports a version that went live, or, before the takeover, keeps
// the report for it: "live" means taking traffic, and a standby engine
// takes none.
func (h *Host[T]) reportLive(e protocol.LoadOK) {
	h.mu.Lock()
	defer h.mu.Unlock()
	select {
	case <-h.serving:
		h.emit(e)
	default:
		h.pendingOK = &e
	}
}

// open opens version n from the plugin at path, or from syms when they are
// given (restart mode: the logic is compiled into the engine).
func (h *Host[T]) open(path string, n int, syms symbols) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.verMu.Lock()
	_, twice := h.loaded[n]
	// A number asked for once is spent even if its load fails: Go hangs
	// opening a plugin path whose init panicked. A hotrun that attaches
	// later numbers its versions above it.
	h.newest = max(h.newest, n)
	h.verMu.Unlock()
	if twice {
		return fmt.Errorf("hot: load v%d: %w", n, errLoadedTwice)
	}
	p := syms
	if p == nil {
		pl, err := openPlugin(path)
		if err != nil {
			return fmt.Errorf("hot: load v%d: %w", n, err)
		}
		p = pl
	}
	value, err := lookup[T](p, h.cfg.Symbol)
	if err != nil {
		return fmt.Errorf("hot: load v%d: %w", n, err)
	}
	migrate, err := h.hooks(p, value)
	if err != nil {
		return fmt.Errorf("hot: load v%d: %w", n, err)
	}
	v := &version[T]{n: n, path: path, value: value, migrate: migrate}
	if err := h.swap(v); err != nil {
		return fmt.Errorf("hot: load v%d: %w", n, err)
	}
	h.verMu.Lock()
	h.loaded[n] = v
	h.verMu.Unlock()
	return nil
}

// Activate makes version n, loaded before, current again: a rollback or a
// roll forward, with no build and no plugin.Open.
func (h *Host[T]) activate(n int) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.verMu.Lock()
	v, ok := h.loaded[n]
	h.verMu.Unlock()
	if !ok {
		return fmt.Errorf("hot: activate v%d: not loaded in this engine", n)
	}
	from := 0
	if c := h.cur.Load(); c != nil {
		from = c.n
		if c.n == n {
			return nil
		}
	}
	if err := h.swap(v); err != nil {
		return fmt.Errorf("hot: activate v%d: %w", n, err)
	}
	h.emit(protocol.Rollback{From: from, To: n})
	return nil
}

// swap runs the version's Migrate hook and OnSwap, and stores v as
// current. h.mu is held. Before the takeover the state is not this
// engine's yet: the hooks run at the takeover instead, on the state handed
// over.
func (h *Host[T]) swap(v *version[T]) error {
	select {
	case <-h.serving:
	default:
		h.cur.Store(v)
		return nil
	}
	if v.migrate != nil {
		if err := h.guard("migrate", func() error { return v.migrate(h.cfg.State) }); err != nil {
			return fmt.Errorf("%w: %w", errMigrateFailed, err)
		}
	}
	var prev T
	if c := h.cur.Load(); c != nil {
		prev = c.value
	}
	if err := h.onSwap(prev, v.value); err != nil {
		return err
	}
	h.cur.Store(v)
	h.firstLoadOnce.Do(func() { close(h.firstLoad) })
	return nil
}

// onSwap runs Config.OnSwap, turning a panic into an error.
func (h *Host[T]) onSwap(prev, next T) (err error) {
	if h.cfg.OnSwap == nil {
		return nil
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("OnSwap panicked: %v", r)
		}
	}()
	h.cfg.OnSwap(prev, next)
	return nil
}

// Names of the optional hooks a plugin may export.
const (
	// checkSymbol, a func() error, runs before the version takes traffic;
	// an error, a panic or a timeout rejects the version.
	checkSymbol = "Check"
	// migrateSymbol, a func(state any) error, runs after the check with
	// Config.State, to bring the state to what the new version expects
	// (Erlang's code_change). An error or a panic rejects the version; the
	// hook must then leave the state as it found it.
	migrateSymbol = "Migrate"
)

// hooks runs the engine's and the plugin's checks, each with a timeout
// and panics turned into errors, and returns the plugin's Migrate hook,
// which swap runs.
func (h *Host[T]) hooks(p symbols, value T) (func(any) error, error) {
	check, err := lookupOptional[func() error](p, checkSymbol)
	if err != nil {
		return nil, err
	}
	migrate, err := lookupOptional[func(any) error](p, migrateSymbol)
	if err != nil {
		return nil, err
	}
	if err := h.check(value); err != nil {
		return nil, err
	}
	if check != nil {
		if err := h.guard("check", check); err != nil {
			return nil, fmt.Errorf("%w: %w", errCheckFailed, err)
		}
	}
	return migrate, nil
}

// check runs Config.Check, the engine's own check of a new version.
func (h *Host[T]) check(value T) error {
	if h.cfg.Check == nil {
		return nil
	}
	if err := h.guard("check", func() error { return h.cfg.Check(value) }); err != nil {
		return fmt.Errorf("%w: %w", errCheckFailed, err)
	}
	return nil
}

// guard runs fn with CheckTimeout, turning a panic into an error. A hook
// that times out is abandoned, still running: Go can't stop a goroutine.
func (h *Host[T]) guard(what string, fn func() error) error {
	done := make(chan error, 1) // buffered: an abandoned hook must not block forever
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- fmt.Errorf("%s panicked: %v", what, r)
			}
		}()
		done <- fn()
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(h.cfg.CheckTimeout):
		return fmt.Errorf("%s gave no answer within %s", what, h.cfg.CheckTimeout)
	}
}

// openPlugin opens path, turning a panic in the plugin's init into an error.
// Such a path must never be opened again (it would hang); version numbers
// are never reused, so it isn't.
func openPlugin(path string) (p *plugin.Plugin, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", errInitPanic, r)
		}
	}()
	return plugin.Open(path)
}

// emit sends e to hotrun, or logs it when the engine runs alone. Requests
// are not logged alone: the engine's own log is the user's business.
func (h *Host[T]) emit(e protocol.Event) {
	if h.out != nil {
		h.out.event(e)
		return
	}
	switch e := e.(type) {
	case protocol.Request, protocol.Unit:
	case protocol.LoadOK:
		h.cfg.Logger.Printf("loaded the logic (in %s)", e.Duration)
	default:
		h.cfg.Logger.Print(describe(e))
	}
}

// describe says what happened, for the engine's own log when it runs
// alone.
func describe(e protocol.Event) string {
	switch e := e.(type) {
	case protocol.LoadFail:
		return fmt.Sprintf("load v%d failed: %s\n  %s", e.Version, e.Error, e.Explain)
	case protocol.Panic:
		return fmt.Sprintf("the logic (v%d) panicked in %s: %s", e.Version, e.Where, e.Value)
	case protocol.Rollback:
		return fmt.Sprintf("switched from v%d to v%d", e.From, e.To)
	case protocol.Log:
		return e.Text
	}
	b, _ := json.Marshal(e)
	return e.Name() + " " + string(b)
}
