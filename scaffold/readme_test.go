package scaffold

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The engines init writes, and the lines it prints, follow README's
// layout: hot.New, then h.Listen before h.Start, then h.Serve; each request
// through h.Handler and each other unit through h.Run; never h.Current.
func TestSkeletonFollowsREADME(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	i := strings.Index(readme, "## Laying out a project")
	j := strings.Index(readme[i:], "```go\n")
	k := strings.Index(readme[i+j+6:], "```")
	if i < 0 || j < 0 || k < 0 {
		t.Fatal(`README has no Go block under "Laying out a project"`)
	}
	layout := readme[i+j+6 : i+j+6+k]
	calls := regexp.MustCompile(`\b(hot\.New|h\.Listen|h\.Start|h\.Handler|h\.Run|h\.Serve|h\.Current)\(`)
	order := func(src string) []string {
		var out []string
		for _, m := range calls.FindAllStringSubmatch(src, -1) {
			out = append(out, m[1])
		}
		return out
	}
	want := []string{"hot.New", "h.Listen", "h.Start", "h.Handler", "h.Serve"}
	if got := order(layout); !slices.Equal(got, want) {
		t.Fatalf("README's layout calls %q; this test knows %q", got, want)
	}
	// follows checks src: the calls of the layout, Listen, Start and Serve
	// in its order, a request or unit through Handler or Run, no Current.
	follows := func(what, src string) {
		t.Helper()
		got := order(src)
		if slices.Contains(got, "h.Current") {
			t.Errorf("%s calls h.Current where a request runs:\n%s", what, src)
		}
		if !slices.Contains(got, "h.Handler") && !slices.Contains(got, "h.Run") {
			t.Errorf("%s runs no request through h.Handler or h.Run:\n%s", what, src)
		}
		at := -1
		for _, c := range []string{"hot.New", "h.Listen", "h.Start", "h.Serve"} {
			n := slices.Index(got, c)
			if n < 0 || n < at {
				t.Errorf("%s: %s missing or out of README's order (%q)", what, c, got)
			}
			at = n
		}
	}

	// The skeleton's engine: README's order exactly.
	skel := string(files("example.com/yourapp", "yourapp")[0].src)
	if got := order(skel); !slices.Equal(got, want) {
		t.Errorf("the skeleton's engine calls %q, README %q", got, want)
	}
	follows("the skeleton's engine", skel)

	// The engine init adds to a half-converted project.
	dir := module(t, map[string]string{"go.mod": "module example.com/chat\n\ngo 1.26.7\n", "room/room.go": roomGo, "logic/main.go": logicGo})
	p, err := Inspect(context.Background(), Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	src, err := p.engineSource("./engine", "engine/main.go")
	if err != nil {
		t.Fatal(err)
	}
	follows("the engine init writes", string(src))

	// The lines init prints to make a server an engine, with its call
	// sites and without.
	dir = module(t, map[string]string{"go.mod": "module example.com/chat\n\ngo 1.26.7\n", "room/room.go": roomGo, "logic/main.go": logicGo,
		"server/main.go": "package main\n\nimport (\n\t\"log\"\n\t\"net/http\"\n\n\t\"example.com/chat/room\"\n)\n\nfunc main() {\n\t_ = room.NewHall()\n\thttp.HandleFunc(\"/\", func(w http.ResponseWriter, r *http.Request) {})\n\tlog.Fatal(http.ListenAndServe(\":8080\", nil))\n}\n"})
	if p, err = Inspect(context.Background(), Options{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	follows("the lines for ./server", strings.Join(p.Todo, "\n"))
	follows("the lines for an engine with no call sites", strings.Join(p.engineLines(nil, "x"), "\n"))

	// The recipes.
	for _, name := range []string{"wshub", "notes"} {
		r := flatRecipe(t, name)
		var edits []string
		for _, e := range r.Edits {
			edits = append(edits, e.Now)
		}
		follows("the recipe for "+name, strings.Join(edits, "\n"))
	}
}
