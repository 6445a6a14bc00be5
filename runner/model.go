package runner

import (
	"reflect"
	"slices"
	"time"

	"github.com/hotrun-dev/hotrun/event"
	"github.com/hotrun-dev/hotrun/gosrc"
)

// model is the supervisor's state and its decisions: the engines and the
// versions, the build under way, the crash history. update takes one input
// and returns the actions to carry out; nothing else changes it, and it
// does nothing but decide (see messages.go). Each fact has one owner,
// here.
type model struct {
	cfg modelConfig

	now time.Time // the time of the input being decided
	out []action  // the actions decided so far for this input

	versions    map[int]*version
	next        int          // the last version number handed out
	engines     []*engine    // every engine process alive (or being started)
	serving     *engine      // the engine that takes traffic; nil while none
	newest      *engineBuild // the newest good engine build; nil before one
	served      *engineBuild // the build of the engine that served last
	pendingHost bool         // a package the engine holds changed; no engine of a new build serves yet
	restored    bool         // an engine of this session took over: later ones restore the snapshot
	crashes     []crash      // recent crashes, for the crash-loop rules
	retrying    bool         // a crash replacement's timer is armed
	retryTarget int          // the version that replacement serves
	gaveUp      string       // why hotrun stopped replacing the engine; "" while it goes on
	lastMem     event.Memory
	memAt       time.Time    // when the serving engine's memory was last looked at
	forgotten   int          // ended versions dropped from versions (see forgetEnded)
	dirty       bool         // the version list changed since it was last published
	disk        int64        // what .hotrun holds, as the last prune measured it
	pruning     bool         // a prune runs
	pruneAgain  bool         // the model changed while it ran (or a build ran): prune once more
	adopted     *engineBuild // the build of an engine adopted from the session before, until a build says whether the source still makes it

	// lastLogic is the logic tree of the last version built, each file's
	// digest; tree is the logic tree as last known: what the last build
	// staged, and what every change since read (nil while unknown). They
	// are equal when a save changed no byte of what was built.
	lastLogic map[string]gosrc.Digest
	tree      map[string]gosrc.Digest

	// ended is how the last engine that mattered ended (the one that
	// served, or one that died while none served), and wasLive the
	// version the last serving engine served: what the engines snapshot
	// says while none serves.
	ended   *event.EngineExit
	wasLive int
	shown   event.Engines // the engines snapshot last published

	job buildJob // the build under way
}

// modelConfig is what the model needs of the runner's Config.
type modelConfig struct {
	mode          string
	maxVersions   int
	maxRSS        int64
	snapshotEvery time.Duration
	fresh         bool
	statePath     string // the state snapshot; it outlives the session
}

func newModel(cfg modelConfig) *model {
	return &model{cfg: cfg, versions: make(map[int]*version), shown: event.Engines{Engines: []event.EngineInfo{}}}
}

// update decides on one input, at time now, and returns the actions.
func (m *model) update(now time.Time, in input) []action {
	m.now, m.out = now, nil
	switch in := in.(type) {
	case inBegin:
		m.pendingHost = true
		m.startJob(true, false)
	case inChange:
		m.onChange(in)
	case inActivity:
		m.onActivity(in)
	case inSpecDue:
		m.job.specArmed = false
		if m.job.running == 0 && !m.pendingHost && m.serving != nil {
			m.startJob(false, true)
		}
	case inStaged:
		m.onStaged(in)
	case inBuilt:
		m.onBuilt(in)
	case inStarted:
		m.onStarted(in)
	case inStatus:
		m.onStatus(in)
	case inLoaded:
		m.onLoaded(in)
	case inActivated:
		m.onActivated(in)
	case inSnapshotted:
		m.onSnapshotted(in)
	case inStateChecked:
		m.onStateChecked(in)
	case inDrained:
		m.onDrained(in)
	case inTookOver:
		m.onTookOver(in)
	case inPong:
		m.onPong(in)
	case inExited:
		m.onExit(in)
	case inPruned:
		m.onPruned(in)
	case inRetryDue:
		m.retrying = false
		if m.serving == nil && m.standby() == nil && m.gaveUp == "" {
			m.replace(m.retryTarget, m.replacementBuild(), "")
		}
	case inPulse:
		m.pulse(in)
	case inKey:
		m.onKey(in)
	case inAdopted:
		m.adopt(in)
	}
	m.publishVersions()
	m.publishEngines()
	out := m.out
	m.out = nil
	return out
}

func (m *model) do(a action) { m.out = append(m.out, a) }

func (m *model) publish(ev event.Event) { m.do(actPublish{ev}) }

func (m *model) warn(msg string) {
	m.publish(event.Log{Source: event.SourceHotrun, Level: "warn", Text: msg})
}

func (m *model) fail(msg string) {
	m.publish(event.Log{Source: event.SourceHotrun, Level: "error", Text: msg})
}

// version is one version of the session.
type version struct {
	n        int
	state    string // event.Version*
	why      string
	so       string       // the plugin (hot swap) or the engine executable (restart mode)
	build    *engineBuild // the engine build its shared packages match
	built    time.Time
	buildDur time.Duration
	loadDur  time.Duration
	files    []event.FileChange
	liveAt   time.Time // when it last went live; zero if never
	// suspect says why the version is suspected: an engine died on its
	// own while it was live. A suspect is never chosen to fall back to
	// while a version that never was can serve; ownCrashes counts those
	// deaths (two blame it).
	suspect    string
	ownCrashes int
}

// engineBuild is one build of the engine executable. A plugin loads only
// into an engine of the build it was built against. Builds, like engines,
// are told apart by pointer: the model never needs to number them.
type engineBuild struct {
	path string
}

// Engine states, as the engines snapshot names them.
const (
	engStarting = event.EngineStarting     // the process is starting
	engStandby  = event.EngineStandby      // it loads its version, without traffic
	engServing  = event.EngineServing      // it took over: it takes the traffic
	engDraining = event.EngineDraining     // it hands over to the next one
	engHung     = event.EngineUnresponsive // it stopped answering
)

// engine is one engine process, as the model knows it: what it reported,
// never a guess.
type engine struct {
	pid      int // 0 while starting
	build    *engineBuild
	state    string
	target   int     // the version it loads before it takes over; 0 for none
	newAbove int     // versions above this number were built while it was readied (see builtUpTo)
	replaces *engine // the engine it takes over from; nil for none
	why      string  // why it was started, for the events
	// restoreFrom is the snapshot it takes over with, when not the
	// session's: the one a newer engine could not read, handed back to
	// an engine of the build that wrote it.
	restoreFrom string
	// prev is the build and version the engine before it served, for
	// when it can't read the state: an engine of that build serves it
	// again.
	prevBuild *engineBuild
	prevLive  int
	phase     int // where its handover stands (phase*)

	loaded  []int // what it reported loaded, ascending
	live    int   // what it reported serving
	loading int   // the version a load under way asks for; 0 for none

	activating   int // the version a switch under way makes live; 0 for none
	nextActivate int // the switch asked for while one was under way
	asked        int // counts the loads and switches asked for: a status read before the last is stale

	servingAt  time.Time // when it took over
	lastAnswer time.Time // its last answer to anything
	pinging    bool      // a ping is under way
	heard      int64     // lines heard at the last pulse: more since is an answer
	work       int64     // requests and units it reported, at the last pulse
	quiet      bool      // it reported no work between the last two pulses
	savedWork  int64     // work when the last snapshot was asked for
	savedAt    time.Time // when the last snapshot was asked for (or it took over)
	wasState   string    // the state it had before it hung
	doubt      bool      // a call went unanswered: re-read its status at its next answer
	expectExit bool      // hotrun stops it: its exit is no crash
	killed     bool      // hotrun killed it (it was hung, or abandoned)
	exited     bool
	saving     bool // a snapshot is under way
}

// crash is one death of an engine hotrun did not ask for.
type crash struct {
	at      time.Time
	version int    // the version live then; 0 for none
	outside bool   // a signal from outside ended it: no evidence against any version
	words   string // its last words
	early   bool   // it died within moments of starting or taking over
	code    int    // its exit code
	avoid   int    // a version the replacement must not serve (it could not be loaded); 0 for none
}

// setState changes version n's state, and why.
func (m *model) setState(n int, state, why string) {
	v := m.versions[n]
	if v == nil || (v.state == state && v.why == why) {
		return
	}
	if v.state == event.VersionBlamed && state != event.VersionGone {
		return // a blamed version stays blamed
	}
	v.state, v.why = state, why
	if state == event.VersionLive {
		v.liveAt = m.now
	}
	m.dirty = true
}

// live returns the version the serving engine answers with, or 0.
func (m *model) live() int {
	if m.serving == nil {
		return 0
	}
	return m.serving.live
}

// fallback returns the version an engine of build b falls back to when
// it can't serve the one it served (it was blamed, or the engine died on
// it): the newest version of b that went live and was never blamed,
// rejected or suspected, other than except; failing that, the newest such
// version that was suspected but never blamed; 0 for none. It says why in
// the second result.
func (m *model) fallback(b *engineBuild, except int) (int, string) {
	best, suspect := 0, 0
	for n, v := range m.versions {
		if n == except || v.build != b || v.liveAt.IsZero() || v.so == "" {
			continue
		}
		switch v.state {
		case event.VersionBlamed, event.VersionRejected, event.VersionFailed, event.VersionGone:
			continue
		}
		if v.suspect != "" {
			suspect = max(suspect, n)
			continue
		}
		best = max(best, n)
	}
	switch {
	case best != 0:
		return best, "the newest version that never was live when an engine died"
	case suspect != 0:
		return suspect, "every other version was live when an engine died; this one was never blamed"
	}
	return 0, ""
}

// replacementBuild is the engine build a crash replacement or a restart
// runs: the build of the engine that served last, or the newest before any
// served.
func (m *model) replacementBuild() *engineBuild {
	if m.served != nil {
		return m.served
	}
	return m.newest
}

// lastGood returns the fallback of build b other than except.
func (m *model) lastGood(b *engineBuild, except int) int {
	n, _ := m.fallback(b, except)
	return n
}

// standby returns the engine being readied to take over, or nil.
func (m *model) standby() *engine {
	for _, e := range m.engines {
		if e.state == engStarting || e.state == engStandby {
			return e
		}
	}
	return nil
}

// alive reports whether e is still in the model.
func (m *model) alive(e *engine) bool { return slices.Contains(m.engines, e) }

// refreshStates makes every version's state say what the engines hold: live
// in the serving engine, loaded there, or gone from every engine.
func (m *model) refreshStates() {
	held := make(map[int]bool)
	for _, e := range m.engines {
		for _, n := range e.loaded {
			held[n] = true
		}
		if e.target != 0 {
			held[e.target] = true
		}
	}
	for n, v := range m.versions {
		switch v.state {
		case event.VersionBuilding, event.VersionFailed, event.VersionRejected, event.VersionBlamed:
			continue
		}
		switch {
		case m.serving != nil && m.serving.live == n:
			m.setState(n, event.VersionLive, "")
		case m.serving != nil && slices.Contains(m.serving.loaded, n):
			m.setState(n, event.VersionLoaded, "")
		case held[n] || m.reachable(v):
			m.setState(n, event.VersionBuilt, "")
		default:
			m.setState(n, event.VersionGone, "no engine holds it, and none can load it")
		}
	}
	m.forgetEnded()
}

// keepEnded is how many of the versions that can never serve again (gone,
// or failed to build) the list keeps. Older ones are forgotten, so that
// over a day-long session the list, and the work done on it at each save,
// stay the same size.
const keepEnded = 50

// forgetEnded forgets all but the newest keepEnded ended versions.
func (m *model) forgetEnded() {
	var ended []int
	for n, v := range m.versions {
		if v.state == event.VersionGone || v.state == event.VersionFailed {
			ended = append(ended, n)
		}
	}
	if len(ended) <= keepEnded {
		return
	}
	slices.Sort(ended)
	for _, n := range ended[:len(ended)-keepEnded] {
		delete(m.versions, n)
		m.forgotten++
	}
	m.dirty = true
}

// keepBuilt is how many of the newest built versions of the serving
// engine's build keep their files while no engine holds them: a crash
// replacement or a rollback may load them again.
const keepBuilt = 10

// reachable reports whether v, held by no engine, could still be loaded:
// built against the engine build that serves (or will), and among the
// newest keepBuilt of them.
func (m *model) reachable(v *version) bool {
	if v.so == "" || (v.build != m.served && v.build != m.newest) {
		return false
	}
	newer := 0
	for _, w := range m.versions {
		if w.n > v.n && w.build == v.build && w.so != "" {
			newer++
		}
	}
	return newer < keepBuilt
}

// publishVersions publishes the version list, newest first, when it
// changed.
func (m *model) publishVersions() {
	if !m.dirty {
		return
	}
	m.dirty = false
	ns := make([]int, 0, len(m.versions))
	for n := range m.versions {
		ns = append(ns, n)
	}
	slices.Sort(ns)
	slices.Reverse(ns)
	list := event.Versions{Versions: make([]event.VersionInfo, 0, len(ns)), Forgotten: m.forgotten, DiskBytes: m.disk}
	for _, n := range ns {
		v := m.versions[n]
		list.Versions = append(list.Versions, event.VersionInfo{
			Version:       n,
			State:         v.state,
			Why:           v.why,
			Suspect:       v.suspect,
			Built:         v.built,
			BuildDuration: event.Duration(v.buildDur),
			LoadDuration:  event.Duration(v.loadDur),
			Files:         v.files,
		})
	}
	m.publish(list)
}

// publishEngines publishes the engines snapshot when it says something
// other than the one published last. It compares what it would say rather
// than trust a flag set wherever an engine changes: engines change in
// every decide_*.go, and a flag one of them forgot would leave the screen
// and the probes a step behind.
func (m *model) publishEngines() {
	now := event.Engines{Engines: make([]event.EngineInfo, 0, len(m.engines))}
	for _, e := range m.engines {
		info := event.EngineInfo{PID: e.pid, State: e.state, Serving: e == m.serving, Live: e.live, Why: e.why}
		if len(e.loaded) > 0 {
			info.Loaded = slices.Clone(e.loaded) // the model appends to its own in place
		}
		if v := m.versions[e.live]; info.Serving && v != nil && v.state == event.VersionLive {
			info.Since = v.liveAt
		}
		now.Engines = append(now.Engines, info)
	}
	if m.serving == nil {
		if m.ended != nil {
			ended := *m.ended
			now.Ended, now.WasLive = &ended, m.wasLive
		}
		now.GaveUp = m.gaveUp
	}
	if reflect.DeepEqual(now, m.shown) {
		return
	}
	m.shown = now
	m.publish(now)
}
