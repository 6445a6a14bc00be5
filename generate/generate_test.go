package generate

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"github.com/hotrun-dev/hotrun/gosrc"
)

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		cmd    string
		inputs []string
	}{
		{"templ generate", known["templ"]},
		{"go run github.com/a-h/templ/cmd/templ@v0.3.1118 generate", known["templ"]},
		{"/home/me/go/bin/sqlc generate", known["sqlc"]},
		{"go generate ./...", nil},
	} {
		s, err := Parse(tt.cmd)
		if err != nil || s.Run != tt.cmd || !slices.Equal(s.Inputs, tt.inputs) {
			t.Errorf("Parse(%q) = %+v, %v; want inputs %q", tt.cmd, s, err, tt.inputs)
		}
	}
	if _, err := Parse("  "); err == nil {
		t.Error("an empty command parsed")
	}
}

// TestTOML: hotrun.toml's before_build holds command lines and tables.
func TestTOML(t *testing.T) {
	var cfg struct {
		BeforeBuild []Step `toml:"before_build"`
	}
	_, err := toml.Decode(`before_build = ["templ generate", { run = "go generate ./logic", inputs = ["logic/**/*.proto"] }]`, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.BeforeBuild) != 2 || cfg.BeforeBuild[0].Run != "templ generate" || !slices.Equal(cfg.BeforeBuild[1].Inputs, []string{"logic/**/*.proto"}) {
		t.Errorf("decoded %+v", cfg.BeforeBuild)
	}
	for _, bad := range []string{`before_build = [3]`, `before_build = [{ run = "x", input = ["a"] }]`, `before_build = [{ run = "" }]`, `before_build = [{ run = "x", inputs = "a" }]`} {
		if _, err := toml.Decode(bad, &cfg); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func TestReads(t *testing.T) {
	templ, _ := Parse("templ generate")
	if !templ.Reads("logic/views/page.templ") || !templ.Reads("page.templ") || templ.Reads("logic/views/page_templ.go") {
		t.Error("templ's inputs")
	}
	if any := (Step{Run: "x"}); !any.Reads("anything.go") {
		t.Error("a step with no inputs reads everything")
	}
}

// TestExecuteWritten: a step runs in the module; what it wrote (a new
// file, a changed one, a removed one) is told apart from what it did not
// touch, skipped directories aside; a failure carries the output.
func TestExecuteWritten(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"keep.go", "change.go", "gone.go", ".hotrun/x"} {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755)
		os.WriteFile(filepath.Join(dir, f), []byte(f), 0o644)
	}
	before := Snapshot(dir)
	r := Step{Run: "echo made > new_gen.go; echo more >> change.go; rm gone.go; echo x > .hotrun/y; echo said"}.Execute(context.Background(), dir)
	if r.Err != nil || strings.TrimSpace(r.Output) != "said" {
		t.Fatalf("%+v", r)
	}
	w := Written(before, Snapshot(dir))
	var got []string
	for f, h := range w {
		got = append(got, filepath.Base(f)+map[bool]string{true: "(gone)", false: ""}[h == gosrc.Digest{}])
	}
	slices.Sort(got)
	if want := []string{"change.go", "gone.go(gone)", "new_gen.go"}; !slices.Equal(got, want) {
		t.Errorf("written %q, want %q", got, want)
	}
	if made, _ := os.ReadFile(filepath.Join(dir, "new_gen.go")); w[filepath.Join(dir, "new_gen.go")] != gosrc.Sum(made) {
		t.Error("the hash of a written file")
	}
	r = Step{Run: "echo bad input >&2; exit 3"}.Execute(context.Background(), dir)
	if r.Err == nil || !strings.Contains(r.Output, "bad input") || !strings.Contains(r.Err.Error(), "exit status 3") {
		t.Errorf("a failing step: %+v", r)
	}
}
