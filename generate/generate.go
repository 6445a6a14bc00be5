// Package generate runs a project's code generators before a build:
// hotrun.toml's `before_build = ["templ generate", "sqlc generate"]` (or
// -before-build, repeatable). Each [Step] is a shell command run in the
// module, in order, before the build of a change that touched a file it
// reads; the first build of a session runs them all. What they write is
// then part of the build that ran them, and never the cause of another.
//
// A step knows what it reads: its inputs, doublestar globs relative to the
// module. The generators this package knows by name read what they
// document — templ its .templ files, sqlc its configuration and .sql files
// — and a step given as a table names its own:
//
//	before_build = [
//		"templ generate",
//		{ run = "go generate ./logic/...", inputs = ["logic/**/*.proto"] },
//	]
//
// A step with no inputs runs before every build. The inputs count as
// changes to the watcher, like hotrun.toml's include globs.
//
// # What it never does
//
// It never decides when to build (the supervisor does), and never prints:
// the runner publishes what a step did as an [event.Generate]. It never
// reads what a generator wrote to tell it apart from a person's save by
// its name: [Snapshot] and [Written] compare the module's files before and
// after, so any file a generator writes is known as its own.
package generate

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/hotrun-dev/hotrun/gosrc"
	"github.com/hotrun-dev/hotrun/internal/command"
)

// Step is one generator.
type Step struct {
	// Run is the command, run by sh -c in the module's directory.
	Run string `toml:"run"`
	// Inputs are the files it reads, doublestar globs relative to the
	// module; none means it runs before every build.
	Inputs []string `toml:"inputs"`
}

// known are the inputs of the generators this package knows by name: what
// each reads by its own documentation.
var known = map[string][]string{
	"templ": {"**/*.templ"},
	"sqlc":  {"**/sqlc.yaml", "**/sqlc.yml", "**/sqlc.json", "**/*.sql"},
}

// Parse reads a step written as a command line: the inputs of a generator
// known by name ("templ generate", "go run github.com/a-h/templ/cmd/templ@v0.3.1118
// generate"), or none.
func Parse(command string) (Step, error) {
	s := Step{Run: strings.TrimSpace(command)}
	if s.Run == "" {
		return s, errors.New("generate: an empty command")
	}
	for _, w := range strings.Fields(s.Run) {
		name, _, _ := strings.Cut(path.Base(w), "@")
		if in, ok := known[name]; ok {
			s.Inputs = in
			break
		}
	}
	return s, nil
}

// UnmarshalTOML reads a step from hotrun.toml: a command line (see Parse)
// or a table { run = "…", inputs = ["…"] }.
func (s *Step) UnmarshalTOML(v any) error {
	switch v := v.(type) {
	case string:
		p, err := Parse(v)
		*s = p
		return err
	case map[string]any:
		run, _ := v["run"].(string)
		p, err := Parse(run)
		if err != nil {
			return err
		}
		if in, ok := v["inputs"]; ok {
			list, ok := in.([]any)
			if !ok {
				return fmt.Errorf("generate: %q: inputs must be a list of globs", run)
			}
			p.Inputs = nil
			for _, g := range list {
				gs, ok := g.(string)
				if !ok || !doublestar.ValidatePattern(gs) {
					return fmt.Errorf("generate: %q: input %v is not a glob", run, g)
				}
				p.Inputs = append(p.Inputs, gs)
			}
		}
		for k := range v {
			if k != "run" && k != "inputs" {
				return fmt.Errorf("generate: %q: unknown key %q (want run and inputs)", run, k)
			}
		}
		*s = p
		return nil
	}
	return fmt.Errorf("generate: a step is a command line or a table {run, inputs}, not %T", v)
}

// Reads reports whether the step reads the file rel (slash-separated,
// relative to the module): a change to it makes the step due.
func (s Step) Reads(rel string) bool {
	if len(s.Inputs) == 0 {
		return true
	}
	for _, g := range s.Inputs {
		if ok, _ := doublestar.Match(g, rel); ok {
			return true
		}
	}
	return false
}

// Result is what one run of a step did.
type Result struct {
	Duration time.Duration
	Output   string // its standard output and error, interleaved
	Err      error  // nil when it exited 0
}

// Execute runs the step in dir with the user's environment. Canceling ctx
// ends it and every process it started.
func (s Step) Execute(ctx context.Context, dir string) Result {
	start := time.Now()
	// command ends the whole process group on cancel: sh, the generator
	// and whatever it started (go run builds, then runs, a child), which
	// would otherwise write files after a newer save made the build stale.
	out, err := command.Output(ctx, dir, nil, "sh", "-c", s.Run)
	r := Result{Duration: time.Since(start), Output: out}
	if err != nil {
		if ctx.Err() != nil {
			err = context.Cause(ctx)
		}
		r.Err = fmt.Errorf("%s: %w", s.Run, err)
	}
	return r
}

// Stamps are the size and time of every file of a module, to tell what a
// generator wrote.
type Stamps map[string]stamp

type stamp struct {
	size int64
	mod  time.Time
}

// Snapshot stamps the files of the module in dir, skipping the directories
// gosrc.SkipDir names (names starting with . or _, testdata, vendor,
// node_modules): hotrun's own .hotrun and .git among them.
func Snapshot(dir string) Stamps {
	st := Stamps{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			if p != dir && gosrc.SkipDir(d.Name()) != "" {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		if fi, err := d.Info(); err == nil {
			st[p] = stamp{fi.Size(), fi.ModTime()}
		}
		return nil
	})
	return st
}

// Written returns the files that differ between two snapshots (new,
// changed or gone), each with the digest of its content now (the zero
// Digest when gone or unreadable): what the generators wrote, for the
// watcher's report of them to be known as theirs.
func Written(before, after Stamps) map[string]gosrc.Digest {
	out := map[string]gosrc.Digest{}
	for p, s := range after {
		if b, ok := before[p]; !ok || b != s {
			if c, err := os.ReadFile(p); err == nil {
				out[p] = gosrc.Sum(c)
			} else {
				out[p] = gosrc.Digest{}
			}
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			out[p] = gosrc.Digest{}
		}
	}
	return out
}
