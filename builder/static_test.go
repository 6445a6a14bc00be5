package builder

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDemote(t *testing.T) {
	dir := t.TempDir()
	src := "package main\n\nimport \"fmt\"\n\nvar Logic = 1\n\nfunc Check() error { return nil }\n\nfunc main() {\n\tfmt.Println()\n}\n\nfunc helper() {}\n"
	write(t, filepath.Join(dir, "main.go"), src)
	write(t, filepath.Join(dir, "broken.go"), "package main\n\nfunc (\n")
	syms, err := demote(dir, []string{"Logic", "Check", "Migrate"})
	if err != nil {
		t.Fatal(err)
	}
	if len(syms) != 2 || !syms["Logic"] || syms["Check"] {
		t.Errorf("symbols = %v, want Logic (a variable) and Check (a function)", syms)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "main.go"))
	if !strings.HasPrefix(string(got), "package hotrunlogic\n") || strings.Contains(string(got), "func main") {
		t.Errorf("demoted file:\n%s", got)
	}
	if strings.Count(string(got), "\n") != strings.Count(src, "\n") {
		t.Error("demoting moved lines: diagnostics would point at the wrong line")
	}
	broken, _ := os.ReadFile(filepath.Join(dir, "broken.go"))
	if !strings.HasPrefix(string(broken), "package hotrunlogic\n") {
		t.Errorf("a file with a syntax error keeps package main:\n%s", broken)
	}
	reg := string(registerFile("m/.hotrun/stage/static/logic", syms))
	for _, want := range []string{`"Logic": &hotrunlogic.Logic`, `"Check": hotrunlogic.Check`, "hotrunhost.RegisterStatic"} {
		if !strings.Contains(reg, want) {
			t.Errorf("register file lacks %q:\n%s", want, reg)
		}
	}
}
