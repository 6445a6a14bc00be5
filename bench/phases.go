package main

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/hotrun-dev/hotrun/event"
	"github.com/hotrun-dev/hotrun/runner"
)

// pluginLDFlags is what hotrun passes to plugin builds by default
// (runner.Config.PluginLDFlags): the bare plugin floor uses the same.
const pluginLDFlags = "-s -w"

const (
	buildWait = 3 * time.Minute  // a cold build cache on a busy 2-core machine
	liveWait  = time.Minute      // one edit, from save to serving
	missWait  = 20 * time.Second // an edit not live by then was missed
)

// results is every figure, for the table.
type results struct {
	o       *options
	started time.Time
	load    string // the 1-minute load average when the bench started

	projs           []*projResult
	mem, memRecycle *memResult
	tui             *tuiResult
	faults          *faultResult
	web             *webResult
}

// projResult is one project's figures. Each floor is measured interleaved
// with the runs it is compared with: floorPlugin after each hot-swap edit,
// floorEngine after each restart-mode edit, floorPlain after each of air's.
type projResult struct {
	p                                    *project
	floorPlugin, floorEngine, floorPlain sample
	hot, restart, air                    *modeResult
	direct                               *directResult
}

// modeResult is one reload tool's figures.
type modeResult struct {
	skipped string // why there are no figures, or ""
	version string // air's version

	live sample // save-to-live of the one-line edit
	// Where the time went, per edit, from hotrun's event times: the write
	// to the change event, to build.start, to build.ok, to an answer; the
	// last split at load.ok into the load and the first answer after it.
	watch, queue, build, after sample
	load, answer               sample
	routes, linkers            map[string]int // build.ok's route and linker, counted
	// The plugin builds of the session, and those the fast path made (its
	// compiled main package is in the build's stage): hotrun's events
	// don't say the route unless the runner passes it on.
	stages, fastStages int

	sent, failed int64
	errs         []string
	gap          time.Duration
	resets       int64 // answers whose visits went down
	missed       int   // edits not live within missWait, saved again
	bindFails    int   // air: new app exited, the old one still held the port

	burstStarts, burstCancels, burstChanges int
	burstWrite                              time.Duration
}

// floor is the bare go build a tool's save-to-live is compared with, on a
// copy of its own. It runs after each of the tool's edits, the same edit,
// with a client polling the tool's app as during the edit: both sides of a
// ratio are measured under the same conditions, interleaved.
type floor struct {
	dir, file string   // the copy and the file the edit changes
	engine    bool     // the edit is a constant in the engine's main package
	args      []string // the go command
}

// newFloor prepares the floor of kind "plugin" (the logic plugin, with the
// -ldflags hotrun passes and the system's default linker), "engine" or
// "plain" (the twin air rebuilds), and builds it once, as every tool has
// one build before the first edit.
func (e *env) newFloor(ctx context.Context, p *project, kind, tag string) (*floor, error) {
	name := "floor-" + p.name + "-" + tag
	out := filepath.Join(e.tmp, name+".out")
	f := &floor{}
	var err error
	switch kind {
	case "plugin":
		f.dir, err = e.projectCopy(p, name)
		f.file = p.logic
		f.args = []string{"build", "-buildmode=plugin", "-ldflags=" + pluginLDFlags, "-o", out, "./logic"}
	case "engine":
		f.dir, err = e.projectCopy(p, name)
		f.file, f.engine = "engine/bench_edit.go", true
		f.args = []string{"build", "-o", out, "./engine"}
	case "plain":
		f.dir, err = e.plainCopy(p, name)
		f.file = p.plainMain
		f.args = []string{"build", "-o", out, "."}
	}
	if err != nil {
		return nil, err
	}
	if _, err := f.run(ctx, e, 2000, ""); err != nil {
		return nil, err
	}
	return f, nil
}

// run makes edit v and times the build, with url polled every 5 ms as
// untilVersion does ("" for no client).
func (f *floor) run(ctx context.Context, e *env, v int, url string) (time.Duration, error) {
	file := filepath.Join(f.dir, f.file)
	if f.engine {
		// The engine doesn't import the logic: the same kind of edit, one
		// constant in its main package.
		if err := os.WriteFile(file, fmt.Appendf(nil, "package main\n\nconst modelVersion = %d\n", v), 0o644); err != nil {
			return 0, err
		}
	} else if _, err := setVersion(file, v); err != nil {
		return 0, err
	}
	if url != "" {
		defer poll(url)()
	}
	return e.timeGo(ctx, f.dir, f.args...)
}

// mode measures hotrun in one mode: save-to-live, a steady client during
// edits, and (hot-swap) the watcher burst.
//
// peer, when not nil, runs after each timed edit: air's run of the same
// edit, so the two are measured interleaved.
func (e *env) mode(ctx context.Context, p *project, mode string, floorTimes *sample, peer func() error) (*modeResult, error) {
	e.progress("%s, hotrun %s: starting", p.name, mode)
	dir, err := e.projectCopy(p, p.name+"-"+mode)
	if err != nil {
		return nil, err
	}
	kind := "plugin"
	if mode == "restart" {
		kind = "engine"
	}
	fl, err := e.newFloor(ctx, p, kind, mode)
	if err != nil {
		return nil, fmt.Errorf("floor: %w", err)
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	flags := []string{"-max-versions", "-1"}
	if mode == "restart" {
		flags = append(flags, "-mode", "restart")
	}
	s, err := startSession(e.bin, dir, addr, flags...)
	if err != nil {
		return nil, err
	}
	defer s.stop()
	if _, err := s.wait(ctx, buildWait, "first load.ok", isLoadOK); err != nil {
		return nil, err
	}
	url := "http://" + addr + "/hello?name=test"
	if _, err := untilVersion(ctx, url, 1001, liveWait); err != nil {
		return nil, err
	}
	res := &modeResult{}
	logic := filepath.Join(dir, p.logic)
	v := 1001

	e.progress("%s, hotrun %s: save-to-live, %d runs, each followed by the bare %s build", p.name, mode, e.o.n, kind)
	for range e.o.n {
		v++
		mark := s.mark()
		wrote, err := setVersion(logic, v)
		if err != nil {
			return nil, err
		}
		live, missed, err := res.untilLive(ctx, url, logic, v)
		if err != nil {
			return nil, err
		}
		if missed {
			continue
		}
		res.live = append(res.live, live.Sub(wrote))
		// Let the events of this edit arrive, then split its time.
		time.Sleep(200 * time.Millisecond)
		res.split(s.since(mark), wrote, live)
		d, err := fl.run(ctx, e, v, url)
		if err != nil {
			return nil, fmt.Errorf("floor: %w", err)
		}
		*floorTimes = append(*floorTimes, d)
		if peer != nil {
			if err := peer(); err != nil {
				return nil, err
			}
		}
	}

	e.progress("%s, hotrun %s: steady client during %d edits", p.name, mode, e.o.edits)
	if err := e.steadyEdits(ctx, res, url, logic, &v); err != nil {
		return nil, err
	}

	if mode == "hotswap" {
		res.stages, res.fastStages = countStages(dir)
	}
	if mode == "hotswap" && p == projects[0] {
		e.progress("hotrun %s: a burst of %d file writes", mode, e.o.burst)
		if err := e.burst(ctx, s, res, dir); err != nil {
			return nil, err
		}
	}
	return res, s.stop()
}

// untilLive waits until url answers version v, just written to file. An
// edit the tool never picks up is saved again after missWait, as a person
// would, and counted: its time is no save-to-live.
func (res *modeResult) untilLive(ctx context.Context, url, file string, v int) (live time.Time, missed bool, err error) {
	live, err = untilVersion(ctx, url, v, missWait)
	if err == nil || ctx.Err() != nil {
		return live, false, err
	}
	res.missed++
	if _, err := setVersion(file, v); err != nil {
		return time.Time{}, true, err
	}
	live, err = untilVersion(ctx, url, v, liveWait)
	if err != nil {
		err = fmt.Errorf("%w, even after saving again", err)
	}
	return live, true, err
}

// split adds one edit's event times to the breakdown.
func (res *modeResult) split(recs []event.Record, wrote, live time.Time) {
	var change, start, ok, loaded time.Time
	for _, r := range recs {
		switch ev := r.Event.(type) {
		case event.LoadOK:
			if loaded.IsZero() {
				loaded = r.Time
			}
		case event.Change:
			if change.IsZero() {
				change = r.Time
			}
		case event.BuildStart:
			if start.IsZero() {
				start = r.Time
			}
		case event.BuildOK:
			if ok.IsZero() {
				ok = r.Time
				if res.routes == nil {
					res.routes, res.linkers = map[string]int{}, map[string]int{}
				}
				res.routes[cmp.Or(ev.Route, "?")]++
				res.linkers[cmp.Or(ev.Linker, "?")]++
			}
		}
	}
	if change.IsZero() || start.IsZero() || ok.IsZero() {
		return
	}
	res.watch = append(res.watch, change.Sub(wrote))
	res.queue = append(res.queue, start.Sub(change))
	res.build = append(res.build, ok.Sub(start))
	res.after = append(res.after, live.Sub(ok))
	if !loaded.IsZero() && !loaded.Before(ok) && !live.Before(loaded) {
		res.load = append(res.load, loaded.Sub(ok))
		res.answer = append(res.answer, live.Sub(loaded))
	}
}

// steadyEdits runs a steady client during e.o.edits edits, each waited
// for until the client sees it.
func (e *env) steadyEdits(ctx context.Context, res *modeResult, url, file string, v *int) error {
	c := startSteady(url)
	defer c.finish()
	time.Sleep(100 * time.Millisecond)
	for range e.o.edits {
		*v++
		if _, err := setVersion(file, *v); err != nil {
			return err
		}
		// An edit the tool never picks up is saved again after 20 s, as a
		// person would, and counted.
		if err := c.waitVersion(ctx, *v, missWait); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			res.missed++
			if _, err := setVersion(file, *v); err != nil {
				return err
			}
			if err := c.waitVersion(ctx, *v, liveWait); err != nil {
				return fmt.Errorf("%w, even after saving again", err)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.finish()
	res.sent, res.failed, res.resets = c.sent.Load(), c.failed.Load(), c.resets.Load()
	res.gap = time.Duration(c.gap.Load())
	res.errs = c.errs
	return nil
}

// burst writes e.o.burst new Go files into a new package of the logic
// tree as fast as it can (a git checkout, a code generator) and counts the
// builds hotrun starts for it.
func (e *env) burst(ctx context.Context, s *session, res *modeResult, dir string) error {
	pkg := filepath.Join(dir, "logic", "benchburst")
	if err := os.Mkdir(pkg, 0o755); err != nil {
		return err
	}
	s.skip()
	mark := s.mark()
	start := time.Now()
	for i := range e.o.burst {
		src := fmt.Appendf(nil, "package benchburst\n\nconst C%04d = %d\n", i, i)
		if err := os.WriteFile(filepath.Join(pkg, fmt.Sprintf("f%04d.go", i)), src, 0o644); err != nil {
			return err
		}
	}
	res.burstWrite = time.Since(start)
	// The burst is over when a build ended and no event about a build
	// followed for 3 s.
	if _, err := s.wait(ctx, buildWait, "build.ok after the burst", func(ev event.Event) bool {
		_, ok := ev.(event.BuildOK)
		_, fail := ev.(event.BuildFail)
		return ok || fail
	}); err != nil {
		return err
	}
	for {
		_, err := s.wait(ctx, 3*time.Second, "", func(ev event.Event) bool {
			switch ev.(type) {
			case event.Change, event.BuildStart, event.BuildOK, event.BuildFail, event.BuildCanceled:
				return true
			}
			return false
		})
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			break // quiet for 3 s
		}
	}
	for _, r := range s.since(mark) {
		switch r.Event.(type) {
		case event.BuildStart:
			res.burstStarts++
		case event.BuildCanceled:
			res.burstCancels++
		case event.Change:
			res.burstChanges++
		}
	}
	return nil
}

func isLoadOK(ev event.Event) bool { _, ok := ev.(event.LoadOK); return ok }

// memResult is the engine's memory as versions pile up.
type memResult struct {
	maxVersions int
	at          []int   // versions built and loaded
	rss         []int64 // the engine's RSS then
	restarts    int     // engine restarts (recycling)
}

// memory loads versions one after another into one engine (or, with
// recycling, a chain of them) and reads the engine's RSS at each of
// e.o.versions.
func (e *env) memory(ctx context.Context, maxVersions int) (*memResult, error) {
	name := "memory"
	if maxVersions > 0 {
		name = fmt.Sprintf("memory-recycle%d", maxVersions)
	}
	last := e.o.versions[len(e.o.versions)-1]
	e.progress("hotrun %s: loading %d versions (-max-versions %d)", name, last, maxVersions)
	dir, err := e.exampleCopy(name)
	if err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	s, err := startSession(e.bin, dir, addr, "-max-versions", fmt.Sprint(maxVersions))
	if err != nil {
		return nil, err
	}
	defer s.stop()
	first, err := s.wait(ctx, buildWait, "first load.ok", isLoadOK)
	if err != nil {
		return nil, err
	}
	m := &memResult{maxVersions: maxVersions}
	logic := filepath.Join(dir, "logic", "main.go")
	v := first.Event.(event.LoadOK).Version
	next := 0
	for n := 1; n <= last; n++ {
		if n > 1 {
			if _, err := setVersion(logic, 1000+n); err != nil {
				return nil, err
			}
			want := v + 1
			rec, err := s.wait(ctx, buildWait, fmt.Sprintf("load.ok of version %d", want), func(ev event.Event) bool {
				l, ok := ev.(event.LoadOK)
				return ok && l.Version >= want
			})
			if err != nil {
				return nil, err
			}
			v = rec.Event.(event.LoadOK).Version
		}
		if next < len(e.o.versions) && n == e.o.versions[next] {
			time.Sleep(300 * time.Millisecond) // let the engine settle
			m.at = append(m.at, n)
			m.rss = append(m.rss, runner.RSS(s.enginePID()))
			next++
		}
	}
	for _, r := range s.since(0) {
		if _, ok := r.Event.(event.EngineRestart); ok {
			m.restarts++
		}
	}
	return m, s.stop()
}

// countStages counts the plugin builds staged under dir's .hotrun, and
// those the builder's fast path linked (it leaves the main package's
// archive in the stage).
func countStages(dir string) (all, fast int) {
	stages, _ := filepath.Glob(filepath.Join(dir, ".hotrun", "stage", "b*"))
	for _, s := range stages {
		all++
		if _, err := os.Stat(filepath.Join(s, "_obj", "main.a")); err == nil {
			fast++
		}
	}
	return all, fast
}
