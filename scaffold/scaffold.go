// Package scaffold writes what is missing of a hotrun project into a Go
// module.
//
// # An empty module
//
// A module with no main package and no interface a logic could implement
// gets the skeleton: an engine (the host program), a shared package (the
// state types and the interface the logic implements), a logic plugin with
// one sub-package, and a commented hotrun.toml. A file that exists is left
// alone, and so is every package directory that already holds Go files.
//
// # A module with code of its own
//
// Otherwise [Inspect] reads the module's packages (`go list`, then go/types
// with the dependencies' export data) and finds the parts a project is made
// of: the engine, a main package that imports the engine library; the
// shared interface, the one the engine serves, or else the one a main
// package exports a variable of; the logic, the one main package that
// exports it; and the symbol it is exported as. With no engine, the
// program beside the logic (the root package too) is the engine to be.
// [Write] then adds only the glue: hotrun.toml with those names, and an
// engine wired to the interface (and to the state its methods take) when
// the module has no program to be one. When it can't tell,
// [Project.Unsure] says why and Write writes nothing at all, go.mod
// included: [Project.Todo] holds the lines a person should add, README's
// way (Listen before Start, h.Handler and h.Run at each call site).
//
// # A flat module
//
// A module with no logic yet, whose one serving main package holds the
// server, its state and its handlers, gets a [Recipe] and nothing written:
// the state that stays in the engine, the handlers and message formatting
// that go to the logic, the interface, the three files to create, and the
// change at each call site, in the program's own names (program.go reads
// them, recipe.go plans the split).
//
// It never overwrites a file and asks nothing.
//
// # go.mod
//
// The engine imports the engine library, github.com/hotrun-dev/hotrun/hot,
// a module of its own released with hotrun at the same version. When
// go.mod does not require it, Write adds lines that work on any machine: a
// plain requirement of the version hotrun was built with
// ([Options.Library]), through `go get`, which also records its checksums.
// A hotrun built from a checkout has no released version to name: Write
// then adds a replace directive to that checkout only when asked
// ([Options.Checkout], `hotrun init -local`), and otherwise leaves go.mod
// alone and says so ([Result.NoLibrary]). go.mod is edited with the go
// command, never by hand.
//
// A go.work that does not list the module (hotrun's own, when the module
// lies inside a hotrun checkout, or one named by $GOWORK) belongs to
// another project: the go commands Write runs ignore it.
//
// The package never prints; cmd/hotrun says what it did.
package scaffold

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/token"
	"go/version"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/hotrun-dev/hotrun/internal/command"
)

// LibraryModule is the module path of hotrun's engine library (package
// hot), which the skeleton's engine imports: a module of its own, so that
// requiring it adds nothing else to the user's go.mod.
const LibraryModule = "github.com/hotrun-dev/hotrun/hot"

// hotrunModule is the module path of hotrun itself: a checkout of it holds
// the library's module in its hot directory.
const hotrunModule = "github.com/hotrun-dev/hotrun"

// EnvSrc names a local hotrun checkout for the replace directive (`hotrun
// init -local`), for a hotrun binary that can't tell where it was built
// from, or to use another.
const EnvSrc = "HOTRUN_SRC"

// Released reports whether v, a version of the engine library
// (protocol.LibraryVersion), is a published one go get can fetch: a
// development build of hotrun records "(devel)" (a go.work, a replace
// directive) or nothing, and v0.0.0 was never published.
func Released(v string) bool {
	return strings.HasPrefix(v, "v") && v != "v0.0.0"
}

// ErrNoModule means the directory holds no go.mod.
var ErrNoModule = errors.New("scaffold: no go.mod")

// Options says where to write.
type Options struct {
	// Dir is the module root: the directory that holds go.mod.
	Dir string
	// Library is the version of the engine library to require: the one
	// hotrun was built with (protocol.LibraryVersion). One that is not
	// [Released] means a development build of hotrun, which no release
	// matches.
	Library string
	// Checkout is a hotrun checkout to point go.mod's requirement at with
	// a replace directive (`hotrun init -local`); "" for none.
	Checkout string
	// Go is the go command; "" means "go" from PATH.
	Go string
}

// File is one file of the skeleton.
type File struct {
	Path string // slash-separated, relative to the module root
	What string // what it is, for people
	// Kept says why an existing file or package was left alone; "" when
	// Write wrote the file.
	Kept string
}

// Result is what Write did.
type Result struct {
	Module string // the module path
	// Project is what Write found in a module that holds code already,
	// and adopted; nil when the module was empty and got the skeleton.
	Project *Project
	Shared  string // the skeleton's shared package (and directory); "" when adopting
	Files   []File // every file of the skeleton, written or kept, in order
	// Require and Replace are the go.mod directives Write added; "" when
	// it added none. A Replace points at a checkout on this machine: it
	// must not be committed.
	Require string
	Replace string
	// GoVersion is "old => new" when Write raised go.mod's go line to the
	// library's.
	GoVersion string
	// Required is the version of the engine library go.mod already
	// requires, with no replace directive, when it is not the one hotrun
	// was built with (Options.Library, or any when that is a development
	// build and the requirement is v0.0.0, which was never released); ""
	// otherwise.
	Required string
	// NoLibrary says that go.mod does not require the engine library and
	// Write added nothing: hotrun is a development build, with no release
	// to name, and no checkout was given for a replace directive.
	NoLibrary bool
}

// Wrote returns the paths of the files Write created.
func (r *Result) Wrote() []string {
	var out []string
	for _, f := range r.Files {
		if f.Kept == "" {
			out = append(out, f.Path)
		}
	}
	return out
}

// Write writes the missing parts of the skeleton into the module at
// opts.Dir and adds hotrun to its go.mod when it is not required yet.
func Write(ctx context.Context, opts Options) (*Result, error) {
	if opts.Go == "" {
		opts.Go = "go"
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("scaffold: %w", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w in %s", ErrNoModule, dir)
		}
		return nil, fmt.Errorf("scaffold: %w", err)
	}
	mod, err := readGoMod(ctx, opts.Go, dir)
	if err != nil {
		return nil, err
	}
	res := &Result{Module: mod.Module.Path}
	pkgs, err := load(ctx, opts.Go, dir)
	if err != nil {
		return nil, err
	}
	proj := &Project{Module: mod.Module.Path}
	proj.find(pkgs)
	if !proj.Empty {
		res.Project = proj
		return res, adopt(ctx, opts, dir, mod, proj, res)
	}
	res.Shared = SharedName(mod.Module.Path)

	for _, f := range files(res.Module, res.Shared) {
		file := File{Path: f.path, What: f.what}
		if why, err := keep(dir, f.path, f.pkg); err != nil {
			return res, err
		} else if why != "" {
			file.Kept = why
		} else if f.needs != "" && !exists(filepath.Join(dir, filepath.FromSlash(f.needs))) {
			// Only the skeleton's own logic imports its sub-package.
			file.Kept = "not needed by the logic already there"
		} else if err := writeNew(filepath.Join(dir, filepath.FromSlash(f.path)), f.src); err != nil {
			return res, err
		}
		res.Files = append(res.Files, file)
	}

	if err := addRequirement(ctx, opts, dir, mod, res); err != nil {
		return res, err
	}
	return res, nil
}

// keep says why the file at rel must be left alone, or "" when it may be
// written. A Go file of a package is only written into a directory with no
// Go files: a second file with a second main or a clashing declaration
// would break a package the user already has.
func keep(dir, rel string, pkg bool) (string, error) {
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if _, err := os.Lstat(p); err == nil {
		return "exists", nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("scaffold: %w", err)
	}
	if !pkg {
		return "", nil
	}
	gofiles, err := filepath.Glob(filepath.Join(filepath.Dir(p), "*.go"))
	if err != nil {
		return "", fmt.Errorf("scaffold: %w", err)
	}
	if len(gofiles) > 0 {
		return path.Dir(rel) + "/ already holds Go files", nil
	}
	return "", nil
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// writeNew creates path with src, failing rather than overwriting a file
// that appeared since keep looked.
func writeNew(p string, src []byte) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("scaffold: %w", err)
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("scaffold: %w", err)
	}
	if _, err := f.Write(src); err != nil {
		f.Close()
		return fmt.Errorf("scaffold: write %s: %w", p, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("scaffold: write %s: %w", p, err)
	}
	return nil
}

// goMod is the part of `go mod edit -json` that Write reads.
type goMod struct {
	Module  struct{ Path string }
	Go      string
	Require []struct {
		Path    string
		Version string
	}
	Replace []struct {
		Old struct{ Path string }
	}
}

func readGoMod(ctx context.Context, goCmd, dir string) (*goMod, error) {
	out, err := goCommand(ctx, goCmd, dir, "mod", "edit", "-json")
	if err != nil {
		return nil, fmt.Errorf("scaffold: read go.mod: %w", err)
	}
	var m goMod
	if err := json.Unmarshal(out, &m); err != nil {
		return nil, fmt.Errorf("scaffold: read go.mod: %w", err)
	}
	if m.Module.Path == "" {
		return nil, fmt.Errorf("scaffold: %s/go.mod has no module line", dir)
	}
	return &m, nil
}

// addRequirement requires the engine library in go.mod when it is not
// required yet: at opts.Library through `go get`, or, with opts.Checkout,
// with a replace directive to the checkout's copy. A requirement that is
// there already is the user's and stays as it is; -local only adds the
// replace it asked for. It never writes a replace without opts.Checkout.
func addRequirement(ctx context.Context, opts Options, dir string, m *goMod, res *Result) error {
	released := Released(opts.Library)
	replaced := false
	for _, r := range m.Replace {
		if r.Old.Path == LibraryModule {
			replaced = true
		}
	}
	required := ""
	for _, r := range m.Require {
		if r.Path == LibraryModule {
			required = r.Version
		}
	}
	if required != "" && (replaced || opts.Checkout == "") {
		if !replaced && (released && required != opts.Library || !released && required == "v0.0.0") {
			res.Required = required
		}
		return nil
	}

	if opts.Checkout == "" {
		if !released {
			res.NoLibrary = true
			return nil
		}
		// go get writes the checksums to go.sum and raises the go line
		// when the library needs a newer one, so the first build needs
		// nothing more. The requirement goes in first: alone, go get
		// would mark it "// indirect" when it raises the go line.
		if _, err := goCommand(ctx, opts.Go, dir, "mod", "edit", "-require="+LibraryModule+"@"+opts.Library); err != nil {
			return fmt.Errorf("scaffold: add the engine library to go.mod: %w", err)
		}
		if _, err := goCommand(ctx, opts.Go, dir, "get", LibraryModule+"@"+opts.Library); err != nil {
			return fmt.Errorf("scaffold: add the engine library to go.mod: %w", err)
		}
		res.Require = LibraryModule + " " + opts.Library
		after, err := readGoMod(ctx, opts.Go, dir)
		if err != nil {
			return err
		}
		if after.Go != m.Go {
			res.GoVersion = m.Go + " => " + after.Go
		}
		return nil
	}

	// -local: the checkout's copy of the library, for this machine only.
	lib := filepath.Join(opts.Checkout, "hot")
	args := []string{"mod", "edit", "-replace=" + LibraryModule + "=" + lib}
	res.Replace = LibraryModule + " => " + lib
	if required == "" {
		// With a replace the version only has to be well formed: the
		// released one when hotrun knows it, so that dropping the replace
		// leaves a requirement that resolves.
		v := "v0.0.0"
		if released {
			v = opts.Library
		}
		args = append(args, "-require="+LibraryModule+"@"+v)
		res.Require = LibraryModule + " " + v
	}
	// The go command refuses a module whose go line is older than a
	// dependency's (`go: updates to go.mod needed`); raise it as `go get`
	// would.
	if hv := goLine(filepath.Join(lib, "go.mod")); hv != "" && version.Compare("go"+m.Go, "go"+hv) < 0 {
		args = append(args, "-go="+hv)
		res.GoVersion = m.Go + " => " + hv
	}
	if _, err := goCommand(ctx, opts.Go, dir, args...); err != nil {
		return fmt.Errorf("scaffold: add the engine library to go.mod: %w", err)
	}
	return nil
}

// goCommand runs the go command in dir and returns its standard output;
// its error names the command and says what it wrote to stderr.
func goCommand(ctx context.Context, goCmd, dir string, args ...string) ([]byte, error) {
	var env []string
	if foreignWorkspace(ctx, goCmd, dir) {
		env = []string{"GOWORK=off"}
	}
	r, err := command.Run(ctx, dir, env, goCmd, args...)
	if err != nil {
		if msg := strings.TrimSpace(string(r.Stderr)); msg != "" {
			return r.Stdout, fmt.Errorf("%s %s: %s", goCmd, strings.Join(args, " "), msg)
		}
		return r.Stdout, fmt.Errorf("%s %s: %w", goCmd, strings.Join(args, " "), err)
	}
	return r.Stdout, nil
}

// foreignWorkspace reports whether the go command would run in dir in
// workspace mode with a go.work that does not list the module at dir: one
// above it that belongs to another project (hotrun's own, when the module
// lies in a hotrun checkout), or one $GOWORK names. In such a workspace the
// go command sees no module at dir: `go list ./...` finds no package and
// `go get` refuses, so Write's go commands ignore it. A go.work that lists
// the module is the user's, and is used.
func foreignWorkspace(ctx context.Context, goCmd, dir string) bool {
	work := os.Getenv("GOWORK")
	switch work {
	case "off":
		return false
	case "":
		for d := dir; ; d = filepath.Dir(d) {
			if exists(filepath.Join(d, "go.work")) {
				work = filepath.Join(d, "go.work")
				break
			}
			if filepath.Dir(d) == d {
				return false
			}
		}
	}
	r, err := command.Run(ctx, dir, nil, goCmd, "work", "edit", "-json", work)
	if err != nil {
		return false // the go command will say what is wrong with it
	}
	var w struct{ Use []struct{ DiskPath string } }
	if json.Unmarshal(r.Stdout, &w) != nil {
		return false
	}
	here, err := os.Stat(dir)
	if err != nil {
		return false
	}
	for _, u := range w.Use {
		p := u.DiskPath
		if !filepath.IsAbs(p) {
			p = filepath.Join(filepath.Dir(work), p)
		}
		// SameFile, not the paths: a symbolic link (macOS's /tmp) makes
		// two names for one directory.
		if fi, err := os.Stat(p); err == nil && os.SameFile(fi, here) {
			return false
		}
	}
	return true
}

// SharedName returns the name of the shared package for module path mod:
// its last element when that is a plain lower-case Go identifier that
// clashes with nothing in the skeleton, else "app".
func SharedName(mod string) string {
	name := path.Base(mod)
	if isMajorVersion(name) && path.Dir(mod) != "." {
		name = path.Base(path.Dir(mod))
	}
	if !token.IsIdentifier(name) || token.IsKeyword(name) || name != strings.ToLower(name) || strings.HasPrefix(name, "_") {
		return "app"
	}
	switch name {
	// The skeleton's own directories and packages, and the names its files
	// import: a shared package by one of them would shadow an import.
	case "main", "engine", "logic", "greet", "hot", "flag", "fmt", "log", "http", "sync", "strings", "testdata", "vendor":
		return "app"
	}
	return name
}

func isMajorVersion(s string) bool {
	if len(s) < 2 || s[0] != 'v' {
		return false
	}
	for _, c := range s[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// LocalCheckout returns the hotrun checkout for `hotrun init -local`'s
// replace directive: $HOTRUN_SRC when set (it must hold hotrun's go.mod),
// else, when the running binary is hotrun built from a checkout (main
// module github.com/hotrun-dev/hotrun) without -trimpath, the directory its
// source came from. It returns "" and no error when it knows none: a hotrun
// installed from a version was built in the module cache.
func LocalCheckout() (string, error) {
	if src := os.Getenv(EnvSrc); src != "" {
		abs, err := filepath.Abs(src)
		if err != nil {
			return "", fmt.Errorf("scaffold: %s: %w", EnvSrc, err)
		}
		if !isCheckout(abs) {
			return "", fmt.Errorf("scaffold: %s=%s: not a hotrun checkout (no go.mod with module %s)", EnvSrc, src, hotrunModule)
		}
		return abs, nil
	}
	// The main module's version says little: "(devel)", or since Go 1.24
	// a pseudo-version stamped from git. The source path says where.
	bi, ok := debug.ReadBuildInfo()
	if !ok || bi.Main.Path != hotrunModule {
		return "", nil
	}
	// This file's path as the compiler saw it: absolute unless -trimpath.
	_, file, _, ok := runtime.Caller(0)
	if !ok || !filepath.IsAbs(file) {
		return "", nil
	}
	root := filepath.Dir(filepath.Dir(file))
	if strings.Contains(filepath.Base(root), "@") || !isCheckout(root) {
		return "", nil // the module cache (go install …@version): not a checkout
	}
	return root, nil
}

// goLine returns the version on the go line of the go.mod file at p, or "".
func goLine(p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "go" {
			return f[1]
		}
	}
	return ""
}

// isCheckout reports whether dir holds hotrun's go.mod.
func isCheckout(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "module" && strings.Trim(f[1], `"`) == hotrunModule {
			return true
		}
	}
	return false
}
