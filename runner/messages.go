package runner

import (
	"time"

	"github.com/hotrun-dev/hotrun/builder"
	"github.com/hotrun-dev/hotrun/event"
	"github.com/hotrun-dev/hotrun/gosrc"
)

// The supervisor's decisions are a model (model.go) that takes one input at
// a time and returns the actions to carry out; the loop (loop.go) turns
// what happens (a save, a build's end, an engine's answer, its death, a
// key, a tick) into inputs and carries the actions out. The model never
// starts a goroutine, reads a file or a clock: the time of each input is
// handed to it, so a table test can play any sequence of inputs without a
// process.

// An input is one thing that happened, for the model to decide on.
type input interface{ isInput() }

// An action is one thing the model decided, for the loop to carry out.
type action interface{ isAction() }

// Inputs.
type (
	// inBegin starts the session: build the engine and the logic.
	inBegin struct{}

	// inChange is a burst of saves, as the watcher coalesced it, with what
	// the builder makes of it: the packages and whether the engine holds
	// them. read is what the watcher read of the logic tree to make it:
	// each file of the tree it read, by its path under the logic
	// directory, the zero Digest for one it found removed.
	inChange struct {
		files []string // relative to the project, for people
		pkgs  []string
		kind  string // event.KindLogic or event.KindHost; "" for neither
		read  map[string]gosrc.Digest
	}

	// inActivity is the first event of a burst, for a speculative build.
	inActivity struct{ kind string }

	// inSpecDue: the speculative build may start now.
	inSpecDue struct{}

	// inStaged: speculative build job id read and staged the logic tree
	// (each file's digest, by its path under the logic directory); it
	// goes on to compile it.
	inStaged struct {
		id   int
		tree map[string]gosrc.Digest
	}

	// inBuilt is a finished build job.
	inBuilt struct {
		res   jobResult
		files []event.FileChange // what changed against the version before, when the logic built
		// sameEngine: the engine it built is, byte for byte, the one an
		// adopted engine runs.
		sameEngine bool
	}

	// inStarted: an engine process started (pid), or could not (err, and
	// its last words).
	inStarted struct {
		e     *engine
		pid   int
		err   error
		words string
	}

	// inStatus answers a status call: the first one (the protocol check
	// of a new engine) or a re-read after a doubt.
	inStatus struct {
		e     *engine
		first bool
		gen   int // the engine's asked count when the status was asked for
		st    Status
		err   error
	}

	// inLoaded answers a load.
	inLoaded struct {
		e    *engine
		n    int
		err  error
		took time.Duration
	}

	// inActivated answers a switch to a loaded version.
	inActivated struct {
		e   *engine
		n   int
		err error
	}

	// inSnapshotted answers a snapshot call.
	inSnapshotted struct {
		e       *engine
		purpose int // snapPeriodic or snapHandover
		err     error
	}

	// inStateChecked answers a standby engine's trial decoding of the
	// state it is to take over.
	inStateChecked struct {
		e   *engine
		err error
	}

	// inDrained: the old engine of a handover drained, saved its state and
	// is gone (or was killed: it was hung).
	inDrained struct {
		e, old *engine
		err    error
		code   int // how the old one ended, as in inExited
		signal string
	}

	// inTookOver answers a takeover.
	inTookOver struct {
		e   *engine
		err error
	}

	// inPong answers a ping.
	inPong struct {
		e   *engine
		err error
	}

	// inExited: an engine's process ended.
	inExited struct {
		e       *engine
		code    int    // -1 when a signal ended it
		signal  string // "" when it exited
		outside bool   // a signal from outside ended it (Engine.KilledFromOutside)
		words   string // its last line of output
	}

	// inPruned: a prune ended; disk is what .hotrun holds now.
	inPruned struct {
		disk int64
		err  error
	}

	// inRetryDue: a crashed engine's replacement may start now.
	inRetryDue struct{}

	// inPulse is the loop's periodic look: what it observed of each
	// running engine since the last one.
	inPulse struct{ obs map[*engine]observation }

	// inAdopted: hotrun attached to engine e, which a hotrun before it
	// started and left serving when it died; st is what it holds, path
	// its executable.
	inAdopted struct {
		e    *engine
		pid  int
		st   Status
		path string
	}

	// inKey is a user's request: a key in the TUI, a line in headless mode.
	inKey struct {
		op int
		n  int // the version, for reqActivate
	}
)

// observation is what the loop reads of an engine process at a pulse.
type observation struct {
	heard int64 // lines it sent so far: more than last time is an answer
	work  int64 // requests and units it reported so far
	rss   int64 // resident memory; 0 when unknown
}

func (inBegin) isInput()        {}
func (inChange) isInput()       {}
func (inActivity) isInput()     {}
func (inSpecDue) isInput()      {}
func (inStaged) isInput()       {}
func (inBuilt) isInput()        {}
func (inStarted) isInput()      {}
func (inStatus) isInput()       {}
func (inLoaded) isInput()       {}
func (inActivated) isInput()    {}
func (inSnapshotted) isInput()  {}
func (inStateChecked) isInput() {}
func (inDrained) isInput()      {}
func (inTookOver) isInput()     {}
func (inPong) isInput()         {}
func (inExited) isInput()       {}
func (inPruned) isInput()       {}
func (inRetryDue) isInput()     {}
func (inPulse) isInput()        {}
func (inKey) isInput()          {}
func (inAdopted) isInput()      {}

// Snapshot purposes.
const (
	snapPeriodic = iota // for crash recovery: at a swap, every SnapshotEvery while it works
	snapHandover        // before a handover: the state the new engine must be able to read
)

// Actions.
type (
	// actPublish publishes an event.
	actPublish struct{ ev event.Event }

	// actBuild starts build job id for version n: the engine and the logic
	// in parallel when withEngine. A speculative job publishes nothing
	// until a Change confirms it, and says what it staged (inStaged) as
	// soon as it has.
	actBuild struct {
		id         int
		n          int
		withEngine bool
		spec       bool
		// sameAs is the executable of an engine adopted from the session
		// before, while no build has said whether the source still makes
		// it: the job tells whether the engine it built is that file,
		// byte for byte (inBuilt.sameEngine). "" once that is settled.
		sameAs string
	}

	// actCancelBuild cancels build job id.
	actCancelBuild struct{ id int }

	// actStart starts engine e from the executable path, beside the one
	// serving, with the held listening sockets. In restart mode the
	// version compiled into it is static.
	actStart struct {
		e      *engine
		path   string
		static int
	}

	// actStatus asks e what it holds.
	actStatus struct {
		e     *engine
		first bool
		gen   int // handed back with the answer
	}

	// actLoad asks e to load plugin so as version n, after checking that
	// the plugin and e's executable were built alike.
	actLoad struct {
		e      *engine
		n      int
		so     string
		engine string // e's executable, for the check
		static bool   // restart mode: wait until e reports the version compiled in
	}

	// actActivate asks e to make version n, loaded before, live.
	actActivate struct {
		e *engine
		n int
	}

	// actSnapshot asks e to save its state.
	actSnapshot struct {
		e       *engine
		purpose int
	}

	// actCheckState asks standby e to decode the state it is to take
	// over, before the engine serving lets go of it.
	actCheckState struct{ e *engine }

	// actDrain has old drain and save its final state, then exit (or
	// kills it, when it is hung): e takes over next.
	actDrain struct {
		e, old *engine
		kill   bool
	}

	// actTakeover tells e to restore the state at path ("" for none) and
	// serve. Strict: a state it can't read is refused, not replaced with a
	// fresh one (the engine before it may still serve it).
	actTakeover struct {
		e      *engine
		path   string
		strict bool
	}

	// actPing pings e.
	actPing struct{ e *engine }

	// actKill kills e at once.
	actKill struct{ e *engine }

	// actPrune removes, off the loop, the plugins not in keep and the
	// engine builds not in engines, and forgets the sources of versions
	// not in sources.
	actPrune struct {
		keep    []string
		engines map[string]bool
		sources map[int]bool
	}

	// actRetryAfter arms the crash replacement's timer.
	actRetryAfter struct{ d time.Duration }

	// actSpecAfter arms the speculative build's timer.
	actSpecAfter struct{ d time.Duration }

	// actKeepSource records version n's logic tree, for diffs.
	actKeepSource struct {
		n    int
		tree map[string]string
	}
)

func (actPublish) isAction()     {}
func (actBuild) isAction()       {}
func (actCancelBuild) isAction() {}
func (actStart) isAction()       {}
func (actStatus) isAction()      {}
func (actLoad) isAction()        {}
func (actActivate) isAction()    {}
func (actSnapshot) isAction()    {}
func (actCheckState) isAction()  {}
func (actDrain) isAction()       {}
func (actTakeover) isAction()    {}
func (actPing) isAction()        {}
func (actKill) isAction()        {}
func (actPrune) isAction()       {}
func (actRetryAfter) isAction()  {}
func (actSpecAfter) isAction()   {}
func (actKeepSource) isAction()  {}

// jobResult is what a build job produced.
type jobResult struct {
	id       int // the job's id
	version  int
	spec     bool            // started speculatively: its events were not published
	final    event.Event     // the logic build's BuildOK or BuildFail, nil if canceled
	engine   *builder.Result // set when the job built the engine
	logic    *builder.Result // set when the logic build succeeded
	logicErr error
	err      error
	// staged is the logic tree the job read and staged, each file's digest
	// by its path under the logic directory (a failed compile's too); nil
	// when it staged nothing.
	staged map[string]gosrc.Digest
	tree   map[string]string // the logic tree it built, for diffs: the content of staged
}
