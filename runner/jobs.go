package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/hotrun-dev/hotrun/builder"
	"github.com/hotrun-dev/hotrun/event"
)

// startBuild starts build job a off the loop; its result comes back as
// inBuilt. The runner reads nothing of the logic tree itself: what a
// version is made of, its diff and its line counts, is what the builder
// staged.
func (l *loop) startBuild(ctx context.Context, a actBuild) {
	jctx, cancel := context.WithCancel(ctx)
	l.builds[a.id] = cancel
	pub := l.ev
	var staged func(builder.Sources)
	if a.spec {
		pub = event.Discard // published on confirmation, if it comes
		// What it staged, as soon as it has: the Change that ends the
		// burst confirms the job against it.
		staged = func(s builder.Sources) { l.post(inStaged{id: a.id, tree: s.Digests()}) }
	}
	adopted := ""
	if l.adopt != nil {
		adopted = l.adopt.path
	}
	go func() {
		res := l.build(jctx, a.n, a.withEngine, pub, staged)
		res.id, res.spec = a.id, a.spec
		in := inBuilt{res: res}
		if res.logic != nil {
			in.files = l.fileStats(a.n, res.tree)
		}
		if res.engine != nil && adopted != "" {
			in.sameEngine = sameFile(res.engine.Path, adopted)
		}
		l.post(inBuiltDone{cancel: cancel, in: in})
	}()
}

// inBuiltDone ends a build job on the loop: its context is released, then
// the model decides on its result.
type inBuiltDone struct {
	cancel context.CancelFunc
	in     inBuilt
}

func (inBuiltDone) isInput() {}

// sameFile reports whether files a and b hold the same bytes: Go builds
// are reproducible, so an engine built from the same source with the same
// toolchain and flags is the same file.
func sameFile(a, b string) bool {
	fa, err := os.Stat(a)
	if err != nil {
		return false
	}
	fb, err := os.Stat(b)
	if err != nil || fa.Size() != fb.Size() {
		return false
	}
	ba, err := os.ReadFile(a)
	if err != nil {
		return false
	}
	bb, err := os.ReadFile(b)
	return err == nil && bytes.Equal(ba, bb)
}

// fileStats says what changed in tree since the version before n, by the
// files' places in the project, as the change events name them. The first
// version changed nothing: it is where the session starts.
func (l *loop) fileStats(n int, tree map[string]string) []event.FileChange {
	prev := l.r.src.latestBefore(n)
	if prev == nil {
		return nil
	}
	files := stats(prev, tree)
	for i := range files {
		files[i].Path = l.rel([]string{filepath.Join(l.b.LogicDir(), filepath.FromSlash(files[i].Path))})[0]
	}
	return files
}

// build runs in the job's goroutine: the engine and the logic in parallel
// when withEngine (the go command's build cache keeps the two from doing
// the same work twice), and publishes the build events to pub. staged,
// when not nil, is told what the logic build staged before it compiles.
func (l *loop) build(ctx context.Context, n int, withEngine bool, pub event.Publisher, staged func(builder.Sources)) jobResult {
	res := jobResult{version: n}
	if l.cfg.Mode == ModeRestart {
		// One build makes the whole app: the engine with this version in.
		l.ev.Publish(event.BuildStart{Version: n, Target: event.TargetLogic})
		r, err := l.b.BuildStatic(ctx, n)
		res.sources(r.Sources)
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
		r, err := l.b.BuildLogic(ctx, n, staged)
		res.sources(r.Sources)
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

// sources keeps what a logic build staged: the digests for the model, the
// content for diffs.
func (r *jobResult) sources(s builder.Sources) {
	if s == nil {
		return
	}
	r.staged = s.Digests()
	r.tree = textTree(s)
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
