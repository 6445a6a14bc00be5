// Command bench measures hotrun against the build itself and against a
// restart runner (air), on two projects, and prints Markdown tables: the
// example, whose logic links only fmt, and bench/testdata/chat, whose logic
// is handler code (net/http, encoding/json, a sub-package) as real logic is.
//
// It builds the hotrun binary, runs it as `hotrun -json` on scratch copies
// of each project, edits the logic the way a person saves a file, and reads
// the figures from hotrun's events and from HTTP answers on 127.0.0.1:
//
//   - save-to-live of a one-line logic edit, in hot-swap mode and (when the
//     binary has it) -mode restart, each run followed by the bare go build of
//     the same edit (the floor) with the same client polling, so both sides
//     of a ratio are measured interleaved under the same conditions;
//   - where save-to-live goes: hotrun's event times (watcher, build, load,
//     first answer) and the builder alone (stage, go command or fast path,
//     compile, link, external link), with the route and linker it took;
//   - failed requests and the longest gap with no answer for a steady client
//     during a series of edits;
//   - the same for air (installed into a temporary GOBIN) on each project's
//     plain-executable twin, bench/testdata/plainapp and chatplain, its
//     timed edits interleaved with hot-swap's (each followed by the bare
//     build of the twin);
//   - engine memory as versions pile up, without and with recycling;
//   - builds started by one burst of 1000 file writes;
//   - how many request-log lines a second the TUI absorbs, and hotrun's CPU
//     while a real TUI shows ~10 000 requests a second.
//
// Each timed figure is the median (and min–max) of -n runs within one run
// of the bench. Everything is bounded in count and time and stays on
// loopback.
//
// With -long the bench runs the long session alone, what a day of saves
// costs: the real binary with its TUI in a tmux pane (on a tmux server of
// the bench's own), hot swap with recycling on (-max-versions 20, from
// -recycle) and its own profiles served (-pprof), a steady client
// throughout, and -saves one-line edits (1000), each waited for until it
// serves. At -checkpoints (1, 100, 500, 1000, scaled to -saves) and at the
// recycle save (20) it reads save-to-live, hotrun's RSS, goroutines, open
// fds and inotify watches, the size of .hotrun, the engine's RSS and
// restarts, and whether the screen shows the live version; at the end, the
// CPU hotrun and its engine use idle over 30 s, then air's and its app's.
// It prints the targets met or not and asserts nothing. Neither the
// default run nor -short runs it. Usage:
//
//   - the web row: a logic package with //go:embed templates
//     (bench/testdata/web), a template edit's save-to-live through hotrun's
//     -reload proxy, each followed by the bare plugin build and by air's run
//     of it through air's own browser-reload proxy (bench/testdata/webplain),
//     with the load average before and after (-only-web runs it alone);
//
//     go run ./bench [-n 10] [-short] [-air] [-modes hotswap,restart] [-projects example,chat] [-only-web]
//     go run ./bench -long [-saves 1000] [-checkpoints 1,100,500,1000] [-recycle 20] [-no-air]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// options are the bench's flags.
type options struct {
	n          int      // runs per timed figure
	edits      int      // edits under the steady client
	short      bool     // CI: few runs, small counts
	air        bool     // measure air
	airVer     string   // air version to install
	modes      []string // hotrun modes to measure
	projects   []*project
	versions   []int // memory checkpoints: versions loaded
	recycle    int   // -max-versions for the recycling row
	burst      int   // files in the watcher burst
	tuiLive    bool  // drive the real TUI in tmux
	faults     bool  // the fault run
	onlyFaults bool  // the fault run alone
	web        bool  // the web row: embedded templates, through each tool's reload proxy
	onlyWeb    bool  // the web row alone
	keep       bool  // keep the scratch directory

	long        bool  // the long session alone
	saves       int   // its saves
	checkpoints []int // the saves it reads hotrun at
}

func parseOptions(args []string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &options{}
	fs.IntVar(&o.n, "n", 10, "runs per timed figure")
	fs.IntVar(&o.edits, "edits", 20, "edits under the steady client, per tool")
	fs.BoolVar(&o.short, "short", false, "few runs and small counts (CI); no air unless -air, no live TUI unless -tui")
	air := fs.Bool("air", false, "measure air even with -short")
	noAir := fs.Bool("no-air", false, "skip air")
	fs.StringVar(&o.airVer, "air-version", "v1.67.4", "air `version` to install (the newest v1.6x if this one is not served)")
	modes := fs.String("modes", "hotswap,restart", "hotrun `modes` to measure")
	projs := fs.String("projects", "example,chat", "`projects` to measure")
	versions := fs.String("versions", "1,50,200", "memory checkpoints: `versions` loaded (-short: 1,5,10)")
	fs.IntVar(&o.recycle, "recycle", 20, "-max-versions for the recycling row and the long session (-short: 4)")
	fs.IntVar(&o.burst, "burst", 1000, "file writes in the watcher burst")
	tuiLive := fs.Bool("tui", false, "drive the real TUI in tmux even with -short")
	fs.BoolVar(&o.onlyFaults, "only-faults", false, "run the fault run alone")
	fs.BoolVar(&o.web, "web", true, "the web row: a logic package with //go:embed templates, a template edit's save-to-live through hotrun's -reload proxy, against the bare plugin build and air through its proxy")
	fs.BoolVar(&o.onlyWeb, "only-web", false, "run the web row alone")
	fs.BoolVar(&o.faults, "faults", true, "the fault run: swaps, shared-package and interface-first edits, crashes and a hung init under a steady client")
	fs.BoolVar(&o.keep, "keep", false, "keep the scratch directory")
	fs.BoolVar(&o.long, "long", false, "run the long session alone: -saves saves with the TUI open and recycling on, hotrun read at -checkpoints, then idle CPU next to air's")
	fs.IntVar(&o.saves, "saves", 1000, "saves in the long session")
	checkpoints := fs.String("checkpoints", "", "the saves the long session reads hotrun at (default: 1, 100, 500, 1000 scaled to -saves)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if o.short {
		if !set["n"] {
			o.n = 2
		}
		if !set["edits"] {
			o.edits = 5
		}
		if !set["versions"] {
			*versions = "1,5,10"
		}
		if !set["recycle"] {
			o.recycle = 4
		}
	}
	o.air = (!o.short || *air) && !*noAir
	o.tuiLive = !o.short || *tuiLive
	o.modes = strings.Split(*modes, ",")
	for _, name := range strings.Split(*projs, ",") {
		p := findProject(strings.TrimSpace(name))
		if p == nil {
			return nil, fmt.Errorf("-projects: unknown project %q (example, chat)", name)
		}
		o.projects = append(o.projects, p)
	}
	if len(o.projects) == 0 || o.projects[0].name != "example" {
		return nil, fmt.Errorf("-projects: the example comes first (memory, burst and TUI figures run on it)")
	}
	for _, v := range strings.Split(*versions, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-versions: %q is not a count", v)
		}
		o.versions = append(o.versions, n)
	}
	if o.long {
		if o.short {
			return nil, fmt.Errorf("-long and -short: the long session has no short form; make -saves smaller")
		}
		if o.saves < 1 {
			return nil, fmt.Errorf("-saves must be at least 1")
		}
		o.checkpoints = defaultCheckpoints(o.saves)
		if *checkpoints != "" {
			o.checkpoints = nil
			for _, c := range strings.Split(*checkpoints, ",") {
				n, err := strconv.Atoi(strings.TrimSpace(c))
				if err != nil || n < 1 || n > o.saves || len(o.checkpoints) > 0 && n <= o.checkpoints[len(o.checkpoints)-1] {
					return nil, fmt.Errorf("-checkpoints: %q is not a save after the one before, from 1 to -saves (%d)", c, o.saves)
				}
				o.checkpoints = append(o.checkpoints, n)
			}
		}
	}
	if o.n < 1 || o.edits < 1 {
		return nil, fmt.Errorf("-n and -edits must be at least 1")
	}
	return o, nil
}

// noRestart fills the restart column when the binary has no -mode restart.
const noRestart = "n/a (no -mode restart yet)"

// env is what every phase shares: the repository, the scratch directory
// and the hotrun binary built from the repository.
type env struct {
	o       *options
	repo    string // the hotrun repository
	tmp     string // scratch; removed at the end unless -keep
	bin     string // the hotrun binary
	restart bool   // the binary has -mode restart
	log     io.Writer
}

// run is the bench: it measures, then prints the table to stdout.
// Progress goes to stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseOptions(args, stderr)
	if err != nil {
		return err
	}
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(gomod)) == "" || strings.TrimSpace(string(gomod)) == os.DevNull {
		return fmt.Errorf("run the bench inside the hotrun module: go env GOMOD: %v", err)
	}
	e := &env{o: o, repo: filepath.Dir(strings.TrimSpace(string(gomod))), log: stderr}
	if e.tmp, err = os.MkdirTemp("", "hotrun-bench-"); err != nil {
		return err
	}
	if o.keep {
		fmt.Fprintln(stderr, "bench: scratch kept in", e.tmp)
	} else {
		defer os.RemoveAll(e.tmp)
	}
	e.bin = filepath.Join(e.tmp, "hotrun")
	e.progress("building hotrun")
	if err := e.goCmd(ctx, e.repo, "build", "-o", e.bin, "./cmd/hotrun"); err != nil {
		return err
	}
	help, _ := exec.Command(e.bin, "-h").CombinedOutput()
	e.restart = regexp.MustCompile(`(?m)^\s+-mode\b`).Match(help)

	r := &results{o: o, started: time.Now(), load: "?"}
	// Other work on the machine slows every figure: the table says how busy it was.
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		r.load = strings.Fields(string(b))[0]
	}
	if o.long {
		lr, err := e.long(ctx)
		if err != nil {
			return fmt.Errorf("long: %w", err)
		}
		lr.print(stdout, args)
		return nil
	}
	if o.onlyWeb {
		w, err := e.web(ctx)
		if err != nil {
			return fmt.Errorf("web: %w", err)
		}
		r.printHead(stdout, args)
		w.print(stdout)
		return nil
	}
	if o.onlyFaults {
		swaps, host, iface := 20, 5, 3
		if o.short {
			swaps, host, iface = 4, 1, 1
		}
		fmt.Fprintf(stdout, "`go run ./bench -only-faults` · %s %s/%s, %d CPUs · %s, load average %s at the start\n",
			runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), r.started.Format("2006-01-02 15:04"), r.load)
		if r.faults, err = e.faults(ctx, swaps, host, iface); err != nil {
			return fmt.Errorf("faults: %w", err)
		}
		r.faults.print(stdout)
		return nil
	}
	for _, p := range o.projects {
		pr := &projResult{p: p}
		r.projs = append(r.projs, pr)
		for _, m := range o.modes {
			switch m {
			case "", "none":
			case "hotswap":
				pr.hot, pr.air, err = e.hotAndAir(ctx, p, pr)
			case "restart":
				if !e.restart {
					pr.restart = &modeResult{skipped: noRestart}
					continue
				}
				pr.restart, err = e.mode(ctx, p, "restart", &pr.floorEngine, nil)
			default:
				return fmt.Errorf("-modes: unknown mode %q (hotswap, restart)", m)
			}
			if err != nil {
				return fmt.Errorf("%s, %s: %w", p.name, m, err)
			}
		}
		if o.air && pr.air == nil {
			if pr.air, err = e.runAir(ctx, p, &pr.floorPlain); err != nil {
				// air is a peer, not the product: say why its column is
				// empty and go on.
				e.progress("air: %v", err)
				pr.air = &modeResult{skipped: "n/a: " + firstLine(err.Error())}
			}
		}
		if pr.direct, err = e.direct(ctx, p); err != nil {
			return fmt.Errorf("%s, builder alone: %w", p.name, err)
		}
	}
	if o.web {
		if r.web, err = e.web(ctx); err != nil {
			return fmt.Errorf("web: %w", err)
		}
	}
	if r.mem, err = e.memory(ctx, -1); err != nil {
		return fmt.Errorf("memory: %w", err)
	}
	if r.memRecycle, err = e.memory(ctx, o.recycle); err != nil {
		return fmt.Errorf("memory with recycling: %w", err)
	}
	if r.tui, err = e.tuiFigures(ctx); err != nil {
		return fmt.Errorf("tui: %w", err)
	}
	if o.faults {
		swaps, host, iface := 20, 5, 3
		if o.short {
			swaps, host, iface = 4, 1, 1
		}
		if r.faults, err = e.faults(ctx, swaps, host, iface); err != nil {
			return fmt.Errorf("faults: %w", err)
		}
	}
	r.print(stdout, args)
	return nil
}

// hotAndAir measures hot-swap and, with -air, air on the same project,
// their timed edits interleaved: a hot-swap edit, its bare plugin build,
// air's edit, its bare build, and again. air's failing leaves its column
// empty with the reason, never hot-swap's.
func (e *env) hotAndAir(ctx context.Context, p *project, pr *projResult) (hot, air *modeResult, err error) {
	if !e.o.air {
		hot, err = e.mode(ctx, p, "hotswap", &pr.floorPlugin, nil)
		return hot, nil, err
	}
	skip := func(err error) *modeResult {
		e.progress("air: %v", err)
		return &modeResult{skipped: "n/a: " + firstLine(err.Error())}
	}
	a, aerr := e.startAir(ctx, p, &pr.floorPlain)
	if aerr != nil {
		hot, err = e.mode(ctx, p, "hotswap", &pr.floorPlugin, nil)
		return hot, skip(aerr), err
	}
	defer a.close()
	var peerErr error
	peer := func() error {
		if peerErr == nil {
			peerErr = a.once(ctx, e)
		}
		return nil
	}
	if hot, err = e.mode(ctx, p, "hotswap", &pr.floorPlugin, peer); err != nil {
		return nil, nil, err
	}
	if peerErr != nil {
		return hot, skip(peerErr), nil
	}
	if air, aerr = a.finish(ctx, e); aerr != nil {
		return hot, skip(aerr), nil
	}
	return hot, air, nil
}

func (e *env) progress(format string, args ...any) {
	fmt.Fprintf(e.log, "bench: %s %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// goCmd runs the go command in dir and returns its output in the error.
func (e *env) goCmd(ctx context.Context, dir string, args ...string) error {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// timeGo times one go command in dir.
func (e *env) timeGo(ctx context.Context, dir string, args ...string) (time.Duration, error) {
	start := time.Now()
	err := e.goCmd(ctx, dir, args...)
	return time.Since(start), err
}

// project is one module the bench measures, and its plain-executable twin
// for air.
type project struct {
	name  string
	src   string // the module, relative to the repository
	plain string // its twin as one executable, relative to the repository
	// logic and plainMain are the files the one-line edit changes
	// (modelVersion = N), relative to each copy.
	logic, plainMain string
}

var projects = []*project{
	{name: "example", src: "example", plain: "bench/testdata/plainapp", logic: "logic/main.go", plainMain: "main.go"},
	{name: "chat", src: "bench/testdata/chat", plain: "bench/testdata/chatplain", logic: "logic/main.go", plainMain: "main.go"},
}

func findProject(name string) *project {
	for _, p := range projects {
		if p.name == name {
			return p
		}
	}
	return nil
}

// projectCopy copies project p to the scratch directory under name and
// points its replace directive at the repository.
func (e *env) projectCopy(p *project, name string) (string, error) {
	dir := filepath.Join(e.tmp, name)
	if err := os.CopyFS(dir, os.DirFS(filepath.Join(e.repo, p.src))); err != nil {
		return "", err
	}
	os.RemoveAll(filepath.Join(dir, ".hotrun"))
	mod := filepath.Join(dir, "go.mod")
	b, err := os.ReadFile(mod)
	if err != nil {
		return "", err
	}
	b = regexp.MustCompile(`(?m)^replace (\S+) => .*$`).ReplaceAll(b, []byte("replace $1 => "+filepath.Join(e.repo, "hot")))
	return dir, os.WriteFile(mod, b, 0o644)
}

// exampleCopy copies the repository's example/ to the scratch directory.
func (e *env) exampleCopy(name string) (string, error) { return e.projectCopy(projects[0], name) }

// plainCopy copies p's plain twin to the scratch directory.
func (e *env) plainCopy(p *project, name string) (string, error) {
	dir := filepath.Join(e.tmp, name)
	return dir, os.CopyFS(dir, os.DirFS(filepath.Join(e.repo, p.plain)))
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
