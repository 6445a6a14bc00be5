package hot

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestOwnModule: a fresh module that requires the library lists, in go
// list -m all, only itself and the library: requiring it raises none of
// the user's dependencies.
func TestOwnModule(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	lib, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	goLine := "go 1.26"
	for _, line := range strings.Split(string(mod), "\n") {
		if strings.HasPrefix(line, "go ") {
			goLine = line
		}
	}
	dir := t.TempDir()
	files := map[string]string{
		"go.mod":  "module example.com/user\n\n" + goLine + "\n\nrequire github.com/hotrun-dev/hotrun/hot v0.0.0\n\nreplace github.com/hotrun-dev/hotrun/hot => " + lib + "\n",
		"main.go": "package main\n\nimport \"github.com/hotrun-dev/hotrun/hot\"\n\nfunc main() { hot.New(hot.Config[func()]{}).Close() }\n",
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("go", "list", "-m", "all")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list -m all: %v\n%s", err, out)
	}
	got := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(got) != 2 || got[0] != "example.com/user" || !strings.HasPrefix(got[1], "github.com/hotrun-dev/hotrun/hot ") {
		t.Errorf("go list -m all =\n%s\nwant the module and the library alone", out)
	}
	build := exec.Command("go", "build", "-o", os.DevNull, ".")
	build.Dir = dir
	if out, err := build.CombinedOutput(); err != nil {
		t.Errorf("a program using only the library does not build: %v\n%s", err, out)
	}
}
