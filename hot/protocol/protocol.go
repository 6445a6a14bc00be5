// Package protocol is the control protocol between hotrun and the engine
// library (package hot): the commands hotrun sends, the replies and events
// the engine sends back, the environment hotrun starts an engine with, and
// the hook hotrun's generated code calls in restart mode. Users never
// import it; it is a package of its own so that hotrun and the library
// share one definition of every line that crosses the socket.
//
// # The wire
//
// A Unix socket in a private directory (0700; the socket 0600, and the
// engine checks its peer's uid where the system can tell), named by
// EnvControl. Newline-delimited JSON both ways, at most MaxLine bytes a
// line. hotrun sends [Command]s; the engine answers each with a [Reply]
// carrying its ID, and sends events ([Marshal]) and [Listener] lines (with
// the socket as SCM_RIGHTS) whenever it likes. Commands run concurrently.
//
// This package uses only the standard library.
package protocol

// Version is the version of this protocol. The engine reports it in every
// "status" reply; hotrun refuses an engine that speaks another, with a
// sentence that says which side to update.
const Version = 3

// Environment variables hotrun sets for the engine.
const (
	// EnvControl is the path of the Unix socket the engine listens on for
	// hotrun's commands.
	EnvControl = "HOTRUN_CONTROL"
	// EnvBuildDir is the only directory the engine loads plugins from when
	// it takes commands from hotrun.
	EnvBuildDir = "HOTRUN_BUILD_DIR"
	// EnvListeners names the listening sockets hotrun hands to the engine
	// as inherited file descriptors: "network:addr=fd;network:addr=fd".
	EnvListeners = "HOTRUN_LISTENERS"
	// EnvState is the file the engine writes its state snapshots to.
	EnvState = "HOTRUN_STATE"
	// EnvStaticVersion is the version number hotrun gives a logic compiled
	// into the engine (restart mode).
	EnvStaticVersion = "HOTRUN_STATIC_VERSION"
	// EnvOrphanGrace is how long an engine that serves goes on serving
	// when hotrun goes away without stopping it (killed): a hotrun that
	// connects meanwhile takes it over; past it, the engine saves its
	// state and exits. A Go duration ("2m"); "" or "0" stops it at once.
	EnvOrphanGrace = "HOTRUN_ORPHAN_GRACE"
)

// MaxLine is the longest control line either side accepts; longer lines are
// rejected without reading them into memory.
const MaxLine = 64 << 10

// Command is one line hotrun sends to the engine over the control socket.
// Commands run concurrently, each answered by a Reply with its ID: a load
// whose init never returns must not keep hotrun from pinging the engine or
// asking it to save its state.
type Command struct {
	ID      int64  `json:"id"`
	Op      string `json:"op"` // "ping", "status", "load", "activate", "check-state", "takeover", "snapshot" or "stop"
	Version int    `json:"version,omitempty"`
	// Path is the .so for "load"; the snapshot to decode for
	// "check-state" and to restore for "takeover" ("" for none).
	Path string `json:"path,omitempty"`
	// Strict, for "takeover": a snapshot the engine can't read is
	// refused (CodeStateUnreadable) instead of set aside for a fresh
	// state, because the engine before can still serve it.
	Strict bool `json:"strict,omitempty"`
	// Grace, for "stop": how long the requests under way may finish
	// before they are cut; 0 means 10s.
	Grace Duration `json:"grace_ms,omitempty"`
}

// Reply answers the Command with the same ID.
type Reply struct {
	Reply   int64  `json:"reply"`
	Error   string `json:"error,omitempty"`
	Code    string `json:"code,omitempty"` // what kind of failure, for hotrun to act on (Code* below)
	Explain string `json:"explain,omitempty"`
	// Path, for a takeover refused with CodeStateUnreadable, is where the
	// snapshot it could not read is kept.
	Path string `json:"path,omitempty"`
	// For "status": the version serving (0 for none), every version
	// loaded and the plugin each came from, the highest version number
	// it was ever asked to load, whether the engine has taken over, the
	// protocol, and the engine library's module version
	// ([LibraryVersion]), so that hotrun can name both sides' versions
	// when they disagree.
	Version  int      `json:"version,omitempty"`
	Loaded   []int    `json:"loaded,omitempty"`
	Paths    []string `json:"paths,omitempty"`
	Newest   int      `json:"newest,omitempty"`
	Serving  bool     `json:"serving,omitempty"`
	Protocol int      `json:"protocol,omitempty"`
	Library  string   `json:"library,omitempty"`
}

// Listener is the line that goes with a listening socket the engine hands
// to hotrun (as SCM_RIGHTS on the same message), so that hotrun can keep the
// socket open across engine restarts and pass it to the next engine.
type Listener struct {
	Listener string `json:"listener"` // "network:addr", as in EnvListeners
}

// Codes name the known failures in a Reply, so that hotrun acts on what
// happened without reading the words meant for people.
const (
	CodeNoSymbol         = "no-symbol"         // the plugin exports no such symbol
	CodeWrongType        = "wrong-type"        // the symbol has another type
	CodeInitPanic        = "init-panic"        // a package init of the plugin panicked
	CodeCheckFailed      = "check-failed"      // a check rejected the version
	CodeMigrateFailed    = "migrate-failed"    // the Migrate hook failed
	CodeLoadedTwice      = "loaded-twice"      // the version number was loaded before
	CodeOutsideBuild     = "outside-build"     // the path is not in hotrun's build directory
	CodeAlreadyLoaded    = "already-loaded"    // Go loaded this plugin path before
	CodeDifferentPackage = "different-package" // a package the engine holds changed since it was built
	CodeNoPlugins        = "no-plugins"        // this Go has no plugin support here
	CodeMissingFile      = "missing-file"      // the .so is gone
	CodeStateUnreadable  = "state-unreadable"  // the engine can't decode the state snapshot (its types changed)
	CodeUnknownCommand   = "unknown-command"   // the engine's library has no such command (it is older than hotrun)
	CodeOther            = ""                  // anything else
)
