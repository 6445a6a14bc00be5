package scaffold

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestSharedName(t *testing.T) {
	for _, tc := range []struct{ mod, want string }{
		{"example.com/yourapp", "yourapp"},
		{"yourapp", "yourapp"},
		{"github.com/me/game/v2", "game"},
		{"example.com/my-app", "app"},
		{"example.com/MyApp", "app"},
		{"example.com/x.y", "app"},
		{"example.com/type", "app"},
		{"example.com/logic", "app"},
		{"example.com/engine", "app"},
		{"example.com/http", "app"},
		{"example.com/_x", "app"},
		{"v2", "v2"},
		{"example.com/chat2", "chat2"},
	} {
		if got := SharedName(tc.mod); got != tc.want {
			t.Errorf("SharedName(%q) = %q, want %q", tc.mod, got, tc.want)
		}
	}
}

// module makes a Go module in a temporary directory with the given files.
func module(t *testing.T, files map[string]string) string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	dir := t.TempDir()
	for name, src := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func checkout(t *testing.T) string {
	t.Helper()
	abs, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

func read(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestWriteEmptyModule(t *testing.T) {
	dir := module(t, map[string]string{"go.mod": "module example.com/yourapp\n\ngo 1.22\n"})
	repo := checkout(t)
	res, err := Write(context.Background(), Options{Dir: dir, Checkout: repo})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"engine/main.go", "yourapp/yourapp.go", "logic/main.go", "logic/greet/greet.go", "hotrun.toml"}
	if got := res.Wrote(); !slices.Equal(got, want) {
		t.Errorf("wrote %q, want %q", got, want)
	}
	if res.Shared != "yourapp" || res.Module != "example.com/yourapp" {
		t.Errorf("module %q shared %q", res.Module, res.Shared)
	}
	mod := read(t, dir, "go.mod")
	for _, line := range []string{
		"require github.com/hotrun-dev/hotrun/hot v0.0.0",
		"replace github.com/hotrun-dev/hotrun/hot => " + filepath.Join(repo, "hot"),
	} {
		if !strings.Contains(mod, line) {
			t.Errorf("go.mod lacks %q:\n%s", line, mod)
		}
	}
	// hotrun's go.mod needs a newer go line than 1.22.
	if res.GoVersion == "" || strings.Contains(mod, "go 1.22\n") {
		t.Errorf("go line not raised (GoVersion %q):\n%s", res.GoVersion, mod)
	}
	if !strings.Contains(read(t, dir, "logic/main.go"), "var Logic yourapp.Logic") {
		t.Error("logic/main.go does not export Logic of the shared type")
	}

	// Again: everything is kept, go.mod untouched.
	res, err = Write(context.Background(), Options{Dir: dir, Checkout: repo})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Wrote()) != 0 || res.Require != "" || res.Replace != "" {
		t.Errorf("second run wrote %q, require %q, replace %q", res.Wrote(), res.Require, res.Replace)
	}
	if read(t, dir, "go.mod") != mod {
		t.Error("second run changed go.mod")
	}

	if testing.Short() {
		return
	}
	// The skeleton builds: the engine, the plugin, and vet is happy.
	for _, args := range [][]string{
		{"vet", "./..."},
		{"build", "-o", os.DevNull, "./engine"},
		{"build", "-buildmode=plugin", "-o", filepath.Join(t.TempDir(), "logic.so"), "./logic"},
	} {
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// In a project with code of its own, Write adopts what it finds: it adds an
// engine wired to the user's interface and state, and hotrun.toml, and no
// second shared package; a second run finds everything and writes nothing.
func TestWriteAdopt(t *testing.T) {
	dir := module(t, map[string]string{
		"go.mod":        "module example.com/chat\n\ngo 1.26.7\n",
		"room/room.go":  roomGo,
		"logic/main.go": strings.Replace(logicGo, "var Logic room.Logic", "var Rules room.Logic", 1),
	})
	repo := checkout(t)
	res, err := Write(context.Background(), Options{Dir: dir, Checkout: repo})
	if err != nil {
		t.Fatal(err)
	}
	if res.Project == nil || res.Project.Unsure != "" {
		t.Fatalf("project %+v", res.Project)
	}
	if got, want := res.Wrote(), []string{"engine/main.go", "hotrun.toml"}; !slices.Equal(got, want) {
		t.Errorf("wrote %q, want %q", got, want)
	}
	engine := read(t, dir, "engine/main.go")
	for _, want := range []string{`"example.com/chat/room"`, "hot.Config[room.Logic]", `Symbol: "Rules"`, "state := room.NewHall()", "State:"} {
		if !strings.Contains(engine, want) {
			t.Errorf("engine/main.go lacks %q:\n%s", want, engine)
		}
	}
	conf := read(t, dir, "hotrun.toml")
	for _, want := range []string{`engine = "./engine"`, `logic = "./logic"`, "exports Rules"} {
		if !strings.Contains(conf, want) {
			t.Errorf("hotrun.toml lacks %q:\n%s", want, conf)
		}
	}
	if !strings.Contains(read(t, dir, "go.mod"), "replace github.com/hotrun-dev/hotrun/hot => "+filepath.Join(repo, "hot")) {
		t.Error("go.mod has no replace directive")
	}

	res, err = Write(context.Background(), Options{Dir: dir, Checkout: repo})
	if err != nil {
		t.Fatal(err)
	}
	if p := res.Project; p == nil || p.Unsure != "" || p.Engine == nil || !p.EngineHost || p.Symbol != "Rules" || len(res.Wrote()) != 0 || res.Require != "" {
		t.Errorf("second run: project %+v, wrote %q, require %q", p, res.Wrote(), res.Require)
	}

	if testing.Short() {
		return
	}
	for _, args := range [][]string{
		{"vet", "./..."},
		{"build", "-o", os.DevNull, "./engine"},
		{"build", "-buildmode=plugin", "-o", filepath.Join(t.TempDir(), "logic.so"), "./logic"},
	} {
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// When it can't tell the parts apart, Write writes nothing, go.mod
// included.
func TestWriteUnsure(t *testing.T) {
	files := map[string]string{
		"go.mod":         "module example.com/chat\n\ngo 1.26.7\n",
		"room/room.go":   roomGo,
		"logic/main.go":  logicGo,
		"logic2/main.go": logicGo,
	}
	dir := module(t, files)
	res, err := Write(context.Background(), Options{Dir: dir, Checkout: checkout(t)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Project == nil || res.Project.Unsure == "" {
		t.Fatalf("project %+v: want unsure", res.Project)
	}
	if len(res.Wrote()) != 0 || res.Require != "" {
		t.Errorf("wrote %q, require %q", res.Wrote(), res.Require)
	}
	var found []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			found = append(found, filepath.ToSlash(rel))
			if files[filepath.ToSlash(rel)] != read(t, dir, rel) {
				t.Errorf("%s changed", rel)
			}
		}
		return nil
	})
	if len(found) != len(files) {
		t.Errorf("files now %q", found)
	}
}

func TestWriteNoModule(t *testing.T) {
	_, err := Write(context.Background(), Options{Dir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "no go.mod") {
		t.Fatalf("err = %v, want ErrNoModule", err)
	}
}

func TestLocalCheckout(t *testing.T) {
	repo := checkout(t)
	t.Setenv(EnvSrc, repo)
	if got, err := LocalCheckout(); err != nil || got != repo {
		t.Errorf("with %s=%s: %q, %v", EnvSrc, repo, got, err)
	}
	t.Setenv(EnvSrc, t.TempDir())
	if _, err := LocalCheckout(); err == nil || !strings.Contains(err.Error(), "not a hotrun checkout") {
		t.Errorf("with %s naming an empty directory: err = %v", EnvSrc, err)
	}
	// A test binary of this module built from the checkout knows it,
	// unless it was built with -trimpath.
	t.Setenv(EnvSrc, "")
	got, err := LocalCheckout()
	if err != nil {
		t.Fatal(err)
	}
	if got != "" && got != repo {
		t.Errorf("LocalCheckout() = %q, want %q or nothing", got, repo)
	}
}
