package scaffold

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"path"
	"slices"
	"strings"
)

// program is what a main package does that matters to hotrun, read from
// its syntax and types: where it registers HTTP handlers, where it reads
// messages or ticks in a loop, where it listens, and which of its types
// hold state. init's advice is made of it, in the program's own names.
type program struct {
	s     *source
	decls map[types.Object]*ast.FuncDecl // the package's functions and methods
	// parent holds each node's parent: the statement a call is in, the
	// function that holds a loop.
	parent map[ast.Node]ast.Node

	handlers []*handler
	loops    []*loop
	listens  []*listen
	state    map[*types.TypeName]bool // struct types that hold state
	// flagParse is main's flag.Parse() call, nil when it has none;
	// flagVar is a package-level flag variable (var addr = flag.String…).
	flagParse *ast.CallExpr
	flagVar   *ast.ValueSpec
	main      *ast.FuncDecl
}

// handler is an HTTP handler the program registers:
// mux.HandleFunc("GET /notes", s.handleList).
type handler struct {
	call    *ast.CallExpr // the registration
	arg     int           // which of call's arguments is the handler
	pattern string        // the registration's pattern, when a string literal
	decl    *ast.FuncDecl // the handler's function or method; nil for a literal
	lit     *ast.FuncLit  // the handler, when a function literal
	recv    ast.Expr      // a method value's receiver at the registration (s)
	w, r    string        // its parameters' names
	// long is true when it upgrades the connection (a websocket): the
	// connection then outlives every version and belongs to the engine.
	long bool
}

// loop is a unit of work that is not an HTTP request, found where a loop
// reads a message or waits for a tick.
type loop struct {
	kind  string        // "message" or "tick"
	in    *ast.FuncDecl // the function it is in
	read  *ast.CallExpr // the call that reads the message; nil for a tick
	msg   *types.Var    // the message; nil for a tick
	stmts []ast.Stmt    // the unit's statements
	// format is true when stmts only rewrite msg (msg = f(msg)): the
	// message's formatting, a pure function for the logic.
	format bool
}

// listen is where the program opens its socket or serves on it.
type listen struct {
	call *ast.CallExpr
	stmt ast.Stmt
	in   *ast.FuncDecl
	// kind is "ListenAndServe" (http.ListenAndServe), "Server.ListenAndServe",
	// "Serve", "Server.Serve", "net.Listen", or "TLS" for the TLS
	// variants, which Host.Serve does not offer.
	kind string
}

// readProgram reads the main package s.
func readProgram(s *source) *program {
	p := &program{s: s, decls: map[types.Object]*ast.FuncDecl{}, parent: map[ast.Node]ast.Node{}, state: map[*types.TypeName]bool{}}
	for _, f := range s.files {
		var stack []ast.Node
		ast.Inspect(f, func(n ast.Node) bool {
			if n == nil {
				stack = stack[:len(stack)-1]
				return true
			}
			if len(stack) > 0 {
				p.parent[n] = stack[len(stack)-1]
			}
			stack = append(stack, n)
			return true
		})
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if obj := s.info.Defs[d.Name]; obj != nil {
					p.decls[obj] = d
				}
				if d.Recv == nil && d.Name.Name == "main" {
					p.main = d
				}
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					if vs, ok := spec.(*ast.ValueSpec); ok && p.flagVar == nil {
						for _, v := range vs.Values {
							if c, ok := v.(*ast.CallExpr); ok && p.isPkgFunc(c, "flag", "") {
								p.flagVar = vs
							}
						}
					}
				}
			}
		}
	}
	p.findState()
	for _, f := range s.files {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				p.readCall(n)
			case *ast.ForStmt:
				p.readFor(n)
			case *ast.RangeStmt:
				p.readRange(n)
			}
			return true
		})
	}
	// A ticker in the code a long-lived connection runs (its reader, its
	// writer) is the connection's keepalive, no unit of work.
	conn := map[*ast.FuncDecl]bool{}
	for _, h := range p.handlers {
		if h.long {
			var n ast.Node = h.lit
			if h.decl != nil {
				n = h.decl
			}
			p.reach(n, conn)
		}
	}
	p.loops = slices.DeleteFunc(p.loops, func(l *loop) bool { return l.kind == "tick" && conn[l.in] })
	return p
}

// reach adds to seen the functions of the package n calls, or starts as
// goroutines, and what they call in turn.
func (p *program) reach(n ast.Node, seen map[*ast.FuncDecl]bool) {
	ast.Inspect(n, func(n ast.Node) bool {
		if call, ok := n.(*ast.CallExpr); ok {
			if d := p.decls[p.callee(call)]; d != nil && !seen[d] {
				seen[d] = true
				p.reach(d, seen)
			}
		}
		return true
	})
}

// listenParts returns, for a listen of the program, the address h.Listen
// opens and the h.Serve call that takes the listen's place; serve is ""
// for a net.Listen, addr "" for a Serve on a listener of the program's.
func (p *program) listenParts(l *listen) (addr, serve string) {
	args := make([]string, len(l.call.Args))
	for i, a := range l.call.Args {
		args[i] = p.text(a)
	}
	recv := ""
	if sel, ok := l.call.Fun.(*ast.SelectorExpr); ok {
		recv = p.text(sel.X)
	}
	switch l.kind {
	case "ListenAndServe":
		return args[0], "h.Serve(ln, " + args[1] + ")"
	case "Server.ListenAndServe":
		return recv + ".Addr", "h.Serve(ln, " + recv + ".Handler)"
	case "Serve":
		return "", "h.Serve(" + args[0] + ", " + args[1] + ")"
	case "Server.Serve":
		return "", "h.Serve(" + args[0] + ", " + recv + ".Handler)"
	case "net.Listen":
		return args[1], ""
	}
	return "", ""
}

// serves reports whether the program serves anything hotrun can run
// through the engine library: a handler, a loop, a socket.
func (p *program) serves() bool {
	return len(p.handlers)+len(p.loops)+len(p.listens) > 0
}

// readCall sorts a call: a handler's registration, a listen, flag.Parse.
func (p *program) readCall(call *ast.CallExpr) {
	info := p.s.info
	f := p.callee(call)
	switch {
	case isFunc(f, "net/http", "", "ListenAndServe"):
		p.addListen(call, "ListenAndServe")
		return
	case isFunc(f, "net/http", "Server", "ListenAndServe"):
		p.addListen(call, "Server.ListenAndServe")
		return
	case isFunc(f, "net/http", "", "Serve"):
		p.addListen(call, "Serve")
		return
	case isFunc(f, "net/http", "Server", "Serve"):
		p.addListen(call, "Server.Serve")
		return
	case isFunc(f, "net", "", "Listen"):
		p.addListen(call, "net.Listen")
		return
	case isFunc(f, "net/http", "", "ListenAndServeTLS"), isFunc(f, "net/http", "Server", "ListenAndServeTLS"), isFunc(f, "net/http", "Server", "ServeTLS"):
		p.addListen(call, "TLS")
		return
	case isFunc(f, "flag", "", "Parse"):
		if p.main != nil && within(call, p.main) {
			p.flagParse = call
		}
		return
	}
	sig, ok := info.Types[call.Fun].Type.(*types.Signature)
	if !ok || info.Types[call.Fun].IsType() || sig.Params().Len() < 2 || len(call.Args) != sig.Params().Len() {
		return
	}
	// A registration: a pattern, then a handler (http.HandleFunc,
	// mux.Handle, a router's Get).
	if b, ok := sig.Params().At(0).Type().Underlying().(*types.Basic); !ok || b.Kind() != types.String {
		return
	}
	for i := 1; i < sig.Params().Len(); i++ {
		t := sig.Params().At(i).Type()
		if !isHandlerFunc(t) && !isNamed(t, "net/http", "Handler") {
			continue
		}
		h := &handler{call: call, arg: i, w: "w", r: "r"}
		if lit, ok := call.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
			h.pattern = strings.Trim(lit.Value, "`\"")
		}
		if !p.resolveHandler(h, call.Args[i]) {
			return
		}
		var body ast.Node = h.lit
		if h.decl != nil {
			body = h.decl
		}
		h.long = p.upgrades(body, map[*ast.FuncDecl]bool{})
		p.handlers = append(p.handlers, h)
		return
	}
}

// resolveHandler finds the code of the handler x: a function or method of
// the package, or a function literal. A handler value from elsewhere
// (http.FileServer) is no candidate for the logic.
func (p *program) resolveHandler(h *handler, x ast.Expr) bool {
	info := p.s.info
	x = ast.Unparen(x)
	// http.HandlerFunc(fn) is fn.
	if c, ok := x.(*ast.CallExpr); ok && len(c.Args) == 1 && info.Types[c.Fun].IsType() {
		x = ast.Unparen(c.Args[0])
	}
	var ft *ast.FuncType
	switch x := x.(type) {
	case *ast.Ident:
		fn, ok := info.Uses[x].(*types.Func)
		if !ok || p.decls[fn] == nil {
			return false
		}
		h.decl = p.decls[fn]
		ft = h.decl.Type
	case *ast.SelectorExpr:
		sel := info.Selections[x]
		if sel == nil || sel.Kind() != types.MethodVal || p.decls[sel.Obj()] == nil {
			return false
		}
		h.decl = p.decls[sel.Obj()]
		h.recv = x.X
		ft = h.decl.Type
	case *ast.FuncLit:
		h.lit = x
		ft = x.Type
	default:
		return false
	}
	if ft.Params != nil && len(ft.Params.List) > 0 {
		var names []string
		for _, fld := range ft.Params.List {
			for _, n := range fld.Names {
				names = append(names, n.Name)
			}
		}
		if len(names) == 2 && names[0] != "_" && names[1] != "_" {
			h.w, h.r = names[0], names[1]
		}
	}
	return true
}

// upgrades reports whether n, or a function of the package it calls,
// upgrades an HTTP connection to a long-lived one: a websocket's
// Upgrade or Accept, or a Hijack.
func (p *program) upgrades(n ast.Node, seen map[*ast.FuncDecl]bool) bool {
	found := false
	ast.Inspect(n, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || found {
			return !found
		}
		f := p.callee(call)
		if f == nil || f.Pkg() == nil {
			return true
		}
		lib := f.Pkg().Path()
		if (strings.Contains(lib, "websocket") || path.Base(lib) == "ws") && (strings.HasPrefix(f.Name(), "Upgrade") || f.Name() == "Accept") ||
			lib == "net/http" && f.Name() == "Hijack" {
			found = true
			return false
		}
		if d := p.decls[f]; d != nil && !seen[d] {
			seen[d] = true
			found = p.upgrades(d, seen)
		}
		return !found
	})
	return found
}

func (p *program) addListen(call *ast.CallExpr, kind string) {
	l := &listen{call: call, kind: kind, stmt: p.stmt(call), in: p.funcOf(call)}
	if l.stmt != nil {
		p.listens = append(p.listens, l)
	}
}

// readFor finds a message loop: a for loop whose body reads a message
// (a websocket's ReadMessage, a bufio.Reader's ReadString, a
// bufio.Scanner's Scan and Text), or one that selects on a ticker.
func (p *program) readFor(fs *ast.ForStmt) {
	in := p.funcOf(fs)
	if in == nil {
		return
	}
	body := fs.Body.List
	// for sc.Scan() { line := sc.Text() … }, or strings.TrimSpace(sc.Text()).
	if c, ok := fs.Cond.(*ast.CallExpr); ok && isFunc(p.callee(c), "bufio", "Scanner", "Scan") {
		if len(body) > 0 {
			if as, ok := body[0].(*ast.AssignStmt); ok && len(as.Lhs) == 1 && len(as.Rhs) == 1 {
				var read *ast.CallExpr
				ast.Inspect(as.Rhs[0], func(n ast.Node) bool {
					if rc, ok := n.(*ast.CallExpr); ok && read == nil {
						if f := p.callee(rc); isFunc(f, "bufio", "Scanner", "Text") || isFunc(f, "bufio", "Scanner", "Bytes") {
							read = rc
						}
					}
					return read == nil
				})
				if read != nil {
					p.addMessage(in, read, as.Lhs[0], body[1:], nil)
				}
			}
		}
		return
	}
	for i, st := range body {
		if sel, ok := st.(*ast.SelectStmt); ok {
			p.readSelect(in, sel)
			continue
		}
		as, ok := st.(*ast.AssignStmt)
		if !ok || len(as.Rhs) != 1 {
			continue
		}
		rc, ok := as.Rhs[0].(*ast.CallExpr)
		if !ok {
			continue
		}
		f := p.callee(rc)
		if f == nil || f.Pkg() == nil {
			continue
		}
		msgAt := -1
		switch lib := f.Pkg().Path(); {
		case strings.Contains(lib, "websocket") && (f.Name() == "ReadMessage" || f.Name() == "Read") && len(as.Lhs) == 3:
			msgAt = 1 // _, message, err := conn.ReadMessage()
		case isFunc(f, "bufio", "Reader", "ReadString"), isFunc(f, "bufio", "Reader", "ReadBytes"), isFunc(f, "net/textproto", "Reader", "ReadLine"):
			msgAt = 0 // line, err := r.ReadString('\n')
		}
		if msgAt < 0 {
			continue
		}
		rest := body[i+1:]
		var errVar types.Object
		if id, ok := as.Lhs[len(as.Lhs)-1].(*ast.Ident); ok {
			errVar = p.object(id)
		}
		p.addMessage(in, rc, as.Lhs[msgAt], rest, errVar)
		return
	}
}

// addMessage records the message loop whose read is call, assigning msg,
// followed by rest.
func (p *program) addMessage(in *ast.FuncDecl, call *ast.CallExpr, msg ast.Expr, rest []ast.Stmt, errVar types.Object) {
	id, ok := msg.(*ast.Ident)
	if !ok {
		return
	}
	v, ok := p.object(id).(*types.Var)
	if !ok {
		return
	}
	// The read's error check is the engine's: the connection's end.
	if len(rest) > 0 && errVar != nil {
		if is, ok := rest[0].(*ast.IfStmt); ok && mentions(p.s.info, is.Cond, errVar) {
			rest = rest[1:]
		}
	}
	l := &loop{kind: "message", in: in, read: call, msg: v}
	for _, st := range rest {
		as, ok := st.(*ast.AssignStmt)
		if !ok || as.Tok != token.ASSIGN || len(as.Lhs) != 1 || len(as.Rhs) != 1 {
			break
		}
		if lid, ok := as.Lhs[0].(*ast.Ident); !ok || p.object(lid) != v || !p.pure(as.Rhs[0], v) {
			break
		}
		l.stmts = append(l.stmts, st)
	}
	if len(l.stmts) > 0 {
		l.format = true
	} else {
		l.stmts = rest
	}
	if len(l.stmts) > 0 {
		p.loops = append(p.loops, l)
	}
}

// readRange finds a tick loop: for range ticker.C { … }.
func (p *program) readRange(rs *ast.RangeStmt) {
	if in := p.funcOf(rs); in != nil && p.isTick(rs.X) && len(rs.Body.List) > 0 {
		p.loops = append(p.loops, &loop{kind: "tick", in: in, stmts: rs.Body.List})
	}
}

// readSelect finds a tick in a select: case <-ticker.C: ….
func (p *program) readSelect(in *ast.FuncDecl, sel *ast.SelectStmt) {
	for _, c := range sel.Body.List {
		cc, ok := c.(*ast.CommClause)
		if !ok || cc.Comm == nil || len(cc.Body) == 0 {
			continue
		}
		var x ast.Expr
		switch comm := cc.Comm.(type) {
		case *ast.ExprStmt:
			x = comm.X
		case *ast.AssignStmt:
			if len(comm.Rhs) == 1 {
				x = comm.Rhs[0]
			}
		}
		if u, ok := x.(*ast.UnaryExpr); ok && u.Op == token.ARROW && p.isTick(u.X) {
			p.loops = append(p.loops, &loop{kind: "tick", in: in, stmts: cc.Body})
		}
	}
}

// isTick reports whether x is a ticker's channel: t.C of a *time.Ticker.
func (p *program) isTick(x ast.Expr) bool {
	sel, ok := ast.Unparen(x).(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != "C" {
		return false
	}
	t := p.s.info.Types[sel.X].Type
	if ptr, ok := t.(*types.Pointer); ok {
		t = ptr.Elem()
	}
	return isNamed(t, "time", "Ticker")
}

// pure reports whether x computes from msg alone: it uses no other local
// variable, receives from no channel and calls no method of the package's
// types. Such code moves to the logic as it is.
func (p *program) pure(x ast.Expr, msg *types.Var) bool {
	ok := true
	ast.Inspect(x, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			ok = false
		case *ast.UnaryExpr:
			if n.Op == token.ARROW {
				ok = false
			}
		case *ast.SelectorExpr:
			if sel := p.s.info.Selections[n]; sel != nil && sel.Obj().Pkg() == p.s.pkg {
				ok = false
			}
		case *ast.Ident:
			if v, isVar := p.s.info.Uses[n].(*types.Var); isVar && v != msg && !v.IsField() && v.Parent() != p.s.pkg.Scope() {
				ok = false
			}
		}
		return ok
	})
	return ok
}

// findState marks the package's struct types that hold state: a map, a
// channel, a slice, a lock, a pointer to a struct, or another such type.
func (p *program) findState() {
	scope := p.s.pkg.Scope()
	var structs []*types.TypeName
	for _, name := range scope.Names() {
		if tn, ok := scope.Lookup(name).(*types.TypeName); ok && !tn.IsAlias() {
			if _, ok := tn.Type().Underlying().(*types.Struct); ok {
				structs = append(structs, tn)
			}
		}
	}
	for changed := true; changed; {
		changed = false
		for _, tn := range structs {
			if p.state[tn] {
				continue
			}
			st := tn.Type().Underlying().(*types.Struct)
			for fld := range st.Fields() {
				if p.holdsState(fld.Type()) {
					p.state[tn] = true
					changed = true
					break
				}
			}
		}
	}
}

func (p *program) holdsState(t types.Type) bool {
	switch t := types.Unalias(t).(type) {
	case *types.Map, *types.Chan:
		return true
	case *types.Slice:
		b, ok := t.Elem().Underlying().(*types.Basic)
		return !ok || b.Kind() != types.Byte
	case *types.Pointer:
		_, ok := t.Elem().Underlying().(*types.Struct)
		return ok
	case *types.Named:
		if t.Obj().Pkg() != nil && t.Obj().Pkg().Path() == "sync" {
			return true
		}
		return p.state[t.Obj()]
	}
	return false
}

// stateType returns the package's state type t is, or points to; nil when
// it is none.
func (p *program) stateType(t types.Type) *types.TypeName {
	if ptr, ok := types.Unalias(t).(*types.Pointer); ok {
		t = ptr.Elem()
	}
	if n, ok := types.Unalias(t).(*types.Named); ok && p.state[n.Obj()] {
		return n.Obj()
	}
	return nil
}

// callee returns the function or method call calls, or nil.
func (p *program) callee(call *ast.CallExpr) *types.Func {
	info := p.s.info
	switch fn := ast.Unparen(call.Fun).(type) {
	case *ast.Ident:
		f, _ := info.Uses[fn].(*types.Func)
		return f
	case *ast.SelectorExpr:
		if sel := info.Selections[fn]; sel != nil {
			f, _ := sel.Obj().(*types.Func)
			return f
		}
		f, _ := info.Uses[fn.Sel].(*types.Func)
		return f
	}
	return nil
}

// wrapped is h's registration with its handler wrapped in h.Handler, the
// wrapper's function of l (an iface) running body.
func (p *program) wrapped(h *handler, iface, body string) string {
	wrapper := fmt.Sprintf("h.Handler(func(%s http.ResponseWriter, %s *http.Request, l %s) { %s })", h.w, h.r, iface, body)
	// net/http's HandleFunc takes a func: Handle takes the http.Handler.
	fun := p.text(h.call.Fun)
	if f := p.callee(h.call); isFunc(f, "net/http", "", "HandleFunc") || isFunc(f, "net/http", "ServeMux", "HandleFunc") {
		fun = strings.TrimSuffix(fun, "Func")
	} else if sig, ok := p.s.info.Types[h.call.Fun].Type.(*types.Signature); ok && !isNamed(sig.Params().At(h.arg).Type(), "net/http", "Handler") {
		wrapper += ".ServeHTTP"
	}
	args := make([]string, len(h.call.Args))
	for i, a := range h.call.Args {
		args[i] = p.text(a)
	}
	args[h.arg] = wrapper
	return fun + "(" + strings.Join(args, ", ") + ")"
}

func (p *program) isPkgFunc(call *ast.CallExpr, pkg, name string) bool {
	f := p.callee(call)
	return f != nil && f.Pkg() != nil && f.Pkg().Path() == pkg && (name == "" || f.Name() == name)
}

// object is what id declares or uses.
func (p *program) object(id *ast.Ident) types.Object {
	if o := p.s.info.Defs[id]; o != nil {
		return o
	}
	return p.s.info.Uses[id]
}

// stmt returns the statement that holds n.
func (p *program) stmt(n ast.Node) ast.Stmt {
	for ; n != nil; n = p.parent[n] {
		if st, ok := n.(ast.Stmt); ok {
			return st
		}
	}
	return nil
}

// funcOf returns the function declaration that holds n.
func (p *program) funcOf(n ast.Node) *ast.FuncDecl {
	for ; n != nil; n = p.parent[n] {
		if d, ok := n.(*ast.FuncDecl); ok {
			return d
		}
	}
	return nil
}

// fileOf returns the index of the file that holds pos.
func (p *program) fileOf(pos token.Pos) int {
	for i, f := range p.s.files {
		if f.FileStart <= pos && pos <= f.FileEnd {
			return i
		}
	}
	return -1
}

// text is the source of n, as written.
func (p *program) text(n ast.Node) string {
	return p.span(n.Pos(), n.End())
}

func (p *program) span(from, to token.Pos) string {
	i := p.fileOf(from)
	if i < 0 {
		return ""
	}
	f := p.s.files[i]
	return string(p.s.srcs[i][from-f.FileStart : to-f.FileStart])
}

// line is the whole first line n starts on, without its indent.
func (p *program) line(n ast.Node) string {
	i := p.fileOf(n.Pos())
	if i < 0 {
		return ""
	}
	src, off := p.s.srcs[i], int(n.Pos()-p.s.files[i].FileStart)
	start := strings.LastIndexByte(string(src[:off]), '\n') + 1
	end := strings.IndexByte(string(src[off:]), '\n')
	if end < 0 {
		end = len(src) - off
	}
	return strings.TrimSpace(string(src[start : off+end]))
}

// at is where pos is, relative to the module root: "client.go:73".
func (p *program) at(pos token.Pos) string { return p.s.at(pos) }

// fileName is the module-relative name of the file that holds pos.
func (p *program) fileName(pos token.Pos) string {
	at := p.at(pos)
	return at[:strings.LastIndexByte(at, ':')]
}

// imports reports whether the file that holds pos imports pkg.
func (p *program) imports(pos token.Pos, pkg string) bool {
	i := p.fileOf(pos)
	if i < 0 {
		return false
	}
	return slices.ContainsFunc(p.s.files[i].Imports, func(im *ast.ImportSpec) bool { return strings.Trim(im.Path.Value, `"`) == pkg })
}

// within reports whether n lies inside outer.
func within(n, outer ast.Node) bool { return outer.Pos() <= n.Pos() && n.End() <= outer.End() }

// mentions reports whether x uses obj.
func mentions(info *types.Info, x ast.Node, obj types.Object) bool {
	found := false
	ast.Inspect(x, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok && info.Uses[id] == obj {
			found = true
		}
		return !found
	})
	return found
}

// isFunc reports whether f is the function pkg.name, or with recv the
// method (*pkg.recv).name.
func isFunc(f *types.Func, pkg, recv, name string) bool {
	if f == nil || f.Pkg() == nil || f.Pkg().Path() != pkg || f.Name() != name {
		return false
	}
	r := f.Type().(*types.Signature).Recv()
	if r == nil {
		return recv == ""
	}
	t := r.Type()
	if ptr, ok := t.(*types.Pointer); ok {
		t = ptr.Elem()
	}
	n, ok := t.(*types.Named)
	return ok && n.Obj().Name() == recv
}

// isNamed reports whether t is the named type pkg.name.
func isNamed(t types.Type, pkg, name string) bool {
	n, ok := types.Unalias(t).(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == pkg && n.Obj().Name() == name
}

// isHandlerFunc reports whether t is func(http.ResponseWriter,
// *http.Request), or http.HandlerFunc.
func isHandlerFunc(t types.Type) bool {
	sig, ok := t.Underlying().(*types.Signature)
	if !ok || sig.Params().Len() != 2 || sig.Results().Len() != 0 {
		return false
	}
	req, ok := sig.Params().At(1).Type().(*types.Pointer)
	return ok && isNamed(sig.Params().At(0).Type(), "net/http", "ResponseWriter") && isNamed(req.Elem(), "net/http", "Request")
}
