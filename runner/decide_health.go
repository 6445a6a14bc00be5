package runner

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hotrun-dev/hotrun/event"
)

// Liveness: an engine silent for hungAfter is shown as hung; one hung for
// hangGrace is replaced with its last saved state.
const (
	hungAfter = 3 * time.Second
	hangGrace = 10 * time.Second
)

// Crash policy: a replacement that serves a version no engine died on
// starts at once; one that has to serve a suspect again is spaced by
// restartBackoff times the crashes in the last minute. The same death twice
// in a row at start is not retried until a change or R.
const restartBackoff = time.Second

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

// pulse is the loop's periodic look at its engines.
func (m *model) pulse(in inPulse) {
	m.health(in.obs)
	if e := m.serving; e != nil && e.pid != 0 {
		since := m.now.Sub(e.savedAt)
		if since >= m.cfg.snapshotEvery && (e.work != e.savedWork || since >= max(idleSave, m.cfg.snapshotEvery)) {
			m.snapshot()
		}
	}
	if m.now.Sub(m.memAt) >= m.cfg.snapshotEvery {
		m.memAt = m.now
		var rss int64
		if e := m.serving; e != nil {
			rss = in.obs[e].rss
		}
		m.recycle(m.memory(rss))
	}
}

// pulseEvery is the time to the next pulse: idlePulse when the serving
// engine is alone, reported no work since the pulse before, and nothing is
// under way; pingEvery otherwise (or SnapshotEvery, when shorter). A ping
// under way needs no pulse: it marks the engine hung itself when it times
// out.
func (m *model) pulseEvery() time.Duration {
	e := m.serving
	if e == nil || len(m.engines) != 1 || e.pid == 0 || e.state != engServing || !e.quiet ||
		e.doubt || e.saving || e.loading != 0 || e.activating != 0 ||
		m.job.running != 0 || m.job.specArmed || m.retrying {
		return min(pingEvery, m.cfg.snapshotEvery)
	}
	return idlePulse
}

// health pings every engine it has not heard from since it last looked,
// and acts on their silence.
func (m *model) health(obs map[*engine]observation) {
	for _, e := range m.engines {
		if e.pid == 0 || e.exited || e.state == engDraining {
			continue
		}
		o, ok := obs[e]
		if !ok {
			continue
		}
		e.quiet, e.work = o.work == e.work, o.work
		if o.heard != e.heard {
			// Any line is an answer: an engine busy reporting its
			// requests needs no ping.
			e.heard = o.heard
			m.answered(e)
			continue
		}
		silent := m.now.Sub(e.lastAnswer)
		if e.pinging && silent >= hungAfter {
			m.hung(e, silent)
		}
		if e.state == engHung && silent >= hangGrace && e == m.serving && m.standby() == nil {
			m.replace(m.replacementFor(e), e.build, fmt.Sprintf("pid %d has not answered for %s", e.pid, silent.Round(time.Second)))
			continue
		}
		if !e.pinging {
			e.pinging = true
			m.do(actPing{e})
		}
	}
}

// replacementFor is the version a replacement of e serves: the one e
// serves, unless it is blamed.
func (m *model) replacementFor(e *engine) int {
	if v := m.versions[e.live]; v != nil && v.state != event.VersionBlamed {
		return e.live
	}
	return m.lastGood(e.build, e.live)
}

func (m *model) onPong(in inPong) {
	e := in.e
	e.pinging = false
	if e.exited {
		return
	}
	if in.err != nil {
		// The ping waited hungAfter: no need for a pulse to watch it.
		if errors.Is(in.err, context.DeadlineExceeded) {
			m.hung(e, m.now.Sub(e.lastAnswer))
		}
		return
	}
	m.answered(e)
}

// hung marks e hung: it has been silent that long.
func (m *model) hung(e *engine, silent time.Duration) {
	if e.state == engHung || e.state == engDraining {
		return
	}
	e.wasState, e.state, e.doubt = e.state, engHung, true
	m.publish(event.EngineHung{PID: e.pid, Since: event.Duration(silent.Round(time.Second))})
}

// answered records that e answered now: a hung engine is hung no more,
// and one in doubt has its status read again.
func (m *model) answered(e *engine) {
	if e.state == engHung {
		m.warn(fmt.Sprintf("pid %d answers again after %s", e.pid, m.now.Sub(e.lastAnswer).Round(time.Second)))
		e.state = e.wasState
	}
	e.lastAnswer = m.now
	if e.doubt {
		e.doubt = false
		m.do(actStatus{e: e, gen: e.asked})
	}
}

// snapshot asks the serving engine to save its state for crash recovery:
// at each swap, and at the pulse every SnapshotEvery while it reports
// work, every idleSave otherwise. A save that fails is an error event,
// every time.
func (m *model) snapshot() {
	e := m.serving
	if e == nil || e.saving || e.state != engServing || e.pid == 0 {
		return
	}
	e.saving, e.savedWork, e.savedAt = true, e.work, m.now
	m.do(actSnapshot{e: e, purpose: snapPeriodic})
}

// memory reports the serving engine's memory, rss as the loop read it (0:
// not read this time), when it changed: at least a MiB, or another
// version. It returns the last figure.
func (m *model) memory(rss int64) int64 {
	e := m.serving
	if e == nil {
		return 0
	}
	if rss == 0 {
		rss = m.lastMem.RSSBytes
	}
	mem := event.Memory{PID: e.pid, RSSBytes: rss, VersionsLoaded: len(e.loaded)}
	if rss > 0 && (mem.VersionsLoaded != m.lastMem.VersionsLoaded || abs(rss-m.lastMem.RSSBytes) >= 1<<20) {
		m.publish(mem)
		m.lastMem = mem
	}
	return rss
}

// recycle replaces the serving engine, state carried, when it holds more
// memory than allowed: Go never unloads a plugin.
func (m *model) recycle(rss int64) {
	e := m.serving
	if e == nil || m.standby() != nil || m.cfg.maxRSS <= 0 || rss <= m.cfg.maxRSS {
		return
	}
	m.replace(e.live, e.build, fmt.Sprintf("memory: the engine holds %d MB, over the limit of %d MB", rss>>20, m.cfg.maxRSS>>20))
}

// onExit: engine e's process ended.
func (m *model) onExit(in inExited) {
	e := in.e
	if e.exited {
		m.drop(e)
		return
	}
	e.exited = true
	wasServing := e == m.serving
	ev := event.EngineExit{PID: e.pid, Code: in.code, Signal: in.signal, Expected: e.expectExit}
	if e.expectExit {
		// hotrun ended it: its last words are no news.
		ev.Reason = e.why
		if e.killed && ev.Reason != "" {
			ev.Reason = "killed by hotrun: " + ev.Reason
		}
		m.publish(ev)
		if wasServing {
			m.ended, m.wasLive = &ev, e.live
		}
		m.drop(e)
		return
	}
	ev.Reason = "unexpected exit"
	if in.code == 2 && in.signal == "" {
		// Go's exit code for a panic no recover caught (one in a
		// goroutine the logic started, say) and for its fatal errors.
		ev.Reason += " (code 2: a panic no recover caught, or a fatal error: hotrun lab panic)"
	}
	if in.words != "" {
		ev.Reason += "; its last words: " + in.words
	}
	m.publish(ev)
	if wasServing {
		m.ended, m.wasLive = &ev, e.live
	} else if m.serving == nil {
		m.ended = &ev // one that died before it could serve: what the screen says while none does
	}
	m.drop(e)
	if n := e.loading; n != 0 {
		// A crash while a version loads is that version's.
		m.publish(event.LoadFail{Version: n, Error: "the engine exited while loading this version",
			Explain: "Something in the new version's initialization ended the process (os.Exit, log.Fatal, a fatal runtime error); hotrun never loads it again."})
		m.blame(n, "the engine died while loading it")
		if !wasServing && m.serving != nil {
			m.warn(fmt.Sprintf("the new engine died loading v%d; pid %d keeps serving v%d", n, m.serving.pid, m.serving.live))
			return
		}
		m.crashed(crash{at: m.now, words: in.words})
		return
	}
	if !wasServing {
		if m.serving != nil {
			m.warn(fmt.Sprintf("the new engine died before it took over; pid %d keeps serving v%d", m.serving.pid, m.serving.live))
			return
		}
		m.crashed(crash{at: m.now, words: in.words, early: true, code: in.code})
		return
	}
	m.crashed(crash{
		at:      m.now,
		version: e.live,
		outside: in.outside,
		words:   in.words,
		early:   m.now.Sub(e.servingAt) < time.Second,
		code:    in.code,
	})
}

// startFailed: an engine could not even start (no control socket in time,
// an exit before it).
func (m *model) startFailed(e *engine, err error, words string) {
	if words == "" {
		words = err.Error()
	}
	if m.serving != nil {
		m.warn(fmt.Sprintf("the new engine did not start (%s); pid %d keeps serving v%d", words, m.serving.pid, m.serving.live))
		return
	}
	m.fail("the engine did not start: " + words)
	m.ended = &event.EngineExit{PID: e.pid, Code: -1, Reason: "it did not start: " + words}
	m.crashed(crash{at: m.now, words: words, early: true})
}

// crashed applies the crash policy to a death with nothing serving after
// it: the version live then is suspect (twice: blamed), and the engine is
// replaced on the version it served if that one is still above suspicion,
// or else on the newest version no engine died on; unless the same death
// repeats at start.
func (m *model) crashed(c crash) {
	if m.serving != nil || m.standby() != nil {
		return // something serves, or is being readied
	}
	m.crashes = slices.DeleteFunc(m.crashes, func(x crash) bool { return c.at.Sub(x.at) > time.Minute })
	if v := m.versions[c.version]; v != nil && !c.outside {
		v.ownCrashes++
		m.dirty = true
		if v.ownCrashes >= 2 {
			m.blame(c.version, fmt.Sprintf("the engine died on it %d times while it was live", v.ownCrashes))
		} else if v.suspect == "" {
			v.suspect = "the engine died while it was live"
			if c.words != "" {
				v.suspect += " (" + c.words + ")"
			}
		}
	}
	m.crashes = append(m.crashes, c)
	if k := len(m.crashes); k >= 2 {
		a, b := m.crashes[k-2], m.crashes[k-1]
		if a.early && b.early && !a.outside && !b.outside && a.words != "" && a.words == b.words && a.code == b.code && a.version == 0 && b.version == 0 {
			m.gaveUp = b.words
			m.crashes = nil
			m.fail("the engine dies the same way each time it starts: " + b.words + ". Not starting it again until the next change (or R).")
			return
		}
	}
	b := m.replacementBuild()
	target, why := c.version, ""
	if v := m.versions[target]; v == nil || v.state == event.VersionBlamed || v.suspect != "" || target == c.avoid {
		target, why = m.fallback(b, c.avoid)
	}
	if c.version != 0 && target != c.version {
		switch {
		case target == 0:
			m.warn(fmt.Sprintf("the engine died on v%d, and no other version can serve: the new engine starts with none; save a fix", c.version))
		default:
			m.warn(fmt.Sprintf("the engine died on v%d: the new engine serves v%d, %s", c.version, target, why))
		}
	}
	// A replacement on a version no engine died on starts at once; one
	// that serves a suspect again waits, the longer the more crashes.
	wait := time.Duration(0)
	if v := m.versions[target]; !c.outside && (target == 0 || v == nil || v.suspect != "") {
		wait = restartBackoff * time.Duration(len(m.crashes)-1)
	}
	m.retrying, m.retryTarget = true, target
	m.do(actRetryAfter{wait})
}

// blame marks version n as the cause of an engine's death: it is never
// loaded again.
func (m *model) blame(n int, why string) {
	v := m.versions[n]
	if v == nil || v.state == event.VersionBlamed {
		return
	}
	m.setState(n, event.VersionBlamed, why)
	m.publish(event.Blame{Version: n, Reason: why})
}

// prune removes, off the loop, the files of versions no engine holds and
// none can load again (their plugins, the staging copies only they used)
// and engine builds no engine runs or may run, and forgets the sources of
// versions that left the list;
// then it measures what .hotrun holds. It waits for a moment with no build
// under way: a build that finished and has not reached the loop yet would
// lose its plugin.
func (m *model) prune() {
	if m.job.running != 0 || m.pruning {
		m.pruneAgain = true
		return
	}
	sources := make(map[int]bool)
	var keep []string
	engines := make(map[string]bool)
	for n, v := range m.versions {
		// Every version in the list keeps its source, gone ones too: the
		// diff of the version after it is against it (a handover leaves
		// the old build's versions gone). forgetEnded bounds the list.
		sources[n] = true
		switch {
		case v.state == event.VersionGone || v.state == event.VersionRejected || v.state == event.VersionBlamed:
			v.so = "" // never loaded again
		case v.so != "":
			keep = append(keep, v.so)
			if m.cfg.mode == ModeRestart {
				engines[v.so] = true
			}
		}
	}
	for _, b := range []*engineBuild{m.served, m.newest} {
		if b != nil {
			engines[b.path] = true
		}
	}
	for _, e := range m.engines {
		engines[e.build.path] = true
		if e.prevBuild != nil {
			engines[e.prevBuild.path] = true
		}
	}
	m.pruning = true
	m.do(actPrune{keep: keep, engines: engines, sources: sources})
}

func (m *model) onPruned(in inPruned) {
	m.pruning = false
	if in.err != nil {
		m.warn(in.err.Error())
	}
	if in.disk != m.disk {
		m.disk, m.dirty = in.disk, true
	}
	if m.pruneAgain {
		m.pruneAgain = false
		m.prune()
	}
}

// Requests: what the Controller methods ask of the loop.
const (
	reqRebuild = iota
	reqRestart
	reqRollback
	reqForward
	reqActivate
)

func (m *model) onKey(k inKey) {
	switch k.op {
	case reqRebuild:
		m.gaveUp = ""
		m.startJob(m.pendingHost, false)
	case reqRestart:
		m.crashes, m.gaveUp = nil, ""
		b := m.replacementBuild()
		n := m.live()
		if n == 0 {
			n = m.lastGood(b, 0)
		}
		m.replace(n, b, "restart asked for")
	case reqRollback, reqForward:
		by := -1
		if k.op == reqForward {
			by = 1
		}
		n := m.step(by)
		if n == 0 {
			m.warn("no version to switch to")
			return
		}
		m.activate(n)
	case reqActivate:
		m.activate(k.n)
	}
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}
