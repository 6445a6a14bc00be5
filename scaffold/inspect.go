package scaffold

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/hotrun-dev/hotrun/internal/paths"
)

// HostPackage is the engine library's import path: a main package that
// imports it is an engine.
const HostPackage = LibraryModule

// DefaultSymbol is the name the logic exports when the engine names none.
const DefaultSymbol = "Logic"

// Project is what Inspect found in a module: the three parts of a hotrun
// project, as far as the module's own packages tell them.
type Project struct {
	Module string
	// Empty is true when the module holds no main package and no interface
	// a logic could implement: nothing to adopt, the skeleton goes in.
	Empty bool

	Engine *Part // the engine main package; nil when none was found
	// EngineHost is true when the engine imports the engine library; an
	// engine found only because it imports the shared package is not.
	EngineHost bool
	Shared     *Part // the interface the logic implements (Name: "room.Logic")
	State      *Part // a struct of the shared package the interface's methods take; may be nil
	Logic      *Part // the logic plugin's main package
	Symbol     string

	// Recipe, for a flat project (one main package holds the server, its
	// state and its handlers, and no logic exists yet), is how to split it;
	// Write then writes nothing. nil otherwise.
	Recipe *Recipe

	// Unsure says why Inspect could not tell the parts apart; "" when it
	// could. Todo then holds the lines a person should add.
	Unsure string
	// Todo holds what is left to do by hand, one line each (code to add,
	// a setting to fix), whether or not Inspect was sure.
	Todo []string
	// Seen is every candidate Inspect weighed, for the report.
	Seen []Part

	// For the engine Write may add.
	shared *types.TypeName // the interface type
	state  *types.TypeName // the state type, or nil
	newFn  string          // the state's constructor (NewHall), or ""
}

// Part is one part of a project that Inspect found or weighed.
type Part struct {
	Kind string // "engine", "shared", "state", "logic"
	Dir  string // the package, "./logic", relative to the module root
	Name string // what it is: the package's import path, or "room.Logic"
	Pos  string // where it is declared: "room/room.go:12"; "" for a package
	Note string // why it counts, for people
}

// listPackage is the part of `go list -json` that Inspect reads.
type listPackage struct {
	ImportPath string
	Name       string
	Dir        string
	GoFiles    []string
	Imports    []string
	Export     string
}

// source is one package of the module, parsed and type-checked.
type source struct {
	listPackage
	rel   string // "./logic", relative to the module root
	root  string // the module root
	fset  *token.FileSet
	files []*ast.File
	srcs  [][]byte // the text of each of files, for the lines init's advice quotes
	pkg   *types.Package
	info  *types.Info
}

// at is where pos, in one of s's files, is, relative to the module root:
// "room/room.go:12".
func (s *source) at(pos token.Pos) string {
	at := s.fset.Position(pos)
	r, err := filepath.Rel(s.root, at.Filename)
	if err != nil {
		r = at.Filename
	}
	return fmt.Sprintf("%s:%d", filepath.ToSlash(r), at.Line)
}

// Inspect reads the Go packages of the module at opts.Dir (`go list`, then
// go/types, with the dependencies' export data) and finds the engine, the
// shared interface the logic implements, and the logic. It writes nothing.
func Inspect(ctx context.Context, opts Options) (*Project, error) {
	if opts.Go == "" {
		opts.Go = "go"
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("scaffold: %w", err)
	}
	mod, err := readGoMod(ctx, opts.Go, dir)
	if err != nil {
		return nil, err
	}
	pkgs, err := load(ctx, opts.Go, dir)
	if err != nil {
		return nil, err
	}
	p := &Project{Module: mod.Module.Path}
	p.find(pkgs)
	return p, nil
}

// load lists the module's packages and type-checks them from source. The
// packages outside the module come from their export data, which the go
// command builds (and caches) as it would for a build. Errors in the
// user's code are no reason to stop: a half-converted project rarely
// builds, and what does type-check is enough to find the parts.
func load(ctx context.Context, goCmd, dir string) ([]*source, error) {
	out, err := goCommand(ctx, goCmd, dir, "list", "-e", "-json=ImportPath,Name,Dir,GoFiles,Imports", "./...")
	if err != nil {
		return nil, fmt.Errorf("scaffold: list the module's packages: %w", err)
	}
	byPath := map[string]*source{}
	var order []*source
	for dec := json.NewDecoder(bytes.NewReader(out)); ; {
		var lp listPackage
		if err := dec.Decode(&lp); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("scaffold: list the module's packages: %w", err)
		}
		if len(lp.GoFiles) == 0 {
			continue
		}
		rel, ok := paths.Within(dir, lp.Dir)
		if !ok {
			continue
		}
		s := &source{listPackage: lp, rel: "./" + filepath.ToSlash(rel), root: dir}
		if rel == "." {
			s.rel = "."
		}
		byPath[lp.ImportPath] = s
		order = append(order, s)
	}

	// Export data for every package the module imports from elsewhere.
	var ext []string
	for _, s := range order {
		for _, imp := range s.Imports {
			if byPath[imp] == nil && imp != "C" && imp != "unsafe" && !slices.Contains(ext, imp) {
				ext = append(ext, imp)
			}
		}
	}
	exports := map[string]string{}
	if len(ext) > 0 {
		// A dependency that can't be built (a requirement with nowhere to
		// find it, say) is no reason to stop: its types are unknown, and
		// the parts are told apart without them where they can be.
		out, _ := goCommand(ctx, goCmd, dir, append([]string{"list", "-e", "-export", "-json=ImportPath,Export"}, ext...)...)
		for dec := json.NewDecoder(bytes.NewReader(out)); ; {
			var lp listPackage
			if err := dec.Decode(&lp); err != nil {
				break
			}
			if lp.Export != "" {
				exports[lp.ImportPath] = lp.Export
			}
		}
	}

	fset := token.NewFileSet()
	for _, s := range order {
		s.fset = fset
	}
	// One importer for every package, so that a type from a dependency is
	// one type wherever the module meets it.
	gc := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		if f, ok := exports[path]; ok {
			return os.Open(f)
		}
		return nil, fmt.Errorf("no export data for %s", path)
	})
	checking := map[string]bool{} // guards against an import cycle in broken code
	var check func(s *source) *types.Package
	imp := importerFunc(func(path string) (*types.Package, error) {
		if s := byPath[path]; s != nil {
			if pkg := check(s); pkg != nil {
				return pkg, nil
			}
			return nil, fmt.Errorf("import cycle through %s", path)
		}
		return gc.Import(path)
	})
	check = func(s *source) *types.Package {
		if s.pkg != nil || checking[s.ImportPath] {
			return s.pkg
		}
		checking[s.ImportPath] = true
		for _, name := range s.GoFiles {
			src, err := os.ReadFile(filepath.Join(s.Dir, name))
			if err != nil {
				continue
			}
			// A syntax error leaves what parsed, still worth reading.
			if f, _ := parser.ParseFile(fset, filepath.Join(s.Dir, name), src, parser.SkipObjectResolution); f != nil {
				s.files = append(s.files, f)
				s.srcs = append(s.srcs, src)
			}
		}
		s.info = &types.Info{
			Types:      map[ast.Expr]types.TypeAndValue{},
			Instances:  map[*ast.Ident]types.Instance{},
			Defs:       map[*ast.Ident]types.Object{},
			Uses:       map[*ast.Ident]types.Object{},
			Selections: map[*ast.SelectorExpr]*types.Selection{},
		}
		conf := types.Config{Importer: imp, FakeImportC: true, Error: func(error) {}}
		s.pkg, _ = conf.Check(s.ImportPath, fset, s.files, s.info)
		return s.pkg
	}
	for _, s := range order {
		check(s)
	}
	return order, nil
}

type importerFunc func(path string) (*types.Package, error)

func (f importerFunc) Import(path string) (*types.Package, error) { return f(path) }
