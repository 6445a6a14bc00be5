package scaffold

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/format"
	"go/token"
	"go/types"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Recipe is how to split a flat project (the server, its state and its
// handlers in one main package) into the three parts hotrun needs, in the
// project's own names. init prints it and writes nothing: moving code
// between packages is a change its author should make and read.
type Recipe struct {
	Dir   string   // the flat main package, "." for the module root: it stays the engine
	Files []string // its Go files

	Shared string // the shared package to create: its name and directory
	Iface  string // the interface to declare there: "chat.Logic"

	State  []Item // the types that hold state: the engine owns them
	Logic  []Item // the code to move to the logic: handlers, message formatting, ticks
	Engine []Item // code that serves but stays in the engine: long-lived connections

	Create []NewFile // the files to create, in order: the shared package, the logic, hotrun.toml
	Move   []string  // types to move to the shared package, and what that changes
	Edits  []Edit    // the changes in the engine: the host, and each call site
	After  []string  // what to remove from the engine, and what to run next
}

// Item is one thing of the program a recipe names.
type Item struct {
	Name string // in the program's words: "Hub", "(*server).handleList", "message formatting"
	Pos  string // where it is: "hub.go:9"
	Note string // what it is, or where it goes
}

// NewFile is a file a recipe asks for, with its first lines.
type NewFile struct {
	Path string // slash-separated, relative to the module root
	What string
	Src  string
}

// Edit is a change at one place of the engine.
type Edit struct {
	Pos  string // "main.go:32"
	How  string // "in place of", "before", "after", or "in" (a file)
	Was  string // the line at Pos now; "" for a file
	Now  string // what goes there (Go; may span lines)
	Note string // why, when it is not plain
}

// capture is a value of the engine that code moved to the logic uses: it
// becomes a parameter of the logic's method.
type capture struct {
	name string     // the parameter: store
	typ  types.Type // its type
	arg  string     // what the engine passes at the call site: s.store
}

// edit is a change to a span of source text.
type edit struct {
	pos, end token.Pos
	text     string
}

// piece is code that moves to the logic, as one method of the interface.
type piece struct {
	item   Item
	method string     // the interface's method: ServeHome
	doc    string     // its doc comment, after its name: "serves GET / (was serveHome, main.go:15)."
	nodes  []ast.Node // the code: a function, a literal, statements
	lo, hi token.Pos  // the span of the code
	// recv is a method's receiver, recvArg what stands for it at the call
	// site (s in s.handleList).
	recv    *types.Var
	recvArg string

	h    *handler // for a handler
	loop *loop    // for a unit of work

	caps   []*capture
	taken  map[string]bool // the names the code declares
	edits  []edit
	copies []types.Object
	pkgs   []*types.Package
	sels   []types.Object // fields and methods of the package's types it uses
}

// recipe builds the recipe for the flat program p; it returns nil when
// nothing in p could move to the logic.
func (f *finder) recipe(p *program) *Recipe {
	r := &Recipe{Dir: p.s.rel, Files: slices.Clone(p.s.GoFiles)}
	r.Shared = f.sharedName(p)
	r.Iface = r.Shared + "." + DefaultSymbol
	b := &recipeBuilder{f: f, p: p, r: r, moved: map[types.Object]bool{}}
	if !b.plan() {
		return nil
	}
	b.render()
	return r
}

// sharedName picks the shared package's name: the module's last element,
// unless the program already uses that name, or a directory by it holds Go
// files; then "shared".
func (f *finder) sharedName(p *program) string {
	name := SharedName(f.p.Module)
	taken := func(n string) bool {
		if p.s.pkg.Scope().Lookup(n) != nil {
			return true
		}
		for _, im := range p.s.pkg.Imports() {
			if im.Name() == n {
				return true
			}
		}
		files, _ := filepath.Glob(filepath.Join(p.s.Dir, n, "*.go"))
		return len(files) > 0
	}
	if taken(name) {
		name = "shared"
	}
	return name
}

// recipeBuilder carries what a recipe is made of while it is made.
type recipeBuilder struct {
	f      *finder
	p      *program
	r      *Recipe
	pieces []*piece
	// moved holds the package's types (and their constructors) that move
	// to the shared package: a method of the interface takes them.
	moved  map[types.Object]bool
	copies []types.Object // the package-level names the logic copies
}

// plan sorts the program's code into the engine's and the logic's.
func (b *recipeBuilder) plan() bool {
	p := b.p
	names := map[string]int{}
	name := func(n string) string {
		names[n]++
		if names[n] > 1 {
			return fmt.Sprintf("%s%d", n, names[n])
		}
		return n
	}
	for _, h := range p.handlers {
		if h.long {
			var at ast.Node = h.call
			what := "a handler"
			if h.decl != nil {
				at, what = h.decl, funcName(h.decl)
			} else {
				if callee := b.single(h.lit); callee != nil {
					at, what = callee, funcName(callee)
				}
			}
			b.r.Engine = append(b.r.Engine, Item{Name: what, Pos: p.at(at.Pos()), Note: "upgrades the connection (" + h.pattern + "): it lives in the engine and outlives every version; each message on it is a unit (below)"})
			continue
		}
		pc := &piece{h: h}
		var n ast.Node
		switch {
		case h.decl != nil:
			n = h.decl
			pc.method = name(exported(h.decl.Name.Name))
			pc.item = Item{Name: funcName(h.decl), Pos: p.at(h.decl.Pos()), Note: fmt.Sprintf("an HTTP handler, for %q (%s)", h.pattern, p.at(h.call.Pos()))}
			pc.doc = fmt.Sprintf("serves %s (was %s, %s).", h.pattern, funcName(h.decl), pc.item.Pos)
			if h.decl.Recv != nil && len(h.decl.Recv.List[0].Names) > 0 {
				pc.recv, _ = p.s.info.Defs[h.decl.Recv.List[0].Names[0]].(*types.Var)
				pc.recvArg = p.text(h.recv)
			}
		default:
			n = h.lit
			pc.method = name(methodFromPattern(h.pattern))
			pc.item = Item{Name: "the handler of " + patternOr(h.pattern, "?"), Pos: p.at(h.lit.Pos()), Note: "an HTTP handler (a function literal)"}
			pc.doc = fmt.Sprintf("serves %s (was the function literal at %s).", h.pattern, pc.item.Pos)
		}
		pc.nodes, pc.lo, pc.hi = []ast.Node{n}, n.Pos(), n.End()
		b.pieces = append(b.pieces, pc)
	}
	for _, l := range p.loops {
		pc := &piece{loop: l}
		first, last := l.stmts[0], l.stmts[len(l.stmts)-1]
		for _, st := range l.stmts {
			pc.nodes = append(pc.nodes, st)
		}
		pc.lo, pc.hi = first.Pos(), last.End()
		where := funcName(l.in)
		switch {
		case l.format:
			pc.method = name("Format")
			pc.item = Item{Name: "message formatting", Pos: p.at(first.Pos()), Note: fmt.Sprintf("what %s does to each %s read at %s", where, l.msg.Name(), p.at(l.read.Pos()))}
			pc.doc = fmt.Sprintf("returns %s as %s passes it on (was %s).", l.msg.Name(), where, pc.item.Pos)
		case l.kind == "message":
			pc.method = name("OnMessage")
			pc.item = Item{Name: "message handling", Pos: p.at(first.Pos()), Note: fmt.Sprintf("what %s does with each %s read at %s", where, l.msg.Name(), p.at(l.read.Pos()))}
			pc.doc = fmt.Sprintf("does what %s did with each %s (was %s).", where, l.msg.Name(), pc.item.Pos)
		default:
			pc.method = name("Tick")
			pc.item = Item{Name: "a tick", Pos: p.at(first.Pos()), Note: "what " + where + " does on each tick"}
			pc.doc = fmt.Sprintf("does what %s did on each tick (was %s).", where, pc.item.Pos)
		}
		if l.in.Recv != nil && len(l.in.Recv.List[0].Names) > 0 {
			if pc.recv, _ = p.s.info.Defs[l.in.Recv.List[0].Names[0]].(*types.Var); pc.recv != nil {
				pc.recvArg = pc.recv.Name()
			}
		}
		b.pieces = append(b.pieces, pc)
	}
	if len(b.pieces) == 0 {
		return false
	}
	for _, pc := range b.pieces {
		b.needs(pc)
	}
	b.moveTypes()
	return true
}

// single returns the function of the package a literal's body is one call
// of: serveWs for func(w, r) { serveWs(hub, w, r) }.
func (b *recipeBuilder) single(lit *ast.FuncLit) *ast.FuncDecl {
	if len(lit.Body.List) != 1 {
		return nil
	}
	es, ok := lit.Body.List[0].(*ast.ExprStmt)
	if !ok {
		return nil
	}
	call, ok := es.X.(*ast.CallExpr)
	if !ok {
		return nil
	}
	return b.p.decls[b.p.callee(call)]
}

// needs finds what the code of pc takes from around it: the engine's
// values it reads (captures, which become parameters), and the package's
// names it uses (copied along, or moved to the shared package).
func (b *recipeBuilder) needs(pc *piece) {
	p := b.p
	info := p.s.info
	pkgScope := p.s.pkg.Scope()
	inside := func(o types.Object) bool { return pc.lo <= o.Pos() && o.Pos() < pc.hi }
	var skip types.Object
	if pc.loop != nil && pc.loop.msg != nil {
		skip = pc.loop.msg // the message is the method's own parameter
	}
	local := func(v *types.Var) bool {
		return v.Pkg() == p.s.pkg && !v.IsField() && v.Parent() != pkgScope && v != skip && (v == pc.recv || !inside(v))
	}
	argOf := func(v *types.Var) string {
		if v == pc.recv && pc.recvArg != "" {
			return pc.recvArg
		}
		return v.Name()
	}
	// The variables whose fields the code assigns to, or takes the address
	// of (c.nick = nick): the logic takes such a value whole, so that the
	// write reaches the engine's. And the names the code already uses, which
	// a parameter must not shadow.
	written := map[types.Object]bool{}
	pc.taken = map[string]bool{}
	for _, n := range pc.nodes {
		ast.Inspect(n, func(n ast.Node) bool {
			var xs []ast.Expr
			switch n := n.(type) {
			case *ast.AssignStmt:
				xs = n.Lhs
			case *ast.IncDecStmt:
				xs = []ast.Expr{n.X}
			case *ast.UnaryExpr:
				if n.Op == token.AND {
					xs = []ast.Expr{n.X}
				}
			}
			for _, x := range xs {
				if sel, ok := ast.Unparen(x).(*ast.SelectorExpr); ok {
					if id, ok := sel.X.(*ast.Ident); ok {
						written[info.Uses[id]] = true
					}
				}
			}
			if id, ok := n.(*ast.Ident); ok {
				if o := info.Defs[id]; o != nil {
					pc.taken[id.Name] = true
				}
			}
			return true
		})
	}
	for _, n := range pc.nodes {
		// A method's receiver is declared inside it but stands for a value
		// of the engine: look only at the body.
		if d, ok := n.(*ast.FuncDecl); ok {
			n = d.Body
		}
		ast.Inspect(n, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.SelectorExpr:
				sel := info.Selections[n]
				if sel != nil && sel.Obj().Pkg() == p.s.pkg {
					pc.sels = append(pc.sels, sel.Obj())
				}
				// s.store, of a value of the engine: the field is what the
				// logic takes, unless the code writes it (c.nick = nick),
				// which must reach the engine's value.
				if id, ok := n.X.(*ast.Ident); ok && sel != nil && sel.Kind() == types.FieldVal && len(sel.Index()) == 1 && !written[info.Uses[id]] {
					if v, ok := info.Uses[id].(*types.Var); ok && local(v) {
						c := pc.capture(lowerFirst(n.Sel.Name), sel.Type(), argOf(v)+"."+n.Sel.Name)
						pc.edits = append(pc.edits, edit{n.Pos(), n.End(), c.name})
						return false
					}
				}
			case *ast.Ident:
				switch o := info.Uses[n].(type) {
				case *types.Var:
					switch {
					case local(o):
						c := pc.capture(o.Name(), o.Type(), argOf(o))
						if c.name != n.Name {
							pc.edits = append(pc.edits, edit{n.Pos(), n.End(), c.name})
						}
					case o.Parent() == pkgScope && p.stateType(o.Type()) != nil:
						pc.capture(o.Name(), o.Type(), o.Name())
					case o.Parent() == pkgScope:
						pc.copies = appendNew(pc.copies, types.Object(o))
					}
				case *types.Const, *types.TypeName:
					if o.Parent() == pkgScope {
						pc.copies = appendNew(pc.copies, types.Object(o))
					}
				case *types.Func:
					if o.Pkg() == p.s.pkg && o.Type().(*types.Signature).Recv() == nil {
						pc.copies = appendNew(pc.copies, types.Object(o))
					}
				case *types.PkgName:
					pc.pkgs = appendNew(pc.pkgs, o.Imported())
				}
			}
			return true
		})
	}
}

// capture adds the engine's value arg, of type t, as a parameter of pc's
// method; two values by one name get a number.
func (pc *piece) capture(name string, t types.Type, arg string) *capture {
	for _, c := range pc.caps {
		if c.arg == arg {
			return c
		}
	}
	// Not the name of a parameter of the method, nor one the code
	// declares: the parameter would be shadowed.
	clash := func(n string) bool {
		h := pc.h
		return pc.taken[n] || n == "l" || h != nil && (n == h.w || n == h.r) ||
			pc.loop != nil && pc.loop.msg != nil && n == pc.loop.msg.Name() ||
			slices.ContainsFunc(pc.caps, func(c *capture) bool { return c.name == n })
	}
	n := name
	for i := 2; clash(n); i++ {
		n = fmt.Sprintf("%s%d", name, i)
	}
	c := &capture{name: n, typ: t, arg: arg}
	pc.caps = append(pc.caps, c)
	return c
}

// moveTypes decides what moves to the shared package: the package's types
// a method of the interface takes or returns, and the types they are made
// of, with their methods and constructors. The rest of the names the
// logic's code uses is copied into it.
func (b *recipeBuilder) moveTypes() {
	p := b.p
	var add func(t types.Type)
	add = func(t types.Type) {
		switch t := types.Unalias(t).(type) {
		case *types.Pointer:
			add(t.Elem())
		case *types.Slice:
			add(t.Elem())
		case *types.Array:
			add(t.Elem())
		case *types.Map:
			add(t.Key())
			add(t.Elem())
		case *types.Chan:
			add(t.Elem())
		case *types.Named:
			obj := t.Obj()
			if obj.Pkg() != p.s.pkg || b.moved[obj] {
				return
			}
			b.moved[obj] = true
			if st, ok := t.Underlying().(*types.Struct); ok {
				for fld := range st.Fields() {
					add(fld.Type())
				}
			}
			for m := range t.Methods() {
				if m.Exported() {
					sig := m.Type().(*types.Signature)
					for v := range sig.Params().Variables() {
						add(v.Type())
					}
					for v := range sig.Results().Variables() {
						add(v.Type())
					}
				}
			}
			// Its constructors go with it: func NewStore() *Store.
			for _, name := range p.s.pkg.Scope().Names() {
				fn, ok := p.s.pkg.Scope().Lookup(name).(*types.Func)
				if !ok || !strings.HasPrefix(strings.ToLower(name), "new") {
					continue
				}
				for v := range fn.Type().(*types.Signature).Results().Variables() {
					if rt := p.stateType(v.Type()); rt == obj || types.Identical(v.Type(), t) || types.Identical(v.Type(), types.NewPointer(t)) {
						b.moved[fn] = true
					}
				}
			}
		}
	}
	for _, pc := range b.pieces {
		for _, c := range pc.caps {
			add(c.typ)
		}
		if l := pc.loop; l != nil && l.msg != nil {
			add(l.msg.Type())
		}
	}
	// What the logic copies: the names its code uses that do not move,
	// and what those use in turn.
	var work []types.Object
	for _, pc := range b.pieces {
		work = append(work, pc.copies...)
	}
	for len(work) > 0 {
		o := work[0]
		work = work[1:]
		if b.moved[o] || slices.Contains(b.copies, o) {
			continue
		}
		b.copies = append(b.copies, o)
		if n := b.declOf(o); n != nil {
			cp := &piece{nodes: []ast.Node{n}, lo: n.Pos(), hi: n.End()}
			b.needs(cp)
			work = append(work, cp.copies...)
			for _, pk := range cp.pkgs {
				for _, pc := range b.pieces[:1] {
					pc.pkgs = appendNew(pc.pkgs, pk)
				}
			}
		}
	}
	sort.Slice(b.copies, func(i, j int) bool { return b.copies[i].Pos() < b.copies[j].Pos() })
}

// declOf returns the declaration of a package-level name: its function,
// or the spec of its variable, constant or type.
func (b *recipeBuilder) declOf(o types.Object) ast.Node {
	if d := b.p.decls[o]; d != nil {
		return d
	}
	for _, f := range b.p.s.files {
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok {
				continue
			}
			for _, spec := range gd.Specs {
				if spec.Pos() <= o.Pos() && o.Pos() < spec.End() {
					return spec
				}
			}
		}
	}
	return nil
}

// funcName is "serveHome", or "(*server).handleList" for a method.
func funcName(d *ast.FuncDecl) string {
	if d.Recv == nil || len(d.Recv.List) == 0 {
		return d.Name.Name
	}
	var b bytes.Buffer
	format.Node(&b, token.NewFileSet(), d.Recv.List[0].Type)
	return "(" + b.String() + ")." + d.Name.Name
}

func patternOr(pattern, alt string) string {
	if pattern == "" {
		return alt
	}
	return pattern
}

// methodFromPattern names the method for a literal handler from its
// pattern: "GET /notes/{id}" is GetNotesID.
func methodFromPattern(pattern string) string {
	var b strings.Builder
	for _, w := range strings.FieldsFunc(pattern, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		w = strings.ToLower(w)
		if w == "id" {
			b.WriteString("ID")
			continue
		}
		b.WriteString(exported(w))
	}
	if b.Len() == 0 || !unicode.IsLetter(rune(b.String()[0])) {
		return "Serve" + b.String()
	}
	return b.String()
}

func exported(name string) string {
	r, n := utf8.DecodeRuneInString(name)
	return string(unicode.ToUpper(r)) + name[n:]
}

func lowerFirst(name string) string {
	r, n := utf8.DecodeRuneInString(name)
	return string(unicode.ToLower(r)) + name[n:]
}

func dirName(rel string) string {
	if rel == "." {
		return "the module's root package"
	}
	return rel
}

func appendNew[T comparable](s []T, v T) []T {
	if slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}
