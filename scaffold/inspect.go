package scaffold

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/constant"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// HostPackage is the engine library's import path: a main package that
// imports it is an engine.
const HostPackage = HotrunModule + "/runner/host"

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
	Error      *struct{ Err string }
}

// source is one package of the module, parsed and type-checked.
type source struct {
	listPackage
	rel   string // "./logic", relative to the module root
	root  string // the module root
	fset  *token.FileSet
	files []*ast.File
	pkg   *types.Package
	info  *types.Info
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
	out, err := goCommand(ctx, goCmd, dir, "list", "-e", "-json=ImportPath,Name,Dir,GoFiles,Imports,Error", "./...")
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
		rel, err := filepath.Rel(dir, lp.Dir)
		if err != nil || !filepath.IsLocal(rel) && rel != "." {
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
		out, err := goCommand(ctx, goCmd, dir, append([]string{"list", "-e", "-export", "-json=ImportPath,Export"}, ext...)...)
		if err != nil {
			return nil, fmt.Errorf("scaffold: list the module's imports: %w", err)
		}
		for dec := json.NewDecoder(bytes.NewReader(out)); ; {
			var lp listPackage
			if err := dec.Decode(&lp); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				return nil, fmt.Errorf("scaffold: list the module's imports: %w", err)
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
			f, err := parser.ParseFile(fset, filepath.Join(s.Dir, name), nil, parser.SkipObjectResolution)
			if f != nil {
				s.files = append(s.files, f)
			}
			_ = err // a syntax error leaves what parsed; the rest is still worth reading
		}
		s.info = &types.Info{
			Types:     map[ast.Expr]types.TypeAndValue{},
			Instances: map[*ast.Ident]types.Instance{},
			Uses:      map[*ast.Ident]types.Object{},
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

// export is an exported variable of a main package whose type is, or
// implements, a candidate interface.
type export struct {
	pkg   *source
	v     *types.Var
	name  string
	iface *types.TypeName
	exact bool // declared with the interface type itself
}

// find sorts the packages into the parts of a project. Its rules, in
// order: an engine is a main package that imports the engine library; the
// shared interface is the one the engine instantiates the library with, or
// else the one a main package's exported variable is declared with (or,
// failing that, implements); the logic is the main package that exports a
// variable of it; the symbol is the engine's Config.Symbol, or the logic's
// one such variable ("Logic" among several). Two candidates where one is
// needed leave p.Unsure set.
func (p *Project) find(pkgs []*source) {
	var mains, hostEngines []*source
	var ifaces []*types.TypeName
	for _, s := range pkgs {
		if s.pkg == nil {
			continue
		}
		if s.Name == "main" {
			mains = append(mains, s)
			if slices.Contains(s.Imports, HostPackage) {
				hostEngines = append(hostEngines, s)
			}
			continue
		}
		for _, name := range s.pkg.Scope().Names() {
			if tn, ok := s.pkg.Scope().Lookup(name).(*types.TypeName); ok && tn.Exported() && isLogicInterface(tn) {
				ifaces = append(ifaces, tn)
			}
		}
	}
	if len(mains) == 0 && len(ifaces) == 0 {
		p.Empty = true
		return
	}
	rel := func(pkg *types.Package) *source {
		for _, s := range pkgs {
			if s.pkg == pkg {
				return s
			}
		}
		return nil
	}
	// pos is where obj is declared: "room/room.go:12".
	pos := func(obj types.Object) string {
		s := rel(obj.Pkg())
		if s == nil || !obj.Pos().IsValid() {
			return ""
		}
		at := s.fset.Position(obj.Pos())
		if r, err := filepath.Rel(s.root, at.Filename); err == nil {
			return fmt.Sprintf("%s:%d", filepath.ToSlash(r), at.Line)
		}
		return ""
	}

	// The engine, and the interface it serves.
	var engineIface types.Type
	engineSymbol := ""
	switch len(hostEngines) {
	case 0:
	case 1:
		e := hostEngines[0]
		p.Engine = &Part{Kind: "engine", Dir: e.rel, Name: e.ImportPath, Note: "main package that imports " + HostPackage}
		p.EngineHost = true
		engineIface, engineSymbol = engineConfig(e)
	default:
		var dirs []string
		for _, e := range hostEngines {
			dirs = append(dirs, e.rel)
			p.Seen = append(p.Seen, Part{Kind: "engine", Dir: e.rel, Name: e.ImportPath, Note: "imports " + HostPackage})
		}
		p.Unsure = "several main packages import the engine library (" + strings.Join(dirs, ", ") + "): which one is the engine?"
		p.Todo = append(p.Todo, `engine = "`+dirs[0]+`"   # in hotrun.toml: the one hotrun should build and run`)
		return
	}

	// The exported variables of the other main packages that could be the
	// logic's symbol.
	var exports []export
	for _, s := range mains {
		if slices.Contains(hostEngines, s) {
			continue
		}
		scope := s.pkg.Scope()
		for _, name := range scope.Names() {
			v, ok := scope.Lookup(name).(*types.Var)
			if !ok || !v.Exported() {
				continue
			}
			for _, tn := range ifaces {
				if inside(rel(tn.Pkg()), s) {
					continue // staged with the logic: not shared
				}
				if types.Identical(v.Type(), tn.Type()) {
					exports = append(exports, export{s, v, name, tn, true})
				} else if !types.IsInterface(v.Type()) && types.Implements(types.NewPointer(v.Type()), tn.Type().Underlying().(*types.Interface)) {
					exports = append(exports, export{s, v, name, tn, false})
				}
			}
		}
	}

	// The shared interface.
	var shared *types.TypeName
	if named, ok := types.Unalias(engineIface).(*types.Named); ok && types.IsInterface(named) {
		shared = named.Obj()
	} else if engineIface != nil {
		if engineIface == types.Typ[types.Invalid] {
			p.Unsure = fmt.Sprintf("the engine %s does not type-check where it names the interface it serves (host.Config[…]): is a package missing?", p.Engine.Dir)
		} else {
			p.Unsure = fmt.Sprintf("the engine %s serves %s, which is not an interface the module declares", p.Engine.Dir, engineIface)
		}
		return
	} else {
		var exact, impl []*types.TypeName
		for _, e := range exports {
			if e.exact && !slices.Contains(exact, e.iface) {
				exact = append(exact, e.iface)
			}
			if !slices.Contains(impl, e.iface) {
				impl = append(impl, e.iface)
			}
		}
		cands := exact
		if len(cands) == 0 {
			cands = impl
		}
		switch len(cands) {
		case 1:
			shared = cands[0]
		case 0:
			for _, tn := range ifaces {
				p.Seen = append(p.Seen, Part{Kind: "shared", Dir: rel(tn.Pkg()).rel, Name: qualified(tn), Pos: pos(tn), Note: "an interface; no main package exports a variable of it"})
			}
			p.Unsure = "no logic: no main package exports a variable whose type is, or implements, an interface of the module"
			p.suggest(mains, hostEngines, ifaces, rel)
			return
		default:
			for _, tn := range cands {
				var by []string
				for _, e := range exports {
					if e.iface == tn {
						by = append(by, e.pkg.rel+"."+e.name)
					}
				}
				p.Seen = append(p.Seen, Part{Kind: "shared", Dir: rel(tn.Pkg()).rel, Name: qualified(tn), Pos: pos(tn), Note: "exported by " + strings.Join(by, ", ")})
			}
			p.Unsure = "more than one interface could be the one the logic implements: which one does the engine serve?"
			for _, tn := range cands {
				p.Todo = append(p.Todo, fmt.Sprintf("h := host.New(host.Config[%s]{})   # in the engine, for %s", qualified(tn), qualified(tn)))
			}
			return
		}
	}
	p.shared = shared
	sh := rel(shared.Pkg())
	p.Shared = &Part{Kind: "shared", Name: qualified(shared), Pos: pos(shared), Note: "the interface the logic implements"}
	if sh != nil {
		p.Shared.Dir = sh.rel
	}
	if p.Engine != nil {
		p.Shared.Note = "the interface the engine serves"
	}
	p.findState(sh)
	if p.State != nil {
		p.State.Pos = pos(p.state)
	}

	// The logic: the one main package that exports a variable of it.
	var logics []*source
	var syms []export
	for _, e := range exports {
		if e.iface != shared {
			continue
		}
		syms = append(syms, e)
		if !slices.Contains(logics, e.pkg) {
			logics = append(logics, e.pkg)
		}
	}
	switch len(logics) {
	case 0:
		p.Unsure = "no logic: no main package exports a variable of " + qualified(shared)
		p.suggest(mains, hostEngines, []*types.TypeName{shared}, rel)
		return
	case 1:
	default:
		var dirs []string
		for _, l := range logics {
			dirs = append(dirs, l.rel)
			p.Seen = append(p.Seen, Part{Kind: "logic", Dir: l.rel, Name: l.ImportPath, Note: "exports a " + qualified(shared)})
		}
		p.Unsure = "several main packages export a " + qualified(shared) + " (" + strings.Join(dirs, ", ") + "): which one is the logic?"
		p.Todo = append(p.Todo, `logic = "`+dirs[0]+`"   # in hotrun.toml: the one hotrun should hot-swap`)
		return
	}
	l := logics[0]
	p.Logic = &Part{Kind: "logic", Dir: l.rel, Name: l.ImportPath}

	// The symbol.
	var names []string
	var exactNames []string
	for _, e := range syms {
		names = append(names, e.name)
		if e.exact {
			exactNames = append(exactNames, e.name)
		}
	}
	switch {
	case engineSymbol != "":
		p.Symbol = engineSymbol
		if !slices.Contains(names, engineSymbol) {
			p.Unsure = fmt.Sprintf("the engine looks up %s, but %s exports %s", engineSymbol, l.rel, strings.Join(names, ", "))
			p.Todo = append(p.Todo,
				fmt.Sprintf("var %s %s = …   # in %s, or", engineSymbol, qualified(shared), l.rel),
				fmt.Sprintf("host.Config[%s]{Symbol: %q}   # in the engine", qualified(shared), names[0]))
			return
		}
	case len(names) == 1:
		p.Symbol = names[0]
	case len(exactNames) == 1:
		p.Symbol = exactNames[0]
	case slices.Contains(names, DefaultSymbol):
		p.Symbol = DefaultSymbol
	default:
		p.Unsure = fmt.Sprintf("%s exports several variables of %s (%s): which one does the engine look up?", l.rel, qualified(shared), strings.Join(names, ", "))
		p.Todo = append(p.Todo, fmt.Sprintf("host.Config[%s]{Symbol: %q}   # in the engine", qualified(shared), names[0]))
		return
	}
	exact := false
	for _, e := range syms {
		if e.name == p.Symbol {
			exact = e.exact
			p.Logic.Pos = pos(e.v)
		}
	}
	if exact {
		p.Logic.Note = fmt.Sprintf("exports var %s %s", p.Symbol, qualified(shared))
	} else {
		p.Logic.Note = fmt.Sprintf("exports %s, which implements %s", p.Symbol, qualified(shared))
	}

	// No engine imports the library: the main package that imports the
	// shared package is the program to turn into one.
	if p.Engine == nil && sh != nil {
		var users []*source
		for _, s := range mains {
			if s != l && slices.Contains(s.Imports, sh.ImportPath) {
				users = append(users, s)
			}
		}
		switch len(users) {
		case 0:
		case 1:
			u := users[0]
			p.Engine = &Part{Kind: "engine", Dir: u.rel, Name: u.ImportPath, Note: "main package that imports " + sh.ImportPath + ", not yet " + HostPackage}
			p.Todo = append(p.Todo, p.engineLines(u.rel)...)
		default:
			var dirs []string
			for _, u := range users {
				dirs = append(dirs, u.rel)
				p.Seen = append(p.Seen, Part{Kind: "engine", Dir: u.rel, Name: u.ImportPath, Note: "imports " + sh.ImportPath})
			}
			p.Unsure = "several main packages import " + sh.ImportPath + " (" + strings.Join(dirs, ", ") + "): which one is the engine?"
			p.Todo = append(p.Todo, p.engineLines(dirs[0])...)
		}
	}
}

// engineLines are the lines that make the program in dir an engine.
func (p *Project) engineLines(dir string) []string {
	sym := ""
	if p.Symbol != DefaultSymbol {
		sym = fmt.Sprintf("Symbol: %q", p.Symbol)
	}
	return []string{
		fmt.Sprintf(`import "%s"   # in %s, then, before it serves:`, HostPackage, dir),
		fmt.Sprintf("h := host.New(host.Config[%s]{%s})", p.Shared.Name, sym),
		"if err := h.Start(*pluginPath); err != nil { log.Fatal(err) }   # under hotrun, hotrun says what to load",
		fmt.Sprintf("l, version, ok := h.Current()   # once per request, tick or message: the %s to call", p.Shared.Name),
	}
}

// suggest fills p.Todo with the export line a main package lacks: a type
// it declares that implements one of ifaces, but no exported variable.
func (p *Project) suggest(mains, engines []*source, ifaces []*types.TypeName, rel func(*types.Package) *source) {
	for _, s := range mains {
		if slices.Contains(engines, s) {
			continue
		}
		scope := s.pkg.Scope()
		for _, name := range scope.Names() {
			tn, ok := scope.Lookup(name).(*types.TypeName)
			if !ok || types.IsInterface(tn.Type()) {
				continue
			}
			for _, it := range ifaces {
				if inside(rel(it.Pkg()), s) {
					continue
				}
				iface := it.Type().Underlying().(*types.Interface)
				val := ""
				switch {
				case types.Implements(tn.Type(), iface):
					val = name + "{}"
				case types.Implements(types.NewPointer(tn.Type()), iface):
					val = "&" + name + "{}"
				default:
					continue
				}
				if _, isStruct := tn.Type().Underlying().(*types.Struct); !isStruct {
					val = "…"
				}
				p.Seen = append(p.Seen, Part{Kind: "logic", Dir: s.rel, Name: s.pkg.Name() + "." + name, Note: name + " implements " + qualified(it) + "; nothing exports it"})
				p.Todo = append(p.Todo, fmt.Sprintf("var %s %s = %s   # in %s", DefaultSymbol, qualified(it), val, s.rel))
			}
		}
	}
	if len(p.Todo) == 0 && len(ifaces) == 1 {
		p.Todo = append(p.Todo, fmt.Sprintf("var %s %s = …   # in the logic's main package (./logic), with func main() {}", DefaultSymbol, qualified(ifaces[0])))
	}
}

// findState picks the engine's state for a new engine: the first struct
// type of the shared package that a method of the interface takes, and its
// constructor, a func NewT() *T, when the package has one.
func (p *Project) findState(sh *source) {
	iface := p.shared.Type().Underlying().(*types.Interface)
	for m := range iface.Methods() {
		sig := m.Type().(*types.Signature)
		for v := range sig.Params().Variables() {
			t := v.Type()
			if ptr, ok := t.(*types.Pointer); ok {
				t = ptr.Elem()
			}
			named, ok := types.Unalias(t).(*types.Named)
			if !ok || named.Obj().Pkg() != p.shared.Pkg() || !named.Obj().Exported() || named.TypeParams() != nil {
				continue
			}
			if _, ok := named.Underlying().(*types.Struct); !ok {
				continue
			}
			p.state = named.Obj()
			p.State = &Part{Kind: "state", Name: qualified(named.Obj()), Note: "a struct the interface's methods take: the engine owns it"}
			if sh != nil {
				p.State.Dir = sh.rel
			}
			if fn, ok := p.shared.Pkg().Scope().Lookup("New" + named.Obj().Name()).(*types.Func); ok {
				fsig := fn.Type().(*types.Signature)
				if fsig.Params().Len() == 0 && fsig.Results().Len() == 1 && types.Identical(fsig.Results().At(0).Type(), types.NewPointer(named)) {
					p.newFn = fn.Name()
				}
			}
			return
		}
	}
}

// engineConfig returns the type the engine instantiates the library's New
// or Config with, and the Symbol its Config names ("" when none, or when
// it is not a constant).
func engineConfig(e *source) (types.Type, string) {
	var t types.Type
	for id, inst := range e.info.Instances {
		obj := e.info.Uses[id]
		if obj != nil && obj.Pkg() != nil && obj.Pkg().Path() == HostPackage && (id.Name == "New" || id.Name == "Config") && inst.TypeArgs.Len() == 1 {
			t = inst.TypeArgs.At(0)
		}
	}
	sym := ""
	for _, f := range e.files {
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.CompositeLit)
			if !ok {
				return true
			}
			named, ok := types.Unalias(e.info.Types[lit].Type).(*types.Named)
			if !ok || named.Obj().Pkg() == nil || named.Obj().Pkg().Path() != HostPackage || named.Obj().Name() != "Config" {
				return true
			}
			for _, el := range lit.Elts {
				kv, ok := el.(*ast.KeyValueExpr)
				if !ok {
					continue
				}
				if k, ok := kv.Key.(*ast.Ident); ok && k.Name == "Symbol" {
					if v := e.info.Types[kv.Value].Value; v != nil && v.Kind() == constant.String {
						sym = constant.StringVal(v)
					}
				}
			}
			return true
		})
	}
	return t, sym
}

// isLogicInterface reports whether tn declares an interface a logic could
// export: methods, no type parameters, no type set.
func isLogicInterface(tn *types.TypeName) bool {
	if tn.IsAlias() {
		return false
	}
	named, ok := tn.Type().(*types.Named)
	if !ok || named.TypeParams() != nil {
		return false
	}
	it, ok := named.Underlying().(*types.Interface)
	return ok && it.IsMethodSet() && it.NumMethods() > 0
}

// inside reports whether package a lies in b's directory tree: a package
// under the logic is staged with it, so it is no shared package.
func inside(a, b *source) bool {
	if a == nil || b == nil {
		return false
	}
	r, err := filepath.Rel(b.Dir, a.Dir)
	return err == nil && filepath.IsLocal(r)
}

// qualified is "room.Logic": the package name and the type's.
func qualified(tn *types.TypeName) string {
	if tn.Pkg() == nil {
		return tn.Name()
	}
	return tn.Pkg().Name() + "." + tn.Name()
}

// sortParts orders parts by kind and directory, for a stable report.
func sortParts(ps []Part) {
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Dir < ps[j].Dir })
}
