// Package event defines the one stream of typed events that hotrun's parts
// publish and its views consume.
//
// The watcher, the builder and the supervisor never print: they publish
// events. The TUI, the plain printer and the JSON printer are three views of
// the same stream, so whatever one view can show, the others can too, and
// tests and editors can rely on the JSON form.
//
// # JSON form
//
// With -json every event is one line: "time" (RFC 3339 with nanoseconds),
// "event" (the name returned by [Event.Name]), then the event's own fields
// in the order the struct declares them. Durations are milliseconds
// ("duration_ms").
//
// The events an engine reports are the control protocol's own types
// (github.com/hotrun-dev/hotrun/hot/protocol), so that both sides of the
// socket speak one form; besides that package, this one uses only the
// standard library.
package event

import (
	"fmt"
	"github.com/hotrun-dev/hotrun/hot/protocol"
	"time"
)

// An Event is one thing that happened. Each concrete type below is one kind
// of event; Name returns its stable name, as used in the JSON form.
type Event interface {
	Name() string
}

// Record is an Event with the time it was published.
type Record struct {
	Time  time.Time
	Event Event
}

// Duration is a time.Duration that marshals to JSON as milliseconds, so the
// JSON form stays readable and language-neutral.
type Duration = protocol.Duration

// Change kinds: whether a change can be hot-swapped.
const (
	KindLogic = "logic" // only logic packages changed: build a new plugin version
	KindHost  = "host"  // a package the engine holds changed: rebuild and restart the engine
)

// Change is one burst of file changes, as the watcher coalesced it.
type Change struct {
	Files    []string     `json:"files"`
	Packages []string     `json:"packages,omitempty"`
	Kind     string       `json:"kind"`
	Stats    []FileChange `json:"stats,omitempty"` // lines added and removed per logic file, when known
}

// Ignored says that the watcher saw a path and ignored it, and why.
// It is published only when the user asks for it (-verbose).
type Ignored struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// Diagnostic is one compiler message, with the path of the user's file (never
// hotrun's staging copy), relative to the project when it lies inside it.
type Diagnostic struct {
	File string `json:"file"`
	Line int    `json:"line"`
	Col  int    `json:"col,omitempty"`
	Msg  string `json:"msg"`
	// Source is the text of line Line of the user's file, tabs and all,
	// as it was when the build failed ("" when unknown).
	Source string `json:"source,omitempty"`
}

// String formats d the way the go command does: file:line:col: msg.
func (d Diagnostic) String() string {
	switch {
	case d.File == "":
		return d.Msg
	case d.Col > 0:
		return fmt.Sprintf("%s:%d:%d: %s", d.File, d.Line, d.Col, d.Msg)
	case d.Line > 0:
		return fmt.Sprintf("%s:%d: %s", d.File, d.Line, d.Msg)
	}
	return d.File + ": " + d.Msg
}

// Build targets.
const (
	TargetLogic  = "logic"  // a plugin version
	TargetEngine = "engine" // the host executable
)

// BuildStart says a build began. Version is 0 for an engine build.
type BuildStart struct {
	Version int    `json:"version"`
	Target  string `json:"target"`
}

// BuildOK says a build finished and produced Path. Route says how a
// plugin was built: "fast" (compile and link run directly) or "go build";
// Linker names the external linker ("mold", "lld", "gold", "default").
type BuildOK struct {
	Version  int      `json:"version"`
	Target   string   `json:"target"`
	Duration Duration `json:"duration_ms"`
	Path     string   `json:"path"`
	Route    string   `json:"route,omitempty"`
	Linker   string   `json:"linker,omitempty"`
}

// BuildFail says a build failed. Diagnostics holds the compiler's messages
// when there are any; Error is the whole failure in words.
type BuildFail struct {
	Version     int          `json:"version"`
	Target      string       `json:"target"`
	Duration    Duration     `json:"duration_ms"`
	Error       string       `json:"error"`
	Diagnostics []Diagnostic `json:"diagnostics,omitempty"`
}

// BuildCanceled says a build was abandoned because a newer change made it
// stale.
type BuildCanceled struct {
	Version int    `json:"version"`
	Target  string `json:"target"`
}

// EngineStart says the engine process started.
type EngineStart struct {
	PID int `json:"pid"`
}

// EngineExit says the engine process ended. Code is its exit code, or -1
// when a signal ended it. Expected says hotrun ended it (a handover, a
// restart, an engine it gave up on, hotrun's own stop): no crash.
type EngineExit struct {
	PID      int    `json:"pid"`
	Code     int    `json:"code"`
	Signal   string `json:"signal,omitempty"`
	Reason   string `json:"reason,omitempty"`
	Expected bool   `json:"expected,omitempty"`
}

// String describes the exit for people: "pid 42 exited (signal killed): why".
func (e EngineExit) String() string {
	how := fmt.Sprintf("code %d", e.Code)
	if e.Signal != "" {
		how = "signal " + e.Signal
	}
	s := fmt.Sprintf("pid %d exited (%s)", e.PID, how)
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// EngineRestart says hotrun is restarting the engine, and why.
type EngineRestart struct {
	PID    int    `json:"pid"`
	Reason string `json:"reason"`
}

// Memory reports the serving engine's resident memory (PID says which
// engine) and how many plugin versions it holds; loaded plugins are never
// unmapped, so both only grow.
type Memory struct {
	PID            int   `json:"pid"`
	RSSBytes       int64 `json:"rss_bytes"`
	VersionsLoaded int   `json:"versions_loaded"`
}

// The events an engine reports are the control protocol's: one type on
// both sides of the socket.
type (
	// LoadOK says the engine loaded a version and it now serves requests.
	LoadOK = protocol.LoadOK
	// LoadFail says the engine rejected a version; the previous one keeps
	// serving. Error is the raw error, Explain one plain sentence with the
	// fix.
	LoadFail = protocol.LoadFail
	// Rollback says the engine switched to a version it had loaded before.
	Rollback = protocol.Rollback
	// Request is one request the engine served.
	Request = protocol.Request
	// RequestCut is a request a draining engine cut at the end of its
	// drain grace.
	RequestCut = protocol.RequestCut
	// Panic says the engine recovered a panic in plugin code.
	Panic = protocol.Panic
	// StateSaved says the engine wrote a snapshot of its state.
	StateSaved = protocol.StateSaved
	// StateRestored says a new engine read the snapshot back, or could not.
	StateRestored = protocol.StateRestored
	// Log is one line of text: the engine's own output, or a message of
	// hotrun's that fits no other event.
	Log = protocol.Log
	// Unit is one unit of work that is not an HTTP request, run on one
	// version through the engine library.
	Unit = protocol.Unit
)

// Log sources.
const (
	SourceEngine = "engine" // a line the engine process wrote to stdout or stderr
	SourceHotrun = "hotrun" // a message of hotrun's own
)

// Name methods: the stable names of the JSON form.

func (Change) Name() string        { return "change" }
func (Ignored) Name() string       { return "ignored" }
func (BuildStart) Name() string    { return "build.start" }
func (BuildOK) Name() string       { return "build.ok" }
func (BuildFail) Name() string     { return "build.fail" }
func (BuildCanceled) Name() string { return "build.cancel" }
func (EngineStart) Name() string   { return "engine.start" }
func (EngineExit) Name() string    { return "engine.exit" }
func (EngineRestart) Name() string { return "engine.restart" }
func (Memory) Name() string        { return "memory" }
