package builder

import (
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hotrun-dev/hotrun/event"
	"github.com/hotrun-dev/hotrun/gosrc"
)

func TestRewriteImports(t *testing.T) {
	const from, to = "m/logic", "m/.hotrun/stage/v7/logic"
	tests := []struct {
		name, src, want string
	}{
		{"single", "package main\nimport \"m/logic/util\"\n", "package main\nimport \"m/.hotrun/stage/v7/logic/util\"\n"},
		{"group and others kept",
			"package main\n\nimport (\n\t\"fmt\"\n\tu \"m/logic/util\"\n\t\"m/shared\"\n\t\"m/logicx\"\n)\n",
			"package main\n\nimport (\n\t\"fmt\"\n\tu \"m/.hotrun/stage/v7/logic/util\"\n\t\"m/shared\"\n\t\"m/logicx\"\n)\n"},
		{"the root itself", "package x\nimport _ \"m/logic\"\n", "package x\nimport _ \"m/.hotrun/stage/v7/logic\"\n"},
		{"raw string import", "package x\nimport `m/logic/a`\n", "package x\nimport \"m/.hotrun/stage/v7/logic/a\"\n"},
		// The compiler reports a syntax error after the imports: the file
		// still needs its staged imports so that it is the only error.
		{"syntax error in the body", "package x\nimport \"m/logic/a\"\nfunc (", "package x\nimport \"m/.hotrun/stage/v7/logic/a\"\nfunc ("},
		{"syntax error in the imports left alone", "package x\nimport (\"m/logic/a\"\n", "package x\nimport (\"m/logic/a\"\n"},
		{"no imports", "package x\n", "package x\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(rewriteImports([]byte(tt.src), from, to))
			if got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
			if strings.Count(got, "\n") != strings.Count(tt.src, "\n") {
				t.Errorf("line count changed")
			}
		})
	}
}

func TestParseDiagnostics(t *testing.T) {
	out := "# example.com/app/logic\n" +
		"logic/main.go:12:5: undefined: foo\n" +
		"/abs/elsewhere/x.go:3: something\n" +
		"logic/util/util.go:4:2: cannot use x (variable of type int) as string value in return statement\n" +
		"\thave int\n" +
		"note: module requires Go 1.99\n" +
		"logic/main.go:8:2: import \"example.com/app/engine\" is a program, not an importable package\n"
	got := parseDiagnostics(out, "/proj/app", "/proj")
	want := []event.Diagnostic{
		{File: "app/logic/main.go", Line: 12, Col: 5, Msg: "undefined: foo"},
		{File: "/abs/elsewhere/x.go", Line: 3, Msg: "something"},
		{File: "app/logic/util/util.go", Line: 4, Col: 2, Msg: "cannot use x (variable of type int) as string value in return statement\nhave int"},
		// A message that means a limit of Go plugins names the lab.
		{File: "app/logic/main.go", Line: 8, Col: 2, Msg: "import \"example.com/app/engine\" is a program, not an importable package\n" +
			"the logic can't import the engine's package main: share what both need through a package both import (hotrun lab main-var)"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("got  %#v\nwant %#v", got, want)
	}
}

// newApp copies testdata/app to a temporary module and returns a Builder
// for it.
func newApp(t *testing.T) (*Builder, string) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds plugins: skipped with -short")
	}
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("testdata/app")); err != nil {
		t.Fatal(err)
	}
	// Copied an hour ago, as a project's files are: a file written just
	// before the fast path learns the build may have been read before the
	// write, and makes the plan stale at once (fast.go's learn), which New
	// no longer takes long enough to hide.
	old := time.Now().Add(-time.Hour)
	filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err == nil {
			os.Chtimes(p, old, old)
		}
		return nil
	})
	b, err := New(context.Background(), Config{Dir: dir, Engine: "./engine", Logic: "./logic", PluginLDFlags: "-s -w"})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Clean(); err != nil {
		t.Fatal(err)
	}
	return b, dir
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestVersionsLoadTogether builds the engine and three plugin versions, the
// last two with an edited logic sub-package, and loads all three into one
// engine process: each version's packages must have their own import paths,
// or Go refuses the later ones.
func TestVersionsLoadTogether(t *testing.T) {
	b, dir := newApp(t)
	ctx := context.Background()
	eng, err := b.BuildEngine(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var sos []string
	for i, word := range []string{"one", "two", "three"} {
		write(t, filepath.Join(dir, "logic/util/util.go"), "package util\n\nfunc Word() string { return \""+word+"\" }\n")
		r, err := b.BuildLogic(ctx, i+1, nil)
		if err != nil {
			t.Fatalf("v%d: %v", i+1, err)
		}
		if filepath.Dir(r.Path) != b.BuildDir() {
			t.Errorf("v%d built to %s, outside %s", i+1, r.Path, b.BuildDir())
		}
		sos = append(sos, r.Path)
	}
	if len(slices.Compact(slices.Clone(sos))) != 3 {
		t.Fatalf("plugin files not unique: %v", sos)
	}
	out, err := exec.Command(eng.Path, sos...).CombinedOutput()
	if err != nil {
		t.Fatalf("engine: %v\n%s", err, out)
	}
	if got, want := string(out), "hello one\nhello two\nhello three\n"; got != want {
		t.Errorf("engine loaded versions as\n%s\nwant\n%s", got, want)
	}
	if _, err := os.Stat(filepath.Join(dir, OutDir, "stage", "v1")); !os.IsNotExist(err) {
		t.Errorf("staging copy left behind: %v", err)
	}
}

func TestCompileErrorNamesUserFile(t *testing.T) {
	b, dir := newApp(t)
	write(t, filepath.Join(dir, "logic/util/util.go"), "package util\n\nfunc Word() string {\n\treturn 42\n}\n")
	_, err := b.BuildLogic(context.Background(), 1, nil)
	var be *BuildError
	if !errors.As(err, &be) {
		t.Fatalf("err = %v, want a *BuildError", err)
	}
	if len(be.Diagnostics) == 0 {
		t.Fatalf("no diagnostics in %q", be.Output)
	}
	d := be.Diagnostics[0]
	if d.File != "logic/util/util.go" || d.Line != 4 || d.Col == 0 || !strings.Contains(d.Msg, "cannot use 42") {
		t.Errorf("diagnostic = %+v, want logic/util/util.go:4:col cannot use 42…", d)
	}
	if strings.Contains(be.Output, "stage") {
		t.Errorf("output names the staging copy:\n%s", be.Output)
	}
}

func TestCancelStopsBuild(t *testing.T) {
	b, _ := newApp(t)
	ctx, cancel := context.WithCancelCause(context.Background())
	stale := errors.New("a newer save")
	time.AfterFunc(50*time.Millisecond, func() { cancel(stale) })
	// -a rebuilds everything, so the build is still running when canceled.
	b.cfg.Flags = []string{"-a"}
	_, err := b.BuildLogic(ctx, 1, nil)
	if !errors.Is(err, stale) {
		t.Fatalf("err = %v, want the cancel cause", err)
	}
}

func TestClassify(t *testing.T) {
	b, dir := newApp(t)
	p := func(rel string) string { return filepath.Join(dir, filepath.FromSlash(rel)) }
	tests := []struct {
		files    []string
		wantPkgs []string
		wantKind string
	}{
		{[]string{p("logic/main.go")}, []string{"example.com/app/logic"}, event.KindLogic},
		{[]string{p("logic/util/util.go"), p("logic/main.go")}, []string{"example.com/app/logic", "example.com/app/logic/util"}, event.KindLogic},
		{[]string{p("shared/shared.go")}, []string{"example.com/app/shared"}, event.KindHost},
		{[]string{p("logic/main.go"), p("engine/main.go")}, []string{"example.com/app/engine", "example.com/app/logic"}, event.KindHost},
		{[]string{p("go.mod")}, []string{"example.com/app"}, event.KindHost},
		{[]string{p("docs/x.go")}, nil, ""},
	}
	for _, tt := range tests {
		pkgs, kind := b.Classify(tt.files)
		if !slices.Equal(pkgs, tt.wantPkgs) || kind != tt.wantKind {
			t.Errorf("Classify(%v) = %v, %q; want %v, %q", tt.files, pkgs, kind, tt.wantPkgs, tt.wantKind)
		}
	}
}

// TestBuildStagesWhatItRead: a build reads the logic tree once, by
// gosrc's rule, and what it staged is what it built and what its Result
// says: a save after the staging, during the compile, is in neither.
func TestBuildStagesWhatItRead(t *testing.T) {
	b, dir := newApp(t)
	ctx := context.Background()
	eng, err := b.BuildEngine(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for rel, content := range map[string]string{
		"logic/page.tmpl":       "{{.}}",
		"logic/.notes":          "x",
		"logic/main.go~":        "backup",
		"logic/testdata/in.txt": "in",
		"logic/util/util.go":    "package util\n\nfunc Word() string { return \"staged\" }\n",
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, rel)), 0o755); err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(dir, rel), content)
	}
	var told Sources
	r, err := b.BuildLogic(ctx, 1, func(s Sources) {
		told = s
		write(t, filepath.Join(dir, "logic/util/util.go"), "package util\n\nfunc Word() string { return \"later\" }\n")
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := slices.Sorted(maps.Keys(r.Sources)), []string{"main.go", "page.tmpl", "util/util.go"}; !slices.Equal(got, want) {
		t.Errorf("staged %q, want %q", got, want)
	}
	if !maps.EqualFunc(told, r.Sources, func(a, b Source) bool { return a.Digest == b.Digest }) {
		t.Error("the Result's sources differ from what staged was told")
	}
	for f, src := range r.Sources {
		if src.Digest != gosrc.Sum(src.Data) {
			t.Errorf("%s: digest is not its content's", f)
		}
	}
	if got := string(r.Sources["util/util.go"].Data); !strings.Contains(got, "staged") {
		t.Errorf("util/util.go staged as %q, want the content before the save", got)
	}
	out, err := exec.Command(eng.Path, r.Path).CombinedOutput()
	if err != nil {
		t.Fatalf("engine: %v\n%s", err, out)
	}
	if got := string(out); got != "hello staged\n" {
		t.Errorf("the plugin says %q, want what was staged", got)
	}
	for file, want := range map[string]string{"logic/util/util.go": "util/util.go", "logic/page.tmpl": "page.tmpl", "logic/util/util_test.go": "", "logic/testdata/in.txt": "", "shared/shared.go": ""} {
		rel, ok := b.LogicRel(filepath.Join(dir, file))
		if ok != (want != "") || ok && rel != want {
			t.Errorf("LogicRel(%s) = %q, %v; want %q", file, rel, ok, want)
		}
	}
}

func TestNewErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("testdata/app")); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ engine, logic, want string }{
		{"./engine", "./nope", "logic package ./nope"},
		{"./engine", "./shared", "must be package main"},
		{"./nope", "./logic", "engine package ./nope"},
	} {
		_, err := New(context.Background(), Config{Dir: dir, Engine: tt.engine, Logic: tt.logic})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("New(%s, %s) = %v, want an error containing %q", tt.engine, tt.logic, err, tt.want)
		}
	}
}

// TestNewDirErrors: a -dir that is missing, a file, below a module's root
// or outside any module gets a reason a person can act on.
func TestNewDirErrors(t *testing.T) {
	tmp := t.TempDir()
	write(t, filepath.Join(tmp, "file"), "x")
	mod := filepath.Join(tmp, "mod")
	if err := os.MkdirAll(filepath.Join(mod, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(mod, "go.mod"), "module example.com/m\n\ngo 1.26\n")
	for _, tt := range []struct{ dir, want string }{
		{filepath.Join(tmp, "nope"), "does not exist: -dir must name the directory that holds your module's go.mod"},
		{filepath.Join(tmp, "file"), "is a file, not a directory"},
		{filepath.Join(mod, "sub"), "inside the module rooted at " + mod + ": run hotrun there"},
		{tmp, "no go.mod in " + tmp + " or above it"},
	} {
		_, err := New(context.Background(), Config{Dir: tt.dir, Engine: "./engine", Logic: "./logic"})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("New(%s) = %v, want an error containing %q", tt.dir, err, tt.want)
		}
	}
}

// TestIncrementalStaging: a sub-package that did not change keeps the
// staged path of the build that first staged it, and is not staged again;
// one that changed gets a new one. Every version still loads into one
// engine process beside the others.
func TestIncrementalStaging(t *testing.T) {
	b, dir := newApp(t)
	ctx := context.Background()
	eng, err := b.BuildEngine(ctx)
	if err != nil {
		t.Fatal(err)
	}
	edits := []struct {
		file, content string
		utilStaged    bool // util gets a new staged copy in this build
	}{
		{"", "", true},
		{"logic/main.go", strings.Replace(mainSrc(t, dir), "\"hello \"", "\"hi \"", 1), false},
		{"logic/util/util.go", "package util\n\nfunc Word() string { return \"two\" }\n", true},
		{"logic/main.go", mainSrc(t, dir), false},
	}
	var sos []string
	for i, e := range edits {
		if e.file != "" {
			write(t, filepath.Join(dir, e.file), e.content)
		}
		r, err := b.BuildLogic(ctx, i+1, nil)
		if err != nil {
			t.Fatalf("v%d: %v", i+1, err)
		}
		sos = append(sos, r.Path)
		stage := strings.TrimSuffix(filepath.Ext(strings.TrimSuffix(r.Path, ".so")), "")[1:]
		_, statErr := os.Stat(filepath.Join(dir, OutDir, "stage", stage, "logic", "util"))
		if got := statErr == nil; got != e.utilStaged {
			t.Errorf("v%d: util staged anew = %v, want %v", i+1, got, e.utilStaged)
		}
	}
	out, err := exec.Command(eng.Path, sos...).CombinedOutput()
	if err != nil {
		t.Fatalf("engine: %v\n%s", err, out)
	}
	if got, want := string(out), "hello one\nhi one\nhi two\nhello two\n"; got != want {
		t.Errorf("one engine loaded the versions as\n%s\nwant\n%s", got, want)
	}
}

func mainSrc(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata/app/logic/main.go"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCompatible: an engine and a plugin built with one set of flags pass;
// a plugin built with -trimpath for an engine built without is refused
// before the engine would die of it.
func TestCompatible(t *testing.T) {
	b, _ := newApp(t)
	ctx := context.Background()
	eng, err := b.BuildEngine(ctx)
	if err != nil {
		t.Fatal(err)
	}
	good, err := b.BuildLogic(ctx, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := Compatible(eng.Path, good.Path); err != nil {
		t.Errorf("same flags: %v", err)
	}
	b.cfg.Flags = []string{"-trimpath"}
	bad, err := b.BuildLogic(ctx, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := Compatible(eng.Path, bad.Path); err == nil || !strings.Contains(err.Error(), "-trimpath") {
		t.Errorf("-trimpath on the plugin only: err = %v, want it named", err)
	}
}

// rewriteImports, for the table above, returns src with every import of from, or of a package
// below it, renamed to the same path below to. Only the import paths' bytes
// change, so line and column numbers stay those of the user's file. A file
// that doesn't parse is returned as it is: the compiler will report it.
func rewriteImports(src []byte, from, to string) []byte {
	return rewriteImportsFunc(src, func(p string) (string, bool) {
		switch {
		case p == from:
			return to, true
		case strings.HasPrefix(p, from+"/"):
			return to + p[len(from):], true
		}
		return "", false
	})
}

// TestFastPath: the first build after the engine goes through the go
// command and learns the build; later saves take the fast path, whose
// plugins load into the engine the go command built beside the go
// command's own, carry the same build information, and pass Compatible.
// An import new to the plan (embed, then strings) goes back to the go
// command, which learns again (TestFastPathEmbed: //go:embed itself stays
// fast).
func TestFastPath(t *testing.T) {
	b, dir := newApp(t)
	ctx := context.Background()
	eng, err := b.BuildEngine(ctx)
	if err != nil {
		t.Fatal(err)
	}
	type step struct {
		file, content string
		route         string
	}
	steps := []step{
		{"", "", RouteGo},
		{"logic/util/util.go", "package util\n\nfunc Word() string { return \"two\" }\n", RouteFast},
		{"logic/main.go", strings.Replace(mainSrc(t, dir), "\"hello \"", "\"hi \"", 1), RouteFast},
		{"logic/util/util.go", "package util\n\nimport _ \"embed\"\n\n//go:embed word.txt\nvar word string\n\nfunc Word() string { return word }\n", RouteGo},
		{"logic/util/util.go", "package util\n\nimport \"strings\"\n\nfunc Word() string { return strings.ToUpper(\"four\") }\n", RouteGo},
		{"logic/main.go", mainSrc(t, dir), RouteFast},
	}
	write(t, filepath.Join(dir, "logic/util/word.txt"), "three")
	var sos []string
	for i, s := range steps {
		if s.file != "" {
			write(t, filepath.Join(dir, s.file), s.content)
		}
		r, err := b.BuildLogic(ctx, i+1, nil)
		if err != nil {
			t.Fatalf("v%d: %v", i+1, err)
		}
		if r.Route != s.route {
			t.Errorf("v%d took route %q (fallback: %s), want %q", i+1, r.Route, r.Fallback, s.route)
		}
		if err := Compatible(eng.Path, r.Path); err != nil {
			t.Errorf("v%d (%s): %v", i+1, r.Route, err)
		}
		sos = append(sos, r.Path)
	}
	out, err := exec.Command(eng.Path, sos...).CombinedOutput()
	if err != nil {
		t.Fatalf("engine: %v\n%s", err, out)
	}
	want := "hello one\nhello two\nhi two\nhi three\nhi FOUR\nhello FOUR\n"
	if got := string(out); got != want {
		t.Errorf("one engine loaded the versions as\n%s\nwant\n%s", got, want)
	}
	// The build information go version -m shows: only the path differs.
	info := func(so string) string {
		out, err := exec.Command("go", "version", "-m", so).CombinedOutput()
		if err != nil {
			t.Fatalf("go version -m: %v\n%s", err, out)
		}
		var keep []string
		for _, l := range strings.Split(string(out), "\n")[1:] {
			if f := strings.Fields(l); len(f) > 0 && f[0] != "path" {
				keep = append(keep, l)
			}
		}
		return strings.Join(keep, "\n")
	}
	if fast, slow := info(sos[1]), info(sos[0]); fast != slow {
		t.Errorf("build information differs:\nfast path:\n%s\ngo build:\n%s", fast, slow)
	}
}

// TestFastPathCompileError: a compile error on the fast path names the
// user's file, line and column as the go command's would, with the source
// line, and the plain printer shows that line under the message.
func TestFastPathCompileError(t *testing.T) {
	b, dir := newApp(t)
	ctx := context.Background()
	if _, err := b.BuildLogic(ctx, 1, nil); err != nil { // learns the build
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "logic/util/util.go"), "package util\n\nfunc Word() string {\n\treturn 42\n}\n")
	r, err := b.BuildLogic(ctx, 2, nil)
	if r.Route != RouteFast {
		t.Errorf("route %q (fallback: %s), want the fast path", r.Route, r.Fallback)
	}
	var be *BuildError
	if !errors.As(err, &be) || len(be.Diagnostics) == 0 {
		t.Fatalf("err = %v, want a *BuildError with diagnostics", err)
	}
	d := be.Diagnostics[0]
	if d.File != "logic/util/util.go" || d.Line != 4 || d.Col != 9 || !strings.Contains(d.Msg, "cannot use 42") || d.Source != "\treturn 42" {
		t.Errorf("diagnostic = %+v, want logic/util/util.go:4:9 cannot use 42… with its source line", d)
	}
	if strings.Contains(be.Output, "stage") {
		t.Errorf("output names the staging copy:\n%s", be.Output)
	}
	got := event.Format(event.BuildFail{Version: 2, Target: event.TargetLogic, Diagnostics: be.Diagnostics})
	if !strings.Contains(got, "logic/util/util.go:4:9: cannot use 42") || !strings.Contains(got, "\n      return 42\n             ^") {
		t.Errorf("plain printer shows\n%s\nwant the diagnostic, its source line and a caret under the column", got)
	}
}

// TestPrune: three versions, each with an edited sub-package; pruning all
// but v3 removes v1's and v2's plugins and stages, v3 still loads, and a
// fourth build whose sub-package is v1's again (staged, before the prune,
// in a stage now gone) is staged anew and loads beside v3.
func TestPrune(t *testing.T) {
	b, dir := newApp(t)
	ctx := context.Background()
	eng, err := b.BuildEngine(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var sos []string
	for i, word := range []string{"one", "two", "three"} {
		write(t, filepath.Join(dir, "logic/util/util.go"), "package util\n\nfunc Word() string { return \""+word+"\" }\n")
		r, err := b.BuildLogic(ctx, i+1, nil)
		if err != nil {
			t.Fatalf("v%d: %v", i+1, err)
		}
		sos = append(sos, r.Path)
	}
	// v4 is built after the keep list was chosen, as a build that starts
	// while the supervisor's prune waits for the build lock: it stays.
	asOf := time.Now()
	time.Sleep(10 * time.Millisecond) // past the file system's timestamp granularity
	write(t, filepath.Join(dir, "logic/util/util.go"), "package util\n\nfunc Word() string { return \"four\" }\n")
	v4, err := b.BuildLogic(ctx, 4, nil)
	if err != nil {
		t.Fatalf("v4: %v", err)
	}
	before := b.DiskUsage()
	freed, err := b.Prune(sos[2:], asOf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(v4.Path); err != nil {
		t.Errorf("v4, built after the keep list was chosen, did not survive the prune: %v", err)
	}
	if after := b.DiskUsage(); freed <= 0 || after != before-freed {
		t.Errorf("freed %d bytes; usage went from %d to %d", freed, before, after)
	}
	for _, so := range sos[:2] {
		if _, err := os.Stat(so); !os.IsNotExist(err) {
			t.Errorf("%s survived the prune: %v", so, err)
		}
	}
	for _, s := range []string{"b1", "b2"} {
		if _, err := os.Stat(filepath.Join(dir, OutDir, "stage", s)); !os.IsNotExist(err) {
			t.Errorf("stage %s survived the prune: %v", s, err)
		}
	}
	write(t, filepath.Join(dir, "logic/util/util.go"), "package util\n\nfunc Word() string { return \"one\" }\n")
	r, err := b.BuildLogic(ctx, 4, nil)
	if err != nil {
		t.Fatalf("v4 after the prune: %v", err)
	}
	out, err := exec.Command(eng.Path, sos[2], r.Path).CombinedOutput()
	if err != nil {
		t.Fatalf("engine: %v\n%s", err, out)
	}
	if got, want := string(out), "hello three\nhello one\n"; got != want {
		t.Errorf("engine loaded v3 and v4 as\n%s\nwant\n%s", got, want)
	}
}

func TestChooseLinker(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("-fuse-ld is chosen on ELF systems")
	}
	installed := ""
	for _, l := range linkerOrder {
		if _, err := exec.LookPath("ld." + l); err == nil {
			installed = l
			break
		}
	}
	for _, tt := range []struct {
		want  string
		flags []string
		got   string
	}{
		{LinkerAuto, nil, installed},
		{LinkerDefault, nil, ""},
		{"gold", nil, "gold"},
		{LinkerAuto, []string{"-s -w -extldflags=-static"}, ""},
		{"mold", []string{"-linkmode=internal"}, ""},
	} {
		if got := chooseLinker(tt.want, tt.flags...); got != tt.got {
			t.Errorf("chooseLinker(%q, %q) = %q, want %q", tt.want, tt.flags, got, tt.got)
		}
	}
}

// TestLinkers: with the linker left to the C compiler and with the one
// chosen on this machine (mold where .ci/run installed it), both routes
// build plugins that load into one engine, and the plugin says which
// linker wrote it.
func TestLinkers(t *testing.T) {
	b, dir := newApp(t)
	ctx := context.Background()
	eng, err := b.BuildEngine(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var sos []string
	for i, linker := range []string{LinkerDefault, LinkerDefault, LinkerAuto, LinkerAuto} {
		b.cfg.Linker = linker
		write(t, filepath.Join(dir, "logic/util/util.go"), fmt.Sprintf("package util\n\nfunc Word() string { return \"%d\" }\n", i+1))
		r, err := b.BuildLogic(ctx, i+1, nil)
		if err != nil {
			t.Fatalf("v%d: %v", i+1, err)
		}
		wantLinker := linkerName(chooseLinker(linker))
		if r.Linker != wantLinker {
			t.Errorf("v%d: linker %q, want %q", i+1, r.Linker, wantLinker)
		}
		// i = 0 and 2 learn the build (the flags changed); 1 and 3 are fast.
		if wantRoute := []string{RouteGo, RouteFast}[i%2]; r.Route != wantRoute {
			t.Errorf("v%d (%s linker): route %q (fallback %s), want %q", i+1, r.Linker, r.Route, r.Fallback, wantRoute)
		}
		if r.Linker == "mold" && !strings.Contains(elfComment(t, r.Path), "mold") {
			t.Errorf("v%d: asked for mold, but the .comment section does not name it", i+1)
		}
		sos = append(sos, r.Path)
	}
	out, err := exec.Command(eng.Path, sos...).CombinedOutput()
	if err != nil {
		t.Fatalf("engine: %v\n%s", err, out)
	}
	if got, want := string(out), "hello 1\nhello 2\nhello 3\nhello 4\n"; got != want {
		t.Errorf("engine loaded\n%s\nwant\n%s", got, want)
	}
}

func elfComment(t *testing.T, path string) string {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := f.Section(".comment")
	if s == nil {
		return ""
	}
	data, _ := s.Data()
	return string(data)
}

// TestFastPathAfterBadImport: a save whose import the go command can't
// resolve fails through the go command, which can't learn the build
// either; the save that fixes the import learns it, and the next is fast.
func TestFastPathAfterBadImport(t *testing.T) {
	b, dir := newApp(t)
	ctx := context.Background()
	good := "package util\n\nfunc Word() string { return \"one\" }\n"
	for i, s := range []struct {
		util  string
		route string
		fail  bool
	}{
		{"package util\n\nimport _ \"example.com/app/nope\"\n\nfunc Word() string { return \"one\" }\n", RouteGo, true},
		{good, RouteGo, false},
		{strings.Replace(good, "one", "two", 1), RouteFast, false},
	} {
		write(t, filepath.Join(dir, "logic/util/util.go"), s.util)
		r, err := b.BuildLogic(ctx, i+1, nil)
		if (err != nil) != s.fail {
			t.Fatalf("v%d: err = %v, want failure %v", i+1, err, s.fail)
		}
		if r.Route != s.route {
			t.Errorf("v%d: route %q (fallback %s), want %q", i+1, r.Route, r.Fallback, s.route)
		}
	}
}

// TestFastPathStaleOnHostEdit: an edit of a package outside the logic
// tree makes the plan stale even when no engine build dropped it; the
// next save goes through the go command and learns again.
func TestFastPathStaleOnHostEdit(t *testing.T) {
	b, dir := newApp(t)
	ctx := context.Background()
	shared := filepath.Join(dir, "shared/shared.go")
	src, err := os.ReadFile(shared)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range []struct {
		edit  func()
		route string
	}{
		{func() {}, RouteGo},
		{func() {}, RouteFast},
		// The edit is a second old, as it is when hotrun has rebuilt the
		// engine since: one made while learning is stale at once (fast.go).
		{func() {
			write(t, shared, string(src)+"\n// edited\n")
			old := time.Now().Add(-time.Second)
			os.Chtimes(shared, old, old)
		}, RouteGo},
		{func() {}, RouteFast},
	} {
		s.edit()
		r, err := b.BuildLogic(ctx, i+1, nil)
		if err != nil {
			t.Fatalf("v%d: %v", i+1, err)
		}
		if r.Route != s.route {
			t.Errorf("v%d: route %q (fallback %s), want %q", i+1, r.Route, r.Fallback, s.route)
		}
	}
}
