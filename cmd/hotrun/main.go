// Command hotrun changes a running Go program without stopping it.
//
// It builds the user's engine once and each save of the logic tree into a
// new plugin version that the running engine swaps in, keeping its state.
// See the README for the layout a project needs.
//
// main only maps run's error to an exit code: run does the work, and tests
// call it directly.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/hotrun-dev/hotrun/builder"
	"github.com/hotrun-dev/hotrun/event"
	"github.com/hotrun-dev/hotrun/lab"
	"github.com/hotrun-dev/hotrun/probe"
	"github.com/hotrun-dev/hotrun/runner"
	"github.com/hotrun-dev/hotrun/tui"
	"github.com/hotrun-dev/hotrun/watcher"
)

func main() {
	// A closed terminal (SIGHUP: the window closed, tmux kill-session) ends
	// hotrun like Ctrl-C: the engine drains, saves its state and stops.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		fmt.Fprintln(os.Stderr, "hotrun:", err)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "hotrun:", err)
		os.Exit(1)
	}
}

// run is hotrun: it parses args, starts the runner, and shows its events
// until ctx is done or the user quits.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "init":
			return runInit(ctx, args[1:], stdout, stderr)
		case "lab":
			return runLab(ctx, args[1:], stdin, stdout, stderr)
		case "-version", "--version", "version":
			return runVersion(stdout)
		}
	}
	cfg, err := parseConfig(args, stderr)
	if err != nil {
		return err
	}
	return runHotrun(ctx, cfg, nil, stdin, stdout)
}

// runHotrun runs hotrun on cfg until ctx is done or the user quits. With
// labCfg, it runs a lab (hotrun lab): the lab's guide sits on the stream
// between the prober and the view, and the screen shows its pane; when the
// guide does the steps itself (-check), the session ends with its verdict.
func runHotrun(ctx context.Context, cfg *config, labCfg *lab.Config, stdin io.Reader, stdout io.Writer) error {
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return err
	}
	stream := event.NewStream(4096)
	if cfg.PProf != "" {
		addr, stop, err := servePProf(cfg.PProf)
		if err != nil {
			return err
		}
		defer stop()
		// Said once on the stream, where the user looks: the timeline or
		// the lines.
		stream.Publish(event.Log{Source: event.SourceHotrun, Level: "info", Text: "hotrun's own profiles (pprof): http://" + addr + "/debug/pprof/"})
	}
	// The probes ride on the stream: the prober passes every event on and
	// publishes what the engine answers when the live version changes.
	var probes []probe.Request
	for _, spec := range cfg.Probe {
		p, _ := probe.Parse(spec) // checked by parseConfig
		probes = append(probes, p)
	}
	var r *runner.Runner
	// With -reload, open pages follow the code: the proxy reads the same
	// events on their way to the stream.
	pages, stopReload, err := startReload(cfg.Reload, func() []string { return r.Addrs() }, stream)
	if err != nil {
		return err
	}
	// A lab's guide reads them before, and publishes its own after them.
	pub := pages
	var guide *lab.Guide
	if labCfg != nil {
		c := *labCfg
		c.Events = pages
		c.Keys = func() lab.Keys { return r }
		guide = lab.New(c)
		pub = guide
	}
	prober := probe.New(probe.Config{
		Requests: probes,
		Addrs:    func() []string { return r.Addrs() },
		Events:   pub,
	})
	// cmds is where the headless commands publish (a diff asked for): it
	// closes before the stream does, as readCommands may outlive the run.
	cmds := &gate{p: stream}
	r = runner.New(runner.Config{
		Dir:        dir,
		Engine:     cfg.Engine,
		Logic:      cfg.Logic,
		Root:       root,
		EngineArgs: cfg.Args,
		Flags:      cfg.BuildFlags,
		Watch: watcher.Config{
			Debounce: cfg.Debounce.Duration,
			Include:  cfg.Include,
			Exclude:  cfg.Exclude,
			Poll:     cfg.Poll,
			Verbose:  cfg.Verbose,
		},
		Events:        prober,
		Fresh:         cfg.Fresh,
		MaxVersions:   cfg.MaxVersions,
		MaxRSS:        cfg.MaxRSSMB << 20,
		SnapshotEvery: cfg.SnapshotEvery.Duration,
		Drain:         cfg.Drain.Duration,
		OrphanGrace:   cfg.OrphanGrace.Duration,
		Mode:          cfg.Mode,
		BeforeBuild:   cfg.BeforeBuild,
	})

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var g errgroup.Group
	g.Go(func() error {
		// Deferred in reverse: the prober's last probe, the guide's last
		// word and the last command's event are published before the
		// stream closes.
		defer stream.Close()
		defer cmds.close()
		defer stopReload()
		if guide != nil {
			defer guide.Close()
		}
		defer prober.Close()
		return r.Run(ctx)
	})
	verdict := make(chan error, 1)
	if guide != nil && labCfg.Reference {
		go func() {
			select {
			case err := <-guide.Done():
				verdict <- err
				cancel() // every step done, or one that never will be
			case <-ctx.Done():
				verdict <- errors.New("the session ended before every step of the lab was done")
			}
		}()
	}
	var labCtl tui.LabControl
	if guide != nil {
		labCtl = guide
	}
	viewErr := view(ctx, cfg, filepath.Join(dir, builder.OutDir), stream.Records(), r, labCtl, cmds, stdin, stdout)
	cancel()
	// Whatever the view did, drain the stream so the runner never blocks on
	// it while it stops the engine.
	for range stream.Records() {
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if guide != nil && labCfg.Reference {
		if err := <-verdict; err != nil {
			return err
		}
	}
	return viewErr
}

// view shows the records until they end. Headless is decided here, once:
// asked for, or stdout is not a terminal; then no bubbletea program starts.
// A panic in the view never ends hotrun: the screen and the printers
// recover, write a crash log in crashDir and say so; a screen that keeps
// panicking gives the terminal back and plain lines follow.
func view(ctx context.Context, cfg *config, crashDir string, records <-chan event.Record, r tui.Controller, labCtl tui.LabControl, pub event.Publisher, stdin io.Reader, stdout io.Writer) error {
	var p event.Printer
	switch {
	case !cfg.Headless && isTerminal(stdout):
		err := tui.Run(ctx, tui.Options{
			Project:  cfg.project(),
			Records:  records,
			Control:  r,
			Input:    stdin,
			Output:   stdout,
			Big:      cfg.Big,
			CrashDir: crashDir,
			Lab:      labCtl,
		})
		if !errors.Is(err, tui.ErrCrashed) {
			return err
		}
		p = event.NewPlain(stdout)
		p.Print(event.Record{Time: time.Now(), Event: event.Log{Source: event.SourceHotrun, Level: "error",
			Text: err.Error() + "; plain lines from here (the keys work as lines: r, R, b, f, d N, live N)"}})
	case cfg.JSON:
		p = event.NewJSON(stdout)
	default:
		p = event.NewPlain(stdout)
	}
	go readCommands(stdin, r, labCtl, pub)
	return printRecords(p, records, crashDir)
}

// printRecords prints records until they end. A record whose printing
// panics is skipped: its crash log goes in crashDir, and a log event in the
// printer's own form says so.
func printRecords(p event.Printer, records <-chan event.Record, crashDir string) error {
	for rec := range records {
		err := p.Print(rec)
		if pp := (*event.PrintPanic)(nil); errors.As(err, &pp) {
			where := "no crash log"
			if path, err := tui.WriteCrash(crashDir, "its printer, while printing a "+pp.Event+" event", pp.Value, pp.Stack, ""); err == nil {
				where = "stack in " + path
			}
			err = p.Print(event.Record{Time: time.Now(), Event: event.Log{Source: event.SourceHotrun, Level: "error",
				Text: fmt.Sprintf("hotrun recovered from a panic printing a %s event, which it skipped: %v; %s", pp.Event, pp.Value, where)}})
		}
		if err != nil {
			return fmt.Errorf("write events: %w", err)
		}
	}
	return nil
}

// readCommands reads the headless mode's commands, one a line: the TUI's
// keys for editors, scripts and people at a plain terminal. What a command
// answers (a diff) goes on the stream through pub, like everything else. It
// ends when stdin does; hotrun's exit never waits for it.
func readCommands(stdin io.Reader, r tui.Controller, labCtl tui.LabControl, pub event.Publisher) {
	sc := bufio.NewScanner(stdin)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "r", "rebuild":
			r.Rebuild()
		case "R", "restart":
			r.Restart()
		case "b", "back", "rollback":
			r.Rollback()
		case "f", "forward":
			r.Forward()
		case "d", "diff":
			// d N: vN against the version before; d A B: from vA to vB.
			ns, ok := versionArgs(f[1:])
			if !ok || len(ns) > 2 {
				pub.Publish(event.Log{Source: event.SourceHotrun, Level: "warn", Text: "diff: want \"d N\" or \"d A B\" (version numbers)"})
				continue
			}
			from, to := ns[0]-1, ns[0]
			if len(ns) == 2 {
				from, to = ns[0], ns[1]
			}
			text, err := r.Diff(from, to)
			if err != nil {
				pub.Publish(event.Log{Source: event.SourceHotrun, Level: "error", Text: fmt.Sprintf("diff v%d v%d: %v", from, to, err)})
				continue
			}
			pub.Publish(event.Diff{From: from, To: to, Text: text})
		case "n", "p", "a":
			// A lab's keys (hotrun lab -headless): next step, the step
			// before, do this step.
			if labCtl != nil {
				map[string]func(){"n": labCtl.Next, "p": labCtl.Prev, "a": labCtl.Apply}[f[0]]()
			}
		case "v", "live":
			ns, ok := versionArgs(f[1:])
			if !ok || len(ns) != 1 {
				pub.Publish(event.Log{Source: event.SourceHotrun, Level: "warn", Text: "live: want \"live N\" (a version number)"})
				continue
			}
			r.Activate(ns[0])
		}
	}
}

// versionArgs reads one or more version numbers ("3" or "v3").
func versionArgs(args []string) ([]int, bool) {
	if len(args) == 0 {
		return nil, false
	}
	ns := make([]int, len(args))
	for i, a := range args {
		n, err := strconv.Atoi(strings.TrimPrefix(a, "v"))
		if err != nil || n < 1 {
			return nil, false
		}
		ns[i] = n
	}
	return ns, true
}

// gate passes events on to a publisher until it is closed, then drops them:
// what publishes through it may outlive the stream.
type gate struct {
	mu     sync.RWMutex // guards closed; held while publishing, so close waits for a publish under way
	closed bool
	p      event.Publisher
}

func (g *gate) Publish(e event.Event) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if !g.closed {
		g.p.Publish(e)
	}
}

func (g *gate) close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
