package builder

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// embedMain is a logic main package that renders an embedded template
// directory and an embedded CSS file, as a web handler's logic does.
const embedMain = `package main

import (
	"embed"
	"strings"

	"example.com/app/logic/util"
	"example.com/app/shared"
)

//go:embed templates
var templates embed.FS

//go:embed style.css
var css string

var Logic shared.Greeter = greeter{}

type greeter struct{}

func (greeter) Greet() string {
	ents, _ := templates.ReadDir("templates")
	var out []string
	for _, e := range ents {
		b, _ := templates.ReadFile("templates/" + e.Name())
		out = append(out, strings.TrimSpace(string(b)))
	}
	return strings.Join(out, "+") + " " + strings.TrimSpace(css) + " " + util.Word()
}

func main() {}
`

// TestFastPathEmbed: a logic package with //go:embed (a template
// directory, a CSS file) stays on the fast path: an edit to an embedded
// file, a new file in an embedded directory, an edit to the Go code next
// to them and an embed in a sub-package each build fast, and the plugins,
// loaded into one engine, serve what each build embedded. A pattern that
// matches nothing goes to the go command, whose error names it.
func TestFastPathEmbed(t *testing.T) {
	b, dir := newApp(t)
	ctx := context.Background()
	eng, err := b.BuildEngine(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "logic/templates"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "logic/templates/a.html"), "<p>a1</p>")
	write(t, filepath.Join(dir, "logic/style.css"), "p{color:red}")
	write(t, filepath.Join(dir, "logic/main.go"), embedMain)
	steps := []struct {
		name          string
		file, content string
		route         string
		want          string
	}{
		{"learns", "", "", RouteGo, "<p>a1</p> p{color:red} one"},
		{"an embedded template edited", "logic/templates/a.html", "<p>a2</p>", RouteFast, "<p>a2</p> p{color:red} one"},
		{"an embedded CSS file edited", "logic/style.css", "p{color:blue}", RouteFast, "<p>a2</p> p{color:blue} one"},
		{"a new file in an embedded directory", "logic/templates/b.html", "<p>b1</p>", RouteFast, "<p>a2</p>+<p>b1</p> p{color:blue} one"},
		{"the Go code next to them", "logic/main.go", strings.Replace(embedMain, `" " + util.Word()`, `" | " + util.Word()`, 1), RouteFast, "<p>a2</p>+<p>b1</p> p{color:blue} | one"},
		{"an embed in a sub-package", "logic/util/util.go", "package util\n\nimport _ \"embed\"\n\n//go:embed word.txt\nvar word string\n\nfunc Word() string { return word }\n", RouteFast, "<p>a2</p>+<p>b1</p> p{color:blue} | two"},
		{"a sub-package's embedded file edited", "logic/util/word.txt", "three", RouteFast, "<p>a2</p>+<p>b1</p> p{color:blue} | three"},
	}
	write(t, filepath.Join(dir, "logic/util/word.txt"), "two")
	var sos, want []string
	for i, s := range steps {
		if s.file != "" {
			write(t, filepath.Join(dir, s.file), s.content)
		}
		r, err := b.BuildLogic(ctx, i+1, nil)
		if err != nil {
			t.Fatalf("v%d (%s): %v", i+1, s.name, err)
		}
		if r.Route != s.route {
			t.Errorf("v%d (%s): route %q (fallback: %s), want %q", i+1, s.name, r.Route, r.Fallback, s.route)
		}
		if err := Compatible(eng.Path, r.Path); err != nil {
			t.Errorf("v%d (%s): %v", i+1, s.name, err)
		}
		sos = append(sos, r.Path)
		want = append(want, s.want)
	}
	out, err := exec.Command(eng.Path, sos...).CombinedOutput()
	if err != nil {
		t.Fatalf("engine: %v\n%s", err, out)
	}
	if got := strings.Split(strings.TrimSpace(string(out)), "\n"); !slices.Equal(got, want) {
		t.Errorf("one engine loaded the versions as\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// A pattern that matches nothing: the go command builds (and refuses)
	// it, in its own words; the plan still holds for the save that fixes it.
	write(t, filepath.Join(dir, "logic/main.go"), strings.Replace(embedMain, "//go:embed style.css", "//go:embed style.css nothere.css", 1))
	r, err := b.BuildLogic(ctx, len(steps)+1, nil)
	var be *BuildError
	if !errors.As(err, &be) || !strings.Contains(be.Output, "nothere.css") {
		t.Errorf("a pattern matching nothing: err = %v, want the go command's error naming nothere.css", err)
	}
	if r.Route != RouteGo {
		t.Errorf("a pattern matching nothing took route %q, want the go command's", r.Route)
	}
	write(t, filepath.Join(dir, "logic/main.go"), embedMain)
	if r, err := b.BuildLogic(ctx, len(steps)+2, nil); err != nil || r.Route != RouteFast {
		t.Errorf("the fix: route %q (fallback: %s), err %v; want the fast path", r.Route, r.Fallback, err)
	}
}

// TestResolveEmbed holds resolveEmbed to the go command's rules: a
// directory embeds its files but not those starting with . or _ (unless
// all:), nor a nested module; globs match files and directories; each
// pattern lists its files sorted; a pattern with no match, or only an empty
// directory, is an error.
func TestResolveEmbed(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"t/a.html", "t/.hidden", "t/_draft.html", "t/sub/b.html", "t/mod/go.mod", "t/mod/x.txt", "s.css", "empty/.keep"} {
		p := filepath.Join(dir, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		write(t, p, f)
	}
	got, err := resolveEmbed(dir, []string{"t", "all:t/sub", "*.css", "t/*.html"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"t":         {"t/a.html", "t/sub/b.html"},
		"all:t/sub": {"t/sub/b.html"},
		"*.css":     {"s.css"},
		"t/*.html":  {"t/_draft.html", "t/a.html"},
	}
	js := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	if js(got.Patterns) != js(want) {
		t.Errorf("patterns %s\nwant     %s", js(got.Patterns), js(want))
	}
	if got.Files["t/a.html"] != filepath.Join(dir, "t/a.html") || len(got.Files) != 4 {
		t.Errorf("files %s", js(got.Files))
	}
	all, err := resolveEmbed(dir, []string{"all:t"})
	if err != nil {
		t.Fatal(err)
	}
	if wantAll := []string{"t/.hidden", "t/_draft.html", "t/a.html", "t/sub/b.html"}; !slices.Equal(all.Patterns["all:t"], wantAll) {
		t.Errorf("all:t = %q, want %q", all.Patterns["all:t"], wantAll)
	}
	for _, bad := range []string{"nothere", "empty", "../x", "t/[", "."} {
		if _, err := resolveEmbed(dir, []string{bad}); err == nil {
			t.Errorf("pattern %q: no error", bad)
		}
	}
}
