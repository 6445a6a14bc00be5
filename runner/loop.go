package runner

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hotrun-dev/hotrun/builder"
	"github.com/hotrun-dev/hotrun/event"
	"github.com/hotrun-dev/hotrun/gosrc"
	"github.com/hotrun-dev/hotrun/hot/protocol"
	"github.com/hotrun-dev/hotrun/internal/paths"
	"github.com/hotrun-dev/hotrun/watcher"
)

// loop carries out the model's decisions. One goroutine, run, owns the
// model and everything here: it turns what happens into the model's
// inputs and carries out the actions the model returns. Every call to an
// engine and every build runs on a goroutine of its own, with a deadline,
// and posts its result back as an input: the loop never waits on an
// engine.
type loop struct {
	cfg      Config
	r        *Runner
	dir      string
	m        *model
	b        *builder.Builder
	ev       event.Publisher
	changes  <-chan watcher.Change
	activity <-chan string // the watcher's early hints
	reqs     <-chan request
	posts    chan input    // results of the loop's goroutines
	done     chan struct{} // closed when the loop returns: nothing is posted after

	procs     map[*engine]*Engine // the process of each engine of the model that started
	listeners map[string]*os.File // the app's listening sockets, held across engines
	builds    map[int]func()      // cancels each build job under way, by id
	retry     <-chan time.Time    // when to replace a crashed engine; nil for not now
	spec      <-chan time.Time    // when to start a speculative build; nil for none
	out       string              // .hotrun
	adopt     *adoption           // an engine the hotrun before left serving, to take over; nil for none
	recorded  *engine             // the serving engine .hotrun/engine.json names
	gen       *generators         // Config.BeforeBuild, run by the build jobs
}

// adoption is an engine that a hotrun before this one left serving, which
// this one attached to.
type adoption struct {
	proc *Engine
	st   Status
	path string // its executable
}

func newLoop(r *Runner, dir, statePath string, b *builder.Builder, w *watcher.Watcher) *loop {
	return &loop{
		cfg:      r.cfg,
		r:        r,
		dir:      dir,
		b:        b,
		ev:       r.cfg.Events,
		changes:  w.Changes(),
		activity: w.Activity(),
		reqs:     r.requests,
		posts:    make(chan input),
		done:     make(chan struct{}),
		m: newModel(modelConfig{
			mode:          r.cfg.Mode,
			maxVersions:   r.cfg.MaxVersions,
			maxRSS:        r.cfg.MaxRSS,
			snapshotEvery: r.cfg.SnapshotEvery,
			fresh:         r.cfg.Fresh,
			statePath:     statePath,
		}),
		procs:     make(map[*engine]*Engine),
		listeners: make(map[string]*os.File),
		builds:    make(map[int]func()),
		out:       filepath.Join(dir, builder.OutDir),
		gen:       newGenerators(r.cfg.BeforeBuild),
	}
}

func (l *loop) run(ctx context.Context) error {
	defer close(l.done)
	defer l.shutdown()
	if a := l.adopt; a != nil {
		e := &engine{}
		l.procs[e] = a.proc
		l.watchExit(e, a.proc)
		l.handle(ctx, inAdopted{e: e, pid: a.proc.PID(), st: a.st, path: a.path})
	} else {
		l.handle(ctx, inBegin{})
	}

	pulse := time.NewTimer(pingEvery)
	defer pulse.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()

		case c, ok := <-l.changes:
			if !ok {
				return nil
			}
			if l.gen.running > 0 {
				l.gen.held = append(l.gen.held, c)
				continue
			}
			l.watched(ctx, c)

		case p := <-l.activity:
			if l.gen.running > 0 || l.gen.reads(l.dir, p) {
				// A generator's input, or its output: the build that runs
				// it starts on the change, not on a guess (a speculative
				// build would start before the change makes it due).
				continue
			}
			_, kind := l.b.Classify([]string{p})
			l.handle(ctx, inActivity{kind: kind})

		case <-l.spec:
			l.spec = nil
			l.handle(ctx, inSpecDue{})

		case in := <-l.posts:
			l.handle(ctx, in)

		case q := <-l.reqs:
			l.handle(ctx, inKey{op: q.op, n: q.n})

		case <-l.retry:
			l.retry = nil
			l.handle(ctx, inRetryDue{})

		case <-pulse.C:
			l.handle(ctx, l.observe())
			pulse.Reset(l.m.pulseEvery())
		}
	}
}

// handle has the model decide on in, and carries out what it decided.
// The processes are the loop's: it keeps them, and tells the model what
// it needs to know of them.
func (l *loop) handle(ctx context.Context, in input) {
	switch x := in.(type) {
	case inProc:
		l.procs[x.e] = x.proc
		l.watchExit(x.e, x.proc)
		in = inStarted{e: x.e, pid: x.proc.PID()}
	case inExited:
		l.forget(x.e)
	case inDrained:
		l.forget(x.old)
	case inTookOver:
		// Its addresses, for the probes the version list sets off. Here,
		// on the loop, which owns the held sockets: the call's own
		// goroutine raced the loop for them.
		if p := l.procs[x.e]; p != nil {
			l.takeListeners(p)
		}
	case inBuiltDone:
		x.cancel()
		delete(l.builds, x.in.res.id)
		in = x.in
	case inGenerated:
		// The loop's own bookkeeping: the model never hears of it.
		l.gen.running--
		maps.Copy(l.gen.written, x.written)
		for _, i := range x.undone {
			l.gen.due[i] = true
		}
		held := l.gen.held
		l.gen.held = nil
		for _, c := range held {
			l.watched(ctx, c)
		}
		return
	}
	for _, a := range l.m.update(time.Now(), in) {
		l.carry(ctx, a)
	}
	l.record()
}

// watchExit posts e's exit when its process ends.
func (l *loop) watchExit(e *engine, p *Engine) {
	go func() {
		<-p.Exited()
		ev := p.ExitEvent("")
		l.post(inExited{e: e, code: ev.Code, signal: ev.Signal, outside: p.KilledFromOutside(), words: p.LastWords()})
	}()
}

// record keeps .hotrun/engine.json naming the serving engine, for a
// hotrun that starts after this one died to attach to it.
func (l *loop) record() {
	s := l.m.serving
	if s == l.recorded || (s != nil && s.state != engServing) {
		return
	}
	l.recorded = s
	var r *record
	if p := l.procs[s]; s != nil && p != nil {
		r = &record{PID: p.PID(), Control: p.Control(), Path: s.build.path, Mode: l.cfg.Mode, Hotrun: os.Getpid()}
	}
	if err := writeRecord(l.out, r); err != nil {
		l.ev.Publish(event.Log{Source: event.SourceHotrun, Level: "warn", Text: "the engine's record for a later hotrun was not written: " + err.Error()})
	}
}

// forget lets go of an engine's process once it has ended, keeping the
// sockets it handed over.
func (l *loop) forget(e *engine) {
	if p := l.procs[e]; p != nil {
		l.takeListeners(p)
		delete(l.procs, e)
	}
}

// post hands an input to the loop, or drops it once the loop is gone.
// Every goroutine the loop starts reports back through it.
func (l *loop) post(in input) {
	select {
	case l.posts <- in:
	case <-l.done:
	}
}

// watched takes a change the watcher reported: what generators wrote is
// theirs, built by the build that ran them; the rest makes the generators
// that read it due, and goes to the model.
func (l *loop) watched(ctx context.Context, c watcher.Change) {
	if c = l.gen.filter(c); len(c.Files) == 0 {
		return
	}
	l.gen.mark(l.dir, c.Files)
	l.handle(ctx, l.change(c))
}

// change says what a burst of saves means: the packages, whether the
// engine holds them, and what the watcher read of the logic tree, by the
// files' paths under the logic directory. It reads no file.
func (l *loop) change(c watcher.Change) inChange {
	pkgs, kind := l.b.Classify(c.Files)
	in := inChange{files: l.rel(c.Files), pkgs: pkgs, kind: kind, read: map[string]gosrc.Digest{}}
	for _, f := range c.Files {
		if rel, ok := l.b.LogicRel(f); ok {
			in.read[rel] = c.Digests[f] // the zero Digest when removed
		}
	}
	for f, d := range c.Digests {
		if rel, ok := l.b.LogicRel(f); ok {
			in.read[rel] = d
		}
	}
	return in
}

// observe reads, for the pulse, what every engine process did since the
// last one; the serving engine's sockets are taken as it hands them over.
func (l *loop) observe() inPulse {
	obs := make(map[*engine]observation, len(l.procs))
	for e, p := range l.procs {
		o := observation{heard: p.heard.Load(), work: p.work.Load()}
		if e == l.m.serving {
			o.rss = p.RSS()
			l.takeListeners(p)
		}
		obs[e] = o
	}
	return inPulse{obs: obs}
}

// carry carries out one action of the model's.
func (l *loop) carry(ctx context.Context, a action) {
	switch a := a.(type) {
	case actPublish:
		l.ev.Publish(a.ev)
	case actBuild:
		l.startBuild(ctx, a)
	case actCancelBuild:
		if cancel := l.builds[a.id]; cancel != nil {
			cancel()
			delete(l.builds, a.id)
		}
	case actStart:
		l.start(ctx, a)
	case actStatus:
		p := l.procs[a.e]
		var st Status
		l.call(ctx, p, callTimeout, func(c context.Context) (err error) {
			st, err = p.Status(c)
			return err
		}, func(err error, _ time.Duration) input {
			return inStatus{e: a.e, first: a.first, gen: a.gen, st: st, err: err}
		})
	case actLoad:
		l.load(ctx, a)
	case actActivate:
		p := l.procs[a.e]
		l.call(ctx, p, callTimeout, func(c context.Context) error { return p.Activate(c, a.n) },
			func(err error, _ time.Duration) input { return inActivated{e: a.e, n: a.n, err: err} })
	case actSnapshot:
		p := l.procs[a.e]
		l.call(ctx, p, 2*callTimeout, p.Snapshot,
			func(err error, _ time.Duration) input { return inSnapshotted{e: a.e, purpose: a.purpose, err: err} })
	case actCheckState:
		p, path := l.procs[a.e], l.statePath()
		l.call(ctx, p, takeoverTimeout, func(c context.Context) error { return p.CheckState(c, path) },
			func(err error, _ time.Duration) input { return inStateChecked{e: a.e, err: err} })
	case actDrain:
		l.drainOld(a)
	case actTakeover:
		p, path := l.procs[a.e], a.path
		if _, err := os.Stat(path); path != "" && err != nil {
			path = "" // nothing saved yet
		}
		l.call(ctx, p, takeoverTimeout, func(c context.Context) error { return p.Takeover(c, path, a.strict) },
			func(err error, _ time.Duration) input { return inTookOver{e: a.e, err: err} })
	case actPing:
		p := l.procs[a.e]
		l.call(ctx, p, hungAfter, p.Ping, func(err error, _ time.Duration) input { return inPong{e: a.e, err: err} })
	case actKill:
		if p := l.procs[a.e]; p != nil {
			p.Kill()
		}
	case actPrune:
		l.prune(a)
	case actRetryAfter:
		l.retry = time.After(a.d)
	case actSpecAfter:
		l.spec = time.After(a.d)
	case actKeepSource:
		l.r.src.keep(a.n, a.tree)
	default:
		panic(fmt.Sprintf("runner: no way to carry out %T", a))
	}
}

// Deadlines of the calls to an engine. None of them is waited for on the
// loop: each runs on its own goroutine and posts its result.
const (
	startTimeout    = 60 * time.Second // a cold engine may take a while
	loadTimeout     = 10 * time.Second // a load whose init never returns fails after this
	takeoverTimeout = 30 * time.Second // restoring a large state
	callTimeout     = 5 * time.Second  // status, activate, snapshot
	// saveTimeout is how long a draining engine has, past the drain, to
	// save its final state before it is stopped without.
	saveTimeout = 10 * time.Second
)

// call runs fn with a deadline off the loop and posts the input done makes
// of its result. A call to a process that is gone answers at once.
func (l *loop) call(ctx context.Context, p *Engine, d time.Duration, fn func(context.Context) error, done func(error, time.Duration) input) {
	if p == nil {
		in := done(ErrEngineExited, 0)
		go l.post(in)
		return
	}
	go func() {
		cctx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		start := time.Now()
		err := fn(cctx)
		took := time.Since(start)
		l.post(done(err, took))
	}()
}

// start starts an engine process off the loop, with the sockets the
// serving engine handed over: the new one inherits them, and takes their
// backlog when the old one lets go.
func (l *loop) start(ctx context.Context, a actStart) {
	if s := l.m.serving; s != nil {
		if p := l.procs[s]; p != nil {
			l.takeListeners(p)
		}
	}
	env := []string{protocol.EnvState + "=" + l.statePath()}
	files, spec := l.inherit()
	if spec != "" {
		env = append(env, protocol.EnvListeners+"="+spec)
	}
	if a.static != 0 || l.cfg.Mode == ModeRestart {
		env = append(env, fmt.Sprintf("%s=%d", protocol.EnvStaticVersion, a.static))
	}
	if l.cfg.OrphanGrace > 0 {
		env = append(env, protocol.EnvOrphanGrace+"="+l.cfg.OrphanGrace.String())
	}
	cfg := EngineConfig{
		Path:     a.path, // the engine build, or in restart mode the version's own executable
		Args:     l.cfg.EngineArgs,
		Dir:      l.dir,
		BuildDir: l.b.BuildDir(),
		Env:      env,
		Files:    files,
		Events:   l.ev,
	}
	e := a.e
	go func() {
		sctx, cancel := context.WithTimeout(ctx, startTimeout)
		defer cancel()
		proc, err := StartEngine(sctx, cfg)
		if err != nil {
			var se *StartError
			words := ""
			if errors.As(err, &se) {
				words = se.LastWords
			}
			l.post(inStarted{e: e, err: err, words: words})
			return
		}
		l.post(inProc{e: e, proc: proc})
	}()
}

// inProc hands a started process to the loop, which keeps it and tells
// the model: the model never holds a process.
type inProc struct {
	e    *engine
	proc *Engine
}

func (inProc) isInput() {}

// load asks an engine to load a version, after checking, on the files,
// that the plugin and the engine were built alike: a mismatch would kill
// the engine with a fatal error no recover catches.
func (l *loop) load(ctx context.Context, a actLoad) {
	p := l.procs[a.e]
	if a.static {
		// Restart mode: the engine loads its one version as it starts;
		// ask until it says it has.
		l.call(ctx, p, loadTimeout, func(c context.Context) error {
			for {
				st, err := p.Status(c)
				if err != nil {
					return err
				}
				if st.Live == a.n {
					return nil
				}
				select {
				case <-c.Done():
					return c.Err()
				case <-time.After(20 * time.Millisecond):
				}
			}
		}, func(err error, d time.Duration) input { return inLoaded{e: a.e, n: a.n, err: err, took: d} })
		return
	}
	if err := builder.Compatible(a.engine, a.so); err != nil {
		go l.post(inLoaded{e: a.e, n: a.n, err: &incompatibleError{err}})
		return
	}
	l.call(ctx, p, loadTimeout, func(c context.Context) error { return p.Load(c, a.n, a.so) },
		func(err error, d time.Duration) input { return inLoaded{e: a.e, n: a.n, err: err, took: d} })
}

// incompatibleError is a plugin that the loop did not ask an engine to
// load: it was built differently from the engine.
type incompatibleError struct{ err error }

func (e *incompatibleError) Error() string { return e.err.Error() }
func (e *incompatibleError) Unwrap() error { return e.err }

// drainOld has the old engine of a handover drain (or kills it, hung),
// off the loop, and posts when it is gone.
func (l *loop) drainOld(a actDrain) {
	p := l.procs[a.old]
	if p == nil {
		go l.post(inDrained{e: a.e, old: a.old, code: -1})
		return
	}
	grace := l.cfg.Drain
	go func() {
		var err error
		if a.kill {
			p.Kill() // a hung engine saves nothing; the last snapshot stands
			<-p.Exited()
		} else {
			err = p.Stop(grace, saveTimeout)
		}
		ev := p.ExitEvent("")
		l.post(inDrained{e: a.e, old: a.old, err: err, code: ev.Code, signal: ev.Signal})
	}()
}

// statePath is the session's state snapshot; it outlives the session.
func (l *loop) statePath() string { return l.m.cfg.statePath }

// prune carries out a prune off the loop: the builder removes the plugins
// and staging copies not kept, the engine builds nothing runs go, and the
// sources of versions that left the list are forgotten.
func (l *loop) prune(a actPrune) {
	l.r.src.forget(func(n int) bool { return a.sources[n] })
	// A build may start, and end, before the prune below runs: what it
	// writes after this moment is in no list yet, and stays.
	asOf := time.Now()
	bin := filepath.Join(l.dir, builder.OutDir, "bin")
	go func() {
		_, err := l.b.Prune(a.keep, asOf)
		// Engine executables: every build of the session is a file of its
		// own (engine.N); the ones nothing runs or may run go.
		files, _ := filepath.Glob(filepath.Join(bin, "*"))
		for _, f := range files {
			if fi, err := os.Stat(f); err == nil && !a.engines[f] && isEngineBuild(f) && !fi.ModTime().After(asOf) {
				os.Remove(f)
			}
		}
		l.post(inPruned{disk: l.b.DiskUsage(), err: err})
	}()
}

// isEngineBuild reports whether f is one of the session's engine builds
// (the builder's engine path with a build number appended).
func isEngineBuild(f string) bool {
	ext := strings.TrimPrefix(filepath.Ext(f), ".")
	_, err := strconv.Atoi(ext)
	return err == nil
}

// shutdown cancels the build under way, stops the serving engine with its
// state saved, kills the others, and closes the sockets it held.
func (l *loop) shutdown() {
	for _, cancel := range l.builds {
		cancel()
	}
	// The last word on the engines: none runs, and how the one that
	// served ended (the model publishes the rest; it decides nothing here,
	// and hears nothing more: the loop is done).
	final := event.Engines{Engines: []event.EngineInfo{}}
	defer func() { l.ev.Publish(final) }()
	for _, e := range l.m.engines {
		p := l.procs[e]
		if p == nil || e.exited {
			continue
		}
		if e == l.m.serving && e.state == engServing {
			p.Stop(l.cfg.Drain, saveTimeout)
		} else {
			p.Kill()
			<-p.Exited()
		}
		ev := p.ExitEvent("")
		ev.Reason, ev.Expected = "hotrun stopped it", true
		l.ev.Publish(ev)
		l.takeListeners(p)
		if e == l.m.serving {
			final.Ended, final.WasLive = &ev, e.live
		}
	}
	for _, f := range l.listeners {
		f.Close()
	}
	writeRecord(l.out, nil) // no engine serves on: nothing to attach to
}

// takeListeners keeps the sockets an engine handed over.
func (l *loop) takeListeners(e *Engine) {
	got := e.Listeners()
	if len(got) == 0 {
		return
	}
	for name, f := range got {
		if old := l.listeners[name]; old != nil {
			old.Close()
		}
		l.listeners[name] = f
	}
	var addrs []string
	for name, f := range l.listeners {
		addrs = append(addrs, dialable(boundAddr(name, f)))
	}
	slices.Sort(addrs)
	l.r.src.setAddrs(addrs)
}

// dialable turns a listening address into one to connect to: a wildcard
// host (":8080", "0.0.0.0:8080", "[::]:8080") becomes the loopback.
func dialable(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return net.JoinHostPort(host, port)
}

// boundAddr is the address a held socket is bound to: the one its name
// asked for ("127.0.0.1:8080"), unless that left the port to the kernel
// (":0"), when the socket says which it got. The name stays the asked
// one: it is what the next engine's Listen looks the socket up by.
func boundAddr(name string, f *os.File) string {
	_, addr, _ := strings.Cut(name, ":")
	if _, port, err := net.SplitHostPort(addr); err == nil && port != "0" {
		return addr
	}
	ln, err := net.FileListener(f) // a duplicate, closed at once
	if err != nil {
		return addr
	}
	defer ln.Close()
	return ln.Addr().String()
}

// inherit lists the held sockets for the next engine: its descriptors 3,
// 4, … and the EnvListeners value that names them.
func (l *loop) inherit() ([]*os.File, string) {
	names := make([]string, 0, len(l.listeners))
	for name := range l.listeners {
		names = append(names, name)
	}
	slices.Sort(names)
	var files []*os.File
	var spec []string
	for i, name := range names {
		files = append(files, l.listeners[name])
		spec = append(spec, fmt.Sprintf("%s=%d", name, 3+i))
	}
	return files, strings.Join(spec, ";")
}

// rel makes paths relative to the project root for people to read.
func (l *loop) rel(files []string) []string {
	root := l.cfg.Root
	if root == "" {
		root = l.dir
	}
	out := make([]string, len(files))
	for i, f := range files {
		if r, ok := paths.Within(root, f); ok {
			out[i] = r
		} else {
			out[i] = f
		}
	}
	return out
}
