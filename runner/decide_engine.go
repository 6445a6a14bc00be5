package runner

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/hotrun-dev/hotrun/event"
	"github.com/hotrun-dev/hotrun/hot/protocol"
)

// replace starts a new engine of build b beside the serving one, has it
// load version target (0: none) without traffic, and hands over to it once
// it is ready. Any failure before the handover leaves the serving engine as
// it is. A replacement already under way is abandoned for this one.
func (m *model) replace(target int, b *engineBuild, why string) *engine {
	return m.replaceTaught(target, b, why, "")
}

// replaceTaught is replace for a limit of Go plugins that a lab shows: the
// engine.restart event names the lab (`hotrun lab NAME`), for a user who
// meets the limit in a project of their own; the engine's own why, which
// the engines snapshot and the header show, stays short.
func (m *model) replaceTaught(target int, b *engineBuild, why, lab string) *engine {
	if b == nil {
		m.warn("no engine build to start; fix the build and save")
		return nil
	}
	if old := m.standby(); old != nil {
		m.abandon(old, "a newer engine replaces it")
	}
	e := &engine{build: b, state: engStarting, target: target, newAbove: m.builtUpTo(), replaces: m.serving, why: why}
	if s := m.serving; s != nil {
		e.prevBuild, e.prevLive = s.build, s.live
		if why != "" {
			said := why
			if lab != "" {
				said += "; hotrun lab " + lab + " shows why"
			}
			m.publish(event.EngineRestart{PID: s.pid, Reason: said})
		}
	}
	m.engines = append(m.engines, e)
	a := actStart{e: e, path: b.path}
	if m.cfg.mode == ModeRestart {
		a.static = target
	}
	m.do(a)
	m.refreshStates()
	return e
}

// abandon kills an engine that was being readied and will never serve.
func (m *model) abandon(e *engine, why string) {
	e.expectExit, e.killed = true, true
	e.why = why
	if e.pid != 0 {
		m.do(actKill{e})
	}
	m.drop(e)
}

// drop removes e from the model.
func (m *model) drop(e *engine) {
	m.engines = slices.DeleteFunc(m.engines, func(x *engine) bool { return x == e })
	if m.serving == e {
		m.serving = nil
	}
	m.refreshStates()
}

func (m *model) onStarted(in inStarted) {
	e := in.e
	if in.err != nil {
		if !m.alive(e) {
			return
		}
		m.drop(e)
		m.startFailed(e, in.err, in.words)
		return
	}
	if !m.alive(e) || e.expectExit {
		e.pid = in.pid
		m.do(actKill{e}) // abandoned while it started
		return
	}
	e.pid, e.state, e.lastAnswer = in.pid, engStandby, m.now
	// First make sure the engine's library speaks this hotrun's protocol:
	// a mismatch is said in one sentence, never guessed from a failure.
	m.do(actStatus{e: e, first: true})
}

func (m *model) onStatus(in inStatus) {
	e := in.e
	if in.first {
		if e.exited || !m.alive(e) {
			return
		}
		if in.err != nil {
			m.notTaken(e, in.err.Error())
			return
		}
		m.ready(e)
		return
	}
	// A re-read after a doubt: the model takes the engine's word, never
	// its own guess. A word older than a switch or a load asked since is
	// no word: ask again.
	if in.err != nil || e.exited || in.gen != e.asked {
		e.doubt = true
		return
	}
	e.loaded, e.live = in.st.Loaded, in.st.Live
	for _, n := range in.st.Loaded {
		if v := m.versions[n]; v != nil && v.state == event.VersionBuilt {
			m.setState(n, event.VersionLoaded, "")
		}
	}
	m.refreshStates()
}

// ready has a started engine load its version, or take over at once.
func (m *model) ready(e *engine) {
	switch {
	case m.cfg.mode == ModeRestart:
		// The engine loads its one version as it starts: ask until it
		// says it has.
		e.loading = e.target
		m.do(actLoad{e: e, n: e.target, static: true})
	case e.target != 0:
		n := e.target
		if err := m.compatible(e, n); err != nil {
			m.notTaken(e, err.Error())
			return
		}
		e.loading = n
		m.do(actLoad{e: e, n: n, so: m.versions[n].so, engine: e.build.path})
	default:
		m.handover(e)
	}
}

// compatible checks that version n was built against e's build: a plugin
// built against other shared packages can't load into it. (That the
// plugin and the executable were built alike, with one toolchain and one
// set of flags, the loop checks on the files before it asks for a load.)
func (m *model) compatible(e *engine, n int) error {
	v := m.versions[n]
	if v == nil || v.so == "" {
		return fmt.Errorf("v%d has no plugin", n)
	}
	if v.build != e.build {
		return fmt.Errorf("v%d was built against other shared packages than this engine holds", n)
	}
	return nil
}

// notTaken gives up on an engine before its handover: the serving one, if
// any, goes on untouched.
func (m *model) notTaken(e *engine, why string) {
	m.abandon(e, why)
	if m.serving != nil {
		m.warn(fmt.Sprintf("the new engine was not taken (%s); pid %d keeps serving v%d", why, m.serving.pid, m.serving.live))
		return
	}
	m.crashed(crash{at: m.now, words: why, early: true, avoid: e.target})
}

// handover readies the serving engine's state for e: the serving engine
// saves it, e decodes it without taking it (onStateChecked), and only then
// does the serving engine drain and let go. With no engine serving (the
// first start, after a crash), e takes over with the last snapshot.
func (m *model) handover(e *engine) {
	old := m.serving
	if old == nil || old.exited {
		m.takeover(e)
		return
	}
	e.state = engStandby
	if old.state == engHung {
		// A hung engine saves nothing: the last snapshot stands.
		m.checkState(e)
		return
	}
	e.phase = phaseSaving
	m.do(actSnapshot{e: old, purpose: snapHandover})
}

// Handover phases of a standby engine that loaded its version.
const (
	phaseNone     = iota
	phaseSaving   // the serving engine saves its state
	phaseChecking // this engine decodes it
	phaseDraining // the serving engine drains; this one takes over next
)

func (m *model) checkState(e *engine) {
	e.phase = phaseChecking
	m.do(actCheckState{e})
}

// onSnapshotted: a snapshot asked for ended.
func (m *model) onSnapshotted(in inSnapshotted) {
	e := in.e
	if in.purpose == snapHandover {
		if in.err != nil && !errors.Is(in.err, ErrEngineExited) {
			m.fail("the engine could not save its state before the handover: " + in.err.Error() + "; the new engine checks the last snapshot it saved")
		}
		for _, s := range m.engines {
			if s.replaces == e && s.phase == phaseSaving && !s.exited {
				m.checkState(s)
			}
		}
		return
	}
	e.saving = false
	if in.err == nil || e.exited || errors.Is(in.err, ErrEngineExited) {
		return
	}
	e.doubt = true
	m.fail("the engine's state was not saved: " + in.err.Error())
}

// onStateChecked: standby e decoded the state it is to take over, or
// could not. Only a state it can read is let go by the engine serving.
func (m *model) onStateChecked(in inStateChecked) {
	e := in.e
	if e.exited || !m.alive(e) || e.phase != phaseChecking || errors.Is(in.err, ErrEngineExited) {
		return // onExit says what happened
	}
	old := m.serving
	if old == nil || old.exited {
		m.takeover(e) // the old one died meanwhile: nothing to keep serving
		return
	}
	hung := old.state == engHung
	if in.err != nil && !hung {
		var ce *CommandError
		if errors.As(in.err, &ce) && ce.Code == protocol.CodeStateUnreadable {
			m.fail(fmt.Sprintf("%s pid %d keeps serving v%d with its state. %s", ce.Msg, old.pid, old.live, ce.Explain))
			m.notTaken(e, "it can't read the state")
			return
		}
		m.notTaken(e, "its state check failed: "+in.err.Error())
		return
	}
	// A hung engine can't be kept serving: whatever the check said, the
	// new one takes over (with what it can read; a snapshot it can't is
	// set aside, never lost).
	e.phase = phaseDraining
	old.state, old.expectExit, old.killed = engDraining, true, hung
	old.why = fmt.Sprintf("handed over to pid %d", e.pid)
	if hung {
		old.why = fmt.Sprintf("it was hung; pid %d takes over", e.pid)
	}
	m.do(actDrain{e: e, old: old, kill: hung})
}

func (m *model) onDrained(in inDrained) {
	e, old := in.e, in.old
	if in.err != nil {
		m.fail("the engine could not save its state: " + in.err.Error())
		old.why += "; its final state was not saved: " + in.err.Error()
	}
	if !old.exited {
		// Its exit is the handover, not news: no last words.
		m.onExit(inExited{e: old, code: in.code, signal: in.signal})
	}
	m.drop(old)
	if e.exited || !m.alive(e) {
		// The new one died while the old one drained: nothing serves.
		m.crashed(crash{at: m.now, early: true})
		return
	}
	m.takeover(e)
}

// takeover tells e to restore the state and serve.
func (m *model) takeover(e *engine) {
	path := m.cfg.statePath
	if e.restoreFrom != "" {
		path = e.restoreFrom
	}
	if !m.restored && m.cfg.fresh {
		path = "" // the first engine of a -fresh session starts empty
	}
	// Strict when an engine of another build can serve the state the
	// new one can't read: the one it replaced, of the build before.
	strict := e.prevBuild != nil && e.prevBuild != e.build && e.prevBuild.path != ""
	m.do(actTakeover{e: e, path: path, strict: strict})
}

func (m *model) onTookOver(in inTookOver) {
	e := in.e
	if e.exited || !m.alive(e) {
		return
	}
	if in.err != nil {
		var ce *CommandError
		if errors.As(in.err, &ce) && ce.Code == protocol.CodeStateUnreadable && e.prevBuild != nil {
			// Its state check passed, and yet the final state is one it
			// can't read: the build before reads it (it wrote it).
			m.abandon(e, "it can't read the state")
			m.fail(fmt.Sprintf("%s The state is kept in %s; an engine of the build before takes it back. %s", ce.Msg, ce.Path, ce.Explain))
			if r := m.replace(e.prevLive, e.prevBuild, ""); r != nil {
				r.restoreFrom = ce.Path
			}
			return
		}
		m.abandon(e, "it did not take over: "+in.err.Error())
		m.crashed(crash{at: m.now, words: in.err.Error(), early: true})
		return
	}
	e.state, e.servingAt, e.replaces = engServing, m.now, nil
	// The takeover saved the state it took; the next save is due after work.
	e.savedAt, e.savedWork = e.servingAt, e.work
	m.serving, m.served, m.restored = e, e.build, true
	// The host change is done when an engine of the newest build serves,
	// and no newer engine build is under way: a replacement of the old
	// build (a crash, a hang) that takes over while one builds is not it.
	if e.build == m.newest && !(m.job.running != 0 && m.job.withEngine) {
		m.pendingHost = false
	}
	m.lastMem = event.Memory{}
	m.refreshStates()
	if e.live != 0 {
		m.setState(e.live, event.VersionLive, "")
	}
	m.snapshot()
	m.prune()
	// A logic build that finished while this engine was readied, for its
	// build, loads now.
	// (Only such a build: an older one is live by the user's choice, a
	// rollback or l in the version list, and a restart keeps that choice.)
	if n := m.missed(e); n != 0 {
		m.loadInto(e, n)
	}
}

// adopt takes over an engine that the hotrun before this one left serving
// when it died: the same process, with the versions it holds and its
// connections. Version numbers go on above every number it was asked to
// load (Go hangs opening a plugin path again whose init panicked). Then
// the engine and the logic are built as at any start: if the engine
// build is the one the adopted engine runs, the new version swaps into
// it; if the source changed meanwhile, a new engine takes over, blue/green.
func (m *model) adopt(in inAdopted) {
	b := &engineBuild{path: in.path}
	e := in.e
	e.pid, e.build, e.state = in.pid, b, engServing
	e.loaded, e.live = in.st.Loaded, in.st.Live
	e.servingAt, e.lastAnswer, e.savedAt = m.now, m.now, m.now
	m.engines = append(m.engines, e)
	m.serving, m.served, m.adopted, m.restored = e, b, b, true
	for i, n := range in.st.Loaded {
		v := &version{n: n, state: event.VersionLoaded, build: b, built: m.now, liveAt: m.now}
		if i < len(in.st.Paths) {
			v.so = in.st.Paths[i]
		}
		m.versions[n] = v
		m.next = max(m.next, n)
	}
	m.next = max(m.next, in.st.Newest)
	m.dirty = true
	m.publish(event.EngineStart{PID: e.pid})
	m.warn(fmt.Sprintf("took over the engine the last hotrun left serving: pid %d, v%d live, %d versions loaded, its connections kept (its own output is not shown until it is replaced)", e.pid, e.live, len(e.loaded)))
	m.refreshStates()
	m.pendingHost = true
	m.startJob(true, false)
}

// builtUpTo is the newest version whose build has ended: a build under way
// has claimed its number (next) but ends after, and an engine readied now
// must load it when it takes over.
func (m *model) builtUpTo() int {
	if v := m.versions[m.next]; v != nil && v.state == event.VersionBuilding {
		return m.next - 1
	}
	return m.next
}

// missed returns the version that e, taking over, must load because its
// build ended while e was readied, or 0.
func (m *model) missed(e *engine) int {
	if n := m.newestLoadable(); n > e.live && n > e.newAbove && e.live != 0 {
		return n
	}
	return 0
}

// newestLoadable returns the newest built version for the newest engine
// build that no engine holds, or 0.
func (m *model) newestLoadable() int {
	best := 0
	for n, v := range m.versions {
		if v.state == event.VersionBuilt && v.build == m.newest && n > best {
			best = n
		}
	}
	return best
}

// loadInto asks the serving engine to load version n and make it live.
func (m *model) loadInto(e *engine, n int) {
	if err := m.compatible(e, n); err != nil {
		m.incompatible(n, err)
		return
	}
	if e.loading != 0 {
		// One load at a time; the newer build wins when this one ends.
		return
	}
	e.loading = n
	e.asked++
	m.do(actLoad{e: e, n: n, so: m.versions[n].so, engine: e.build.path})
}

// incompatible: version n can't go into the serving engine: only a new
// engine of a new build can take it.
func (m *model) incompatible(n int, err error) {
	m.publish(event.LoadFail{Version: n, Error: err.Error(),
		Explain: "hotrun did not ask the engine to load it: the engine and this plugin were built differently (Go version, flags or shared packages), which would crash the engine (hotrun lab flags-mismatch). A new engine is built for it."})
	m.pendingHost = true
	m.startJob(true, false)
}

func (m *model) onLoaded(in inLoaded) {
	e, n, err := in.e, in.n, in.err
	if e.exited || errors.Is(err, ErrEngineExited) {
		return // onExit says what happened, and blames the version it loaded
	}
	standby := e != m.serving
	if standby && !m.alive(e) {
		return // abandoned while it loaded
	}
	e.loading = 0
	if err != nil {
		m.loadFailed(e, n, err)
		return
	}
	if v := m.versions[n]; v != nil {
		v.loadDur = in.took
	}
	if standby {
		// A standby engine loaded its version: the handover comes next.
		e.loaded, e.live = []int{n}, n
		m.handover(e)
		return
	}
	if !slices.Contains(e.loaded, n) {
		e.loaded = append(e.loaded, n)
		slices.Sort(e.loaded)
	}
	e.live = n
	m.refreshStates()
	m.snapshot() // a crash from now on restores the state as of this swap
	m.memory(0)
	if m.cfg.maxVersions > 0 && len(e.loaded) >= m.cfg.maxVersions {
		m.replaceTaught(n, e.build, fmt.Sprintf("memory: %d versions loaded, the limit (Go never unloads a plugin)", len(e.loaded)), "memory")
		return
	}
	// The newest build, if it finished while this one loaded, loads now
	// (an older built version goes live only when asked for).
	if k := m.newestLoadable(); k > n && k == m.next {
		m.loadInto(e, k)
	}
	m.prune()
}

// loadFailed handles a version that engine e did not load.
func (m *model) loadFailed(e *engine, n int, err error) {
	defer m.prune() // a version refused or blamed is never loaded again: its files go
	var ce *CommandError
	var ie *incompatibleError
	switch {
	case errors.As(err, &ie):
		if e != m.serving {
			m.notTaken(e, err.Error())
			return
		}
		m.incompatible(n, err)
	case errors.Is(err, context.DeadlineExceeded):
		why := fmt.Sprintf("it did not finish loading within %s (an init that never returns?)", loadTimeout)
		m.publish(event.LoadFail{Version: n, Error: "v" + fmt.Sprint(n) + ": " + why,
			Explain: "A package init or a global's initializer of this version never returned. hotrun never loads it again, and replaces the engine, which may now be stuck, with the last good version and its state."})
		m.blame(n, why)
		e.doubt = true
		if e == m.serving {
			m.replace(m.lastGood(e.build, n), e.build, fmt.Sprintf("v%d never finished loading", n))
		} else {
			m.notTaken(e, fmt.Sprintf("v%d never finished loading", n))
		}
	case errors.As(err, &ce) && ce.Code == protocol.CodeDifferentPackage:
		// Go's own check found a package the engine holds changed under
		// it: only a new engine can take this version.
		m.warn("the engine holds an older copy of a package this version needs; a new engine is built and takes over when ready")
		if e != m.serving {
			m.notTaken(e, "it holds an older copy of a package")
		}
		m.pendingHost = true
		m.startJob(true, false)
	case errors.As(err, &ce):
		// The engine published load.fail itself, with its reasons.
		m.setState(n, event.VersionRejected, ce.Msg)
		if e != m.serving {
			m.notTaken(e, fmt.Sprintf("it rejected v%d", n))
		}
	default:
		m.setState(n, event.VersionRejected, err.Error())
		if e != m.serving {
			m.notTaken(e, err.Error())
		}
	}
}

// activate makes version n live in the serving engine: a switch when the
// engine holds it, a load when it was built for the engine but not loaded
// in it (a version from before a restart).
func (m *model) activate(n int) {
	e := m.serving
	if m.cfg.mode == ModeRestart {
		m.warn("restart mode keeps no other version in the engine to switch to; edit and save instead")
		return
	}
	if e == nil {
		m.warn("no engine serves")
		return
	}
	if !slices.Contains(e.loaded, n) {
		if v := m.versions[n]; v != nil && v.state == event.VersionBuilt && v.build == e.build && v.so != "" {
			m.loadInto(e, n)
			return
		}
		m.warn(fmt.Sprintf("v%d can't go live: the serving engine doesn't hold it, and it was not built for this engine", n))
		return
	}
	if e.activating != 0 {
		// One switch at a time, in the order asked: the next waits.
		e.nextActivate = n
		return
	}
	e.activating = n
	e.asked++
	m.do(actActivate{e: e, n: n})
}

func (m *model) onActivated(in inActivated) {
	e := in.e
	e.activating = 0
	if in.err != nil {
		m.warn(in.err.Error())
		e.doubt = true
	} else {
		e.live = in.n
		m.refreshStates()
	}
	if k := e.nextActivate; k != 0 && !e.exited {
		e.nextActivate = 0
		m.activate(k)
	}
}

// step returns the version before (by -1) or after (by +1) the live one
// among those the serving engine can serve: the ones it holds, and the
// ones built for it that it could load (a replaced engine holds only the
// version it started with); 0 for none. A suspect it does not hold is
// skipped.
func (m *model) step(by int) int {
	e := m.serving
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
	can := slices.Clone(e.loaded)
	for n, v := range m.versions {
		if v.state == event.VersionBuilt && v.build == e.build && v.so != "" && v.suspect == "" {
			can = append(can, n)
		}
	}
	if base != 0 {
		can = append(can, base)
	}
	slices.Sort(can)
	can = slices.Compact(can)
	i := slices.Index(can, base)
	if i < 0 || i+by < 0 || i+by >= len(can) {
		return 0
	}
	return can[i+by]
}
