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
	"strings"
	"syscall"

	"golang.org/x/sync/errgroup"

	"github.com/hotrun-dev/hotrun/event"
	"github.com/hotrun-dev/hotrun/runner"
	"github.com/hotrun-dev/hotrun/tui"
	"github.com/hotrun-dev/hotrun/watcher"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
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
		case "version":
			return runVersion(stdout)
		}
	}
	cfg, err := parseConfig(args, stderr)
	if err != nil {
		return err
	}
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return err
	}
	stream := event.NewStream(4096)
	r := runner.New(runner.Config{
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
		Events:        stream,
		MaxVersions:   cfg.MaxVersions,
		MaxRSS:        cfg.MaxRSSMB << 20,
		SnapshotEvery: cfg.SnapshotEvery.Duration,
		Mode:          cfg.Mode,
	})

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var g errgroup.Group
	g.Go(func() error {
		defer stream.Close()
		return r.Run(ctx)
	})
	viewErr := view(ctx, cfg, stream.Records(), r, stdin, stdout)
	cancel()
	// Whatever the view did, drain the stream so the runner never blocks on
	// it while it stops the engine.
	for range stream.Records() {
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return viewErr
}

// view shows the records until they end. Headless is decided here, once:
// asked for, or stdout is not a terminal; then no bubbletea program starts.
func view(ctx context.Context, cfg *config, records <-chan event.Record, r *runner.Runner, stdin io.Reader, stdout io.Writer) error {
	if !cfg.Headless && isTerminal(stdout) {
		return tui.Run(ctx, tui.Options{
			Project: cfg.project(),
			Records: records,
			Control: r,
			Input:   stdin,
			Output:  stdout,
		})
	}
	go readCommands(stdin, r)
	var p event.Printer
	if cfg.JSON {
		p = event.NewJSON(stdout)
	} else {
		p = event.NewPlain(stdout)
	}
	for rec := range records {
		if err := p.Print(rec); err != nil {
			return fmt.Errorf("write events: %w", err)
		}
	}
	return nil
}

// readCommands reads the headless mode's commands, one a line: the TUI's
// keys for editors, scripts and people at a plain terminal. It ends when
// stdin does; hotrun's exit never waits for it.
func readCommands(stdin io.Reader, r *runner.Runner) {
	sc := bufio.NewScanner(stdin)
	for sc.Scan() {
		switch strings.TrimSpace(sc.Text()) {
		case "r", "rebuild":
			r.Rebuild()
		case "R", "restart":
			r.Restart()
		case "b", "back", "rollback":
			r.Rollback()
		case "f", "forward":
			r.Forward()
		}
	}
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
