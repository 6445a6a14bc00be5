package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/hotrun-dev/hotrun/hot/protocol"
	"github.com/hotrun-dev/hotrun/scaffold"
)

// runInit is `hotrun init`: it writes what is missing of a hotrun project
// into the Go module in the current directory, and says what it did.
func runInit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hotrun init", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage:
  hotrun init [-local]

Run in the root of a Go module (the directory that holds go.mod), it writes
what is missing of a hotrun project.

In a module with no main package and no interface yet, that is the whole
skeleton: engine/main.go (the host), a shared package for the state and the
Logic interface, logic/main.go (the plugin) with one sub-package, and a
commented hotrun.toml.

In a flat module (the server, its state and its handlers in one package
main), it writes nothing and prints the recipe that splits it, in the
program's own names: the state, the code for the logic, the interface, the
three files to create, and the h.Handler or h.Run line for each call site.

In a module already split, it reads the packages and adopts what it finds:
the engine (a main package that imports the engine library, or else the
program beside the logic, the root package included), the shared interface
the logic implements, and the logic (a main package that exports a variable
of it). It writes only what is missing: hotrun.toml with the names it found,
and an engine wired to that interface when the module has no program to be
one. When it can't tell (two interfaces, two logics), it writes nothing,
prints what it found and the lines to add, and exits 1.

It never overwrites a file. When go.mod does not require the engine
library (github.com/hotrun-dev/hotrun/hot) yet, it adds the version this
hotrun was built with, through go get: lines that work on any machine.

A hotrun built from a checkout has no released version to name: init then
leaves go.mod alone and says so, unless asked for -local.

Flags:
  -local  point go.mod at the engine library of the checkout this hotrun was
          built from ($HOTRUN_SRC names another) with a replace directive:
          for this machine only, never to be committed
`)
	}
	local := fs.Bool("local", false, "use the engine library of this hotrun's checkout (a replace directive for this machine only)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: hotrun init takes no arguments; run it in the module's root", errUsage)
	}
	dir, err := os.Getwd()
	if err != nil {
		return err
	}
	opts := scaffold.Options{Dir: dir, Library: protocol.LibraryVersion()}
	if *local {
		if opts.Checkout, err = scaffold.LocalCheckout(); err != nil {
			return fmt.Errorf("init: -local: %w", err)
		}
		if opts.Checkout == "" {
			return fmt.Errorf("init: -local: this hotrun was not built from a checkout (hotrun %s); set %s to the hotrun checkout to use", hotrunVersion(), scaffold.EnvSrc)
		}
	}
	res, err := scaffold.Write(ctx, opts)
	if errors.Is(err, scaffold.ErrNoModule) {
		return noModule(dir)
	}
	if res != nil {
		report(stdout, dir, res)
	}
	if err != nil {
		return fmt.Errorf("init: %w", err)
	}
	if res.Project != nil && res.Project.Unsure != "" {
		return errors.New("init: wrote nothing: it could not tell the project's parts apart (see above)")
	}
	return nil
}

// noModule is the error for init outside a module: it says how to make one,
// or where the module root is when dir lies inside one.
func noModule(dir string) error {
	for d := filepath.Dir(dir); ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return fmt.Errorf("init: no go.mod in %s; it is inside the module rooted at %s: run hotrun init there", dir, d)
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	return fmt.Errorf(`init: no go.mod in %s: hotrun init adds a hotrun project to a Go module. Make one first:
  go mod init example.com/yourapp
then run hotrun init again`, dir)
}

// report says what init found, what it wrote, what it left alone, and
// what to do next.
func report(w io.Writer, dir string, res *scaffold.Result) {
	fmt.Fprintf(w, "hotrun init: module %s in %s\n", res.Module, dir)
	p := res.Project
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	part := func(verb string, pt *scaffold.Part) {
		name := pt.Dir
		if pt.Kind != "engine" && pt.Kind != "logic" && pt.Kind != "flat" || pt.Dir == "" {
			name = pt.Name
		}
		where := pt.Note
		if pt.Pos != "" {
			where = pt.Pos + ": " + pt.Note
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", verb, pt.Kind, name, where)
	}
	if p != nil {
		for _, pt := range []*scaffold.Part{p.Engine, p.Shared, p.State, p.Logic} {
			if pt != nil {
				part("found", pt)
			}
		}
		for i := range p.Seen {
			verb := "seen"
			if p.Seen[i].Kind == "stale" {
				verb = "found"
			}
			part(verb, &p.Seen[i])
		}
		tw.Flush()
		if p.Recipe != nil {
			recipe(w, p.Recipe)
			return
		}
		if p.Unsure != "" {
			fmt.Fprintf(w, "\nhotrun init wrote nothing: %s\n", p.Unsure)
			if len(p.Todo) > 0 {
				fmt.Fprintln(w, "Add what applies, then run hotrun init again:")
				todo(w, p.Todo)
			}
			return
		}
	}
	for _, f := range res.Files {
		if f.Kept == "" {
			fmt.Fprintf(tw, "  wrote\t%s\t%s\n", f.Path, f.What)
		} else {
			fmt.Fprintf(tw, "  kept\t%s\t%s: left alone\n", f.Path, f.Kept)
		}
	}
	tw.Flush()
	if res.Require != "" {
		fmt.Fprintf(w, "  go.mod: require %s (the engine library)\n", res.Require)
	}
	if res.Replace != "" {
		fmt.Fprintf(w, "  go.mod: replace %s (-local: this machine's checkout; don't commit this line, `go mod edit -dropreplace=%s` removes it)\n", res.Replace, scaffold.LibraryModule)
	}
	if res.GoVersion != "" {
		fmt.Fprintf(w, "  go.mod: go %s (the library's go.mod needs at least that)\n", res.GoVersion)
	}
	lib := protocol.LibraryVersion()
	switch {
	case res.NoLibrary:
		fmt.Fprintf(w, "\ngo.mod does not require the engine library yet: this hotrun was built from a checkout (version %s), so there is no released library to name. Either\n  hotrun init -local    # a replace directive to its checkout, for this machine only: don't commit it\nor install a released hotrun and run hotrun init again:\n  go install %s/cmd/hotrun@latest\n", hotrunVersion(), hotrunModule)
	case res.Required != "" && scaffold.Released(lib):
		fmt.Fprintf(w, "\ngo.mod requires %s %s and this hotrun speaks %s: make them agree with\n  go get %s@%s\n", scaffold.LibraryModule, res.Required, lib, scaffold.LibraryModule, lib)
	case res.Required != "":
		fmt.Fprintf(w, "\ngo.mod requires %s %s, a version never released, with no replace directive. Point it at this hotrun's checkout with\n  hotrun init -local\n", scaffold.LibraryModule, res.Required)
	}
	if len(res.Wrote()) == 0 && res.Require == "" && res.Replace == "" && !res.NoLibrary && res.Required == "" {
		fmt.Fprintln(w, "Nothing to add: every part is there.")
	}
	if p == nil {
		fmt.Fprintf(w, "\nNext: run `hotrun` here, open http://127.0.0.1:8080/?name=you, then edit logic/greet/greet.go and ask again.\n")
		return
	}
	if len(p.Todo) > 0 {
		fmt.Fprintln(w, "\nStill to do by hand:")
		todo(w, p.Todo)
	}
	next := "\nNext: run `hotrun` here, then edit " + p.Logic.Dir + " and save: the running engine swaps the new version in."
	if p.Engine != nil && !p.EngineHost {
		next = "\nNext: make " + p.Engine.Dir + " an engine with the lines above, then run `hotrun` here and edit " + p.Logic.Dir + "."
	}
	if slices.ContainsFunc(p.Seen, func(pt scaffold.Part) bool { return pt.Kind == "stale" }) {
		next = "\nNext: import the engine library from its path now (the line above), then run `hotrun` here and edit " + p.Logic.Dir + "."
	}
	for _, f := range res.Wrote() {
		if strings.HasSuffix(f, "/main.go") {
			next += "\nThe new " + f + " answers every request with the logic's type: call your logic there (see its comment)."
		}
	}
	fmt.Fprintln(w, next)
}

// todo prints lines a person should add, indented.
func todo(w io.Writer, lines []string) {
	for _, l := range lines {
		fmt.Fprintf(w, "  %s\n", strings.ReplaceAll(l, "\n", "\n    "))
	}
}

// recipe prints how to split a flat project, step by step, in its own
// names.
func recipe(w io.Writer, r *scaffold.Recipe) {
	fmt.Fprintf(w, "\nhotrun init wrote nothing: %s is a flat project, its state and the code you would edit\n", r.Dir)
	fmt.Fprintf(w, "live in one package. Split it in three (README, \"Laying out a project\"); in its own names:\n")
	items := func(title string, its []scaffold.Item) {
		if len(its) == 0 {
			return
		}
		fmt.Fprintf(w, "\n%s\n", title)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, it := range its {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", it.Name, it.Pos, it.Note)
		}
		tw.Flush()
	}
	items("State: the engine owns it, and it outlives every version.", r.State)
	items("Logic: the code to edit live, for ./logic.", r.Logic)
	items("Stays in the engine:", r.Engine)

	step := 0
	for _, f := range r.Create {
		step++
		fmt.Fprintf(w, "\n%d. Create %s: %s\n\n", step, f.Path, f.What)
		block(w, f.Src)
	}
	if len(r.Move) > 0 {
		step++
		fmt.Fprintf(w, "\n%d. Move the state the logic takes to package %s:\n", step, r.Shared)
		for _, m := range r.Move {
			fmt.Fprintf(w, "  - %s\n", m)
		}
	}
	step++
	fmt.Fprintf(w, "\n%d. Make %s the engine: change it at these places.\n", step, r.Dir)
	for _, e := range r.Edits {
		fmt.Fprintln(w)
		if e.Was != "" {
			fmt.Fprintf(w, "  %s  %s  %s\n", e.Pos, e.How, e.Was)
		} else {
			fmt.Fprintf(w, "  %s %s\n", e.How, e.Pos)
		}
		if e.Now != "" {
			block(w, e.Now)
		}
		if e.Note != "" {
			fmt.Fprintf(w, "    (%s)\n", strings.ReplaceAll(e.Note, "\n", "\n    "))
		}
	}
	for _, a := range r.After {
		step++
		fmt.Fprintf(w, "\n%d. %s%s\n", step, strings.ToUpper(a[:1]), a[1:])
	}
}

// block prints Go source, indented by a tab under its step.
func block(w io.Writer, src string) {
	for _, l := range strings.Split(strings.TrimRight(src, "\n"), "\n") {
		if l == "" {
			fmt.Fprintln(w)
			continue
		}
		fmt.Fprintf(w, "\t%s\n", l)
	}
}
