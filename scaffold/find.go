package scaffold

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"
	"iter"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/hotrun-dev/hotrun/internal/paths"
)

// finder sorts a module's type-checked packages into the parts of a
// project, one rule at a time; each step fills in p, or sets p.Unsure and
// reports false.
type finder struct {
	p       *Project
	pkgs    []*source
	mains   []*source         // the main packages
	engines []*source         // the main packages that import the engine library
	ifaces  []*types.TypeName // the interfaces a logic could export: in non-main packages, with methods
	exports []export          // the other main packages' variables of one of ifaces
}

// export is an exported variable of a main package whose type is, or
// implements, a candidate interface.
type export struct {
	pkg   *source
	v     *types.Var
	iface *types.TypeName
	exact bool // declared with the interface type itself
	// wrong is true for a pointer variable (var Logic = &chat{}): its type
	// implements the interface, but the plugin hands over a **chat, which
	// the engine can't use.
	wrong bool
}

// find applies the rules, in order:
//   - an engine is a main package that imports the engine library (two are
//     one too many);
//   - the shared interface is the one the engine instantiates the library
//     with, or else the one a main package's exported variable is declared
//     with, or else implements (two are one too many);
//   - the logic is the one main package that exports a variable of it;
//   - the symbol is the engine's Config.Symbol ("Logic" when it names none),
//     or else the logic's one such variable, or "Logic" among several;
//   - with no engine, the one other main package that imports the shared
//     package is the program to turn into one; with none, Write adds one.
//
// A module with no main package and no such interface is empty: it gets
// the skeleton.
func (p *Project) find(pkgs []*source) {
	f := &finder{p: p, pkgs: pkgs}
	f.sort()
	if len(f.mains) == 0 && len(f.ifaces) == 0 {
		p.Empty = true
		return
	}
	iface, sym, ok := f.engine()
	if !ok {
		return
	}
	f.collectExports()
	shared, ok := f.shared(iface)
	if !ok {
		return
	}
	logic, ok := f.logic(shared)
	if !ok {
		return
	}
	if !f.symbol(shared, logic, sym) {
		return
	}
	if p.Engine == nil {
		f.userEngine(logic)
	}
}

// sort splits the packages into main packages, engines and interfaces.
func (f *finder) sort() {
	for _, s := range f.pkgs {
		if s.pkg == nil {
			continue
		}
		stale := f.staleImports(s)
		if s.Name == "main" {
			f.mains = append(f.mains, s)
			if slices.Contains(s.Imports, HostPackage) || stale {
				f.engines = append(f.engines, s)
			}
			continue
		}
		scope := s.pkg.Scope()
		for _, name := range scope.Names() {
			if tn, ok := scope.Lookup(name).(*types.TypeName); ok && tn.Exported() && isLogicInterface(tn) {
				f.ifaces = append(f.ifaces, tn)
			}
		}
	}
}

// movedLibrary returns where the engine library at an old import path
// lives now, or "" when path is no old path of it.
func movedLibrary(path string) string {
	switch path {
	case "github.com/hotrun-dev/hotrun/runner/host":
		// Until the library became a module of its own (package host).
		return HostPackage
	}
	return ""
}

// staleImports notes each import in s of a path the engine library no
// longer has, with the one line that fixes it, and reports whether there
// was one.
func (f *finder) staleImports(s *source) bool {
	found := false
	for _, file := range s.files {
		for _, im := range file.Imports {
			old, err := strconv.Unquote(im.Path.Value)
			if err != nil || movedLibrary(old) == "" {
				continue
			}
			found = true
			// Named as before, the code that uses it compiles as it is:
			// the library kept its names.
			name := path.Base(old)
			if im.Name != nil {
				name = im.Name.Name
			}
			pos := s.at(im.Pos())
			f.p.Seen = append(f.p.Seen, Part{Kind: "stale", Dir: s.rel, Name: pos, Note: "imports " + old + ", which no longer exists: the engine library is " + movedLibrary(old) + " (package hot) since it became a module of its own"})
			f.p.Todo = append(f.p.Todo, fmt.Sprintf("%s %q   # in %s, in place of %q: the same names, at the library's path now", name, movedLibrary(old), pos, old))
		}
	}
	return found
}

// source returns the module's package pkg, or nil.
func (f *finder) source(pkg *types.Package) *source {
	for _, s := range f.pkgs {
		if s.pkg == pkg {
			return s
		}
	}
	return nil
}

// pos is where obj is declared: "room/room.go:12".
func (f *finder) pos(obj types.Object) string {
	s := f.source(obj.Pkg())
	if s == nil || !obj.Pos().IsValid() {
		return ""
	}
	return s.at(obj.Pos())
}

// engine finds the engine that imports the library, and the interface and
// symbol it names.
func (f *finder) engine() (iface types.Type, sym string, ok bool) {
	p := f.p
	switch len(f.engines) {
	case 0:
		return nil, "", true
	case 1:
		e := f.engines[0]
		p.Engine = &Part{Kind: "engine", Dir: e.rel, Name: e.ImportPath, Note: "main package that imports " + HostPackage}
		if !slices.Contains(e.Imports, HostPackage) {
			p.Engine.Note = "main package that imports the engine library at its old path"
		}
		p.EngineHost = true
		iface, sym, named := engineConfig(e)
		if !named {
			sym = DefaultSymbol
		}
		return iface, sym, true
	}
	var dirs []string
	for _, e := range f.engines {
		dirs = append(dirs, e.rel)
		p.Seen = append(p.Seen, Part{Kind: "engine", Dir: e.rel, Name: e.ImportPath, Note: "imports " + HostPackage})
	}
	p.Unsure = "several main packages import the engine library (" + strings.Join(dirs, ", ") + "): which one is the engine?"
	p.Todo = append(p.Todo, `engine = "`+dirs[0]+`"   # in hotrun.toml: the one hotrun should build and run`)
	return nil, "", false
}

// collectExports finds the exported variables of the main packages other
// than the engines whose type is, or implements, a candidate interface:
// what the engine library's Lookup accepts.
func (f *finder) collectExports() {
	for _, s := range f.mains {
		if slices.Contains(f.engines, s) {
			continue
		}
		scope := s.pkg.Scope()
		for _, name := range scope.Names() {
			v, ok := scope.Lookup(name).(*types.Var)
			if !ok || !v.Exported() {
				continue
			}
			for _, tn := range f.ifaces {
				if inside(f.source(tn.Pkg()), s) {
					continue // staged with the logic: not shared
				}
				iface := tn.Type().Underlying().(*types.Interface)
				switch {
				case types.Identical(v.Type(), tn.Type()):
					f.exports = append(f.exports, export{pkg: s, v: v, iface: tn, exact: true})
				case types.IsInterface(v.Type()):
				case types.Implements(types.NewPointer(v.Type()), iface):
					f.exports = append(f.exports, export{pkg: s, v: v, iface: tn})
				case types.Implements(v.Type(), iface):
					f.exports = append(f.exports, export{pkg: s, v: v, iface: tn, wrong: true})
				}
			}
		}
	}
}

// shared picks the interface the logic implements: the engine's, or the
// one the exports point at.
func (f *finder) shared(engineIface types.Type) (*types.TypeName, bool) {
	p := f.p
	var shared *types.TypeName
	if named, ok := types.Unalias(engineIface).(*types.Named); ok && types.IsInterface(named) {
		shared = named.Obj()
	} else if engineIface != nil && engineIface != types.Typ[types.Invalid] {
		p.Unsure = fmt.Sprintf("the engine %s serves %s, which is not an interface the module declares", p.Engine.Dir, engineIface)
		return nil, false
	} else {
		// No engine, or one whose hot.Config[…] does not type-check (the
		// library or a package missing): the logic's exports tell.
		var exact, impl []*types.TypeName
		for _, e := range f.exports {
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
		case 0:
			// A flat project: the server, its state and its handlers in
			// one main package, and nothing a logic could implement yet.
			if !f.implemented(f.ifaces) && f.flat() {
				return nil, false
			}
			for _, tn := range f.ifaces {
				p.Seen = append(p.Seen, Part{Kind: "shared", Dir: f.source(tn.Pkg()).rel, Name: qualified(tn), Pos: f.pos(tn), Note: "an interface; no main package exports a variable of it"})
			}
			p.Unsure = "no logic: no main package exports a variable whose type is, or implements, an interface of the module"
			f.suggest(f.ifaces)
			return nil, false
		case 1:
			shared = cands[0]
		default:
			for _, tn := range cands {
				var by []string
				for _, e := range f.exports {
					if e.iface == tn {
						by = append(by, e.pkg.rel+"."+e.v.Name())
					}
				}
				p.Seen = append(p.Seen, Part{Kind: "shared", Dir: f.source(tn.Pkg()).rel, Name: qualified(tn), Pos: f.pos(tn), Note: "exported by " + strings.Join(by, ", ")})
			}
			p.Unsure = "more than one interface could be the one the logic implements: which one does the engine serve?"
			for _, tn := range cands {
				p.Todo = append(p.Todo, fmt.Sprintf("h := hot.New(hot.Config[%s]{})   # in the engine, for %s", qualified(tn), qualified(tn)))
			}
			return nil, false
		}
	}
	p.shared = shared
	p.Shared = &Part{Kind: "shared", Name: qualified(shared), Pos: f.pos(shared), Note: "the interface the logic implements"}
	if p.Engine != nil {
		p.Shared.Note = "the interface the engine serves"
	}
	sh := f.source(shared.Pkg())
	if sh != nil {
		p.Shared.Dir = sh.rel
	}
	p.findState(sh)
	if p.State != nil {
		p.State.Pos = f.pos(p.state)
	}
	return shared, true
}

// logic picks the one main package that exports a variable of shared.
func (f *finder) logic(shared *types.TypeName) (*source, bool) {
	p := f.p
	var logics []*source
	for _, e := range f.exports {
		if e.iface == shared && !slices.Contains(logics, e.pkg) {
			logics = append(logics, e.pkg)
		}
	}
	switch len(logics) {
	case 0:
		p.Unsure = "no logic: no main package exports a variable of " + qualified(shared)
		f.suggest([]*types.TypeName{shared})
		return nil, false
	case 1:
		l := logics[0]
		p.Logic = &Part{Kind: "logic", Dir: l.rel, Name: l.ImportPath}
		return l, true
	}
	var dirs []string
	for _, l := range logics {
		dirs = append(dirs, l.rel)
		p.Seen = append(p.Seen, Part{Kind: "logic", Dir: l.rel, Name: l.ImportPath, Note: "exports a " + qualified(shared)})
	}
	p.Unsure = "several main packages export a " + qualified(shared) + " (" + strings.Join(dirs, ", ") + "): which one is the logic?"
	p.Todo = append(p.Todo, `logic = "`+dirs[0]+`"   # in hotrun.toml: the one hotrun should hot-swap`)
	return nil, false
}

// symbol picks the name the engine looks up in the logic: the engine's
// when it names one, else the logic's one variable of shared ("Logic"
// among several).
func (f *finder) symbol(shared *types.TypeName, l *source, engineSym string) bool {
	p := f.p
	var syms []export
	var names, exactNames []string
	for _, e := range f.exports {
		if e.iface == shared && e.pkg == l {
			syms = append(syms, e)
			names = append(names, e.v.Name())
			if e.exact {
				exactNames = append(exactNames, e.v.Name())
			}
		}
	}
	switch {
	case engineSym != "":
		p.Symbol = engineSym
		if !slices.Contains(names, engineSym) {
			p.Unsure = fmt.Sprintf("the engine looks up %s, but %s exports %s", engineSym, l.rel, strings.Join(names, ", "))
			p.Todo = append(p.Todo,
				fmt.Sprintf("var %s %s = …   # in %s, or", engineSym, qualified(shared), l.rel),
				fmt.Sprintf("hot.Config[%s]{Symbol: %q}   # in the engine", qualified(shared), names[0]))
			return false
		}
	case len(names) == 1:
		p.Symbol = names[0]
	case len(exactNames) == 1:
		p.Symbol = exactNames[0]
	case slices.Contains(names, DefaultSymbol):
		p.Symbol = DefaultSymbol
	default:
		p.Unsure = fmt.Sprintf("%s exports several variables of %s (%s): which one does the engine look up?", l.rel, qualified(shared), strings.Join(names, ", "))
		p.Todo = append(p.Todo, fmt.Sprintf("hot.Config[%s]{Symbol: %q}   # in the engine", qualified(shared), names[0]))
		return false
	}
	for _, e := range syms {
		if e.v.Name() != p.Symbol {
			continue
		}
		p.Logic.Pos = f.pos(e.v)
		if e.exact {
			p.Logic.Note = fmt.Sprintf("exports var %s %s", p.Symbol, qualified(shared))
		} else {
			p.Logic.Note = fmt.Sprintf("exports %s, which implements %s", p.Symbol, qualified(shared))
		}
		if e.wrong {
			p.Todo = append(p.Todo, fmt.Sprintf("var %s %s = …   # in %s: declare %s with the interface's type; the engine can't use a pointer to a %s",
				p.Symbol, qualified(shared), l.rel, p.Symbol, types.TypeString(e.v.Type(), (*types.Package).Name)))
		}
	}
	return true
}

// userEngine looks, when no engine imports the library, for the program
// to turn into one: the one other main package that imports the shared
// package.
func (f *finder) userEngine(l *source) {
	p := f.p
	sh := f.source(p.shared.Pkg())
	if sh == nil {
		return
	}
	var users, others []*source
	for _, s := range f.mains {
		if s == l || inside(s, l) {
			continue
		}
		if slices.Contains(s.Imports, sh.ImportPath) {
			users = append(users, s)
		}
		others = append(others, s)
	}
	note := "main package that imports " + sh.ImportPath + ", not yet " + HostPackage
	if len(users) == 0 {
		// A program of the module that does not import the shared package
		// yet (the server in the root package, say) is still the engine to
		// be: init never writes a second engine beside a real one. Among
		// several, the ones that serve.
		users, note = others, "main package, not yet an engine: it does not import "+HostPackage
		if len(users) > 1 {
			var serving []*source
			for _, u := range users {
				if readProgram(u).serves() {
					serving = append(serving, u)
				}
			}
			if len(serving) > 0 {
				users = serving
			}
		}
	}
	switch len(users) {
	case 0:
	case 1:
		u := users[0]
		p.Engine = &Part{Kind: "engine", Dir: u.rel, Name: u.ImportPath, Note: note}
		p.Todo = append(p.Todo, p.engineLines(readProgram(u), u.rel)...)
	default:
		var dirs []string
		for _, u := range users {
			dirs = append(dirs, u.rel)
			p.Seen = append(p.Seen, Part{Kind: "engine", Dir: u.rel, Name: u.ImportPath, Note: "a main package beside the logic"})
		}
		p.Unsure = "several main packages could be the engine (" + strings.Join(dirs, ", ") + "): which one is it?"
		p.Todo = append(p.Todo, `engine = "`+dirs[0]+`"   # in hotrun.toml: the one hotrun should build and run`)
	}
}

// impl is a type a main package declares that implements an interface
// declared outside that package: its value, or only its pointer.
type impl struct {
	s     *source
	tn    *types.TypeName
	iface *types.TypeName
	ptr   bool // only a pointer to tn implements iface
}

// impls yields each type of a main package that implements one of ifaces.
func (f *finder) impls(ifaces []*types.TypeName) iter.Seq[impl] {
	return func(yield func(impl) bool) {
		for _, s := range f.mains {
			scope := s.pkg.Scope()
			for _, name := range scope.Names() {
				tn, ok := scope.Lookup(name).(*types.TypeName)
				if !ok || types.IsInterface(tn.Type()) {
					continue
				}
				for _, it := range ifaces {
					if inside(f.source(it.Pkg()), s) {
						continue
					}
					iface := it.Type().Underlying().(*types.Interface)
					im := impl{s: s, tn: tn, iface: it}
					switch {
					case types.Implements(tn.Type(), iface):
					case types.Implements(types.NewPointer(tn.Type()), iface):
						im.ptr = true
					default:
						continue
					}
					if !yield(im) {
						return
					}
				}
			}
		}
	}
}

// implemented reports whether a type of a main package implements one of
// ifaces: the logic is there, only its export is missing.
func (f *finder) implemented(ifaces []*types.TypeName) bool {
	for range f.impls(ifaces) {
		return true
	}
	return false
}

// flat looks for the one main package that serves (handlers, a message
// loop, a socket) in a module with no logic yet, and writes the recipe
// that splits it into p.Recipe. It reports whether it did.
func (f *finder) flat() bool {
	var progs []*program
	for _, s := range f.mains {
		// A recipe places the host in main: no main (broken code), no recipe.
		if prog := readProgram(s); prog.serves() && prog.main != nil {
			progs = append(progs, prog)
		}
	}
	if len(progs) != 1 {
		return false
	}
	r := f.recipe(progs[0])
	if r == nil {
		return false
	}
	f.p.Recipe = r
	f.p.Engine = &Part{Kind: "flat", Dir: progs[0].s.rel, Name: progs[0].s.ImportPath, Note: "one main package holds the server, its state and its handlers (" + strings.Join(r.Files, ", ") + ")"}
	return true
}

// suggest fills p.Todo with the export line a main package lacks: a type
// it declares implements one of ifaces, but no exported variable holds one.
func (f *finder) suggest(ifaces []*types.TypeName) {
	p := f.p
	for im := range f.impls(ifaces) {
		if slices.Contains(f.engines, im.s) {
			continue
		}
		name := im.tn.Name()
		val := name + "{}"
		if im.ptr {
			val = "&" + val
		}
		if _, isStruct := im.tn.Type().Underlying().(*types.Struct); !isStruct {
			val = "…"
		}
		p.Seen = append(p.Seen, Part{Kind: "logic", Dir: im.s.rel, Name: im.s.pkg.Name() + "." + name, Pos: f.pos(im.tn), Note: name + " implements " + qualified(im.iface) + "; nothing exports it"})
		p.Todo = append(p.Todo, fmt.Sprintf("var %s %s = %s   # in %s", DefaultSymbol, qualified(im.iface), val, im.s.rel))
	}
	if len(p.Todo) == 0 && len(ifaces) == 1 {
		p.Todo = append(p.Todo, fmt.Sprintf("var %s %s = …   # in the logic's main package (./logic), with func main() {}", DefaultSymbol, qualified(ifaces[0])))
	}
}

// engineLines are the lines that make the program prog, in dir, an
// engine, as README lays one out: the host, Listen before Start, and each
// request through h.Handler, each other unit of work through h.Run, at
// the call sites prog has. prog may be nil.
func (p *Project) engineLines(prog *program, dir string) []string {
	var fields []string
	if p.Symbol != DefaultSymbol {
		fields = append(fields, fmt.Sprintf("Symbol: %q", p.Symbol))
	}
	state := ""
	if p.State != nil {
		fields = append(fields, "State: state")
		state = fmt.Sprintf("   # state: your *%s, which hotrun then carries across restarts", p.State.Name)
	}
	iface := p.Shared.Name
	lines := []string{
		fmt.Sprintf(`import "%s"   # in %s, then:`, HostPackage, dir),
		fmt.Sprintf("h := hot.New(hot.Config[%s]{%s})%s", iface, strings.Join(fields, ", "), state),
	}
	listen := []string{
		`ln, err := h.Listen("tcp", *addr)   # before Start: a new engine holds the socket while it gets ready`,
		"if err := h.Start(*pluginPath); err != nil { log.Fatal(err) }   # under hotrun: returns when this engine is to serve",
	}
	handler := fmt.Sprintf("mux.Handle(pattern, h.Handler(func(w http.ResponseWriter, r *http.Request, l %s) { … }))   # each request, on one version: call l's methods in it", iface)
	unit := fmt.Sprintf(`h.Run("message", func(l %s) error { … })   # each unit that is not HTTP (a message, a tick), on one version`, iface)
	serve := "if err := h.Serve(ln, mux); err != nil { log.Fatal(err) }   # nil when hotrun hands over to a new engine"
	if prog == nil || !prog.serves() {
		return append(append(lines, listen...), handler, unit, serve)
	}
	// At the program's own call sites, wrapping the code that is there:
	// it then runs on one version, and shows in hotrun's request log;
	// move what you edit live into the logic's methods.
	for _, h := range prog.handlers {
		if h.long {
			continue
		}
		arg := prog.text(h.call.Args[h.arg])
		body := arg + "(" + h.w + ", " + h.r + ")"
		if h.lit != nil {
			body = "…"
		}
		lines = append(lines, fmt.Sprintf("%s   # at %s, for %s: call l's methods in it", prog.wrapped(h, iface, body), prog.at(h.call.Pos()), prog.line(h.call)))
	}
	for _, l := range prog.loops {
		lines = append(lines, fmt.Sprintf(`h.Run(%q, func(l %s) error { … })   # at %s, around what each %s does: call l's methods in it`, l.kind, iface, prog.at(l.stmts[0].Pos()), l.kind))
	}
	if len(prog.listens) == 0 {
		return append(append(lines, listen...), serve)
	}
	for _, l := range prog.listens {
		addr, serve := prog.listenParts(l)
		at := fmt.Sprintf("at %s, %s", prog.at(l.stmt.Pos()), prog.line(l.stmt))
		switch {
		case l.kind == "TLS":
			lines = append(lines, "# at "+prog.at(l.stmt.Pos())+": h.Serve serves plain HTTP; terminate TLS in front of the engine, or serve on a tls.NewListener(ln, cfg)")
		case serve == "":
			lines = append(lines, fmt.Sprintf("ln, err := h.Listen(%s)   # %s becomes this; then, after its error check:", prog.span(l.call.Lparen+1, l.call.Rparen), at), listen[1],
				"go func() { <-h.Stopping(); ln.Close() }()   # an accept loop of your own: hotrun hands the socket to a new engine, or stops this one")
		case addr == "":
			lines = append(lines, fmt.Sprintf("if err := %s; err != nil { log.Fatal(err) }   # %s becomes this: nil when hotrun hands over to a new engine", serve, at))
		default:
			lines = append(lines,
				fmt.Sprintf("ln, err := h.Listen(\"tcp\", %s)   # %s becomes these three lines: Listen before Start, so a new engine holds the socket while it gets ready", addr, at),
				listen[1],
				fmt.Sprintf("if err := %s; err != nil { log.Fatal(err) }   # nil when hotrun hands over to a new engine", serve))
		}
	}
	return lines
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
// or Config with, and the Symbol its Config names: named is false when it
// names none, sym "" when it is not a constant.
func engineConfig(e *source) (t types.Type, sym string, named bool) {
	for id, inst := range e.info.Instances {
		obj := e.info.Uses[id]
		if obj != nil && obj.Pkg() != nil && obj.Pkg().Path() == HostPackage && (id.Name == "New" || id.Name == "Config") && inst.TypeArgs.Len() == 1 {
			t = inst.TypeArgs.At(0)
		}
	}
	// The Config literal is found by its syntax, hot.Config[…]{…}: its type
	// does not check when the library can't be loaded.
	for _, f := range e.files {
		lib := ""
		for _, im := range f.Imports {
			if p, err := strconv.Unquote(im.Path.Value); err == nil && (p == HostPackage || movedLibrary(p) != "") {
				lib = path.Base(p)
				if im.Name != nil {
					lib = im.Name.Name
				}
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.CompositeLit)
			if !ok || !isConfig(lit.Type, lib) {
				return true
			}
			for _, el := range lit.Elts {
				kv, ok := el.(*ast.KeyValueExpr)
				if !ok {
					continue
				}
				if k, ok := kv.Key.(*ast.Ident); !ok || k.Name != "Symbol" {
					continue
				}
				named = true
				if v := e.info.Types[kv.Value].Value; v != nil && v.Kind() == constant.String {
					sym = constant.StringVal(v)
				} else if b, ok := kv.Value.(*ast.BasicLit); ok && b.Kind == token.STRING {
					sym, _ = strconv.Unquote(b.Value)
				}
			}
			return true
		})
	}
	return t, sym, named
}

// isConfig reports whether x is lib.Config[…], the engine library's Config
// as the file imports it.
func isConfig(x ast.Expr, lib string) bool {
	ix, ok := x.(*ast.IndexExpr)
	if !ok {
		return false
	}
	sel, ok := ix.X.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	id, ok := sel.X.(*ast.Ident)
	return ok && lib != "" && id.Name == lib && sel.Sel.Name == "Config"
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
	_, ok := paths.Within(b.Dir, a.Dir)
	return ok
}

// qualified is "room.Logic": the package name and the type's.
func qualified(tn *types.TypeName) string {
	if tn.Pkg() == nil {
		return tn.Name()
	}
	return tn.Pkg().Name() + "." + tn.Name()
}
