package scaffold

import (
	"fmt"
	"go/ast"
	"go/format"
	"go/token"
	"go/types"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// What a recipe says: the sources of the files to create, the moves, the
// engine's changes at each call site, and the last steps.

// qual names a type as the shared package (inShared) or the logic writes
// it: the types that move by their exported names, in the shared package;
// others by their package's name.
func (b *recipeBuilder) qual(t types.Type, inShared bool) string {
	const mark = "\x00" // stands for the program's package, never in a type's name
	s := types.TypeString(t, func(pk *types.Package) string {
		if pk == b.p.s.pkg {
			return mark
		}
		return pk.Name()
	})
	prefix := b.r.Shared + "."
	if inShared {
		prefix = ""
	}
	var out strings.Builder
	for {
		before, after, found := strings.Cut(s, mark+".")
		out.WriteString(before)
		if !found {
			return out.String()
		}
		end := strings.IndexFunc(after, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_' })
		if end < 0 {
			end = len(after)
		}
		out.WriteString(prefix + exported(after[:end]))
		s = after[end:]
	}
}

// signature is the method's parameters and results, as the shared
// package (inShared) or the logic writes them.
func (b *recipeBuilder) signature(pc *piece, inShared bool) (params, results string) {
	var ps []string
	switch {
	case pc.h != nil:
		ps = append(ps, pc.h.w+" http.ResponseWriter", pc.h.r+" *http.Request")
	case pc.loop != nil && pc.loop.msg != nil:
		ps = append(ps, pc.loop.msg.Name()+" "+b.qual(pc.loop.msg.Type(), inShared))
		if pc.loop.format {
			results = b.qual(pc.loop.msg.Type(), inShared)
		}
	}
	for _, c := range pc.caps {
		ps = append(ps, c.name+" "+b.qual(c.typ, inShared))
	}
	return strings.Join(ps, ", "), results
}

// render writes the recipe's parts: the state, the files, the moves and
// the edits.
func (b *recipeBuilder) render() {
	p, r := b.p, b.r
	for _, tn := range b.stateTypes() {
		note := fieldsOf(tn, b.qualOther)
		if b.moved[tn] {
			note += " → moves to " + r.Shared + "/: the logic's methods take it; the engine still makes and owns it"
		}
		r.State = append(r.State, Item{Name: tn.Name(), Pos: b.f.pos(tn), Note: note})
	}
	for _, pc := range b.pieces {
		r.Logic = append(r.Logic, pc.item)
	}
	// The shared package and the logic go in the module's root, beside
	// the engine when it is the root package.
	sharedPath := b.f.p.Module + "/" + r.Shared
	sharedDir := r.Shared
	logicDir := "logic"
	r.Create = append(r.Create,
		NewFile{Path: sharedDir + "/" + r.Shared + ".go", What: "the shared package: the interface the logic implements; the engine and the logic both import it", Src: b.sharedSource()},
		NewFile{Path: logicDir + "/main.go", What: "the logic plugin: the code you edit live, moved out of " + dirName(p.s.rel), Src: b.logicSource(sharedPath)},
		NewFile{Path: "hotrun.toml", What: "hotrun's settings (hotrun init writes it when you run it again)", Src: fmt.Sprintf("engine = %q\nlogic = %q\n", p.s.rel, "./"+logicDir)},
	)
	b.renderMoves(sharedDir)
	b.renderEdits(sharedPath)
	b.renderAfter()
}

// stateTypes are the program's state types, in the order they are
// declared.
func (b *recipeBuilder) stateTypes() []*types.TypeName {
	var out []*types.TypeName
	for tn := range b.p.state {
		out = append(out, tn)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Pos() < out[j].Pos() })
	return out
}

func (b *recipeBuilder) qualOther(pk *types.Package) string {
	if pk == b.p.s.pkg {
		return ""
	}
	return pk.Name()
}

// sharedSource is the shared package's file: the interface, one method
// for each piece of code that moves.
func (b *recipeBuilder) sharedSource() string {
	var methods strings.Builder
	imports := map[string]bool{}
	for _, pc := range b.pieces {
		params, results := b.signature(pc, true)
		if pc.h != nil {
			imports["net/http"] = true
		}
		fmt.Fprintf(&methods, "\t// %s %s\n\t%s(%s) %s\n", pc.method, pc.doc, pc.method, params, results)
		for _, c := range pc.caps {
			b.typeImports(c.typ, imports)
		}
		if pc.loop != nil && pc.loop.msg != nil {
			b.typeImports(pc.loop.msg.Type(), imports)
		}
	}
	var src strings.Builder
	fmt.Fprintf(&src, "// Package %s is shared by the engine and every version of the logic:\n// it declares the interface the logic implements", b.r.Shared)
	if len(b.moved) > 0 {
		src.WriteString(", and holds the state\n// types both use")
	}
	src.WriteString(".\n//\n// A change here is no hot swap: hotrun builds a new engine for it and\n// hands the state over.\n")
	fmt.Fprintf(&src, "package %s\n\n", b.r.Shared)
	writeImports(&src, imports)
	fmt.Fprintf(&src, "// %s is the code hotrun swaps into the running engine.\ntype %s interface {\n%s}\n", DefaultSymbol, DefaultSymbol, methods.String())
	return gofmt(src.String())
}

// typeImports adds the packages t names, other than the program's own.
func (b *recipeBuilder) typeImports(t types.Type, imports map[string]bool) {
	types.TypeString(t, func(pk *types.Package) string {
		if pk != b.p.s.pkg {
			imports[pk.Path()] = true
		}
		return pk.Name()
	})
}

// writeImports writes an import declaration, as goimports groups it: the
// standard library first.
func writeImports(w *strings.Builder, imports map[string]bool) {
	var std, other []string
	for ip := range imports {
		if strings.Contains(strings.Split(ip, "/")[0], ".") {
			other = append(other, ip)
		} else {
			std = append(std, ip)
		}
	}
	sort.Strings(std)
	sort.Strings(other)
	switch {
	case len(std)+len(other) == 0:
	case len(std)+len(other) == 1:
		fmt.Fprintf(w, "import %q\n\n", append(std, other...)[0])
	default:
		w.WriteString("import (\n")
		for _, ip := range std {
			fmt.Fprintf(w, "\t%q\n", ip)
		}
		if len(std) > 0 && len(other) > 0 {
			w.WriteString("\n")
		}
		for _, ip := range other {
			fmt.Fprintf(w, "\t%q\n", ip)
		}
		w.WriteString(")\n\n")
	}
}

// logicSource is the logic's main package: each piece of code as a method,
// and the names it copies from the engine's package.
func (b *recipeBuilder) logicSource(sharedPath string) string {
	p := b.p
	imports := map[string]bool{sharedPath: true}
	var body strings.Builder
	for _, pc := range b.pieces {
		for _, pk := range pc.pkgs {
			imports[pk.Path()] = true
		}
		for _, c := range pc.caps {
			b.typeImports(c.typ, imports)
		}
		if pc.h != nil {
			imports["net/http"] = true
		}
		params, results := b.signature(pc, false)
		fmt.Fprintf(&body, "\n// %s %s\nfunc (logic) %s(%s) %s {\n", pc.method, pc.doc, pc.method, params, results)
		switch {
		case pc.h != nil && pc.h.decl != nil:
			body.WriteString(b.rewrite(pc, pc.h.decl.Body.Lbrace+1, pc.h.decl.Body.Rbrace))
		case pc.h != nil:
			body.WriteString(b.rewrite(pc, pc.h.lit.Body.Lbrace+1, pc.h.lit.Body.Rbrace))
		default:
			body.WriteString(b.rewrite(pc, pc.lo, pc.hi))
			if pc.loop.format {
				fmt.Fprintf(&body, "\nreturn %s", pc.loop.msg.Name())
			}
		}
		body.WriteString("\n}\n")
	}
	for _, o := range b.copies {
		n := b.declOf(o)
		if n == nil {
			continue
		}
		cp := &piece{nodes: []ast.Node{n}, lo: n.Pos(), hi: n.End()}
		b.needs(cp)
		for _, pk := range cp.pkgs {
			imports[pk.Path()] = true
		}
		fmt.Fprintf(&body, "\n// %s is a copy of the engine's (%s).\n", o.Name(), p.at(o.Pos()))
		switch n.(type) {
		case *ast.ValueSpec:
			if _, isConst := o.(*types.Const); isConst {
				body.WriteString("const ")
			} else {
				body.WriteString("var ")
			}
		case *ast.TypeSpec:
			body.WriteString("type ")
		}
		body.WriteString(b.rewrite(cp, n.Pos(), n.End()))
		body.WriteString("\n")
	}
	var src strings.Builder
	fmt.Fprintf(&src, "// Command logic is the logic plugin of %s.\n//\n// hotrun builds each save of this directory into a new version and swaps\n// it into the running engine.\npackage main\n\n", b.f.p.Module)
	writeImports(&src, imports)
	fmt.Fprintf(&src, "// %s is the symbol the engine looks up.\nvar %s %s = logic{}\n\ntype logic struct{}\n", DefaultSymbol, DefaultSymbol, b.r.Iface)
	src.WriteString(body.String())
	src.WriteString("\nfunc main() {}\n")
	return gofmt(src.String())
}

// rewrite is the source between from and to, changed to read as the
// logic's: captured values by their parameters' names, the moved types by
// the shared package's.
func (b *recipeBuilder) rewrite(pc *piece, from, to token.Pos) string {
	edits := slices.Clone(pc.edits)
	info := b.p.s.info
	for _, n := range pc.nodes {
		ast.Inspect(n, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.Ident:
				if o := info.Uses[n]; o != nil && b.moved[o] && o.Parent() == b.p.s.pkg.Scope() {
					edits = append(edits, edit{n.Pos(), n.End(), b.r.Shared + "." + exported(n.Name)})
				}
			case *ast.SelectorExpr:
				// c.nick of a type that moves: the shared package exports it.
				if sel := info.Selections[n]; sel != nil && !sel.Obj().Exported() && b.memberOfMoved(sel.Obj()) {
					edits = append(edits, edit{n.Sel.Pos(), n.Sel.End(), exported(n.Sel.Name)})
				}
			}
			return true
		})
	}
	if l := pc.loop; l != nil && !l.format {
		edits = append(edits, b.branches(l)...)
	}
	sort.Slice(edits, func(i, j int) bool { return edits[i].pos < edits[j].pos })
	var out strings.Builder
	at := from
	for _, e := range edits {
		if e.pos < at || e.end > to {
			continue
		}
		out.WriteString(b.p.span(at, e.pos))
		out.WriteString(e.text)
		at = e.end
	}
	out.WriteString(b.p.span(at, to))
	return strings.TrimSpace(out.String())
}

// branches turns the unit's continue, which ended the loop's turn, into
// the return that ends the method's: the unit's statements become its
// body.
func (b *recipeBuilder) branches(l *loop) []edit {
	var edits []edit
	var walk func(n ast.Node, inLoop bool)
	walk = func(n ast.Node, inLoop bool) {
		ast.Inspect(n, func(m ast.Node) bool {
			switch m := m.(type) {
			case *ast.FuncLit:
				return false
			case *ast.ForStmt, *ast.RangeStmt:
				if m != n {
					walk(m, true) // its continue is its own
					return false
				}
			case *ast.BranchStmt:
				if m.Tok == token.CONTINUE && m.Label == nil && !inLoop {
					edits = append(edits, edit{m.Pos(), m.End(), "return"})
				}
			}
			return true
		})
	}
	for _, st := range l.stmts {
		walk(st, false)
	}
	return edits
}

// renderMoves says which types move to the shared package, and what
// that changes in the engine.
func (b *recipeBuilder) renderMoves(sharedDir string) {
	p, r := b.p, b.r
	if len(b.moved) == 0 {
		return
	}
	var objs []types.Object
	for o := range b.moved {
		objs = append(objs, o)
	}
	sort.Slice(objs, func(i, j int) bool { return objs[i].Pos() < objs[j].Pos() })
	// A file that declares only what moves moves whole.
	byFile := map[string][]string{}
	var files []string
	for _, o := range objs {
		fn := p.fileName(o.Pos())
		if byFile[fn] == nil {
			files = append(files, fn)
		}
		byFile[fn] = append(byFile[fn], o.Name())
	}
	for _, fn := range files {
		whole := true
		i := slices.IndexFunc(p.s.files, func(f *ast.File) bool { return p.fileName(f.Pos()) == fn })
		for _, d := range p.s.files[i].Decls {
			if !b.declMoves(d) {
				whole = false
			}
		}
		if whole {
			r.Move = append(r.Move, fmt.Sprintf("move %s to %s/%s and make it package %s: it holds %s, which the logic's methods take", fn, sharedDir, path.Base(fn), r.Shared, strings.Join(byFile[fn], ", ")))
		} else {
			r.Move = append(r.Move, fmt.Sprintf("move %s, with their methods, from %s to package %s (%s/)", strings.Join(byFile[fn], ", "), fn, r.Shared, sharedDir))
		}
	}
	// A method that runs the engine's side (a unit's h.Run, a listen, an
	// upgrade) can't go with its type: Go keeps methods in their type's
	// package, and the engine library is the engine's.
	info := p.s.info
	for _, d := range b.staying() {
		sig := info.Defs[d.Name].Type().(*types.Signature)
		params := []string{sig.Recv().Name() + " " + b.qual(sig.Recv().Type(), false)}
		for v := range sig.Params().Variables() {
			params = append(params, v.Name()+" "+b.qual(v.Type(), false))
		}
		var calls []string
		for id, o := range info.Uses {
			if o == info.Defs[d.Name] {
				calls = append(calls, p.at(id.Pos()))
			}
		}
		sort.Strings(calls)
		r.Move = append(r.Move, fmt.Sprintf("but keep %s (%s) in the engine, as a function: it runs the engine's side (below). func %s(%s), and where it is called (%s), %s(%s, …)",
			funcName(d), p.at(d.Pos()), d.Name.Name, strings.Join(params, ", "), strings.Join(calls, ", "), d.Name.Name, sig.Recv().Name()))
	}
	// What moves is used from another package now: its unexported names
	// must be exported, and the engine names the types and functions
	// through the shared package.
	exports := map[types.Object][]string{} // where each is used outside the shared package
	var order []types.Object
	var qualified []string
	for _, f := range p.s.files {
		ast.Inspect(f, func(n ast.Node) bool {
			if d, ok := n.(ast.Decl); ok && b.declMoves(d) {
				return false
			}
			id, ok := n.(*ast.Ident)
			if !ok {
				return true
			}
			o := info.Uses[id]
			if staying := slices.ContainsFunc(b.staying(), func(d *ast.FuncDecl) bool { return info.Defs[d.Name] == o }); staying {
				return true
			}
			if o == nil || o.Exported() || !b.memberOfMoved(o) && !b.moved[o] {
				if o != nil && b.moved[o] && o.Parent() == p.s.pkg.Scope() && !b.inPiece(id) {
					qualified = append(qualified, fmt.Sprintf("%s (%s)", p.at(id.Pos()), id.Name))
				}
				return true
			}
			if _, ok := exports[o]; !ok {
				order = append(order, o)
			}
			where := "at " + p.at(id.Pos())
			if b.inPiece(id) {
				where = "by the logic"
			} else if b.moved[o] {
				qualified = append(qualified, fmt.Sprintf("%s (%s)", p.at(id.Pos()), id.Name))
			}
			if !slices.Contains(exports[o], where) {
				exports[o] = append(exports[o], where)
			}
			return true
		})
	}
	sort.Slice(order, func(i, j int) bool { return order[i].Pos() < order[j].Pos() })
	for _, o := range order {
		r.Move = append(r.Move, fmt.Sprintf("export %s (%s) as %s: used %s", o.Name(), p.at(o.Pos()), exported(o.Name()), strings.Join(exports[o], ", ")))
	}
	if len(qualified) > 0 {
		sort.Strings(qualified)
		r.Move = append(r.Move, fmt.Sprintf("in the engine, name them %s.…: %s", r.Shared, strings.Join(slices.Compact(qualified), ", ")))
	}
}

// staying returns the methods of the types that move which run the
// engine's side: a unit's h.Run site, a listen, an upgrade. They stay in
// the engine, as functions.
func (b *recipeBuilder) staying() []*ast.FuncDecl {
	var out []*ast.FuncDecl
	for _, f := range b.p.s.files {
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Recv == nil || !b.typeMoves(fd) {
				continue
			}
			runs := slices.ContainsFunc(b.pieces, func(pc *piece) bool { return pc.loop != nil && pc.loop.in == fd }) ||
				slices.ContainsFunc(b.p.listens, func(l *listen) bool { return l.in == fd }) ||
				slices.ContainsFunc(b.p.handlers, func(h *handler) bool { return h.long && h.decl == fd })
			if runs {
				out = append(out, fd)
			}
		}
	}
	return out
}

// typeMoves reports whether the method d's type moves.
func (b *recipeBuilder) typeMoves(d *ast.FuncDecl) bool {
	sig := b.p.s.info.Defs[d.Name].Type().(*types.Signature)
	t := sig.Recv().Type()
	if ptr, ok := t.(*types.Pointer); ok {
		t = ptr.Elem()
	}
	n, ok := t.(*types.Named)
	return ok && b.moved[n.Obj()]
}

// declMoves reports whether d declares only what moves to the shared
// package (imports aside).
func (b *recipeBuilder) declMoves(d ast.Decl) bool {
	info := b.p.s.info
	switch d := d.(type) {
	case *ast.FuncDecl:
		if d.Recv != nil {
			return b.typeMoves(d) && !slices.Contains(b.staying(), d)
		}
		return b.moved[info.Defs[d.Name]]
	case *ast.GenDecl:
		if d.Tok == token.IMPORT {
			return true
		}
		for _, spec := range d.Specs {
			ts, ok := spec.(*ast.TypeSpec)
			if !ok || !b.moved[info.Defs[ts.Name]] {
				return false
			}
		}
		return true
	}
	return false
}

// memberOfMoved reports whether o is a field or method of a moved type.
func (b *recipeBuilder) memberOfMoved(o types.Object) bool {
	for m := range b.moved {
		tn, ok := m.(*types.TypeName)
		if !ok {
			continue
		}
		if st, ok := tn.Type().Underlying().(*types.Struct); ok {
			for fld := range st.Fields() {
				if fld == o {
					return true
				}
			}
		}
		if n, ok := tn.Type().(*types.Named); ok {
			for meth := range n.Methods() {
				if types.Object(meth) == o {
					return true
				}
			}
		}
	}
	return false
}

// inPiece reports whether n is code that moves to the logic.
func (b *recipeBuilder) inPiece(n ast.Node) bool {
	if n == nil {
		return false
	}
	for _, pc := range b.pieces {
		if pc.lo <= n.Pos() && n.End() <= pc.hi {
			return true
		}
	}
	return false
}

// renderEdits writes the engine's changes: the imports, the host, each
// call site, and the listen.
func (b *recipeBuilder) renderEdits(sharedPath string) {
	p, r := b.p, b.r
	// Where the host lives: in main when every call site is in main, else
	// beside the package's flags, where every function reaches it.
	local := p.main != nil
	for _, pc := range b.pieces {
		if pc.loop != nil && pc.loop.in != p.main {
			local = false
		}
		if pc.h != nil && !within(pc.h.call, p.main) {
			local = false
		}
	}
	newHost := fmt.Sprintf("hot.New(hot.Config[%s]{})", r.Iface)
	files := map[string]bool{}
	for _, pc := range b.pieces {
		if pc.h != nil {
			files[p.fileName(pc.h.call.Pos())] = true
		} else {
			files[p.fileName(pc.lo)] = true
		}
	}
	mainFile := ""
	if p.main != nil {
		mainFile = p.fileName(p.main.Pos())
	}
	var others []string
	for f := range files {
		if f != mainFile {
			others = append(others, f)
		}
	}
	sort.Strings(others)
	imports := []string{HostPackage, sharedPath}
	sort.Strings(imports)
	r.Edits = append(r.Edits, Edit{Pos: mainFile, How: "in", Now: fmt.Sprintf("import (\n\t%q\n\t%q\n)", imports[0], imports[1]), Note: "beside its other imports"})
	for _, f := range others {
		r.Edits = append(r.Edits, Edit{Pos: f, How: "in", Now: fmt.Sprintf("import %q", sharedPath), Note: "beside its other imports"})
	}

	plugin := `flag.String("plugin", "", "logic plugin (.so) to load when run without hotrun")`
	switch {
	case !local:
		at := p.main
		var pos token.Pos
		if p.flagVar != nil {
			pos = p.flagVar.Pos()
		} else if at != nil {
			pos = at.Pos()
		}
		now := "// h is the engine library: it loads the logic, and runs each request\n// and message on one version. Package-level, like the flags: every\n// function below reaches it.\nvar h = " + newHost
		if p.flagVar != nil || p.flagParse != nil {
			now += "\nvar pluginPath = " + plugin
		}
		r.Edits = append(r.Edits, Edit{Pos: p.at(pos), How: "before", Was: b.lineAt(pos), Now: now})
	default:
		at := p.main.Body.Lbrace
		if p.flagParse != nil {
			at = p.flagParse.End()
		}
		now := "h := " + newHost
		if p.flagParse != nil && p.flagVar == nil {
			r.Edits = append(r.Edits, Edit{Pos: p.at(p.stmt(p.flagParse).Pos()), How: "before", Was: p.line(p.flagParse), Now: "pluginPath := " + plugin})
		} else if p.flagVar != nil {
			r.Edits = append(r.Edits, Edit{Pos: p.at(p.flagVar.Pos()), How: "before", Was: b.lineAt(p.flagVar.Pos()), Now: "var pluginPath = " + plugin})
		}
		how, was := "after", b.lineAt(at)
		if p.flagParse == nil {
			how, was = "in", "func main() {"
		}
		r.Edits = append(r.Edits, Edit{Pos: p.at(at), How: how, Was: was, Now: "// h is the engine library: it loads the logic, and runs each request on\n// one version.\n" + now})
	}
	if p.flagParse == nil && p.flagVar == nil {
		r.Edits = append(r.Edits, Edit{Pos: p.at(p.main.Body.Lbrace), How: "in", Was: "func main() {", Now: "pluginPath := " + plugin + "\nflag.Parse()", Note: "at its top (import \"flag\"): run alone, the engine loads the plugin it is given"})
	}

	for _, pc := range b.pieces {
		r.Edits = append(r.Edits, b.siteEdit(pc))
	}
	b.listenEdits()
}

// siteEdit is the change where pc's code ran: its registration through
// h.Handler, or its statements through h.Run.
func (b *recipeBuilder) siteEdit(pc *piece) Edit {
	p, r := b.p, b.r
	var args []string
	for _, c := range pc.caps {
		args = append(args, c.arg)
	}
	if h := pc.h; h != nil {
		call := fmt.Sprintf("l.%s(%s)", pc.method, strings.Join(append([]string{h.w, h.r}, args...), ", "))
		return Edit{Pos: p.at(h.call.Pos()), How: "in place of", Was: p.line(h.call), Now: p.wrapped(h, r.Iface, call)}
	}
	l := pc.loop
	var now string
	switch {
	case l.format:
		now = fmt.Sprintf("if err := h.Run(%q, func(l %s) error {\n\t%s = l.%s(%s)\n\treturn nil\n}); err != nil {\n\tcontinue // the logic failed or panicked: hotrun shows it, and the connection lives on\n}",
			l.kind, r.Iface, l.msg.Name(), pc.method, strings.Join(append([]string{l.msg.Name()}, args...), ", "))
	case l.kind == "message":
		now = fmt.Sprintf("if err := h.Run(%q, func(l %s) error {\n\tl.%s(%s)\n\treturn nil\n}); err != nil {\n\tcontinue // the logic failed or panicked: hotrun shows it, and the connection lives on\n}",
			l.kind, r.Iface, pc.method, strings.Join(append([]string{l.msg.Name()}, args...), ", "))
	default:
		now = fmt.Sprintf("h.Run(%q, func(l %s) error { // a failure or a panic is reported to hotrun; the next tick runs\n\tl.%s(%s)\n\treturn nil\n})", l.kind, r.Iface, pc.method, strings.Join(args, ", "))
	}
	e := Edit{Pos: p.at(pc.lo), How: "in place of", Was: p.line(l.stmts[0]), Now: now}
	if len(l.stmts) > 1 {
		e.Note = fmt.Sprintf("in place of lines %d–%d", p.s.fset.Position(pc.lo).Line, p.s.fset.Position(pc.hi).Line)
	}
	return e
}

// listenEdits are the changes where the program listens: h.Listen, then
// h.Start, then h.Serve.
func (b *recipeBuilder) listenEdits() {
	p, r := b.p, b.r
	start := "if err := h.Start(*pluginPath); err != nil { // under hotrun: returns when this engine is to serve\n\tlog.Fatal(err)\n}\ndefer h.Close()"
	listenAt := func(addr string) string {
		return fmt.Sprintf("ln, err := h.Listen(\"tcp\", %s) // before Start: a new engine holds the socket while it gets ready\nif err != nil {\n\tlog.Fatal(err)\n}\n", addr)
	}
	logNote := func(pos token.Pos) string {
		if p.imports(pos, "log") {
			return ""
		}
		return " (import \"log\" there)"
	}
	listened := slices.ContainsFunc(p.listens, func(l *listen) bool { return l.kind == "net.Listen" })
	for _, l := range p.listens {
		addr, serve := p.listenParts(l)
		recv := ""
		if sel, ok := l.call.Fun.(*ast.SelectorExpr); ok {
			recv = p.text(sel.X)
		}
		switch l.kind {
		case "net.Listen":
			now := p.span(l.stmt.Pos(), l.call.Pos()) + "h.Listen(" + p.span(l.call.Lparen+1, l.call.Rparen) + ")" + p.span(l.call.End(), l.stmt.End())
			now += "\n// and after its error check:\n" + start
			if !slices.ContainsFunc(p.listens, func(l *listen) bool { return l.kind == "Serve" || l.kind == "Server.Serve" }) {
				// h.Serve closes the listener when hotrun stops the engine;
				// an accept loop of the program's own must.
				ln := "ln"
				if as, ok := l.stmt.(*ast.AssignStmt); ok && len(as.Lhs) > 0 {
					ln = p.text(as.Lhs[0])
				}
				now += fmt.Sprintf("\ngo func() {\n\t<-h.Stopping() // hotrun hands the socket to a new engine, or stops this one: accept no more\n\t%s.Close()\n}()", ln)
			}
			r.Edits = append(r.Edits, Edit{Pos: p.at(l.stmt.Pos()), How: "in place of", Was: p.line(l.stmt), Now: now, Note: strings.TrimSpace(logNote(l.stmt.Pos()))})
			r.Edits = append(r.Edits, b.acceptEdits(l)...)
			continue
		case "TLS":
			r.Edits = append(r.Edits, Edit{Pos: p.at(l.stmt.Pos()), How: "at", Was: p.line(l.stmt), Note: "TLS: h.Serve serves plain HTTP; terminate TLS in front of the engine (a proxy), or serve on a tls.NewListener(ln, cfg)"})
			continue
		}
		now := ""
		if addr != "" && !listened {
			now = listenAt(addr) + start + "\n"
		}
		// h.Serve returns nil when hotrun hands over to a new engine: a
		// log.Fatal around it must not fire then.
		stmt := p.span(l.stmt.Pos(), l.call.Pos()) + serve + p.span(l.call.End(), l.stmt.End())
		if es, ok := l.stmt.(*ast.ExprStmt); ok && es.X != l.call {
			if c, ok := es.X.(*ast.CallExpr); ok && p.isPkgFunc(c, "log", "") && len(c.Args) == 1 && c.Args[0] == l.call {
				stmt = fmt.Sprintf("if err := %s; err != nil {\n\t%s(err)\n}", serve, p.text(c.Fun))
			}
		}
		if as, ok := l.stmt.(*ast.AssignStmt); ok && as.Tok == token.DEFINE && now != "" && len(as.Lhs) == 1 {
			if id, ok := as.Lhs[0].(*ast.Ident); ok && id.Name == "err" {
				stmt = "err = " + serve // err is Listen's now
			}
		}
		note := "h.Serve is http.Server.Serve that drains when hotrun hands over to a new engine, and then returns nil"
		if l.kind == "Server.ListenAndServe" || l.kind == "Server.Serve" {
			note += "; it makes its own http.Server, so " + recv + "'s other settings (timeouts) are not used"
		}
		r.Edits = append(r.Edits, Edit{Pos: p.at(l.stmt.Pos()), How: "in place of", Was: p.line(l.stmt), Now: now + stmt, Note: note + logNote(l.stmt.Pos())})
	}
	if len(p.listens) == 0 {
		r.Edits = append(r.Edits, Edit{Pos: p.at(p.main.Pos()), How: "in", Was: "func main() {", Now: listenAt("addr") + start, Note: "where the program opens its socket (Listen before Start); then serve on ln with h.Serve"})
	}
}

// acceptEdits are the changes where the program accepts on the listener
// l opens: when hotrun hands the socket to a new engine, Accept fails, and
// that is this engine's end, not a failure to log.Fatal.
func (b *recipeBuilder) acceptEdits(l *listen) []Edit {
	p := b.p
	var edits []Edit
	ast.Inspect(l.in, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || !isFunc(p.callee(call), "net", "Listener", "Accept") {
			return true
		}
		as, ok := p.stmt(call).(*ast.AssignStmt)
		if !ok || len(as.Lhs) != 2 {
			return true
		}
		block, ok := p.parent[as].(*ast.BlockStmt)
		if !ok {
			return true
		}
		i := slices.Index(block.List, ast.Stmt(as))
		errID, _ := as.Lhs[1].(*ast.Ident)
		if i < 0 || i+1 >= len(block.List) || errID == nil {
			return true
		}
		if is, ok := block.List[i+1].(*ast.IfStmt); ok && mentions(p.s.info, is.Cond, p.object(errID)) {
			edits = append(edits, Edit{Pos: p.at(is.Pos()), How: "in place of", Was: p.line(is),
				Now: fmt.Sprintf("if %s != nil {\n\treturn // hotrun handed the socket to a new engine (the state is saved), or the engine is closing\n}", errID.Name)})
		}
		return true
	})
	return edits
}

// renderAfter says what to remove from the engine once the code moved, and
// what to run then.
func (b *recipeBuilder) renderAfter() {
	p, r := b.p, b.r
	info := p.s.info
	var gone []string
	var goneDecls []*ast.FuncDecl
	for _, pc := range b.pieces {
		if pc.h == nil || pc.h.decl == nil {
			continue
		}
		obj := info.Defs[pc.h.decl.Name]
		used := false
		for id, o := range info.Uses {
			if o == obj && !within(id, pc.h.call) {
				used = true
			}
		}
		if !used {
			gone = append(gone, fmt.Sprintf("%s (%s)", funcName(pc.h.decl), p.at(pc.h.decl.Pos())))
			goneDecls = append(goneDecls, pc.h.decl)
		}
	}
	if len(gone) > 0 {
		r.After = append(r.After, "delete from the engine what the logic has now and nothing else calls: "+strings.Join(gone, ", "))
	}
	var unused []string
	var out []ast.Node // the code that leaves the engine
	for _, d := range goneDecls {
		out = append(out, d)
	}
	for _, o := range b.copies {
		if !b.engineUses(o, goneDecls) {
			unused = append(unused, fmt.Sprintf("%s (%s)", o.Name(), p.at(o.Pos())))
			out = append(out, b.declOf(o))
		}
	}
	if len(unused) > 0 {
		r.After = append(r.After, "the logic has its own copy of "+strings.Join(unused, ", ")+", which nothing of the engine uses then: delete the engine's")
	}
	// Imports that only the code that left used.
	for i, f := range p.s.files {
		used := map[string]int{} // uses of each imported package left in the file
		moved := map[string]bool{}
		for id, o := range info.Uses {
			pn, ok := o.(*types.PkgName)
			if !ok || p.fileOf(id.Pos()) != i {
				continue
			}
			if b.inPiece(id) || slices.ContainsFunc(out, func(n ast.Node) bool { return n != nil && within(id, n) }) {
				moved[pn.Imported().Path()] = true
			} else {
				used[pn.Imported().Path()]++
			}
		}
		var drop []string
		for _, im := range f.Imports {
			ip := strings.Trim(im.Path.Value, `"`)
			if moved[ip] && used[ip] == 0 {
				drop = append(drop, strconv.Quote(ip))
			}
		}
		if len(drop) > 0 {
			r.After = append(r.After, fmt.Sprintf("in %s, remove the import of %s: only the code that moved used it", p.fileName(f.Pos()), strings.Join(drop, ", ")))
		}
	}
	for _, tn := range b.stateTypes() {
		if !b.moved[tn] || !b.carriable(tn.Type(), map[types.Type]bool{}) {
			continue
		}
		how := "its exported fields are saved as JSON"
		if !hasExportedField(tn) {
			how = "its fields are unexported, so give it MarshalJSON and UnmarshalJSON that take its lock first"
		}
		r.After = append(r.After, fmt.Sprintf("to keep a %s across engine restarts (an edit of %s/ or of the engine, a crash), name it in hot.Config{State: …}: %s (go doc hot.Config)", tn.Name(), r.Shared, how))
	}
	r.After = append(r.After, "run hotrun init again: it finds the engine ("+p.s.rel+"), "+r.Iface+" and ./logic, writes hotrun.toml and adds the engine library to go.mod; then run hotrun, and edit ./logic")
}

// engineUses reports whether the engine still uses o once the code that
// moves, and the functions in gone, are out of it.
func (b *recipeBuilder) engineUses(o types.Object, gone []*ast.FuncDecl) bool {
	used := false
	decl := b.declOf(o)
	for id, u := range b.p.s.info.Uses {
		if u != o || b.inPiece(id) || decl != nil && within(id, decl) {
			continue
		}
		if !slices.ContainsFunc(gone, func(d *ast.FuncDecl) bool { return within(id, d) }) {
			used = true
		}
	}
	return used
}

// carriable reports whether a value of t is data JSON can carry to a new
// engine: no channel, function or interface (a connection) in it.
func (b *recipeBuilder) carriable(t types.Type, seen map[types.Type]bool) bool {
	if seen[t] {
		return true
	}
	seen[t] = true
	switch t := types.Unalias(t).(type) {
	case *types.Chan, *types.Signature, *types.Interface:
		return false
	case *types.Pointer:
		return b.carriable(t.Elem(), seen)
	case *types.Slice:
		return b.carriable(t.Elem(), seen)
	case *types.Array:
		return b.carriable(t.Elem(), seen)
	case *types.Map:
		return b.carriable(t.Key(), seen) && b.carriable(t.Elem(), seen)
	case *types.Named:
		if t.Obj().Pkg() != b.p.s.pkg {
			_, iface := t.Underlying().(*types.Interface)
			return !iface
		}
		return b.carriable(t.Underlying(), seen)
	case *types.Struct:
		for fld := range t.Fields() {
			if !b.carriable(fld.Type(), seen) {
				return false
			}
		}
	}
	return true
}

func hasExportedField(tn *types.TypeName) bool {
	st, ok := tn.Type().Underlying().(*types.Struct)
	if !ok {
		return false
	}
	for fld := range st.Fields() {
		if fld.Exported() {
			return true
		}
	}
	return false
}

// lineAt is the line pos is on.
func (b *recipeBuilder) lineAt(pos token.Pos) string {
	return b.p.line(&ast.Ident{NamePos: pos})
}

// fieldsOf lists a struct type's fields: "clients map[*Client]bool, send
// chan []byte".
func fieldsOf(tn *types.TypeName, q types.Qualifier) string {
	st, ok := tn.Type().Underlying().(*types.Struct)
	if !ok {
		return ""
	}
	var fs []string
	for fld := range st.Fields() {
		fs = append(fs, fld.Name()+" "+types.TypeString(fld.Type(), q))
	}
	if len(fs) > 4 {
		fs = append(fs[:4], "…")
	}
	return strings.Join(fs, ", ")
}

// gofmt formats src, or returns it as it is when it does not parse: a
// recipe is still worth reading.
func gofmt(src string) string {
	out, err := format.Source([]byte(src))
	if err != nil {
		return src
	}
	return string(out)
}
