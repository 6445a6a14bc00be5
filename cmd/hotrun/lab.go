package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/hotrun-dev/hotrun/internal/paths"
	"github.com/hotrun-dev/hotrun/lab"
)

// runLab is `hotrun lab`: the list of labs, one lab run with its guide on
// a copy of the example, or (-check) every step of one done with its
// reference edits, headless.
func runLab(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hotrun lab", flag.ContinueOnError)
	fs.SetOutput(stderr)
	check := fs.Bool("check", false, "do every step with its reference edits, headless, and exit 0 when every step's events came (for CI); without NAME, every lab")
	dirFlag := fs.String("dir", "", "the lab's project `dir` (default: where the lab ran last, else ./hotrun-lab-NAME)")
	reset := fs.Bool("reset", false, "start the lab over: a fresh copy of the example, no step done")
	headless := fs.Bool("headless", false, "print events as plain lines instead of the screen (n, p, a as lines on stdin)")
	jsonOut := fs.Bool("json", false, "print events as JSON lines (implies -headless)")
	big := fs.Bool("big", false, "presenter layout, for teaching a room: under the lab pane, the probes' answers and the last diff fill the screen")
	fs.Usage = func() { labUsage(fs, stderr) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	progress, err := openProgress()
	if err != nil {
		return err
	}
	var labs []*lab.Lab
	switch fs.NArg() {
	case 0:
		if !*check {
			return listLabs(stdout, progress)
		}
		labs = lab.All()
	case 1:
		l := lab.Find(fs.Arg(0))
		if l == nil {
			return fmt.Errorf("%w: no lab %q; the labs are %s (hotrun lab lists them)", errUsage, fs.Arg(0), strings.Join(lab.Names(), ", "))
		}
		labs = []*lab.Lab{l}
	default:
		return fmt.Errorf("%w: hotrun lab takes one lab's name", errUsage)
	}
	if *check {
		for _, l := range labs {
			if err := checkLab(ctx, l, *dirFlag, stdout, stderr); err != nil {
				return err
			}
		}
		return nil
	}
	l := labs[0]
	dir, err := labDir(l, *dirFlag, progress)
	if err != nil {
		return err
	}
	if *reset {
		if err := lab.Remove(dir); err != nil {
			return err
		}
		if err := progress.Forget(l.Name); err != nil {
			return err
		}
	}
	made, err := lab.Make(ctx, l, dir)
	if err != nil {
		return labError(err, l, dir)
	}
	rec := progress.Get(l.Name)
	if made {
		fmt.Fprintf(stderr, "hotrun lab %s: %s\n  a fresh copy of the example in %s\n", l.Name, l.Limit, shortPath(dir))
	} else {
		fmt.Fprintf(stderr, "hotrun lab %s: your copy of the example in %s, at step %d of %d (-reset starts over)\n", l.Name, shortPath(dir), max(rec.Step, 1), l.Steps())
	}
	cfg, err := labConfig(l, dir, *headless || *jsonOut, *jsonOut, stderr)
	if err != nil {
		return err
	}
	cfg.Big = *big
	err = runHotrun(ctx, cfg, &lab.Config{Lab: l, Dir: dir, Progress: progress}, stdin, stdout)
	if rec := progress.Get(l.Name); err == nil && rec.Step > 0 {
		fmt.Fprintf(stderr, "hotrun lab %s: %d of %d steps done; hotrun lab %s goes on at step %d\n", l.Name, len(rec.Passed), l.Steps(), l.Name, rec.Step)
	}
	return err
}

// checkLab does every step of l with its reference edits in a fresh copy
// of the example, in dir when given, else in a temporary directory that
// goes afterwards.
func checkLab(ctx context.Context, l *lab.Lab, dir string, stdout, stderr io.Writer) error {
	if dir == "" {
		tmp, err := os.MkdirTemp("", "hotrun-lab-"+l.Name+"-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	} else {
		dir = filepath.Join(dir, l.Name)
		if err := lab.Remove(dir); err != nil {
			return err
		}
	}
	if _, err := lab.Make(ctx, l, dir); err != nil {
		return labError(err, l, dir)
	}
	cfg, err := labConfig(l, dir, true, false, stderr)
	if err != nil {
		return err
	}
	cfg.Fresh = true
	if err := runHotrun(ctx, cfg, &lab.Config{Lab: l, Dir: dir, Reference: true}, strings.NewReader(""), stdout); err != nil {
		return fmt.Errorf("lab %s: %w", l.Name, err)
	}
	fmt.Fprintf(stdout, "hotrun lab -check %s: every step's events came\n", l.Name)
	return nil
}

// labConfig is the session's config: the project's hotrun.toml (the lab's
// probes), and a free port for the engine, so that a lab runs beside
// anything else: one below the ephemeral range (unusedAddr), for the
// prober asks it before the engine listens.
func labConfig(l *lab.Lab, dir string, headless, jsonOut bool, stderr io.Writer) (*config, error) {
	addr, err := unusedAddr()
	if err != nil {
		return nil, err
	}
	args := []string{"-config", filepath.Join(dir, configFile), "-dir", dir}
	if headless {
		args = append(args, "-headless")
	}
	if jsonOut {
		args = append(args, "-json")
	}
	return parseConfig(append(args, "--", "-addr", addr), stderr)
}

// labDir is where lab l's project is: -dir, else where it ran last, else
// ./hotrun-lab-NAME.
func labDir(l *lab.Lab, flagDir string, progress *lab.Progress) (string, error) {
	if flagDir != "" {
		return filepath.Abs(flagDir)
	}
	if rec := progress.Get(l.Name); rec.Dir != "" && lab.ProjectOf(rec.Dir) == l.Name {
		return rec.Dir, nil
	}
	return filepath.Abs("hotrun-lab-" + l.Name)
}

// labError says what to do when a lab's project can't be made.
func labError(err error, l *lab.Lab, dir string) error {
	if errors.Is(err, lab.ErrNotProject) {
		return fmt.Errorf("%w: %v; hotrun lab never writes into a directory it did not make: name another with -dir", errUsage, err)
	}
	return fmt.Errorf("lab %s: making its project in %s: %w", l.Name, dir, err)
}

func openProgress() (*lab.Progress, error) {
	p, err := lab.ProgressFile()
	if err != nil {
		return nil, err
	}
	return lab.OpenProgress(p), nil
}

// listLabs prints every lab: its name, its limit, and how far the learner
// got.
func listLabs(w io.Writer, progress *lab.Progress) error {
	all, err := progress.All()
	if err != nil {
		all = nil // a broken progress file: the list still helps
	}
	fmt.Fprint(w, "The labs: each is a limit of Go plugins, met on a copy of hotrun's example in a few guided steps.\n"+
		"hotrun lab NAME starts one (or goes on where you stopped); hotrun lab -reset NAME starts it over.\n\n")
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	for _, l := range lab.All() {
		rec, state := all[l.Name], "not started"
		switch {
		case len(rec.Passed) == l.Steps():
			state = "✓ done"
		case len(rec.Passed) > 0 || rec.Step > 0:
			state = fmt.Sprintf("%d of %d steps done", len(rec.Passed), l.Steps())
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", l.Name, l.Limit, state)
	}
	return tw.Flush()
}

// shortPath names dir relative to the current directory when it lies in it.
func shortPath(dir string) string {
	wd, err := os.Getwd()
	if err != nil {
		return dir
	}
	if rel, ok := paths.Within(wd, dir); ok {
		return "./" + filepath.ToSlash(rel)
	}
	return dir
}

func labUsage(fs *flag.FlagSet, w io.Writer) {
	fmt.Fprint(w, `Usage:
  hotrun lab                 list the labs, and how far you got in each
  hotrun lab [flags] NAME    run lab NAME
  hotrun lab -check [NAME]   do a lab's steps (every lab's) by themselves, for CI

A lab is a limit of Go plugins, met hands-on on a copy of hotrun's example
(made from files hotrun carries, never your own): hotrun runs on it with a
lab pane that says what to do and where (e opens the file in $EDITOR), and,
as you save, what hotrun did and the Go rule behind it. A step is done when
hotrun's own events show it; the next opens then. n and p move between
steps, a does the step for you. Where you stopped is kept in the user
config directory: hotrun lab NAME goes on from there.

Flags:
`)
	fs.PrintDefaults()
}

// unusedAddr returns a free TCP address on 127.0.0.1 below the kernel's
// ephemeral range (32768 and up on Linux), not one the kernel picks (port
// 0): a client that asks a port in that range before the engine listens
// can connect to itself (TCP's self-connect: its source port the port it
// asks), and the engine's bind then fails with "address already in use".
func unusedAddr() (string, error) {
	var err error
	for range 100 {
		var ln net.Listener
		ln, err = net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(10000+rand.IntN(22000))))
		if err == nil {
			addr := ln.Addr().String()
			ln.Close()
			return addr, nil
		}
	}
	return "", fmt.Errorf("no free port below 32000 on 127.0.0.1: %w", err)
}
