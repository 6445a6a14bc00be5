package main

import (
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

	floorPlugin, floorEngine, floorPlain sample
	hot, restart, air                    *modeResult
	mem, memRecycle                      *memResult
	tui                                  *tuiResult
}

// modeResult is one reload tool's figures.
type modeResult struct {
	skipped string // why there are no figures, or ""
	version string // air's version

	live sample // save-to-live of the one-line edit
	// Where the time went, per edit, from hotrun's event times: the write
	// to the change event, to build.start, to build.ok, to an answer.
	watch, queue, build, after sample

	sent, failed int64
	errs         []string
	gap          time.Duration
	resets       int64 // answers whose visits went down
	missed       int   // edits not live within missWait, saved again
	bindFails    int   // air: new app exited, the old one still held the port

	burstStarts, burstCancels, burstChanges int
	burstWrite                              time.Duration
}

// floors times the bare builds of the same one-line edit: the plugin and
// the engine of the example, and the plain app air restarts. One warm-up
// build each first, as every tool has one before the first edit.
func (e *env) floors(ctx context.Context, r *results) error {
	e.progress("floors: bare go build of the same edit, %d runs", e.o.n)
	ex, err := e.exampleCopy("floors")
	if err != nil {
		return err
	}
	plain, err := e.plainCopy("floors-plain")
	if err != nil {
		return err
	}
	so := filepath.Join(e.tmp, "floor.so")
	plugin := []string{"build", "-buildmode=plugin", "-ldflags=" + pluginLDFlags, "-o", so, "./logic"}
	engine := []string{"build", "-o", filepath.Join(e.tmp, "floor-engine"), "./engine"}
	app := []string{"build", "-o", filepath.Join(e.tmp, "floor-plain"), "."}
	for i := 0; i <= e.o.n; i++ {
		v := 2001 + i
		if _, err := setVersion(filepath.Join(ex, "logic", "main.go"), v); err != nil {
			return err
		}
		// The engine doesn't import the logic: the same kind of edit, one
		// constant in its main package.
		if err := os.WriteFile(filepath.Join(ex, "engine", "bench_edit.go"), fmt.Appendf(nil, "package main\n\nconst modelVersion = %d\n", v), 0o644); err != nil {
			return err
		}
		if _, err := setVersion(filepath.Join(plain, "main.go"), v); err != nil {
			return err
		}
		dp, err := e.timeGo(ctx, ex, plugin...)
		if err != nil {
			return err
		}
		de, err := e.timeGo(ctx, ex, engine...)
		if err != nil {
			return err
		}
		da, err := e.timeGo(ctx, plain, app...)
		if err != nil {
			return err
		}
		if i > 0 {
			r.floorPlugin = append(r.floorPlugin, dp)
			r.floorEngine = append(r.floorEngine, de)
			r.floorPlain = append(r.floorPlain, da)
		}
	}
	return nil
}

// mode measures hotrun in one mode: save-to-live, a steady client during
// edits, and (hot-swap) the watcher burst.
func (e *env) mode(ctx context.Context, mode string) (*modeResult, error) {
	e.progress("hotrun %s: starting", mode)
	dir, err := e.exampleCopy(mode)
	if err != nil {
		return nil, err
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
	logic := filepath.Join(dir, "logic", "main.go")
	v := 1001

	e.progress("hotrun %s: save-to-live, %d runs", mode, e.o.n)
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
	}

	e.progress("hotrun %s: steady client during %d edits", mode, e.o.edits)
	if err := e.steadyEdits(ctx, res, url, logic, &v); err != nil {
		return nil, err
	}

	if mode == "hotswap" {
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
	var change, start, ok time.Time
	for _, r := range recs {
		switch r.Event.(type) {
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
