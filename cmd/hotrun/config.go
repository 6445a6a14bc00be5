package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/hotrun-dev/hotrun/generate"
	"github.com/hotrun-dev/hotrun/probe"
)

// config is everything hotrun.toml and the flags can set. A flag given on
// the command line wins over the file.
type config struct {
	Dir           string          `toml:"dir"`            // the user's module root
	Engine        string          `toml:"engine"`         // engine main package, relative to dir
	Logic         string          `toml:"logic"`          // logic plugin main package, relative to dir
	Headless      bool            `toml:"headless"`       // plain lines instead of the TUI
	JSON          bool            `toml:"json"`           // JSON lines instead of the TUI
	Verbose       bool            `toml:"verbose"`        // also say what the watcher ignored
	Args          []string        `toml:"args"`           // engine arguments (after -- on the command line)
	BuildFlags    []string        `toml:"build_flags"`    // go build flags for engine and plugins
	Debounce      duration        `toml:"debounce"`       // quiet time that ends a burst of saves
	Poll          bool            `toml:"poll"`           // poll instead of fsnotify
	Include       []string        `toml:"include"`        // extra globs that count as changes
	Exclude       []string        `toml:"exclude"`        // globs that never count
	MaxVersions   int             `toml:"max_versions"`   // recycle the engine after this many versions
	MaxRSSMB      int64           `toml:"max_rss_mb"`     // recycle the engine past this much memory
	SnapshotEvery duration        `toml:"snapshot_every"` // how often the engine saves its state
	Drain         duration        `toml:"drain"`          // how long a handover waits for the requests under way
	OrphanGrace   duration        `toml:"orphan_grace"`   // how long an engine serves on after hotrun dies
	Mode          string          `toml:"mode"`           // "hotswap" or "restart"; "" picks
	Fresh         bool            `toml:"fresh"`          // start with empty state, not the last session's
	Probe         []string        `toml:"probe"`          // requests sent to the engine after each swap ("GET /hello")
	Big           bool            `toml:"big"`            // the TUI's presenter layout
	PProf         string          `toml:"pprof"`          // loopback address to serve hotrun's own profiles on; "" for none
	Reload        string          `toml:"reload"`         // address of the proxy whose pages reload when a version goes live; "" for none
	BeforeBuild   []generate.Step `toml:"before_build"`   // generators run before a build when a file they read changed
}

// duration reads "50ms" from TOML.
type duration struct{ time.Duration }

func (d *duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	d.Duration = v
	return err
}

const configFile = "hotrun.toml"

// errUsage marks errors that exit with code 2.
var errUsage = errors.New("usage")

// parseConfig reads hotrun.toml (if present) and then the flags.
func parseConfig(args []string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("hotrun", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { usage(fs, stderr) }
	cfgPath := fs.String("config", configFile, "config `file`, read when present (\"\" for none)")
	var f config
	fs.StringVar(&f.Dir, "dir", ".", "the Go module `dir` that holds the engine and the logic")
	fs.StringVar(&f.Engine, "engine", "./engine", "engine main `package`, relative to -dir")
	fs.StringVar(&f.Logic, "logic", "./logic", "logic plugin main `package`, relative to -dir")
	fs.BoolVar(&f.Headless, "headless", false, "print events as plain lines instead of the TUI")
	fs.BoolVar(&f.JSON, "json", false, "print events as JSON lines (implies -headless)")
	fs.BoolVar(&f.Verbose, "verbose", false, "also report the paths the watcher ignores, and why")
	fs.DurationVar(&f.Debounce.Duration, "debounce", 50*time.Millisecond, "quiet `time` that ends a burst of saves")
	fs.BoolVar(&f.Poll, "poll", false, "poll for changes instead of using inotify (Docker volumes, network mounts)")
	fs.IntVar(&f.MaxVersions, "max-versions", 100, "restart the engine, state kept, once it holds `n` plugin versions (Go never unloads one; -1: never)")
	fs.Int64Var(&f.MaxRSSMB, "max-rss", 0, "restart the engine, state kept, once its memory passes `MB` (0: never)")
	fs.DurationVar(&f.SnapshotEvery.Duration, "snapshot-every", 5*time.Second, "how often the engine saves its state for crash recovery")
	fs.DurationVar(&f.Drain.Duration, "drain", time.Second, "how long an engine handing over to a new one lets the requests under way finish before it cuts them (each cut is shown); every other request waits meanwhile")
	fs.DurationVar(&f.OrphanGrace.Duration, "orphan-grace", 2*time.Minute, "how long the engine serves on when hotrun dies (killed, out of memory): a hotrun started in the project meanwhile takes it over; past it, the engine saves its state and exits")
	fs.StringVar(&f.Mode, "mode", "", "the reload `mode`: hotswap (plugins swapped into the running engine) or restart (rebuild and restart, state kept; where plugins can't go); default: hotswap where Go plugins work")
	fs.BoolVar(&f.Fresh, "fresh", false, "start with empty state instead of restoring the last session's")
	fs.BoolVar(&f.Big, "big", false, "presenter layout: the live version, the probes' answers and the last diff fill the screen")
	fs.StringVar(&f.PProf, "pprof", "", "serve Go's profiles of hotrun itself (net/http/pprof: memory, goroutines, CPU) on the loopback `addr`, e.g. 127.0.0.1:6060")
	fs.StringVar(&f.Reload, "reload", "", "serve the engine's pages on `addr` (e.g. 127.0.0.1:8081), where they reload themselves when a new version goes live and show a failed build")
	fs.Func("before-build", "a generator `command` run before a build when a file it reads changed, e.g. \"templ generate\" (repeatable, in order; replaces the file's list)", func(c string) error {
		st, err := generate.Parse(c)
		if err != nil {
			return err
		}
		f.BeforeBuild = append(f.BeforeBuild, st)
		return nil
	})
	fs.Func("probe", "a `request` sent to the engine after each swap and engine start, e.g. \"GET /hello?name=test\" (repeatable; replaces the file's list)", func(s string) error {
		if _, err := probe.Parse(s); err != nil {
			return err
		}
		f.Probe = append(f.Probe, s)
		return nil
	})
	var buildFlags, include, exclude string
	fs.StringVar(&buildFlags, "buildflags", "", "go build `flags` for the engine and every plugin (space-separated)")
	fs.StringVar(&include, "include", "", "comma-separated `globs` of extra files that count as changes")
	fs.StringVar(&exclude, "exclude", "", "comma-separated `globs` of files that never count")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	set := make(map[string]bool)
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })

	// Defaults, then the file, then the flags given.
	cfg := config{Dir: ".", Engine: "./engine", Logic: "./logic", Debounce: duration{50 * time.Millisecond},
		MaxVersions: 100, SnapshotEvery: duration{5 * time.Second}, Drain: duration{time.Second},
		OrphanGrace: duration{2 * time.Minute}}
	if *cfgPath == "" {
		// -config "": no file at all.
	} else if _, err := os.Stat(*cfgPath); err == nil {
		md, err := toml.DecodeFile(*cfgPath, &cfg)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", errUsage, *cfgPath, err)
		}
		if un := md.Undecoded(); len(un) > 0 {
			return nil, fmt.Errorf("%w: %s: unknown key %q (see docs/config.md)", errUsage, *cfgPath, un[0].String())
		}
	} else if set["config"] {
		return nil, fmt.Errorf("%w: config file %s: %v", errUsage, *cfgPath, err)
	}
	apply := map[string]func(){
		"dir":            func() { cfg.Dir = f.Dir },
		"engine":         func() { cfg.Engine = f.Engine },
		"logic":          func() { cfg.Logic = f.Logic },
		"headless":       func() { cfg.Headless = f.Headless },
		"json":           func() { cfg.JSON = f.JSON },
		"verbose":        func() { cfg.Verbose = f.Verbose },
		"debounce":       func() { cfg.Debounce = f.Debounce },
		"poll":           func() { cfg.Poll = f.Poll },
		"buildflags":     func() { cfg.BuildFlags = strings.Fields(buildFlags) },
		"include":        func() { cfg.Include = splitList(include) },
		"exclude":        func() { cfg.Exclude = splitList(exclude) },
		"max-versions":   func() { cfg.MaxVersions = f.MaxVersions },
		"max-rss":        func() { cfg.MaxRSSMB = f.MaxRSSMB },
		"snapshot-every": func() { cfg.SnapshotEvery = f.SnapshotEvery },
		"drain":          func() { cfg.Drain = f.Drain },
		"orphan-grace":   func() { cfg.OrphanGrace = f.OrphanGrace },
		"mode":           func() { cfg.Mode = f.Mode },
		"fresh":          func() { cfg.Fresh = f.Fresh },
		"big":            func() { cfg.Big = f.Big },
		"probe":          func() { cfg.Probe = f.Probe },
		"pprof":          func() { cfg.PProf = f.PProf },
		"reload":         func() { cfg.Reload = f.Reload },
		"before-build":   func() { cfg.BeforeBuild = f.BeforeBuild },
	}
	for name, fn := range apply {
		if set[name] {
			fn()
		}
	}
	if rest := fs.Args(); len(rest) > 0 {
		// The flag package stops at the first word that is not a flag and
		// drops a "--": only what follows a "--" is the engine's. A word
		// before it is a command hotrun does not know (`hotrun labs`),
		// which must not start a session as if nothing was typed.
		if i := len(args) - len(rest); i == 0 || args[i-1] != "--" {
			usage(fs, stderr)
			return nil, fmt.Errorf("%w: unknown command %q: hotrun's commands are init, lab and version; engine arguments go after --", errUsage, rest[0])
		}
		cfg.Args = rest
	}
	if cfg.JSON {
		cfg.Headless = true
	}
	switch cfg.Mode {
	case "", "hotswap", "restart":
	default:
		return nil, fmt.Errorf("%w: mode %q: want hotswap or restart", errUsage, cfg.Mode)
	}
	// A negative debounce stops the watcher at the start; a negative
	// snapshot_every would have the supervisor pulse without pause.
	if cfg.Debounce.Duration < 0 || cfg.SnapshotEvery.Duration < 0 {
		return nil, fmt.Errorf("%w: debounce %v, snapshot_every %v: want durations of 0 or more", errUsage, cfg.Debounce.Duration, cfg.SnapshotEvery.Duration)
	}
	for _, p := range cfg.Probe {
		if _, err := probe.Parse(p); err != nil {
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
	}
	if cfg.Drain.Duration <= 0 {
		return nil, fmt.Errorf("%w: drain %s: want a positive duration", errUsage, cfg.Drain.Duration)
	}
	if cfg.PProf != "" {
		if err := checkPProfAddr(cfg.PProf); err != nil {
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
	}
	if cfg.Reload != "" {
		if err := checkReloadAddr(cfg.Reload); err != nil {
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
	}
	return &cfg, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func usage(fs *flag.FlagSet, w io.Writer) {
	fmt.Fprint(w, `hotrun changes a running Go program without stopping it: it watches the
logic plugin's source, builds each save into a new plugin version and swaps it
into the running engine, keeping the engine's state.

Usage:
  hotrun [flags] [-- engine arguments]
  hotrun init       write what is missing of a project into the Go module here
  hotrun lab        learn the limits of Go plugins hands-on, one guided lab each
  hotrun -version   print hotrun's version, the engine library and control
                    protocol it speaks, and the Go it was built with

Settings come from hotrun.toml in the current directory (same names as the
flags, see docs/config.md), then from the flags.
`)
	groups := []struct {
		title string
		flags []string
	}{
		{"Project", []string{"config", "dir", "engine", "logic"}},
		{"Output", []string{"headless", "json", "verbose", "big", "probe", "reload", "pprof"}},
		{"Watching", []string{"debounce", "poll", "include", "exclude", "before-build"}},
		{"Building and running", []string{"mode", "buildflags", "max-versions", "max-rss", "snapshot-every", "drain", "orphan-grace", "fresh"}},
	}
	for _, g := range groups {
		fmt.Fprintf(w, "\n%s:\n", g.title)
		for _, name := range g.flags {
			f := fs.Lookup(name)
			if f == nil {
				continue
			}
			arg, text := flag.UnquoteUsage(f)
			line := "  -" + f.Name
			if arg != "" {
				line += " " + arg
			}
			if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
				text += fmt.Sprintf(" (default %q)", f.DefValue)
			}
			fmt.Fprintf(w, "%s\n    \t%s\n", line, text)
		}
	}
	fmt.Fprint(w, `
While it runs: r rebuild, R restart the engine, b roll back, f forward, v the
version list (keys in the TUI). With -headless or -json, lines on stdin: r, R,
b, f; "d N" (diff of vN against the version before), "d A B", "live N".

Exit codes: 0 stopped normally, 1 could not start or failed, 2 bad usage.
`)
}

// project names the project for the TUI's header: the module directory.
func (c *config) project() string {
	if abs, err := filepath.Abs(c.Dir); err == nil {
		return filepath.Base(abs)
	}
	return c.Dir
}
