package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/hotrun-dev/hotrun/builder"
	"github.com/hotrun-dev/hotrun/event"
	"github.com/hotrun-dev/hotrun/generate"
	"github.com/hotrun-dev/hotrun/gosrc"
	"github.com/hotrun-dev/hotrun/watcher"
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
	// The generators due run first, in the job: a newer change cancels
	// them with the build. Until they are done the watcher's changes wait
	// (see generators).
	gens := l.gen.take()
	if len(gens) > 0 {
		l.gen.running++
	}
	steps := l.gen.steps
	go func() {
		if len(gens) > 0 {
			// What the build then stages is the tree as the generators
			// left it.
			if err := l.generate(jctx, steps, gens); err != nil {
				l.post(inBuiltDone{cancel: cancel, in: inBuilt{res: l.generateFailed(jctx, a, pub, err)}})
				return
			}
		}
		res := l.build(jctx, a.n, a.withEngine, pub, staged)
		res.id, res.spec = a.id, a.spec
		in := inBuilt{res: res}
		if res.logic != nil {
			in.files = l.fileStats(a.n, res.tree)
		}
		if res.engine != nil && a.sameAs != "" {
			in.sameEngine = sameFile(res.engine.Path, a.sameAs)
		}
		l.post(inBuiltDone{cancel: cancel, in: in})
	}()
}

// generateError is a generator that failed: one line for the version
// list, and its output for the build failure.
type generateError struct {
	err    error
	output string
	took   time.Duration
}

func (e *generateError) Error() string { return e.err.Error() }
func (e *generateError) Unwrap() error { return e.err }

// generateFailed is the result of a build job whose generators failed:
// the build fails with their words, and what serves keeps serving.
func (l *loop) generateFailed(ctx context.Context, a actBuild, pub event.Publisher, err error) jobResult {
	res := jobResult{version: a.n, id: a.id, spec: a.spec, logicErr: err}
	if a.withEngine {
		res.err = err // no engine was built either
	}
	if ctx.Err() == nil {
		fail := event.BuildFail{Version: a.n, Target: event.TargetLogic, Error: err.Error()}
		var ge *generateError
		if errors.As(err, &ge) {
			fail.Duration = event.Duration(ge.took)
			if ge.output != "" {
				fail.Error += "\n" + ge.output
			}
		}
		pub.Publish(event.BuildStart{Version: a.n, Target: event.TargetLogic})
		res.final = fail
		pub.Publish(res.final)
	}
	return res
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

// generators is what the loop knows of the project's generators
// (Config.BeforeBuild). It is the loop's alone: build jobs are handed the
// steps to run and post what they did (inGenerated).
type generators struct {
	steps []generate.Step
	due   []bool // by step: a file it reads changed since it last ran well
	// running counts the build jobs running generators now: the watcher's
	// changes wait in held meanwhile, so that the files the generators
	// write are known as theirs before any change names them.
	running int
	held    []watcher.Change
	// written holds what the generators wrote (a file, the digest of its
	// content then; the zero Digest for one they removed) until the
	// watcher reports it: a report of exactly that content is the
	// generators' own doing, which the build that ran them built already.
	written map[string]gosrc.Digest
}

func newGenerators(steps []generate.Step) *generators {
	g := &generators{steps: steps, due: make([]bool, len(steps)), written: map[string]gosrc.Digest{}}
	for i := range g.due {
		g.due[i] = true // the session's first build runs them all
	}
	return g
}

// mark makes due the steps that read a file of files (absolute); dir is
// the module, which the steps' inputs are relative to.
func (g *generators) mark(dir string, files []string) {
	for _, f := range files {
		rel, err := filepath.Rel(dir, f)
		if err != nil {
			continue
		}
		for i, s := range g.steps {
			if s.Reads(filepath.ToSlash(rel)) {
				g.due[i] = true
			}
		}
	}
}

// reads reports whether a step reads the file p (absolute): a step with
// no inputs reads every file.
func (g *generators) reads(dir, p string) bool {
	rel, err := filepath.Rel(dir, p)
	if err != nil {
		return false
	}
	for _, s := range g.steps {
		if s.Reads(filepath.ToSlash(rel)) {
			return true
		}
	}
	return false
}

// take returns the steps due, in order, and counts them as under way.
func (g *generators) take() []int {
	var idx []int
	for i, d := range g.due {
		if d {
			idx = append(idx, i)
			g.due[i] = false
		}
	}
	return idx
}

// filter drops from c the files whose content is what a generator wrote,
// as the digests the watcher read say (a file it has no digest of is
// gone, or could not be read).
func (g *generators) filter(c watcher.Change) watcher.Change {
	if len(g.written) == 0 {
		return c
	}
	var keep []string
	for _, f := range c.Files {
		h, ok := g.written[f]
		if ok {
			delete(g.written, f) // reported once: a later edit is a person's
			if c.Digests[f] == h {
				continue
			}
		}
		keep = append(keep, f)
	}
	c.Files = keep
	return c
}

// inGenerated ends a build job's generators, on the loop: what they
// wrote, and the steps that did not run well (due again).
type inGenerated struct {
	written map[string]gosrc.Digest
	undone  []int
}

func (inGenerated) isInput() {}

// generate runs steps (indexes into l.gen.steps) in order, in the job's
// goroutine, publishes what each did and wrote, and tells the loop what
// they wrote. It returns the first failure.
func (l *loop) generate(ctx context.Context, steps []generate.Step, idx []int) error {
	var err error
	var undone []int
	written := map[string]gosrc.Digest{}
	before := generate.Snapshot(l.dir)
	for k, i := range idx {
		if err != nil || ctx.Err() != nil {
			undone = append(undone, idx[k:]...)
			break
		}
		s := steps[i]
		r := s.Execute(ctx, l.dir)
		after := generate.Snapshot(l.dir)
		w := generate.Written(before, after)
		before = after
		ev := event.Generate{Command: s.Run, Duration: event.Duration(r.Duration), Output: r.Output}
		for f, h := range w {
			written[f] = h
			ev.Files = append(ev.Files, f)
		}
		slices.Sort(ev.Files)
		ev.Files = l.rel(ev.Files)
		if r.Err != nil {
			undone = append(undone, i)
			err = &generateError{err: fmt.Errorf("before_build: %w", r.Err), output: strings.TrimSpace(r.Output), took: r.Duration}
			ev.Error = r.Err.Error()
		}
		if ctx.Err() == nil {
			l.ev.Publish(ev)
		}
	}
	l.post(inGenerated{written: written, undone: undone})
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return err
}
