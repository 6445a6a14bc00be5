package runner

import (
	"os"
	"slices"
	"time"

	"github.com/hotrun-dev/hotrun/builder"
	"github.com/hotrun-dev/hotrun/event"
	"github.com/hotrun-dev/hotrun/watcher"
)

// loop is the supervisor's state: the model of engines and versions, and
// the build job under way. Only its run goroutine touches it; everything
// else reports back through post.
type loop struct {
	cfg       Config
	r         *Runner
	dir       string
	statePath string // the state snapshot; it outlives the session
	b         *builder.Builder
	ev        event.Publisher
	changes   <-chan watcher.Change
	activity  <-chan string // the watcher's early hints
	reqs      <-chan request
	posts     chan func()   // results of the loop's goroutines, run on the loop
	done      chan struct{} // closed when the loop returns: nothing is posted after

	// The model. Each fact has one owner, here.
	versions    map[int]*version
	next        int                 // the last version number handed out
	engines     []*engine           // every engine process alive (or being started)
	serving     *engine             // the engine that takes traffic; nil while none
	newest      *engineBuild        // the newest good engine build; nil before one
	served      *engineBuild        // the build of the engine that served last
	pendingHost bool                // a package the engine holds changed; no engine of a new build serves yet
	listeners   map[string]*os.File // the app's listening sockets, held across engines
	restored    bool                // an engine of this session took over: later ones restore the snapshot
	crashes     []crash             // recent crashes, for the blame and the crash-loop rules
	retry       <-chan time.Time    // when to replace a crashed engine; nil for not now
	retryTarget int                 // the version that replacement serves
	gaveUp      string              // why hotrun stopped replacing the engine; "" while it goes on
	lastMem     event.Memory
	memAt       time.Time // when the serving engine's memory was last read
	forgotten   int       // ended versions dropped from versions (see forgetEnded)
	lastLogic   string    // content hash of the last logic tree built
	engineIDs   int
	dirty       bool  // the version list changed since it was last published
	disk        int64 // what .hotrun holds, as the last prune measured it
	pruning     bool  // a prune runs
	pruneAgain  bool  // the model changed while it ran (or a build ran): prune once more

	job buildJob // the build under way
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
}

// engineBuild is one build of the engine executable. A plugin loads only
// into an engine of the build it was built against.
type engineBuild struct {
	id   int
	path string
}

// Engine states.
const (
	engStarting = "starting" // the process is starting
	engStandby  = "standby"  // it loads its version, without traffic
	engServing  = "serving"  // it took over: it takes the traffic
	engDraining = "draining" // it hands over to the next one
	engHung     = "hung"     // it stopped answering
)

// engine is one engine process, as the model knows it: what it reported,
// never a guess.
type engine struct {
	id       int
	proc     *Engine // nil while starting
	build    *engineBuild
	state    string
	target   int     // the version it loads before it takes over; 0 for none
	newAbove int     // versions above this number were built while it was readied (see builtUpTo)
	replaces *engine // the engine it takes over from; nil for none
	why      string  // why it was started, for the events

	loaded  []int // what it reported loaded, ascending
	live    int   // what it reported serving
	loading int   // the version a load under way asks for; 0 for none

	activating   int // the version a switch under way makes live; 0 for none
	nextActivate int // the switch asked for while one was under way

	servingAt  time.Time // when it took over
	lastAnswer time.Time // its last answer to anything
	pinging    bool      // a ping is under way
	heard      int64     // proc.heard when the loop last looked: more since is an answer
	worked     int64     // proc.work at the last pulse: more since means it is busy
	quiet      bool      // it reported no work between the last two pulses
	savedWork  int64     // proc.work when the last snapshot was asked for
	savedAt    time.Time // when the last snapshot was asked for (or it took over)
	wasState   string    // the state it had before it hung
	doubt      bool      // a call went unanswered: re-read its status at its next answer
	expectExit bool      // hotrun stops it: its exit is no crash
	exited     bool
	saving     bool // a snapshot is under way
}

func (e *engine) pid() int {
	if e.proc == nil {
		return 0
	}
	return e.proc.PID()
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
func (l *loop) setState(n int, state, why string) {
	v := l.versions[n]
	if v == nil || (v.state == state && v.why == why) {
		return
	}
	if v.state == event.VersionBlamed && state != event.VersionGone {
		return // a blamed version stays blamed
	}
	v.state, v.why = state, why
	if state == event.VersionLive {
		v.liveAt = time.Now()
	}
	l.dirty = true
}

// live returns the version the serving engine answers with, or 0.
func (l *loop) live() int {
	if l.serving == nil {
		return 0
	}
	return l.serving.live
}

// lastGood returns the newest version of engine build b that went live and
// was never blamed or rejected, other than except; 0 for none.
func (l *loop) lastGood(b *engineBuild, except int) int {
	best := 0
	for n, v := range l.versions {
		if n == except || v.build != b || v.liveAt.IsZero() {
			continue
		}
		switch v.state {
		case event.VersionBlamed, event.VersionRejected, event.VersionFailed:
			continue
		}
		if n > best {
			best = n
		}
	}
	return best
}

// standby returns the engine being readied to take over, or nil.
func (l *loop) standby() *engine {
	for _, e := range l.engines {
		if e.state == engStarting || e.state == engStandby {
			return e
		}
	}
	return nil
}

// refreshStates makes every version's state say what the engines hold: live
// in the serving engine, loaded there, or gone from every engine.
func (l *loop) refreshStates() {
	held := make(map[int]bool)
	for _, e := range l.engines {
		for _, n := range e.loaded {
			held[n] = true
		}
		if e.target != 0 {
			held[e.target] = true
		}
	}
	for n, v := range l.versions {
		switch v.state {
		case event.VersionBuilding, event.VersionFailed, event.VersionRejected, event.VersionBlamed:
			continue
		}
		switch {
		case l.serving != nil && l.serving.live == n:
			l.setState(n, event.VersionLive, "")
		case l.serving != nil && slices.Contains(l.serving.loaded, n):
			l.setState(n, event.VersionLoaded, "")
		case held[n] || l.reachable(v):
			l.setState(n, event.VersionBuilt, "")
		default:
			l.setState(n, event.VersionGone, "no engine holds it, and none can load it")
		}
	}
	l.forgetEnded()
}

// keepEnded is how many of the versions that can never serve again (gone,
// or failed to build) the list keeps. Older ones are forgotten, so that
// over a day-long session the list, and the work done on it at each save,
// stay the same size.
const keepEnded = 50

// forgetEnded forgets all but the newest keepEnded ended versions.
func (l *loop) forgetEnded() {
	var ended []int
	for n, v := range l.versions {
		if v.state == event.VersionGone || v.state == event.VersionFailed {
			ended = append(ended, n)
		}
	}
	if len(ended) <= keepEnded {
		return
	}
	slices.Sort(ended)
	for _, n := range ended[:len(ended)-keepEnded] {
		delete(l.versions, n)
		l.forgotten++
	}
	l.dirty = true
}

// keepBuilt is how many of the newest built versions of the serving
// engine's build keep their files while no engine holds them: a crash
// replacement or a rollback may load them again.
const keepBuilt = 10

// reachable reports whether v, held by no engine, could still be loaded:
// built against the engine build that serves (or will), and among the
// newest keepBuilt of them.
func (l *loop) reachable(v *version) bool {
	if v.so == "" || (v.build != l.served && v.build != l.newest) {
		return false
	}
	newer := 0
	for _, w := range l.versions {
		if w.n > v.n && w.build == v.build && w.so != "" {
			newer++
		}
	}
	return newer < keepBuilt
}

// publishVersions sends the version list, newest first, when it changed.
func (l *loop) publishVersions() {
	if !l.dirty {
		return
	}
	l.dirty = false
	ns := make([]int, 0, len(l.versions))
	for n := range l.versions {
		ns = append(ns, n)
	}
	slices.Sort(ns)
	slices.Reverse(ns)
	list := event.Versions{Versions: make([]event.VersionInfo, 0, len(ns)), Forgotten: l.forgotten, DiskBytes: l.disk}
	for _, n := range ns {
		v := l.versions[n]
		list.Versions = append(list.Versions, event.VersionInfo{
			Version:       n,
			State:         v.state,
			Why:           v.why,
			Built:         v.built,
			BuildDuration: event.Duration(v.buildDur),
			LoadDuration:  event.Duration(v.loadDur),
			Files:         v.files,
		})
	}
	l.ev.Publish(list)
}
