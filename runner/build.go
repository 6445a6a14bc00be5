package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/hotrun-dev/hotrun/builder"
	"github.com/hotrun-dev/hotrun/event"
	"github.com/hotrun-dev/hotrun/watcher"
)

// buildJob is the build under way: at most one at a time; a newer change
// cancels it.
type buildJob struct {
	cancel context.CancelFunc // nil while none runs
	id     int                // numbers the jobs: a result of another is stale
	ver    int                // the version it builds (a speculative job's is not claimed yet)
	hash   string             // the content hash of the logic tree it builds
	spec   bool               // it started early, on the watcher's hint, and no Change has confirmed it yet
	held   *jobResult         // a speculative job's result, waiting for its Change
	specAt <-chan time.Time   // when to start a speculative job; nil for none
}

type jobResult struct {
	id       int // the job's id
	version  int
	spec     bool            // started speculatively: its events were not published
	final    event.Event     // the logic build's BuildOK or BuildFail, nil if canceled
	engine   *builder.Result // set when the job built the engine
	logic    *builder.Result // set when the logic build succeeded
	logicErr error
	err      error
	hash     string            // content hash of the logic tree the job built
	tree     map[string]string // the logic tree it built, for diffs
}

// specDelay is how long after the first event of a burst a speculative
// build starts: an editor that truncates and then writes sends its first
// event before the content is there.
const specDelay = 5 * time.Millisecond

func (l *loop) onChange(ctx context.Context, c watcher.Change) {
	pkgs, kind := l.b.Classify(c.Files)
	if kind == "" {
		return
	}
	ch := event.Change{Files: l.rel(c.Files), Packages: pkgs, Kind: kind}
	if kind == event.KindHost {
		l.ev.Publish(ch)
		l.pendingHost = true
		l.gaveUp = ""
		l.startJob(ctx, true, false)
		return
	}
	h, err := l.b.LogicHash()
	if err == nil && !l.pendingHost && l.confirm(ctx, h, ch) {
		return
	}
	// A save that changed no byte of the logic tree (the watcher saw a
	// rename or a revert) builds nothing.
	if err == nil && h == l.lastLogic && l.job.cancel == nil && !l.pendingHost {
		l.ev.Publish(ch)
		return
	}
	l.ev.Publish(ch)
	l.gaveUp = ""
	l.startJobHashed(ctx, l.pendingHost, false, h)
}

// onActivity starts a logic build as soon as the watcher sees the first
// event of a burst, instead of after its quiet period: the build then runs
// while the debounce waits. It stays unpublished until the Change confirms
// that it built the content the burst ended with (confirm); otherwise it is
// canceled without a word.
func (l *loop) onActivity(path string) {
	if l.cfg.Mode != ModeHotSwap || l.pendingHost || l.job.cancel != nil || l.serving == nil || l.job.specAt != nil {
		return
	}
	if _, kind := l.b.Classify([]string{path}); kind != event.KindLogic {
		return
	}
	l.job.specAt = time.After(specDelay)
}

// confirm reports whether the speculative build, running or finished,
// built exactly the logic tree whose hash is h; then it publishes it as the
// build of change c.
func (l *loop) confirm(ctx context.Context, h string, c event.Change) bool {
	j := &l.job
	switch {
	case j.cancel != nil && j.spec && j.hash == h:
		j.spec = false
		l.next = j.ver // claimed: versions count what users see built
		l.ev.Publish(c)
		l.ev.Publish(event.BuildStart{Version: j.ver, Target: event.TargetLogic})
		return true
	case j.held != nil && j.held.hash == h:
		res := *j.held
		j.held, j.spec = nil, false
		l.next = res.version
		l.ev.Publish(c)
		l.ev.Publish(event.BuildStart{Version: res.version, Target: event.TargetLogic})
		l.onResult(ctx, res)
		return true
	}
	return false
}

// startJob cancels the build under way, if any, and starts one for a new
// version: the engine and the logic, in parallel, when withEngine.
func (l *loop) startJob(ctx context.Context, withEngine, spec bool) {
	// Hash before building: a save during the build must not be mistaken
	// for content this build already has.
	hash, _ := l.b.LogicHash()
	l.startJobHashed(ctx, withEngine, spec, hash)
}

func (l *loop) startJobHashed(ctx context.Context, withEngine, spec bool, hash string) {
	j := &l.job
	if j.cancel != nil {
		j.cancel()
		if !j.spec {
			l.ev.Publish(event.BuildCanceled{Version: j.ver, Target: event.TargetLogic})
			l.setState(j.ver, event.VersionGone, "canceled: a newer change made it stale")
		}
	}
	j.held, j.specAt = nil, nil
	// A speculative job claims its number only when confirmed, so that a
	// canceled one leaves no gap in the versions.
	n := l.next + 1
	if !spec {
		l.next = n
		l.versions[n] = &version{n: n, state: event.VersionBuilding}
		l.dirty = true
	}
	j.id++
	id := j.id
	jctx, cancel := context.WithCancel(ctx)
	j.cancel, j.ver, j.hash, j.spec = cancel, n, hash, spec
	pub := l.ev
	if spec {
		pub = event.Discard // published on confirmation, if it comes
	}
	go func() {
		res := l.build(jctx, n, withEngine, pub)
		res.id, res.hash, res.spec = id, hash, spec
		if res.logic != nil {
			res.tree = readTree(l.b.LogicDir())
		}
		l.post(func() { l.onResult(ctx, res) })
	}()
}

// build runs in the job's goroutine: the engine and the logic in parallel
// when withEngine (the go command's build cache keeps the two from doing
// the same work twice), and publishes the build events to pub.
func (l *loop) build(ctx context.Context, n int, withEngine bool, pub event.Publisher) jobResult {
	res := jobResult{version: n}
	if l.cfg.Mode == ModeRestart {
		// One build makes the whole app: the engine with this version in.
		l.ev.Publish(event.BuildStart{Version: n, Target: event.TargetLogic})
		r, err := l.b.BuildStatic(ctx, n)
		if err != nil {
			if ctx.Err() == nil {
				res.final = failEvent(n, event.TargetLogic, r.Duration, err)
				l.ev.Publish(res.final)
			}
			res.err, res.logicErr = err, err
			return res
		}
		res.final = buildOK(n, event.TargetLogic, r)
		l.ev.Publish(res.final)
		res.engine, res.logic = &r, &r
		return res
	}
	var g errgroup.Group
	if withEngine {
		g.Go(func() error {
			l.ev.Publish(event.BuildStart{Target: event.TargetEngine})
			r, err := l.b.BuildEngine(ctx)
			if err != nil {
				if ctx.Err() == nil {
					l.ev.Publish(failEvent(0, event.TargetEngine, r.Duration, err))
				}
				res.err = err
				return nil
			}
			// Each engine build keeps its own file: the serving engine
			// runs from the one before, and a crash replacement may need it.
			path := fmt.Sprintf("%s.%d", r.Path, n)
			if err := os.Rename(r.Path, path); err != nil {
				res.err = fmt.Errorf("runner: %w", err)
				return nil
			}
			r.Path = path
			l.ev.Publish(buildOK(0, event.TargetEngine, r))
			res.engine = &r
			return nil
		})
	}
	g.Go(func() error {
		pub.Publish(event.BuildStart{Version: n, Target: event.TargetLogic})
		r, err := l.b.BuildLogic(ctx, n)
		if err != nil {
			if ctx.Err() == nil {
				res.final = failEvent(n, event.TargetLogic, r.Duration, err)
				pub.Publish(res.final)
			}
			res.logicErr = err
			return nil
		}
		res.final = buildOK(n, event.TargetLogic, r)
		if r.Fallback != "" {
			pub.Publish(event.Log{Source: event.SourceHotrun, Level: "info", Text: fmt.Sprintf("v%d built by the go command: %s", n, r.Fallback)})
		}
		pub.Publish(res.final)
		res.logic = &r
		return nil
	})
	g.Wait()
	return res
}

func buildOK(n int, target string, r builder.Result) event.BuildOK {
	return event.BuildOK{Version: n, Target: target, Duration: event.Duration(r.Duration), Path: r.Path, Route: r.Route, Linker: r.Linker}
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

// onResult takes a finished build into the model and decides what runs
// next.
func (l *loop) onResult(ctx context.Context, res jobResult) {
	j := &l.job
	current := res.id == j.id
	if current {
		j.cancel = nil
	}
	if res.spec && current {
		if j.spec {
			j.held = &res // no Change yet: wait for it
			return
		}
		if res.final != nil {
			l.ev.Publish(res.final) // confirmed while it ran
		}
	}
	if res.engine != nil && res.err == nil && l.cfg.Mode == ModeHotSwap {
		l.engineIDs++
		l.newest = &engineBuild{id: l.engineIDs, path: res.engine.Path}
	}
	if !current {
		return // a stale job, canceled for a newer one
	}
	if l.pruneAgain {
		l.pruneAgain = false
		defer l.prune()
	}
	v := l.versions[res.version]
	if v == nil {
		v = &version{n: res.version}
		l.versions[res.version] = v
	}
	v.built = time.Now()
	switch {
	case res.logic != nil:
		v.buildDur = res.logic.Duration
		v.so = res.logic.Path
		l.lastLogic = res.hash
		if l.cfg.Mode == ModeRestart {
			l.engineIDs++
			v.build = &engineBuild{id: l.engineIDs, path: res.logic.Path}
		} else {
			v.build = l.newest
		}
		l.setState(v.n, event.VersionBuilt, "")
		// What changed since the version before, by the files' places in
		// the project, as the change events name them. The first version
		// changed nothing: it is where the session starts.
		if prev := l.r.src.latestBefore(v.n); prev != nil {
			v.files = stats(prev, res.tree)
			for i := range v.files {
				v.files[i].Path = l.rel([]string{filepath.Join(l.b.LogicDir(), filepath.FromSlash(v.files[i].Path))})[0]
			}
		}
		l.r.src.keep(v.n, res.tree)
	case res.logicErr != nil:
		why := res.logicErr.Error()
		if fe, ok := res.final.(event.BuildFail); ok && len(fe.Diagnostics) > 0 {
			why = fe.Diagnostics[0].String()
		}
		l.setState(v.n, event.VersionFailed, why)
	default:
		l.setState(v.n, event.VersionGone, "its build was canceled")
	}
	l.dirty = true

	if l.cfg.Mode == ModeRestart {
		if res.logic != nil {
			l.replace(ctx, v.n, v.build, fmt.Sprintf("restart mode: v%d is a new engine", v.n))
		}
		return
	}
	if l.pendingHost {
		switch {
		case res.err != nil && l.serving != nil:
			l.warn(fmt.Sprintf("the engine did not build; pid %d keeps serving v%d", l.serving.pid(), l.serving.live))
		case res.logic == nil && l.serving != nil:
			l.warn(fmt.Sprintf("v%d does not build against the packages the engine holds, as they are now; pid %d keeps serving v%d. Fix it and save: the new engine takes over then", v.n, l.serving.pid(), l.serving.live))
		case l.newest == nil:
		case res.logic != nil:
			l.replace(ctx, v.n, l.newest, "a package the engine holds changed")
		case l.serving == nil && l.standby() == nil:
			// The first engine, whose logic doesn't build yet: start it
			// with no version; requests wait for the first one.
			l.replace(ctx, 0, l.newest, "")
		}
		return
	}
	if res.logic == nil {
		return
	}
	switch {
	case l.serving != nil && l.serving.build == v.build && l.serving.state == engServing:
		// A hung or draining engine gets nothing more: the one that
		// replaces it loads this version when it takes over (missed).
		l.loadInto(ctx, l.serving, v.n)
	case l.standby() == nil && l.serving == nil && l.newest != nil:
		l.replace(ctx, v.n, l.newest, "")
	}
}
