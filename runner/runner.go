package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/hotrun-dev/hotrun/builder"
	"github.com/hotrun-dev/hotrun/event"
	"github.com/hotrun-dev/hotrun/generate"
	"github.com/hotrun-dev/hotrun/internal/command"
	"github.com/hotrun-dev/hotrun/watcher"
)

// Config configures a Runner.
type Config struct {
	Dir        string   // the user's module root
	Engine     string   // engine package, relative to Dir ("./engine")
	Logic      string   // logic plugin package, relative to Dir ("./logic")
	Root       string   // where diagnostics are relative to; "" means Dir
	EngineArgs []string // arguments for the engine
	Flags      []string // go build flags for the engine and every plugin
	// PluginLDFlags go to plugin builds only; "" means "-s -w", which cuts
	// link time and may differ from the engine's.
	PluginLDFlags string
	Watch         watcher.Config // Roots default to Dir; Events is set by Run
	Events        event.Publisher

	// MaxVersions recycles the engine (a restart that carries its state)
	// once it holds this many plugin versions: Go never unloads one. 0
	// means 100; negative means never.
	MaxVersions int
	// MaxRSS recycles the engine once its resident memory passes this many
	// bytes; 0 means never.
	MaxRSS int64
	// SnapshotEvery is how often the engine saves its state, for crash
	// recovery, while it reports requests or units; one that reports none
	// saves every minute (a save that changed nothing writes nothing).
	// 0 means 5s.
	SnapshotEvery time.Duration

	// Fresh starts with empty state instead of restoring the last
	// session's snapshot.
	Fresh bool

	// Drain is how long an engine that hands over to a new one waits for
	// the requests under way before it cuts them (each cut is an event);
	// every other request waits for the handover meanwhile. 0 means 1s.
	Drain time.Duration

	// OrphanGrace is how long the engine serves on when hotrun dies
	// without stopping it (killed, out of memory): a hotrun started in the
	// project meanwhile takes it over, same process, connections kept;
	// past it, the engine saves its state and exits. 0 means 2m; negative
	// means the engine stops with hotrun.
	OrphanGrace time.Duration

	// Mode is ModeHotSwap or ModeRestart; "" chooses hot swap where Go
	// plugins work and restart mode elsewhere, and says so.
	Mode string

	// BeforeBuild are the project's generators (templ generate, sqlc
	// generate), run in order before a build when a file they read
	// changed, and before the session's first build. A failure fails the
	// build; what they write never causes another. Their inputs count as
	// changes.
	BeforeBuild []generate.Step
}

// Modes.
const (
	// ModeHotSwap builds each version as a plugin and swaps it into the
	// running engine.
	ModeHotSwap = "hotswap"
	// ModeRestart builds each version into the engine executable and
	// restarts it, state and sockets carried over: for systems and builds
	// without Go plugins.
	ModeRestart = "restart"
)

// Runner is the supervisor. Create it with New, run it with Run; its
// Rebuild, Restart, Rollback, Forward and Activate methods may be called
// from any goroutine while it runs (they are the TUI's keys), and so may
// Diff and Addrs.
type Runner struct {
	cfg      Config
	requests chan request // from the Controller methods to the loop; dropped when full
	src      *sources     // each version's logic tree, for diffs; shared with the loop
}

type request struct {
	op int // req*
	n  int // the version, for reqActivate
}

// ErrLocked is returned by Run when another hotrun runs in the project.
var ErrLocked = errors.New("the project is locked")

// New returns a Runner for cfg.
func New(cfg Config) *Runner {
	if cfg.Events == nil {
		cfg.Events = event.Discard
	}
	if cfg.PluginLDFlags == "" {
		cfg.PluginLDFlags = "-s -w"
	}
	if cfg.MaxVersions == 0 {
		cfg.MaxVersions = 100
	}
	if cfg.SnapshotEvery == 0 {
		cfg.SnapshotEvery = 5 * time.Second
	}
	if cfg.Drain == 0 {
		cfg.Drain = time.Second
	}
	if cfg.OrphanGrace == 0 {
		cfg.OrphanGrace = 2 * time.Minute
	}
	return &Runner{cfg: cfg, requests: make(chan request, 16), src: newSources()}
}

// Rebuild asks for a new logic build now, even if nothing changed.
func (r *Runner) Rebuild() { r.ask(request{op: reqRebuild}) }

// Restart asks for a new engine, started beside the serving one, that
// takes over with its state.
func (r *Runner) Restart() { r.ask(request{op: reqRestart}) }

// Rollback asks the engine to switch to the version loaded before the
// live one.
func (r *Runner) Rollback() { r.ask(request{op: reqRollback}) }

// Forward undoes a Rollback.
func (r *Runner) Forward() { r.ask(request{op: reqForward}) }

// Activate asks for version n, loaded in the serving engine, to become
// live.
func (r *Runner) Activate(n int) { r.ask(request{op: reqActivate, n: n}) }

// Diff returns the unified diff of the logic tree from version from to
// version to; from 0 means the version before to.
func (r *Runner) Diff(from, to int) (string, error) { return r.src.diff(from, to) }

// Addrs returns the addresses to reach the engine at ("127.0.0.1:12345"):
// the ones it listens on, with the port the kernel gave one asked for as
// port 0, and the loopback for a wildcard host (":8080").
func (r *Runner) Addrs() []string { return r.src.addrList() }

func (r *Runner) ask(q request) {
	select {
	case r.requests <- q:
	default: // the loop is busy with a pile of them already; one more adds nothing
	}
}

// Run builds, starts the engine and reloads on every change until ctx is
// done; then it stops the engine and returns. It returns an error only when
// it can't start at all (no module, no such package, another hotrun in the
// project).
func (r *Runner) Run(ctx context.Context) error {
	dir, err := filepath.Abs(r.cfg.Dir)
	if err != nil {
		return fmt.Errorf("runner: %w", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
		release, err := lockProject(filepath.Join(dir, builder.OutDir))
		if err != nil {
			return err
		}
		defer release()
	}
	mode, why := chooseMode(ctx, r.cfg.Mode)
	if why != "" {
		r.cfg.Events.Publish(event.Log{Source: event.SourceHotrun, Level: "warn", Text: why})
	}
	r.cfg.Mode = mode
	b, err := builder.New(ctx, builder.Config{
		Dir:           dir,
		Engine:        r.cfg.Engine,
		Logic:         r.cfg.Logic,
		Root:          r.cfg.Root,
		Flags:         r.cfg.Flags,
		PluginLDFlags: r.cfg.PluginLDFlags,
	})
	if err != nil {
		return err
	}
	// An engine the hotrun before this one left serving (it was killed)
	// is taken over, or stopped with its state saved.
	out := filepath.Join(dir, builder.OutDir)
	sweepControlDirs()
	adopt := r.attach(ctx, out)
	if adopt == nil {
		if err := b.Clean(); err != nil {
			return err
		}
	}
	wcfg := r.cfg.Watch
	if len(wcfg.Roots) == 0 {
		wcfg.Roots = []string{dir}
	}
	wcfg.Events = r.cfg.Events
	for _, s := range r.cfg.BeforeBuild {
		wcfg.Include = append(slices.Clone(wcfg.Include), s.Inputs...)
	}
	w, err := watcher.New(wcfg)
	if err != nil {
		return fmt.Errorf("runner: %w", err)
	}
	// The state directory outlives the session: the next one restores it.
	state := filepath.Join(dir, builder.OutDir, "state")
	if err := os.MkdirAll(state, 0o700); err != nil {
		return fmt.Errorf("runner: %w", err)
	}

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return w.Run(gctx) })
	l := newLoop(r, dir, filepath.Join(state, "snapshot.json"), b, w)
	l.adopt = adopt
	g.Go(func() error { return l.run(gctx) })
	err = g.Wait()
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

// attach finds the engine that the hotrun before this one left serving
// when it died, and takes it over: it returns what the engine holds. An
// engine it can't take (another mode, -fresh, an engine library that
// speaks another protocol) is stopped: it saves its state, which the next
// engine restores unless -fresh.
func (r *Runner) attach(ctx context.Context, out string) *adoption {
	rec := readRecord(out)
	if rec == nil {
		return nil
	}
	ev := r.cfg.Events
	p, err := AttachEngine(ctx, rec.PID, rec.Control, ev)
	if err != nil {
		ev.Publish(event.Log{Source: event.SourceHotrun, Level: "warn", Text: fmt.Sprintf("the engine the last hotrun left (pid %d) can't be reached (%v); it stops by itself after its grace", rec.PID, err)})
		writeRecord(out, nil)
		return nil
	}
	sctx, cancel := context.WithTimeout(ctx, callTimeout)
	st, err := p.Status(sctx)
	cancel()
	why := ""
	switch {
	case err != nil:
		why = err.Error()
	case r.cfg.Fresh:
		why = "-fresh starts with empty state"
	case rec.Mode != r.cfg.Mode:
		why = "it runs in " + rec.Mode + " mode"
	case !st.Serving:
		why = "it never served"
	}
	if why != "" {
		ev.Publish(event.Log{Source: event.SourceHotrun, Level: "info", Text: fmt.Sprintf("stopping the engine the last hotrun left (pid %d): %s", rec.PID, why)})
		p.Stop(r.cfg.Drain, saveTimeout)
		writeRecord(out, nil)
		return nil
	}
	return &adoption{proc: p, st: st, path: rec.Path}
}

// chooseMode settles the mode: the one asked for, or hot swap where Go
// plugins work (Linux, macOS, FreeBSD, with cgo and a C compiler) and
// restart mode elsewhere. why says what was chosen for the user, if not
// what they asked.
func chooseMode(ctx context.Context, asked string) (mode, why string) {
	if asked != "" {
		return asked, ""
	}
	if reason := noPlugins(ctx); reason != "" {
		return ModeRestart, "Go plugins can't be used here (" + reason + "): running in restart mode, which rebuilds and restarts the engine on every change, state kept"
	}
	return ModeHotSwap, ""
}

// noPlugins says why the go command here can't build plugins, or "".
func noPlugins(ctx context.Context) string {
	r, err := command.Run(ctx, "", nil, "go", "env", "GOOS", "CC")
	if err != nil {
		return "go env failed: " + err.Error()
	}
	f := strings.Fields(string(r.Stdout))
	if len(f) < 2 {
		return "no C compiler configured"
	}
	switch f[0] {
	case "linux", "darwin", "freebsd":
	default:
		return "GOOS=" + f[0] + " has no plugin support"
	}
	if _, err := exec.LookPath(f[1]); err != nil {
		return "no C compiler (" + f[1] + ") for cgo"
	}
	return ""
}
