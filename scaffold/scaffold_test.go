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
		"require github.com/hotrun-dev/hotrun v0.0.0",
		"replace github.com/hotrun-dev/hotrun => " + repo,
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

func TestWriteHalfSetUp(t *testing.T) {
	engine := "package main\n\nfunc main() {}\n"
	dir := module(t, map[string]string{
		"go.mod":         "module example.com/chat\n\ngo 1.26\n\nrequire github.com/hotrun-dev/hotrun v0.0.0\n",
		"engine/main.go": engine,
		"logic/other.go": "package main\n",
	})
	res, err := Write(context.Background(), Options{Dir: dir, Checkout: checkout(t)})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.Wrote(), []string{"chat/chat.go", "hotrun.toml"}; !slices.Equal(got, want) {
		t.Errorf("wrote %q, want %q", got, want)
	}
	kept := map[string]string{}
	for _, f := range res.Files {
		kept[f.Path] = f.Kept
	}
	for path, why := range map[string]string{
		"engine/main.go":       "exists",
		"logic/main.go":        "logic/ already holds Go files",
		"logic/greet/greet.go": "not needed by the logic already there",
	} {
		if kept[path] != why {
			t.Errorf("%s kept %q, want %q", path, kept[path], why)
		}
	}
	if read(t, dir, "engine/main.go") != engine {
		t.Error("engine/main.go was changed")
	}
	// go.mod requires hotrun already: it is the user's, left alone, with a
	// hint that it says nowhere where hotrun is.
	if res.Require != "" || res.Replace != "" || !res.NeedReplace {
		t.Errorf("require %q replace %q needReplace %v", res.Require, res.Replace, res.NeedReplace)
	}
	if strings.Contains(read(t, dir, "go.mod"), "replace") {
		t.Error("go.mod got a replace directive")
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
