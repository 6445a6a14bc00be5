package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/hotrun-dev/hotrun/builder"
	"github.com/hotrun-dev/hotrun/event"
	"github.com/hotrun-dev/hotrun/hot/protocol"
)

// Deadlines of the calls to an engine. None of them is waited for on the
// loop: each runs on its own goroutine and posts its result.
const (
	startTimeout    = 60 * time.Second // a cold engine may take a while
	loadTimeout     = 10 * time.Second // a load whose init never returns fails after this
	takeoverTimeout = 30 * time.Second // restoring a large state
	drainGrace      = 10 * time.Second // the requests under way finish, the state is saved
	callTimeout     = 5 * time.Second  // status, activate, snapshot
)

// replace starts a new engine of build b beside the serving one, has it
// load version target (0: none) without traffic, and hands over to it once
// it is ready. Any failure before the handover leaves the serving engine as
// it is. A replacement already under way is abandoned for this one.
func (l *loop) replace(ctx context.Context, target int, b *engineBuild, why string) {
	if b == nil {
		l.warn("no engine build to start; fix the build and save")
		return
	}
	if old := l.standby(); old != nil {
		l.abandon(old, "a newer engine replaces it")
	}
	l.engineIDs++
	e := &engine{id: l.engineIDs, build: b, state: engStarting, target: target, newAbove: l.builtUpTo(), replaces: l.serving, why: why}
	l.engines = append(l.engines, e)
	if l.serving != nil && why != "" {
		l.ev.Publish(event.EngineRestart{PID: l.serving.pid(), Reason: why})
	}
	// The sockets the serving engine handed over: the new one inherits
	// them, and takes their backlog when the old one lets go.
	if l.serving != nil && l.serving.proc != nil {
		l.takeListeners(l.serving.proc)
	}
	env := []string{protocol.EnvState + "=" + l.statePath}
	files, spec := l.inherit()
	if spec != "" {
		env = append(env, protocol.EnvListeners+"="+spec)
	}
	if l.cfg.Mode == ModeRestart {
		env = append(env, fmt.Sprintf("%s=%d", protocol.EnvStaticVersion, target))
	}
	cfg := EngineConfig{
		Path:     b.path, // the engine build, or in restart mode the version's own executable
		Args:     l.cfg.EngineArgs,
		Dir:      l.dir,
		BuildDir: l.b.BuildDir(),
		Env:      env,
		Files:    files,
		Events:   l.ev,
	}
	l.refreshStates()
	go func() {
		sctx, cancel := context.WithTimeout(ctx, startTimeout)
		defer cancel()
		proc, err := StartEngine(sctx, cfg)
		l.post(func() { l.onStarted(ctx, e, proc, err) })
	}()
}

// abandon kills an engine that was being readied and will never serve.
func (l *loop) abandon(e *engine, why string) {
	e.expectExit = true
	e.why = why
	if e.proc != nil {
		e.proc.Kill()
	}
	l.drop(e)
}

// drop removes e from the model.
func (l *loop) drop(e *engine) {
	l.engines = slices.DeleteFunc(l.engines, func(x *engine) bool { return x == e })
	if l.serving == e {
		l.serving = nil
	}
	l.refreshStates()
}

func (l *loop) onStarted(ctx context.Context, e *engine, proc *Engine, err error) {
	if err != nil {
		if !slices.Contains(l.engines, e) {
			return
		}
		l.drop(e)
		l.startFailed(ctx, e, err)
		return
	}
	if !slices.Contains(l.engines, e) || e.expectExit {
		proc.Kill() // abandoned while it started
		return
	}
	e.proc, e.state, e.lastAnswer = proc, engStandby, time.Now()
	go func() {
		<-proc.Exited()
		l.post(func() { l.onExit(ctx, e) })
	}()
	// First make sure the engine's library speaks this hotrun's protocol:
	// a mismatch is said in one sentence, never guessed from a failure.
	l.call(ctx, callTimeout, func(c context.Context) error {
		_, err := proc.Status(c)
		return err
	}, func(err error, _ time.Duration) {
		if e.exited || !slices.Contains(l.engines, e) {
			return
		}
		if err != nil {
			l.notTaken(ctx, e, err.Error())
			return
		}
		l.ready(ctx, e)
	})
}

// ready has a started engine load its version, or take over at once.
func (l *loop) ready(ctx context.Context, e *engine) {
	proc := e.proc
	switch {
	case l.cfg.Mode == ModeRestart:
		// The engine loads its one version as it starts: ask until it
		// says it has.
		l.waitStatic(ctx, e)
	case e.target != 0:
		n := e.target
		if err := l.compatible(e, n); err != nil {
			l.notTaken(ctx, e, err.Error())
			return
		}
		e.loading = n
		so := l.versions[n].so // read here: the model is the loop's alone
		l.call(ctx, loadTimeout, func(c context.Context) error { return proc.Load(c, n, so) },
			func(err error, d time.Duration) { l.onStandbyLoaded(ctx, e, n, err, d) })
	default:
		l.handover(ctx, e)
	}
}

// call runs fn with a deadline off the loop and posts its result to done.
func (l *loop) call(ctx context.Context, d time.Duration, fn func(context.Context) error, done func(error, time.Duration)) {
	go func() {
		cctx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		start := time.Now()
		err := fn(cctx)
		took := time.Since(start)
		l.post(func() { done(err, took) })
	}()
}

// waitStatic waits, off the loop, until a restart-mode engine reports the
// version compiled into it.
func (l *loop) waitStatic(ctx context.Context, e *engine) {
	n := e.target
	e.loading = n
	l.call(ctx, loadTimeout, func(c context.Context) error {
		for {
			st, err := e.proc.Status(c)
			if err != nil {
				return err
			}
			if st.Live == n {
				return nil
			}
			select {
			case <-c.Done():
				return c.Err()
			case <-time.After(20 * time.Millisecond):
			}
		}
	}, func(err error, d time.Duration) { l.onStandbyLoaded(ctx, e, n, err, d) })
}

// compatible checks that plugin n and engine e were built alike: a
// mismatch would kill the engine with a fatal error no recover catches.
func (l *loop) compatible(e *engine, n int) error {
	v := l.versions[n]
	if v == nil || v.so == "" {
		return fmt.Errorf("v%d has no plugin", n)
	}
	if v.build != e.build {
		return fmt.Errorf("v%d was built against other shared packages than this engine holds", n)
	}
	return builder.Compatible(e.build.path, v.so)
}

// onStandbyLoaded: the engine being readied loaded its version, or not.
func (l *loop) onStandbyLoaded(ctx context.Context, e *engine, n int, err error, d time.Duration) {
	if e.exited || !slices.Contains(l.engines, e) || errors.Is(err, ErrEngineExited) {
		return // onExit says what happened, and blames the version it loaded
	}
	e.loading = 0
	if err != nil {
		l.loadFailed(ctx, e, n, err)
		return
	}
	e.loaded, e.live = []int{n}, n
	if v := l.versions[n]; v != nil {
		v.loadDur = d
	}
	l.handover(ctx, e)
}

// notTaken gives up on an engine before its handover: the serving one, if
// any, goes on untouched.
func (l *loop) notTaken(ctx context.Context, e *engine, why string) {
	l.abandon(e, why)
	if l.serving != nil {
		l.warn(fmt.Sprintf("the new engine was not taken (%s); pid %d keeps serving v%d", why, l.serving.pid(), l.serving.live))
		return
	}
	l.crashed(ctx, crash{at: time.Now(), words: why, early: true, avoid: e.target})
}

// handover lets the serving engine drain and save its final state, then
// has e take over with it. With no engine serving (the first start, after
// a crash), e takes over with the last snapshot.
func (l *loop) handover(ctx context.Context, e *engine) {
	old := l.serving
	if old == nil || old.exited {
		l.takeover(ctx, e)
		return
	}
	e.state = engStandby
	hung := old.state == engHung
	old.state, old.expectExit = engDraining, true
	proc := old.proc
	go func() {
		var err error
		if hung {
			proc.Kill() // a hung engine saves nothing; the last snapshot stands
			<-proc.Exited()
		} else {
			err = proc.Stop(drainGrace)
		}
		l.post(func() { l.onDrained(ctx, e, old, err) })
	}()
}

func (l *loop) onDrained(ctx context.Context, e, old *engine, err error) {
	reason := fmt.Sprintf("handed over to pid %d", e.pid())
	if err != nil {
		reason += "; its final state was not saved: " + err.Error()
		l.ev.Publish(event.Log{Source: event.SourceHotrun, Level: "error", Text: "the engine could not save its state: " + err.Error()})
	}
	if !old.exited {
		old.exited = true
		l.ev.Publish(old.proc.ExitEvent(reason))
	}
	l.takeListeners(old.proc)
	l.drop(old)
	if e.exited || !slices.Contains(l.engines, e) {
		// The new one died while the old one drained: nothing serves.
		l.crashed(ctx, crash{at: time.Now(), version: e.target, early: true})
		return
	}
	l.takeover(ctx, e)
}

// takeover tells e to restore the state and serve.
func (l *loop) takeover(ctx context.Context, e *engine) {
	path := l.statePath
	if !l.restored && l.cfg.Fresh {
		path = "" // the first engine of a -fresh session starts empty
	}
	if _, err := os.Stat(l.statePath); err != nil {
		path = ""
	}
	proc := e.proc
	l.call(ctx, takeoverTimeout, func(c context.Context) error { return proc.Takeover(c, path) },
		func(err error, _ time.Duration) { l.onTookOver(ctx, e, err) })
}

func (l *loop) onTookOver(ctx context.Context, e *engine, err error) {
	if e.exited || !slices.Contains(l.engines, e) {
		return
	}
	if err != nil {
		l.abandon(e, "it did not take over: "+err.Error())
		l.crashed(ctx, crash{at: time.Now(), version: e.target, words: err.Error(), early: true})
		return
	}
	e.state, e.servingAt, e.replaces = engServing, time.Now(), nil
	// The takeover saved the state it took; the next save is due after work.
	e.savedAt, e.savedWork = e.servingAt, e.proc.work.Load()
	l.serving, l.served, l.restored = e, e.build, true
	l.takeListeners(e.proc) // its addresses, for the probes the version list sets off
	if e.build == l.newest {
		l.pendingHost = false
	}
	l.lastMem = event.Memory{}
	l.refreshStates()
	if e.live != 0 {
		l.setState(e.live, event.VersionLive, "")
	}
	l.snapshot(ctx)
	l.prune()
	// A logic build that finished while this engine was readied, for its
	// build, loads now.
	// (Only such a build: an older one is live by the user's choice, a
	// rollback or l in the version list, and a restart keeps that choice.)
	if n := l.missed(e); n != 0 {
		l.loadInto(ctx, e, n)
	}
}

// builtUpTo is the newest version whose build has ended: a build under way
// has claimed its number (l.next) but ends after, and an engine readied now
// must load it when it takes over.
func (l *loop) builtUpTo() int {
	if v := l.versions[l.next]; v != nil && v.state == event.VersionBuilding {
		return l.next - 1
	}
	return l.next
}

// missed returns the version that e, taking over, must load because its
// build ended while e was readied, or 0.
func (l *loop) missed(e *engine) int {
	if n := l.newestLoadable(); n > e.live && n > e.newAbove && e.live != 0 {
		return n
	}
	return 0
}

// newestLoadable returns the newest built version for the newest engine
// build that no engine holds, or 0.
func (l *loop) newestLoadable() int {
	best := 0
	for n, v := range l.versions {
		if v.state == event.VersionBuilt && v.build == l.newest && n > best {
			best = n
		}
	}
	return best
}

// loadInto asks the serving engine to load version n and make it live.
func (l *loop) loadInto(ctx context.Context, e *engine, n int) {
	if err := l.compatible(e, n); err != nil {
		l.ev.Publish(event.LoadFail{Version: n, Error: err.Error(),
			Explain: "hotrun did not ask the engine to load it: the engine and this plugin were built differently (Go version, flags or shared packages), which would crash the engine. A new engine is built for it."})
		l.pendingHost = true
		l.startJob(ctx, true, false)
		return
	}
	if e.loading != 0 {
		// One load at a time; the newer build wins when this one ends.
		return
	}
	e.loading = n
	proc, so := e.proc, l.versions[n].so // read here: the model is the loop's alone
	l.call(ctx, loadTimeout, func(c context.Context) error { return proc.Load(c, n, so) },
		func(err error, d time.Duration) { l.onLoaded(ctx, e, n, err, d) })
}

func (l *loop) onLoaded(ctx context.Context, e *engine, n int, err error, d time.Duration) {
	if e.exited || errors.Is(err, ErrEngineExited) {
		return // onExit says what happened, and blames the version it loaded
	}
	e.loading = 0
	if err != nil {
		l.loadFailed(ctx, e, n, err)
		return
	}
	if v := l.versions[n]; v != nil {
		v.loadDur = d
	}
	if !slices.Contains(e.loaded, n) {
		e.loaded = append(e.loaded, n)
		slices.Sort(e.loaded)
	}
	e.live = n
	l.refreshStates()
	l.snapshot(ctx) // a crash from now on restores the state as of this swap
	l.memory()
	if l.cfg.MaxVersions > 0 && len(e.loaded) >= l.cfg.MaxVersions {
		l.replace(ctx, n, e.build, fmt.Sprintf("memory: %d versions loaded, the limit (Go never unloads a plugin)", len(e.loaded)))
		return
	}
	// The newest build, if it finished while this one loaded, loads now
	// (an older built version goes live only when asked for).
	if m := l.newestLoadable(); m > n && m == l.next {
		l.loadInto(ctx, e, m)
	}
	l.prune()
}

// loadFailed handles a version that engine e did not load.
func (l *loop) loadFailed(ctx context.Context, e *engine, n int, err error) {
	defer l.prune() // a version refused or blamed is never loaded again: its files go
	var ce *CommandError
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		why := fmt.Sprintf("it did not finish loading within %s (an init that never returns?)", loadTimeout)
		l.ev.Publish(event.LoadFail{Version: n, Error: "v" + fmt.Sprint(n) + ": " + why,
			Explain: "A package init or a global's initializer of this version never returned. hotrun never loads it again, and replaces the engine, which may now be stuck, with the last good version and its state."})
		l.blame(n, why)
		e.doubt = true
		if e == l.serving {
			l.replace(ctx, l.lastGood(e.build, n), e.build, fmt.Sprintf("v%d never finished loading", n))
		} else {
			l.notTaken(ctx, e, fmt.Sprintf("v%d never finished loading", n))
		}
	case errors.As(err, &ce) && ce.Code == protocol.CodeDifferentPackage:
		// Go's own check found a package the engine holds changed under
		// it: only a new engine can take this version.
		l.warn("the engine holds an older copy of a package this version needs; a new engine is built and takes over when ready")
		if e != l.serving {
			l.notTaken(ctx, e, "it holds an older copy of a package")
		}
		l.pendingHost = true
		l.startJob(ctx, true, false)
	case errors.As(err, &ce):
		// The engine published load.fail itself, with its reasons.
		l.setState(n, event.VersionRejected, ce.Msg)
		if e != l.serving {
			l.notTaken(ctx, e, fmt.Sprintf("it rejected v%d", n))
		}
	case errors.Is(err, ErrEngineExited):
		// onExit blames it.
	default:
		l.setState(n, event.VersionRejected, err.Error())
		if e != l.serving {
			l.notTaken(ctx, e, err.Error())
		}
	}
}

// activate makes version n, loaded in the serving engine, live.
func (l *loop) activate(ctx context.Context, n int) {
	e := l.serving
	if l.cfg.Mode == ModeRestart {
		l.warn("restart mode keeps no other version in the engine to switch to; edit and save instead")
		return
	}
	if e == nil {
		l.warn("no engine serves")
		return
	}
	if !slices.Contains(e.loaded, n) {
		// Built for this engine but not loaded in it (a version from
		// before a restart): load it, which makes it live.
		if v := l.versions[n]; v != nil && v.state == event.VersionBuilt && v.build == e.build && v.so != "" {
			l.loadInto(ctx, e, n)
			return
		}
		l.warn(fmt.Sprintf("v%d can't go live: the serving engine doesn't hold it, and it was not built for this engine", n))
		return
	}
	if e.activating != 0 {
		// One switch at a time, in the order asked: the next waits.
		e.nextActivate = n
		return
	}
	e.activating = n
	proc := e.proc
	l.call(ctx, callTimeout, func(c context.Context) error { return proc.Activate(c, n) },
		func(err error, _ time.Duration) {
			e.activating = 0
			if err != nil {
				l.warn(err.Error())
				e.doubt = true
			} else {
				e.live = n
				l.refreshStates()
			}
			if m := e.nextActivate; m != 0 && !e.exited {
				e.nextActivate = 0
				l.activate(ctx, m)
			}
		})
}

// step returns the version loaded in the serving engine before (by -1) or
// after (by +1) the live one, or 0.
func (l *loop) step(by int) int {
	e := l.serving
	if e == nil {
		return 0
	}
	base := e.live
	switch {
	case e.nextActivate != 0:
		base = e.nextActivate
	case e.activating != 0:
		base = e.activating
	}
	i := slices.Index(e.loaded, base)
	if i < 0 || i+by < 0 || i+by >= len(e.loaded) {
		return 0
	}
	return e.loaded[i+by]
}

// takeListeners keeps the sockets an engine handed over.
func (l *loop) takeListeners(e *Engine) {
	for name, f := range e.Listeners() {
		if old := l.listeners[name]; old != nil {
			old.Close()
		}
		l.listeners[name] = f
	}
	var addrs []string
	for name := range l.listeners {
		_, addr, _ := strings.Cut(name, ":")
		addrs = append(addrs, addr)
	}
	slices.Sort(addrs)
	l.r.src.setAddrs(addrs)
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
