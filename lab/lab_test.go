package lab

import (
	"go/format"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestReferenceEdits checks, without building anything, that every lab's
// project can be made and that its reference edits, made step after step
// as -check makes them, fit the files they edit and leave Go that parses.
// (`hotrun lab -check` runs them for real: cmd/hotrun's TestLabCheck.)
func TestReferenceEdits(t *testing.T) {
	for _, l := range All() {
		files, err := projectFiles(l, library{Version: "v0.0.0", Dir: "/hotrun/hot"})
		if err != nil {
			t.Errorf("%s: %v", l.Name, err)
			continue
		}
		if len(l.steps) < 2 || len(l.steps) > 4 {
			t.Errorf("%s has %d steps; a lab has 2 to 4", l.Name, len(l.steps))
		}
		for i, st := range l.steps {
			if st.title == "" || st.goal == "" || st.did == "" || st.rule == "" || !strings.HasPrefix(st.link, "https://") || st.expect == nil {
				t.Errorf("%s step %d: a title, a goal, what hotrun did, the rule, a link and a check, please", l.Name, i+1)
			}
			if len(st.saves) == 0 && st.key == "" {
				t.Errorf("%s step %d has no reference edit and no key: -check can't do it", l.Name, i+1)
			}
			if st.file != "" && st.at != "" && !strings.Contains(files[st.file], st.at) {
				t.Errorf("%s step %d points at %q, which %s does not hold when the step opens", l.Name, i+1, st.at, st.file)
			}
			for _, save := range st.saves {
				for _, e := range save {
					text, err := e.apply(files[e.file])
					if err != nil {
						t.Errorf("%s step %d: %v", l.Name, i+1, err)
						continue
					}
					files[e.file] = text
				}
			}
			for name, text := range files {
				if strings.HasSuffix(name, ".go") {
					if _, err := format.Source([]byte(text)); err != nil {
						t.Errorf("%s step %d leaves %s unparsable: %v", l.Name, i+1, name, err)
					}
				}
			}
		}
	}
}

// TestNames checks that every lab has a name of its own, and a limit.
func TestNames(t *testing.T) {
	seen := map[string]bool{}
	for _, l := range All() {
		if l.Name == "" || l.Limit == "" || seen[l.Name] {
			t.Errorf("lab %q: a name of its own and a limit, please", l.Name)
		}
		seen[l.Name] = true
		if Find(l.Name) == nil {
			t.Errorf("Find(%q) = nil", l.Name)
		}
	}
	if Find("nope") != nil {
		t.Error("Find found a lab that does not exist")
	}
}

// TestLabsNamed checks that every lab hotrun's messages name (`hotrun lab
// NAME`, where the limit is hit in a project of the user's own) exists.
func TestLabsNamed(t *testing.T) {
	// In words, or as the lab argument of the supervisor's replaceTaught.
	named := regexp.MustCompile(`hotrun lab ([a-z][a-z-]*[a-z])|replaceTaught\(.*, "([a-z][a-z-]*[a-z])"\)`)
	files, _ := filepath.Glob("../hot/*.go")
	for _, dir := range []string{"../runner", "../builder", "../tui", "."} {
		more, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		files = append(files, more...)
	}
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range named.FindAllStringSubmatch(string(b), -1) {
			n++
			if name := m[1] + m[2]; Find(name) == nil {
				t.Errorf("%s names hotrun lab %s, which does not exist", f, name)
			}
		}
	}
	if n < 8 {
		t.Errorf("hotrun's messages name %d labs; the limits they explain have more", n)
	}
}
