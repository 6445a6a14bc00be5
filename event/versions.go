package event

import "time"

// Version states: where a version stands in the supervisor's model. The
// model is the one owner of these facts; views only show what it says.
const (
	VersionBuilding = "building" // its build is under way
	VersionFailed   = "failed"   // its build failed
	VersionBuilt    = "built"    // built, not loaded into the serving engine (yet)
	VersionLoaded   = "loaded"   // loaded into the serving engine, not live: one key makes it live
	VersionLive     = "live"     // the version the serving engine answers with
	VersionRejected = "rejected" // the engine refused it (check, init panic, load timeout, wrong symbol)
	VersionBlamed   = "blamed"   // it took an engine down: never loaded again
	VersionGone     = "gone"     // no engine holds it and none can load it again: its files are removed
)

// FileChange is one file of a change, with the lines it added and removed
// against the version before.
type FileChange struct {
	Path    string `json:"path"`
	Added   int    `json:"added"`
	Removed int    `json:"removed"`
}

// VersionInfo is one version of the session, as the supervisor's model
// holds it.
type VersionInfo struct {
	Version int    `json:"version"`
	State   string `json:"state"`
	Why     string `json:"why,omitempty"` // why rejected, failed or blamed
	// Suspect says why the version is suspected: an engine died on its
	// own while it was live. A suspect is never fallen back to while a
	// version that never was can serve; a second death blames it.
	Suspect       string       `json:"suspect,omitempty"`
	Built         time.Time    `json:"built,omitzero"`
	BuildDuration Duration     `json:"build_ms,omitempty"`
	LoadDuration  Duration     `json:"load_ms,omitempty"`
	Files         []FileChange `json:"files,omitempty"` // what changed since the version before
}

// Versions is the version list, newest first, published whenever it
// changes. It holds every version that may still serve and the newest of
// those that never will (gone, failed); Forgotten counts the older ones,
// left out. DiskBytes is what hotrun's own directory (.hotrun) holds.
type Versions struct {
	Versions  []VersionInfo `json:"versions"`
	Forgotten int           `json:"forgotten,omitempty"`
	DiskBytes int64         `json:"disk_bytes"`
}

// Diff is the unified diff of the logic tree between two versions,
// published when someone asks for it (a key in the TUI, "d" in headless
// mode).
type Diff struct {
	From int    `json:"from"`
	To   int    `json:"to"`
	Text string `json:"text"`
}

// Probe is the engine's answer to one of the project's probe requests
// (hotrun.toml probe = ["GET /hello?name=test"]), sent after a version goes
// live or an engine starts. A probe that fails is shown and never counts
// against the engine.
type Probe struct {
	Version  int      `json:"version"`
	Request  string   `json:"request"` // "GET /hello?name=test"
	Status   int      `json:"status,omitempty"`
	Duration Duration `json:"duration_ms"`
	Body     string   `json:"body,omitempty"`     // the start of the body
	Previous string   `json:"previous,omitempty"` // the same probe's body on the version before, when it differs
	Error    string   `json:"error,omitempty"`
}

// Blame says the supervisor holds a version responsible for an engine's
// death, and why; a blamed version is never loaded again.
type Blame struct {
	Version int    `json:"version"`
	Reason  string `json:"reason"`
}

// EngineHung says an engine stopped answering its pings; Since is how long
// it has been silent. hotrun replaces it after a grace period.
type EngineHung struct {
	PID   int      `json:"pid"`
	Since Duration `json:"since_ms"`
}

func (Versions) Name() string   { return "versions" }
func (Diff) Name() string       { return "diff" }
func (Probe) Name() string      { return "probe" }
func (Blame) Name() string      { return "blame" }
func (EngineHung) Name() string { return "engine.hung" }
