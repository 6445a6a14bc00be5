package builder

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// staticPkg is the package name the logic's main package gets when it is
// compiled into the engine.
const staticPkg = "hotrunlogic"

// hostImport is the import path of the engine library's protocol package, whose RegisterStatic the generated file calls.
const hostImport = "github.com/hotrun-dev/hotrun/hot/protocol"

// BuildStatic builds the engine with the logic compiled in: restart mode,
// for systems without Go plugins (Windows, cgo-free builds) or by choice.
// The logic tree is staged as for a plugin, its main package renamed to an
// ordinary package without func main, and an overlay adds to the engine's
// main package a file whose init hands the logic's exported names to
// protocol.RegisterStatic. The user's files are never touched.
func (b *Builder) BuildStatic(ctx context.Context, n int) (Result, error) {
	start := time.Now()
	stageRoot := filepath.Join(b.out, "stage", "static")
	if err := os.RemoveAll(stageRoot); err != nil {
		return Result{}, fmt.Errorf("builder: %w", err)
	}
	stageDir := filepath.Join(stageRoot, filepath.FromSlash(b.logicRel))
	pkgs, err := b.scanLogic()
	if err != nil {
		return Result{Duration: time.Since(start)}, err
	}
	all := make(map[string]string)
	for _, p := range pkgs {
		all[p.rel] = "static"
	}
	if err := b.copyPkgs(pkgs, "static", all); err != nil {
		return Result{Duration: time.Since(start)}, err
	}
	syms, err := demote(stageDir, b.symbols())
	if err != nil {
		return Result{Duration: time.Since(start)}, err
	}
	engineDir, err := b.engineDir(ctx)
	if err != nil {
		return Result{Duration: time.Since(start)}, err
	}
	gen := filepath.Join(stageRoot, "zz_hotrun_static.go")
	if err := os.WriteFile(gen, registerFile(b.stagedImport(".", "static"), syms), 0o644); err != nil {
		return Result{}, fmt.Errorf("builder: %w", err)
	}
	overlay, _ := json.Marshal(map[string]any{"Replace": map[string]string{
		filepath.Join(engineDir, "zz_hotrun_static.go"): gen,
	}})
	ov := filepath.Join(stageRoot, "overlay.json")
	if err := os.WriteFile(ov, overlay, 0o644); err != nil {
		return Result{}, fmt.Errorf("builder: %w", err)
	}
	exe := filepath.Join(b.out, "bin", fmt.Sprintf("engine.%d", n))
	args := append([]string{"build", "-overlay", ov, "-o", exe}, b.cfg.Flags...)
	linker := b.engineLinker()
	if linker != "" {
		args = append(args, "-ldflags="+withLinker("", linker))
	}
	args = append(args, b.cfg.Engine)
	out, err := b.runEnv(ctx, b.cfg.Dir, false, args...)
	d := time.Since(start)
	if err != nil {
		if ctx.Err() != nil {
			return Result{Duration: d}, fmt.Errorf("builder: v%d: %w", n, context.Cause(ctx))
		}
		return Result{Duration: d, Sources: sourcesOf(pkgs)}, b.buildError(out, err)
	}
	// The engine before this one may still be running until this one takes
	// over, and a crash falls back to an older good one: keep the last ten.
	if old, _ := filepath.Glob(filepath.Join(b.out, "bin", "engine.*")); len(old) > 0 {
		for _, f := range old {
			var k int
			if _, err := fmt.Sscanf(filepath.Base(f), "engine.%d", &k); err == nil && k < n-10 {
				os.Remove(f)
			}
		}
	}
	return Result{Path: exe, Duration: d, Route: RouteGo, Linker: linkerName(linker), Phases: Phases{GoCommand: d}, Sources: sourcesOf(pkgs)}, nil
}

// symbols are the names restart mode hands to the engine: the main symbol
// and the optional hooks (Check, Migrate).
func (b *Builder) symbols() []string {
	return []string{b.cfg.Symbol, "Check", "Migrate"}
}

func (b *Builder) engineDir(ctx context.Context) (string, error) {
	out, err := b.goList(ctx, "-f", "{{.Dir}}", b.cfg.Engine)
	if err != nil {
		return "", fmt.Errorf("builder: engine package %s: %w", b.cfg.Engine, err)
	}
	return strings.TrimSpace(out), nil
}

// demote turns the staged logic main package in dir into package
// hotrunlogic: the package clause renamed and func main blanked, byte for
// byte, so line numbers stay the user's. It returns which of names the
// package declares at top level, and whether each is a variable.
func demote(dir string, names []string) (map[string]bool, error) {
	want := make(map[string]bool)
	for _, n := range names {
		want[n] = true
	}
	found := make(map[string]bool) // name → is a variable
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, fmt.Errorf("builder: %w", err)
	}
	for _, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("builder: %w", err)
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, src, parser.SkipObjectResolution)
		if err != nil {
			// A syntax error: rename the package all the same, so that the
			// compiler reports the user's error and not one of staging.
			f, err = parser.ParseFile(fset, path, src, parser.PackageClauseOnly)
			if err != nil {
				continue
			}
		}
		if f.Name.Name != "main" {
			continue
		}
		out := bytes.Clone(src)
		off := func(p token.Pos) int { return fset.Position(p).Offset }
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil && d.Name.Name == "main" {
					blank(out, off(d.Pos()), off(d.End()))
				} else if d.Recv == nil && want[d.Name.Name] {
					found[d.Name.Name] = false
				}
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					if vs, ok := spec.(*ast.ValueSpec); ok {
						for _, id := range vs.Names {
							if want[id.Name] {
								found[id.Name] = d.Tok == token.VAR
							}
						}
					}
				}
			}
		}
		// "main" → "hotrunlogic" is longer: rewrite the clause's line only.
		name := off(f.Name.Pos())
		out = append(out[:name], append([]byte(staticPkg), out[name+len("main"):]...)...)
		if err := os.WriteFile(path, out, 0o644); err != nil {
			return nil, fmt.Errorf("builder: %w", err)
		}
	}
	return found, nil
}

// blank overwrites b[from:to] with spaces, keeping newlines.
func blank(b []byte, from, to int) {
	for i := from; i < to; i++ {
		if b[i] != '\n' {
			b[i] = ' '
		}
	}
}

// registerFile is the source added to the engine's main package.
func registerFile(logicImport string, syms map[string]bool) []byte {
	names := make([]string, 0, len(syms))
	for n := range syms {
		names = append(names, n)
	}
	sort.Strings(names)
	var b bytes.Buffer
	fmt.Fprintf(&b, "// Code generated by hotrun (restart mode). DO NOT EDIT.\n\npackage main\n\n")
	fmt.Fprintf(&b, "import (\n\thotrunhost %q\n\thotrunlogic %q\n)\n\n", hostImport, logicImport)
	b.WriteString("func init() {\n\thotrunhost.RegisterStatic(map[string]any{\n")
	for _, n := range names {
		amp := ""
		if syms[n] {
			amp = "&" // a variable: plugin.Lookup hands over its address
		}
		fmt.Fprintf(&b, "\t\t%q: %shotrunlogic.%s,\n", n, amp, n)
	}
	b.WriteString("\t})\n}\n")
	return b.Bytes()
}
