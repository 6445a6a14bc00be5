package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/hotrun-dev/hotrun/builder"
	"github.com/hotrun-dev/hotrun/event"
	"github.com/hotrun-dev/hotrun/watcher"
)

func newLoop(r *Runner, dir, statePath string, b *builder.Builder, w *watcher.Watcher) *loop {
	return &loop{
		cfg:       r.cfg,
		r:         r,
		dir:       dir,
		statePath: statePath,
		b:         b,
		ev:        r.cfg.Events,
		changes:   w.Changes(),
		activity:  w.Activity(),
		reqs:      r.requests,
		posts:     make(chan func()),
		done:      make(chan struct{}),
		versions:  make(map[int]*version),
		listeners: make(map[string]*os.File),
	}
}

// The loop's pulse looks at every engine: it pings the ones it has not
// heard from, saves the serving engine's state and checks its memory. It
// beats every pingEvery while anything is under way or the engine reports
// work, and every idlePulse when one engine serves, silent, with nothing
// under way: an idle session then wakes hotrun and the engine a few times
// a minute, not every second (a laptop's battery notices), and a stopped
// engine is still seen within idlePulse+hungAfter.
const (
	pingEvery = time.Second
	idlePulse = 5 * time.Second
	// idleSave is how often an engine that reports no work still saves
	// its state: one changed by a goroutine of its own reports nothing.
	idleSave = time.Minute
)

func (l *loop) run(ctx context.Context) error {
	defer close(l.done)
	defer l.shutdown()
	l.pendingHost = true
	l.startJob(ctx, true, false)

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
			l.onChange(ctx, c)

		case p := <-l.activity:
			l.onActivity(p)

		case <-l.job.specAt:
			l.job.specAt = nil
			if l.job.cancel == nil && !l.pendingHost && l.serving != nil {
				l.startJob(ctx, false, true)
			}

		case fn := <-l.posts:
			fn()

		case q := <-l.reqs:
			l.onRequest(ctx, q)

		case <-l.retry:
			l.retry = nil
			if l.serving == nil && l.standby() == nil && l.gaveUp == "" {
				b := l.served
				if b == nil {
					b = l.newest
				}
				l.replace(ctx, l.retryTarget, b, "")
			}

		case <-pulse.C:
			l.pulse(ctx)
			pulse.Reset(l.pulseEvery())
		}
		l.publishVersions()
	}
}

func (l *loop) warn(msg string) {
	l.ev.Publish(event.Log{Source: event.SourceHotrun, Level: "warn", Text: msg})
}

func (l *loop) onRequest(ctx context.Context, q request) {
	switch q.op {
	case reqRebuild:
		l.gaveUp = ""
		l.startJob(ctx, l.pendingHost, false)
	case reqRestart:
		l.crashes, l.gaveUp = nil, ""
		b := l.served
		if b == nil {
			b = l.newest
		}
		n := l.live()
		if n == 0 {
			n = l.lastGood(b, 0)
		}
		l.replace(ctx, n, b, "restart asked for")
	case reqRollback, reqForward:
		by := -1
		if q.op == reqForward {
			by = 1
		}
		n := l.step(by)
		if n == 0 {
			l.warn("no version to switch to")
			return
		}
		l.activate(ctx, n)
	case reqActivate:
		l.activate(ctx, q.n)
	}
}

// pulse is the loop's periodic look at its engines.
func (l *loop) pulse(ctx context.Context) {
	now := time.Now()
	l.health(ctx, now)
	if e := l.serving; e != nil && e.proc != nil {
		work, since := e.proc.work.Load(), now.Sub(e.savedAt)
		if since >= l.cfg.SnapshotEvery && (work != e.savedWork || since >= max(idleSave, l.cfg.SnapshotEvery)) {
			l.snapshot(ctx)
		}
	}
	if now.Sub(l.memAt) >= l.cfg.SnapshotEvery {
		l.memAt = now
		l.recycle(ctx)
	}
}

// pulseEvery is the time to the next pulse: idlePulse when the serving
// engine is alone, reported no work since the pulse before, and nothing is
// under way; pingEvery otherwise (or SnapshotEvery, when shorter). A ping
// under way needs no pulse: it marks the engine hung itself when it times
// out.
func (l *loop) pulseEvery() time.Duration {
	e := l.serving
	if e == nil || len(l.engines) != 1 || e.proc == nil || e.state != engServing || !e.quiet ||
		e.doubt || e.saving || e.loading != 0 || e.activating != 0 ||
		l.job.cancel != nil || l.job.specAt != nil || l.retry != nil {
		return min(pingEvery, l.cfg.SnapshotEvery)
	}
	return idlePulse
}

// snapshot asks the serving engine, off the loop, to save its state for
// crash recovery: at each swap, and at the pulse every SnapshotEvery while
// it reports work, every idleSave otherwise. A save that fails is an error
// event, every time.
func (l *loop) snapshot(ctx context.Context) {
	e := l.serving
	if e == nil || e.saving || e.state != engServing || e.proc == nil {
		return
	}
	e.saving, e.savedWork, e.savedAt = true, e.proc.work.Load(), time.Now()
	proc := e.proc
	l.call(ctx, 2*callTimeout, proc.Snapshot, func(err error, _ time.Duration) {
		e.saving = false
		if err == nil || e.exited || errors.Is(err, ErrEngineExited) {
			return
		}
		e.doubt = true
		l.ev.Publish(event.Log{Source: event.SourceHotrun, Level: "error", Text: "the engine's state was not saved: " + err.Error()})
	})
}

// recycle replaces the serving engine, state carried, when it holds more
// memory than allowed: Go never unloads a plugin.
func (l *loop) recycle(ctx context.Context) {
	e := l.serving
	rss := l.memory()
	if e == nil || l.standby() != nil || l.cfg.MaxRSS <= 0 || rss <= l.cfg.MaxRSS {
		return
	}
	l.replace(ctx, e.live, e.build, fmt.Sprintf("memory: the engine holds %d MB, over the limit of %d MB", rss>>20, l.cfg.MaxRSS>>20))
}

func (l *loop) memory() int64 {
	e := l.serving
	if e == nil || e.proc == nil {
		return 0
	}
	rss := e.proc.RSS()
	// Report a change, not every tick: at least a MiB, or another version.
	m := event.Memory{RSSBytes: rss, VersionsLoaded: len(e.loaded)}
	if rss > 0 && (m.VersionsLoaded != l.lastMem.VersionsLoaded || abs(rss-l.lastMem.RSSBytes) >= 1<<20) {
		l.ev.Publish(m)
		l.lastMem = m
	}
	return rss
}

// prune removes, off the loop, the files of versions no engine holds and
// none can load again (their plugins, the staging copies only they used)
// and engine builds no engine runs or may run, and forgets their sources;
// then it measures what .hotrun holds. It waits for a moment with no build
// under way: a build that finished and has not reached the loop yet would
// lose its plugin.
func (l *loop) prune() {
	if l.job.cancel != nil || l.pruning {
		l.pruneAgain = true
		return
	}
	l.r.src.forget(func(n int) bool {
		v := l.versions[n]
		return v != nil && v.state != event.VersionGone
	})
	var keep []string
	engines := make(map[string]bool)
	for _, v := range l.versions {
		switch {
		case v.state == event.VersionGone || v.state == event.VersionRejected || v.state == event.VersionBlamed:
			v.so = "" // never loaded again
		case v.so != "":
			keep = append(keep, v.so)
			if l.cfg.Mode == ModeRestart {
				engines[v.so] = true
			}
		}
	}
	for _, b := range []*engineBuild{l.served, l.newest} {
		if b != nil {
			engines[b.path] = true
		}
	}
	for _, e := range l.engines {
		engines[e.build.path] = true
	}
	l.pruning = true
	// A build may start, and end, before the prune below runs: what it
	// writes after this moment is in no list yet, and stays.
	asOf := time.Now()
	bin := filepath.Join(l.dir, builder.OutDir, "bin")
	go func() {
		_, err := l.b.Prune(keep, asOf)
		// Engine executables: every build of the session is a file of its
		// own (engine.N); the ones nothing runs or may run go.
		files, _ := filepath.Glob(filepath.Join(bin, "*"))
		for _, f := range files {
			if fi, err := os.Stat(f); err == nil && !engines[f] && isEngineBuild(f) && !fi.ModTime().After(asOf) {
				os.Remove(f)
			}
		}
		disk := l.b.DiskUsage()
		l.post(func() {
			l.pruning = false
			if err != nil {
				l.warn(err.Error())
			}
			if disk != l.disk {
				l.disk, l.dirty = disk, true
			}
			if l.pruneAgain {
				l.pruneAgain = false
				l.prune()
			}
		})
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
	if l.job.cancel != nil {
		l.job.cancel()
	}
	for _, e := range l.engines {
		if e.proc == nil || e.exited {
			continue
		}
		e.expectExit = true
		if e == l.serving && e.state == engServing {
			e.proc.Stop(5 * time.Second)
		} else {
			e.proc.Kill()
			<-e.proc.Exited()
		}
		e.exited = true
		l.ev.Publish(e.proc.ExitEvent("hotrun stopped it"))
		l.takeListeners(e.proc)
	}
	for _, f := range l.listeners {
		f.Close()
	}
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}
