// Package builder builds the user's engine (the host executable) and each
// version of its logic plugin, with one toolchain and one set of flags, so
// that every plugin it builds can load into the engine it built.
//
// # Versions
//
// Go loads a plugin path once per process and freezes every non-main
// package it loaded: a later plugin that carries an edited copy of a package
// fails with "plugin was built with a different version of package". So each
// logic build is staged under .hotrun/stage/bN inside the user's module,
// with the logic tree's own imports rewritten to the staged paths.
//
// Staging is incremental: the main package (whose import path is the
// plugin path) is staged anew for every build, and so is every logic
// sub-package that changed or imports one that changed; an unchanged
// sub-package keeps the staged path of the build that first staged it,
// which the engine may have loaded already with the same contents, and is
// neither copied nor compiled again. Packages outside the logic tree (the
// shared state packages, the standard library, dependencies) keep their
// paths: they are the engine's.
//
// # What a build reads
//
// The logic tree is what package gosrc says a package tree holds: the
// files go build compiles, and any other file a //go:embed line may name;
// never tests, names starting with . or _, editor temporary files, or the
// directories vendor, node_modules and testdata. A build reads each of its
// files once, stages that content and returns it (Result.Sources, and
// before the compile to BuildLogic's staged): what a version's diff shows,
// and digests the runner compares with the watcher's.
//
// # Two routes
//
// A plugin is built by the go command ("go build -buildmode=plugin") or by
// the fast path (fast.go): the compiler on the changed logic packages and
// the linker, run directly with the flags, import configuration and build
// information the go command would use, learned from the go command beside
// the first build and learned again after any host change (BuildEngine),
// an edit of a dependency inside the module, go.mod, go.sum, the toolchain
// or the flags. What the fast path does not cover (cgo or assembly in the
// logic, an embed pattern the go command would refuse) and any failure of
// its own go to the go command;
// Result says which route a build took and why. Both routes link with the
// fastest external linker installed (mold, lld, gold), unless told not to.
//
// # Diagnostics
//
// Compiler messages name the staged copy; the builder maps them back to the
// user's files and import paths, with the line of source they point at,
// before anyone sees them.
//
// # Disk
//
// Plugins and stages stay for the session (later builds reuse stages;
// engines may roll back to older plugins) until Prune removes what the
// supervisor no longer needs.
//
// The builder never decides when to build (the runner does) and never prints:
// it returns results and errors.
package builder

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hotrun-dev/hotrun/event"
	"github.com/hotrun-dev/hotrun/internal/command"
	"github.com/hotrun-dev/hotrun/internal/paths"
)

// Config says what to build and how.
type Config struct {
	// Dir is the user's module root (the directory holding go.mod).
	Dir string
	// Engine and Logic are the package patterns of the engine's main package
	// and of the logic plugin's main package, relative to Dir ("./engine").
	Engine string
	Logic  string
	// Root is the directory diagnostics are made relative to (the directory
	// hotrun runs in); "" means Dir.
	Root string
	// Flags go to every go build, engine and plugins alike (e.g. -trimpath,
	// -race, -gcflags=all=…): Go refuses a plugin built with other ones.
	Flags []string
	// PluginLDFlags go to plugin builds only. Stripping (-s -w) is allowed to
	// differ from the engine, and it cuts link time.
	PluginLDFlags string
	// Env is added to the environment of every go command; CGO_ENABLED=1 is
	// always set, since plugins need cgo.
	Env []string
	// Go is the go command; "" means "go" from PATH.
	Go string
	// Symbol is the name the logic exports ("" means "Logic"); restart
	// mode hands it to the engine.
	Symbol string
	// NoFast sends every plugin build through the go command (see
	// "Two routes" in the package doc).
	NoFast bool
	// Linker is the external linker: LinkerAuto (mold, lld or gold when
	// installed), LinkerDefault (the C compiler's own), or a name for
	// -fuse-ld. Flags or PluginLDFlags that set -extldflags win.
	Linker string
}

// Builder builds an engine and versions of its logic plugin.
type Builder struct {
	cfg        Config
	modPath    string // the user's module path
	logicPath  string // the logic main package's import path
	logicDir   string // its directory
	logicRel   string // logicDir relative to cfg.Dir, slash-separated
	out        string // cfg.Dir/.hotrun
	enginePath string // the engine executable

	// seq numbers the builds, for unique staging directories and so
	// unique plugin paths. It goes on across sessions (seqFile): an
	// engine left serving by a hotrun that died holds the plugin paths of
	// its builds, and the next hotrun may attach to it and load more.
	seq   atomic.Int64
	seqMu sync.Mutex // orders the writes of seqFile
	// engineBuilds counts the engine builds under way: a plugin built
	// beside one (a host change) does not learn the fast path's plan
	// beside it as well. Three go commands on a small machine slow the
	// engine, the host change's long pole; the next save learns instead.
	engineBuilds atomic.Int32

	mu       sync.Mutex          // guards hostDirs, staged and uses
	hostDirs map[string]bool     // directories of the packages the engine holds
	staged   map[string]string   // logic package hash → the stage holding a copy of it
	uses     map[string][]string // .so → the stages its packages were staged in

	// buildMu is held for reading by every plugin build and for writing
	// by Prune, so a build's stages can't be removed while it uses them.
	buildMu sync.RWMutex

	pmu sync.Mutex // guards ps
	ps  planState  // the fast path's plan (fast.go)
}

// Routes a plugin build takes (Result.Route).
const (
	RouteFast = "fast"     // compile and link run directly (fast.go)
	RouteGo   = "go build" // the go command
)

// Result is one finished build.
type Result struct {
	Path     string        // the executable or .so
	Duration time.Duration // wall time of the whole build
	// Route is RouteFast or RouteGo; Fallback says why a plugin build
	// that could not take the fast path went to the go command ("" when
	// the fast path is off or still learning the build).
	Route    string
	Fallback string
	// Linker is the external linker asked for ("mold", "lld", "gold"), or
	// "default" for the C compiler's own.
	Linker string
	Phases Phases
	// Sources is the logic tree as the build read and staged it (nil for
	// an engine build): a version's diff is made of exactly this, and the
	// digests say whether it holds what a save left on disk.
	Sources Sources
}

// Phases is where a build's time went. Zero means the phase did not run
// or was not measured (the go command's inner phases are not).
type Phases struct {
	Stage        time.Duration // copying the changed logic packages
	GoCommand    time.Duration // the go command, all it ran included
	Compile      time.Duration // the compiler, on the fast path
	Link         time.Duration // the Go linker, the external link included
	ExternalLink time.Duration // the C compiler driving the system linker
}

// BuildError is a failed build: the go command's output and, when it is a
// compile error, the diagnostics with the user's paths.
type BuildError struct {
	Output      string
	Diagnostics []event.Diagnostic
	Err         error
}

func (e *BuildError) Error() string {
	if len(e.Diagnostics) > 0 {
		d := e.Diagnostics[0]
		more := ""
		if len(e.Diagnostics) > 1 {
			more = fmt.Sprintf(" (and %d more)", len(e.Diagnostics)-1)
		}
		return "builder: " + d.String() + more
	}
	out := strings.TrimSpace(e.Output)
	if out == "" {
		return fmt.Sprintf("builder: %v", e.Err)
	}
	return "builder: " + out
}

func (e *BuildError) Unwrap() error { return e.Err }

// Dir names: all of hotrun's files live under OutDir in the user's module.
const OutDir = ".hotrun"

// New inspects the module (go list) and returns a Builder for it.
func New(ctx context.Context, cfg Config) (*Builder, error) {
	if cfg.Go == "" {
		cfg.Go = "go"
	}
	if cfg.Symbol == "" {
		cfg.Symbol = "Logic"
	}
	abs, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("builder: %w", err)
	}
	cfg.Dir = abs
	if cfg.Root == "" {
		cfg.Root = cfg.Dir
	}
	if err := checkModuleDir(cfg.Dir); err != nil {
		return nil, err
	}
	b := &Builder{cfg: cfg, out: filepath.Join(cfg.Dir, OutDir)}
	b.enginePath = filepath.Join(b.out, "bin", "engine")
	// go.mod's module line, not `go list -m`: in a workspace (a go.work
	// above the module, as in hotrun's repository, whose hotrun.toml runs
	// the example) that lists every module of the workspace.
	mod, err := b.run(ctx, cfg.Dir, "mod", "edit", "-json")
	var gomod struct{ Module struct{ Path string } }
	if err == nil {
		err = json.Unmarshal([]byte(mod), &gomod)
	}
	if err != nil || gomod.Module.Path == "" {
		return nil, fmt.Errorf("builder: find the module in %s: %v %s", cfg.Dir, err, strings.TrimSpace(mod))
	}
	b.modPath = gomod.Module.Path
	logic, err := b.goList(ctx, "-f", "{{.ImportPath}}\t{{.Dir}}\t{{.Name}}", cfg.Logic)
	if err != nil {
		return nil, fmt.Errorf("builder: logic package %s: %w", cfg.Logic, err)
	}
	f := strings.Split(strings.TrimSpace(logic), "\t")
	if len(f) != 3 {
		return nil, fmt.Errorf("builder: logic package %s: unexpected go list output %q", cfg.Logic, logic)
	}
	if f[2] != "main" {
		return nil, fmt.Errorf("builder: logic package %s is package %s; a plugin must be package main", cfg.Logic, f[2])
	}
	b.logicPath, b.logicDir = f[0], f[1]
	rel, ok := paths.Within(cfg.Dir, b.logicDir)
	if !ok {
		return nil, fmt.Errorf("builder: logic package %s must be inside the module at %s", cfg.Logic, cfg.Dir)
	}
	b.logicRel = filepath.ToSlash(rel)
	if err := b.refreshHostDirs(ctx); err != nil {
		return nil, err
	}
	b.seq.Store(readSeq(filepath.Join(b.out, seqFile)))
	return b, nil
}

// seqFile, in .hotrun, holds the last build number used in the project.
const seqFile = "seq"

func readSeq(path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	return max(n, 0)
}

// nextStage claims the next build number, for this session and the next.
func (b *Builder) nextStage() string {
	b.seqMu.Lock() // the file must end with the highest number
	defer b.seqMu.Unlock()
	n := b.seq.Add(1)
	// Best effort: a number written late or not at all only matters to
	// a hotrun that attaches to this session's engine after a crash.
	os.WriteFile(filepath.Join(b.out, seqFile), []byte(strconv.FormatInt(n, 10)+"\n"), 0o644)
	return fmt.Sprintf("b%d", n)
}

// checkModuleDir says, in words a person can act on, why dir can't be the
// root of the user's module: the go command alone says nothing useful
// when the directory is missing.
func checkModuleDir(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("builder: %s does not exist: -dir must name the directory that holds your module's go.mod", dir)
	case err != nil:
		return fmt.Errorf("builder: %w", err)
	case !fi.IsDir():
		return fmt.Errorf("builder: %s is a file, not a directory: -dir must name the directory that holds your module's go.mod", dir)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
		return nil
	}
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
			return fmt.Errorf("builder: %s is inside the module rooted at %s: run hotrun there, or pass -dir %s", dir, p, p)
		}
		if filepath.Dir(p) == p {
			break
		}
	}
	return fmt.Errorf("builder: no go.mod in %s or above it: run hotrun in your module's root, or create one with 'go mod init example.com/yourapp' (hotrun init then adds an engine and a logic package)", dir)
}

// ModulePath returns the user's module path.
func (b *Builder) ModulePath() string { return b.modPath }

// LogicDir returns the directory of the logic tree.
func (b *Builder) LogicDir() string { return b.logicDir }

// BuildDir returns the directory the plugins are written to: the only one
// the engine may load from.
func (b *Builder) BuildDir() string { return filepath.Join(b.out, "build") }

// Clean removes the output of earlier runs. Call it before the first build.
func (b *Builder) Clean() error {
	b.mu.Lock()
	b.staged, b.uses = nil, nil
	b.mu.Unlock()
	for _, d := range []string{"stage", "build"} {
		if err := os.RemoveAll(filepath.Join(b.out, d)); err != nil {
			return fmt.Errorf("builder: clean: %w", err)
		}
	}
	// The whole directory is output: keep it out of the user's git status
	// even where their .gitignore does not name it.
	if err := os.MkdirAll(b.out, 0o755); err != nil {
		return fmt.Errorf("builder: %w", err)
	}
	return os.WriteFile(filepath.Join(b.out, ".gitignore"), []byte("*\n"), 0o644)
}

// refreshHostDirs asks go list which packages the engine holds. Run it
// after every engine build: the engine's imports may have changed.
func (b *Builder) refreshHostDirs(ctx context.Context) error {
	out, err := b.goList(ctx, "-deps", "-f", "{{if not .Standard}}{{.Dir}}{{end}}", b.cfg.Engine)
	if err != nil {
		return fmt.Errorf("builder: engine package %s: %w", b.cfg.Engine, err)
	}
	dirs := make(map[string]bool)
	for _, d := range strings.Fields(out) {
		dirs[d] = true
	}
	b.mu.Lock()
	b.hostDirs = dirs
	b.mu.Unlock()
	return nil
}

// Classify says what a set of changed files means: the import paths of the
// packages they belong to, and event.KindHost when any of them is compiled
// into the engine (or is go.mod/go.sum), event.KindLogic when they are all
// in the logic tree, or "" when none matters to either.
func (b *Builder) Classify(files []string) (pkgs []string, kind string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	seen := make(map[string]bool)
	for _, f := range files {
		dir := filepath.Dir(f)
		base := filepath.Base(f)
		var k string
		switch {
		case dir == b.cfg.Dir && (base == "go.mod" || base == "go.sum" || base == "go.work"):
			k = event.KindHost
		case b.hostDirs[dir]:
			k = event.KindHost
		case within(b.logicDir, dir):
			k = event.KindLogic
		default:
			continue
		}
		if k == event.KindHost || kind == "" {
			kind = k
		}
		if rel, ok := paths.Within(b.cfg.Dir, dir); ok && !seen[rel] {
			seen[rel] = true
			p := b.modPath
			if rel != "." {
				p += "/" + filepath.ToSlash(rel)
			}
			pkgs = append(pkgs, p)
		}
	}
	slices.Sort(pkgs)
	return pkgs, kind
}

// BuildEngine builds the engine executable.
//
// Every host change comes through here, so it also drops the fast path's
// plan: the next plugin build learns the build again.
func (b *Builder) BuildEngine(ctx context.Context) (Result, error) {
	b.engineBuilds.Add(1)
	defer b.engineBuilds.Add(-1)
	start := time.Now()
	b.invalidate()
	args := append([]string{"build", "-o", b.enginePath}, b.cfg.Flags...)
	// The engine links externally too (it imports plugin, so cgo): the
	// fastest linker helps a host change as much as a save. Only when the
	// user's flags set no -ldflags, which a second one would replace.
	// Stripped (-s -w) like the plugins: it cuts the engine's link by a
	// fifth, and host and plugin may differ in it. Only when the user's
	// flags set no -ldflags of their own (a debugger wants the symbols:
	// -buildflags=-ldflags= keeps them).
	linker := b.engineLinker()
	if !userLDFlags(b.cfg.Flags) {
		args = append(args, "-ldflags="+withLinker("-s -w", linker))
	}
	args = append(args, b.cfg.Engine)
	res := Result{Route: RouteGo, Linker: linkerName(linker)}
	out, err := b.run(ctx, b.cfg.Dir, args...)
	res.Duration = time.Since(start)
	res.Phases.GoCommand = res.Duration
	if err != nil {
		return res, b.buildError(out, err)
	}
	// A plan learned while the engine built (the runner may build both at
	// once) is kept: it stamped every file it was learned from before
	// reading them, so an edit since makes it stale at its first use.
	if err := b.refreshHostDirs(ctx); err != nil {
		return res, err
	}
	res.Path = b.enginePath
	return res, nil
}

// engineLinker is the linker for engine builds: the fastest one, unless the
// user's flags set -ldflags, which a second -ldflags would replace.
func (b *Builder) engineLinker() string {
	if userLDFlags(b.cfg.Flags) {
		return ""
	}
	return chooseLinker(b.cfg.Linker)
}

// userLDFlags reports whether the user's build flags set -ldflags.
func userLDFlags(flags []string) bool {
	return slices.ContainsFunc(flags, func(f string) bool { return strings.HasPrefix(f, "-ldflags") })
}

func linkerName(l string) string {
	if l == "" {
		return LinkerDefault
	}
	return l
}

// BuildLogic builds version n of the logic plugin into a new .so with a new
// plugin path. Cancelling ctx stops the build at once.
//
// The build reads the logic tree once, to stage it. staged, when not nil,
// is handed what it staged as soon as it is staged, before the compile: a
// caller that started the build early can tell then whether it builds the
// content it wants. The Result carries the same Sources, failed compiles
// included.
func (b *Builder) BuildLogic(ctx context.Context, n int, staged func(Sources)) (Result, error) {
	b.buildMu.RLock()
	defer b.buildMu.RUnlock()
	start := time.Now()
	// Every build gets its own staging directory, and so its own plugin
	// path, even two builds of one version number (a build canceled by a
	// newer save and the build that replaced it). Staged copies stay for
	// the session: later builds import the unchanged packages from them.
	stage := b.nextStage()
	pkgs, where, err := b.stageIncremental(stage)
	if err != nil {
		return Result{Duration: time.Since(start)}, err
	}
	res := Result{Phases: Phases{Stage: time.Since(start)}, Sources: sourcesOf(pkgs)}
	if staged != nil {
		staged(res.Sources)
	}
	res.Path = filepath.Join(b.BuildDir(), fmt.Sprintf("%s.v%d.%s.so", filepath.Base(b.logicDir), n, stage))
	linker := chooseLinker(b.cfg.Linker, append(slices.Clone(b.cfg.Flags), b.cfg.PluginLDFlags)...)
	res.Linker = linkerName(linker)
	ldflags := withLinker(b.cfg.PluginLDFlags, linker)
	done := func(err error) (Result, error) {
		res.Duration = time.Since(start)
		if err != nil {
			res.Path = ""
			if ctx.Err() != nil {
				return res, fmt.Errorf("builder: v%d: %w", n, context.Cause(ctx))
			}
			return res, err
		}
		b.recordUses(res.Path, where)
		return res, nil
	}

	var learnGen int64
	learn := false
	sig := importSig(pkgs)
	if !b.cfg.NoFast {
		var p *plan
		p, learn, learnGen = b.currentPlan(ldflags, sig)
		if p != nil {
			res.Route = RouteFast
			err := b.fastBuild(ctx, p, stage, pkgs, where, res.Path, &res.Phases)
			var ce *compileError
			switch {
			case err == nil, ctx.Err() != nil:
				return done(err)
			case errors.As(err, &ce):
				// The user's error: the go command would only say it again.
				return done(b.buildError(ce.out, err))
			case errors.Is(err, errNotCovered):
			case errors.Is(err, errStalePlan):
				b.invalidate()
				_, learn, learnGen = b.currentPlan(ldflags, sig)
			default:
				// Surprising: leave the fast path until the next host
				// change rather than pay for it on every save.
				b.storePlan(nil, err, learnGen, sig)
			}
			res.Fallback = err.Error()
		}
	}

	// The go command builds this one; when there is no plan, it is learned
	// beside, from the same go command, so the next save can take the fast
	// path.
	res.Route = RouteGo
	if learn && b.engineBuilds.Load() > 0 {
		learn = false // see engineBuilds
	}
	var wg sync.WaitGroup
	if learn {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := b.learn(ctx, ldflags, pkgs)
			if ctx.Err() != nil {
				return // canceled with the build: the next one learns
			}
			b.storePlan(p, err, learnGen, sig)
		}()
	}
	args := []string{"build", "-buildmode=plugin", "-o", res.Path}
	args = append(args, b.cfg.Flags...)
	if ldflags != "" {
		args = append(args, "-ldflags="+ldflags)
	}
	args = append(args, b.stagedImport(".", stage))
	t := time.Now()
	out, err := b.run(ctx, b.cfg.Dir, args...)
	res.Phases.GoCommand = time.Since(t)
	wg.Wait()
	if err != nil {
		return done(b.buildError(out, err))
	}
	return done(nil)
}

// recordUses remembers which stages the build of so needs: Prune keeps them.
func (b *Builder) recordUses(so string, where map[string]string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.uses == nil {
		b.uses = map[string][]string{}
	}
	var stages []string
	for _, s := range where {
		if !slices.Contains(stages, s) {
			stages = append(stages, s)
		}
	}
	slices.Sort(stages)
	b.uses[so] = stages
}

func (b *Builder) goList(ctx context.Context, args ...string) (string, error) {
	out, err := b.run(ctx, b.cfg.Dir, append([]string{"list"}, args...)...)
	if err != nil {
		if out = strings.TrimSpace(out); out == "" {
			return "", fmt.Errorf("go list: %w", err)
		}
		return "", fmt.Errorf("%s", out)
	}
	return out, nil
}

// run runs the go command in dir, with cgo on (plugins need it), and
// returns its combined output.
func (b *Builder) run(ctx context.Context, dir string, args ...string) (string, error) {
	return b.runEnv(ctx, dir, true, args...)
}

// runEnv is run, with cgo forced on only when cgo is true: restart mode
// builds wherever the user's environment says.
func (b *Builder) runEnv(ctx context.Context, dir string, cgo bool, args ...string) (string, error) {
	var env []string
	if cgo {
		env = []string{"CGO_ENABLED=1"}
	}
	return b.command(ctx, dir, env, b.cfg.Go, args...)
}

// command runs name in dir with the user's environment, then the
// builder's, then env, and returns its output and errors, interleaved; a
// canceled ctx ends its whole process group.
func (b *Builder) command(ctx context.Context, dir string, env []string, name string, args ...string) (string, error) {
	return command.Output(ctx, dir, append(slices.Clone(b.cfg.Env), env...), name, args...)
}

func (b *Builder) buildError(out string, err error) error {
	out = Unstage(out)
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return &BuildError{Output: out, Err: fmt.Errorf("run %s: %w", b.cfg.Go, err)}
	}
	ds := parseDiagnostics(out, b.cfg.Dir, b.cfg.Root)
	addSource(ds, b.cfg.Root)
	return &BuildError{Output: out, Diagnostics: ds, Err: err}
}
