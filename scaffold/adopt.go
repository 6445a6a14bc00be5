package scaffold

import (
	"context"
	"fmt"
	"go/format"
	"go/types"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"
)

// adopt writes the glue a project with code of its own lacks: hotrun.toml
// naming the parts Inspect found, and an engine when there is none. When
// Inspect was unsure, it writes nothing at all: a wrong guess written into
// someone's module costs more than the lines it prints.
func adopt(ctx context.Context, opts Options, dir string, mod *goMod, p *Project, res *Result) error {
	if p.Unsure != "" || p.Recipe != nil {
		return nil
	}
	engineDir := ""
	if p.Engine == nil {
		for _, d := range []string{"engine", "cmd/engine"} {
			f := d + "/main.go"
			why, err := keep(dir, f, true)
			if err != nil {
				return err
			}
			if why == "" {
				engineDir = "./" + d
				break
			}
		}
		if engineDir == "" {
			p.Unsure = "no engine, and engine/ and cmd/engine/ hold Go files already: where should it go?"
			p.Todo = append(p.Todo, p.engineLines(nil, "your engine's main package")...)
			return nil
		}
	}

	if engineDir != "" {
		f := strings.TrimPrefix(engineDir, "./") + "/main.go"
		src, err := p.engineSource(engineDir, f)
		if err != nil {
			return err
		}
		if err := writeNew(filepath.Join(dir, filepath.FromSlash(f)), src); err != nil {
			return err
		}
		res.Files = append(res.Files, File{Path: f, What: "the engine: owns the state, serves HTTP, loads the logic (" + p.Shared.Name + ")"})
	}

	// hotrun.toml: the user's, when there is one; hotrun's defaults are
	// "./engine", "./logic" and the symbol "Logic".
	engine := engineDir
	if p.Engine != nil {
		engine = p.Engine.Dir
	}
	sym := ""
	if p.Symbol != DefaultSymbol {
		sym = p.Symbol
	}
	conf := File{Path: "hotrun.toml", What: "hotrun's settings: engine " + engine + ", logic " + p.Logic.Dir}
	if why, err := keep(dir, "hotrun.toml", false); err != nil {
		return err
	} else if why != "" {
		conf.Kept = why
		p.Todo = append(p.Todo, checkConfig(filepath.Join(dir, "hotrun.toml"), engine, p.Logic.Dir)...)
	} else {
		data := struct{ Engine, Logic, Symbol string }{engine, p.Logic.Dir, sym}
		if err := writeNew(filepath.Join(dir, "hotrun.toml"), gen("hotrun.toml.tmpl", data)); err != nil {
			return err
		}
	}

	res.Files = append(res.Files, conf)
	return addRequirement(ctx, opts, dir, mod, res)
}

// engineSource is a new engine in dir, wired to the shared interface and
// the state Inspect found.
func (p *Project) engineSource(dir, file string) ([]byte, error) {
	pkg := p.shared.Pkg()
	ident, imp := pkg.Name(), fmt.Sprintf("%q", pkg.Path())
	switch ident {
	// The engine's own imports and locals: the shared package can't have
	// their name there.
	case "flag", "fmt", "log", "http", "hot", "main", "state", "h", "mux", "ln", "err", "addr", "pluginPath", "logic", "w", "r":
		ident = "shared"
		imp = "shared " + imp
	}
	state := ""
	if p.state != nil {
		state = "new(" + ident + "." + p.state.Name() + ")"
		if p.newFn != "" {
			state = ident + "." + p.newFn + "()"
		}
	}
	data := struct {
		Module, Logic, Engine, File, Import, Iface, Symbol, State, Call string
		Custom                                                          bool
	}{
		Module: p.Module, Logic: p.Logic.Dir, Engine: dir, File: file, Import: imp,
		Iface: ident + "." + p.shared.Name(), Symbol: p.Symbol, Custom: p.Symbol != DefaultSymbol,
		State: state, Call: p.exampleCall(),
	}
	src, err := format.Source(gen("adopt-engine.go.tmpl", data))
	if err != nil {
		return nil, fmt.Errorf("scaffold: format the engine: %w", err) // a bug in the template
	}
	return src, nil
}

// exampleCall is a call of the interface's first method, for the engine's
// comment: "logic.Join(state, …)".
func (p *Project) exampleCall() string {
	iface := p.shared.Type().Underlying().(*types.Interface)
	if iface.NumMethods() == 0 {
		return ""
	}
	m := iface.Method(0)
	var args []string
	for v := range m.Type().(*types.Signature).Params().Variables() {
		if p.state != nil && (types.Identical(v.Type(), p.state.Type()) || types.Identical(v.Type(), types.NewPointer(p.state.Type()))) {
			if _, ptr := v.Type().(*types.Pointer); ptr {
				args = append(args, "state")
			} else {
				args = append(args, "*state")
			}
			continue
		}
		args = append(args, v.Name())
	}
	return "logic." + m.Name() + "(" + strings.Join(args, ", ") + ")"
}

// checkConfig compares the user's hotrun.toml with the parts found and
// returns a line for each setting that points elsewhere.
func checkConfig(file, engine, logic string) []string {
	var c struct {
		Engine *string `toml:"engine"`
		Logic  *string `toml:"logic"`
	}
	if _, err := toml.DecodeFile(file, &c); err != nil {
		return []string{fmt.Sprintf("# hotrun.toml does not parse (%v); it should say:", err), `engine = "` + engine + `"`, `logic = "` + logic + `"`}
	}
	var out []string
	clean := func(s string) string {
		if s = filepath.ToSlash(filepath.Clean(s)); s == "." {
			return s
		}
		return "./" + s
	}
	if got := "./engine"; c.Engine == nil && clean(engine) != got || c.Engine != nil && clean(*c.Engine) != clean(engine) {
		out = append(out, `engine = "`+engine+`"   # in hotrun.toml, which names another engine`)
	}
	if got := "./logic"; c.Logic == nil && clean(logic) != got || c.Logic != nil && clean(*c.Logic) != clean(logic) {
		out = append(out, `logic = "`+logic+`"   # in hotrun.toml, which names another logic`)
	}
	return out
}
