package runner

import (
	"fmt"
	"maps"
	"time"

	"github.com/hotrun-dev/hotrun/event"
	"github.com/hotrun-dev/hotrun/gosrc"
)

// buildJob is the build under way, as the model knows it: at most one at
// a time; a newer change cancels it.
type buildJob struct {
	running    int                     // the id of the job under way; 0 for none
	id         int                     // numbers the jobs: a result of another is stale
	ver        int                     // the version it builds (a speculative job's is not claimed yet)
	spec       bool                    // it started early, on the watcher's hint, and no Change has confirmed it yet
	staged     map[string]gosrc.Digest // what the speculative job under way staged; nil until it says
	waiting    *inChange               // a change that came before the speculative job said what it staged
	held       *inBuilt                // a speculative job's end, waiting for its Change
	specArmed  bool                    // the timer of a speculative job is armed
	withEngine bool                    // it builds the engine too
}

// specDelay is how long after the first event of a burst a speculative
// build starts: an editor that truncates and then writes sends its first
// event before the content is there.
const specDelay = 5 * time.Millisecond

func (m *model) onChange(c inChange) {
	if c.kind == "" {
		return
	}
	m.saw(c.read)
	j := &m.job
	// A second change while one waits gives up on the speculative job:
	// the first change's files would go unchecked.
	gaveUpWaiting := m.dropWaiting()
	ch := event.Change{Files: c.files, Packages: c.pkgs, Kind: c.kind}
	if c.kind == event.KindHost {
		m.publish(ch)
		m.pendingHost = true
		m.gaveUp = ""
		m.startJob(true, false)
		return
	}
	if !m.pendingHost && j.running != 0 && j.spec && j.staged == nil && !gaveUpWaiting {
		// The speculative job started, but its staging has not been
		// reported yet (a busy machine): it comes in milliseconds, and a
		// new build would have to stage as well. Decide then (onStaged).
		j.waiting = &c
		return
	}
	if !m.pendingHost && m.confirm(c.read, ch) {
		return
	}
	// A save that changed no byte of the logic tree as it was last built
	// (the watcher saw a revert, or a save the build under way read
	// already) builds nothing.
	if m.tree != nil && maps.Equal(m.tree, m.lastLogic) && m.job.running == 0 && !m.pendingHost {
		m.publish(ch)
		return
	}
	m.publish(ch)
	m.gaveUp = ""
	m.startJob(m.pendingHost, false)
}

// saw takes what a change read of the logic tree into the tree as known.
func (m *model) saw(read map[string]gosrc.Digest) {
	if m.tree == nil {
		return // unknown until a build stages it
	}
	for f, d := range read {
		if d == (gosrc.Digest{}) {
			delete(m.tree, f)
		} else {
			m.tree[f] = d
		}
	}
}

// agrees reports whether a build that staged tree read every file of read
// as the change did: then it built the content the burst ended with. The
// files the change did not read did not change during the burst, so the
// build read them as they are.
func agrees(tree, read map[string]gosrc.Digest) bool {
	if tree == nil {
		return false
	}
	for f, d := range read {
		if tree[f] != d { // a file the build did not stage reads as the zero Digest, as a removed one
			return false
		}
	}
	return true
}

// onStaged notes what the speculative build under way staged, and decides
// on the change that waited for it.
func (m *model) onStaged(in inStaged) {
	if j := &m.job; in.id == j.running && j.spec {
		j.staged = in.tree
		if w := j.waiting; w != nil {
			j.waiting = nil
			m.onChange(*w)
		}
	}
}

// dropWaiting publishes the change that waited for the speculative job's
// staging, when a newer change or a new job supersedes that decision: the
// build that follows reads the tree anew. It reports whether there was one.
func (m *model) dropWaiting() bool {
	w := m.job.waiting
	if w == nil {
		return false
	}
	m.job.waiting = nil
	m.publish(event.Change{Files: w.files, Packages: w.pkgs, Kind: w.kind})
	m.gaveUp = ""
	return true
}

// onActivity starts a logic build as soon as the watcher sees the first
// event of a burst, instead of after its quiet period: the build then runs
// while the debounce waits. It stays unpublished until the Change confirms
// that it built the content the burst ended with (confirm); otherwise it is
// canceled without a word.
func (m *model) onActivity(a inActivity) {
	if m.cfg.mode != ModeHotSwap || m.pendingHost || m.job.running != 0 || m.serving == nil || m.job.specArmed {
		return
	}
	if a.kind != event.KindLogic {
		return
	}
	m.job.specArmed = true
	m.do(actSpecAfter{specDelay})
}

// confirm reports whether the speculative build, running or finished,
// built the logic tree the change's burst ended with: whether it staged
// each file as the watcher read it. Then it publishes it as the build of
// change c.
func (m *model) confirm(read map[string]gosrc.Digest, c event.Change) bool {
	j := &m.job
	switch {
	case j.running != 0 && j.spec && agrees(j.staged, read):
		j.spec = false
		m.next = j.ver // claimed: versions count what users see built
		m.versions[j.ver] = &version{n: j.ver, state: event.VersionBuilding}
		m.dirty = true
		m.publish(c)
		m.publish(event.BuildStart{Version: j.ver, Target: event.TargetLogic})
		return true
	case j.held != nil && agrees(j.held.res.staged, read):
		held := *j.held
		j.held, j.spec = nil, false
		m.next = held.res.version
		m.publish(c)
		m.publish(event.BuildStart{Version: held.res.version, Target: event.TargetLogic})
		m.onBuilt(held)
		return true
	}
	return false
}

// startJob cancels the build under way, if any, and starts one for a new
// version: the engine and the logic, in parallel, when withEngine.
func (m *model) startJob(withEngine, spec bool) {
	m.dropWaiting()
	j := &m.job
	if j.running != 0 {
		m.do(actCancelBuild{j.running})
		if !j.spec {
			m.publish(event.BuildCanceled{Version: j.ver, Target: event.TargetLogic})
			m.setState(j.ver, event.VersionGone, "canceled: a newer change made it stale")
		}
	}
	j.held, j.specArmed, j.staged = nil, false, nil
	// A speculative job claims its number only when confirmed, so that a
	// canceled one leaves no gap in the versions.
	n := m.next + 1
	if !spec {
		m.next = n
		m.versions[n] = &version{n: n, state: event.VersionBuilding}
		m.dirty = true
	}
	j.id++
	j.running, j.ver, j.spec, j.withEngine = j.id, n, spec, withEngine
	a := actBuild{id: j.id, n: n, withEngine: withEngine, spec: spec}
	if m.adopted != nil {
		a.sameAs = m.adopted.path
	}
	m.do(a)
}

// onBuilt takes a finished build into the model and decides what runs
// next.
func (m *model) onBuilt(in inBuilt) {
	res := in.res
	j := &m.job
	current := res.id == j.id
	if current {
		j.running = 0
	}
	if res.spec && current {
		if j.spec {
			j.held = &in // no Change yet: wait for it
			if w := j.waiting; w != nil {
				// It ended without saying what it staged (its staging
				// failed): decide on the change now.
				j.waiting = nil
				m.onChange(*w)
			}
			return
		}
		if res.final != nil {
			m.publish(res.final) // confirmed while it ran
		}
	}
	switch {
	case res.engine != nil && res.err == nil && in.sameEngine && m.adopted != nil:
		// The source still makes the adopted engine: it serves on, and
		// takes the new versions.
		m.newest = m.adopted
		m.adopted = nil
		if m.serving != nil && m.serving.build == m.newest {
			m.pendingHost = false
		}
	case res.engine != nil && res.err == nil && m.cfg.mode == ModeHotSwap:
		m.newest = &engineBuild{path: res.engine.Path}
		m.adopted = nil
	}
	if !current {
		return // a stale job, canceled for a newer one
	}
	// What it staged is the tree as now known: no change came since it
	// started (one would have canceled it), or each one agreed with it.
	m.tree = maps.Clone(res.staged)
	if m.pruneAgain {
		m.pruneAgain = false
		defer m.prune()
	}
	v := m.versions[res.version]
	if v == nil {
		v = &version{n: res.version}
		m.versions[res.version] = v
	}
	v.built = m.now
	switch {
	case res.logic != nil:
		v.buildDur = res.logic.Duration
		v.so = res.logic.Path
		m.lastLogic = res.staged
		if m.cfg.mode == ModeRestart {
			v.build = &engineBuild{path: res.logic.Path}
		} else {
			v.build = m.newest
		}
		m.setState(v.n, event.VersionBuilt, "")
		// What changed since the version before, by the files' places in
		// the project, as the change events name them. The first version
		// changed nothing: it is where the session starts.
		v.files = in.files
		m.do(actKeepSource{n: v.n, tree: res.tree})
	case res.logicErr != nil:
		why := res.logicErr.Error()
		if fe, ok := res.final.(event.BuildFail); ok && len(fe.Diagnostics) > 0 {
			why = fe.Diagnostics[0].String()
		}
		m.setState(v.n, event.VersionFailed, why)
	default:
		m.setState(v.n, event.VersionGone, "its build was canceled")
	}
	m.dirty = true

	if m.cfg.mode == ModeRestart {
		if res.logic != nil {
			m.replace(v.n, v.build, fmt.Sprintf("restart mode: v%d is a new engine", v.n))
		}
		return
	}
	if m.pendingHost {
		switch {
		case res.err != nil && m.serving != nil:
			m.warn(fmt.Sprintf("the engine did not build; pid %d keeps serving v%d", m.serving.pid, m.serving.live))
		case res.logic == nil && m.serving != nil:
			m.warn(fmt.Sprintf("v%d does not build against the packages the engine holds, as they are now; pid %d keeps serving v%d. Fix it and save: the new engine takes over then", v.n, m.serving.pid, m.serving.live))
		case m.newest == nil:
		case res.logic != nil && m.serving == nil:
			m.replace(v.n, m.newest, "") // the session's first engine, or one after a crash: no change to tell
		case res.logic != nil:
			m.replaceTaught(v.n, m.newest, "a package the engine holds changed", "shared-struct")
		case m.serving == nil && m.standby() == nil:
			// The first engine, whose logic doesn't build yet: start it
			// with no version; requests wait for the first one.
			m.replace(0, m.newest, "")
		}
		return
	}
	if res.logic == nil {
		return
	}
	switch {
	case m.serving != nil && m.serving.build == v.build && m.serving.state == engServing:
		// A hung or draining engine gets nothing more: the one that
		// replaces it loads this version when it takes over (missed).
		m.loadInto(m.serving, v.n)
	case m.standby() == nil && m.serving == nil && m.newest != nil:
		m.replace(v.n, m.newest, "")
	case m.standby() == nil && m.serving != nil && m.serving.build != v.build && v.build == m.newest:
		// Built for a newer engine than the one serving, with none being
		// readied: only a new engine can take it.
		m.replaceTaught(v.n, m.newest, "a package the engine holds changed", "shared-struct")
	}
}
