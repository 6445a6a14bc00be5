package gosrc

import (
	"path"
	"testing"
)

// TestRule is the rule, path by path: what a change to the file means to a
// build (Built), and whether a copy of the tree holds it (InTree).
func TestRule(t *testing.T) {
	tests := []struct {
		rel    string
		kind   Kind
		built  bool
		inTree bool
	}{
		{"main.go", Source, true, true},
		{"greet/greet.go", Source, true, true},
		{"a/b/c/deep.go", Source, true, true},
		{"asm_amd64.s", Source, true, true},
		{"wrap.c", Source, true, true},
		{"wrap.h", Source, true, true},
		{"rsrc.syso", Source, true, true},
		{"go.mod", Module, true, true},
		{"go.work.sum", Module, true, true},
		{"page.tmpl", Data, false, true},     // read when a //go:embed line names it
		{"static/app.js", Data, false, true}, // a directory without Go files belongs to the package above
		{"README.md", Data, false, true},     // could be embedded too
		{"main_test.go", Test, false, false}, // go build leaves tests out
		{"greet/greet_test.go", Test, false, false},
		{"_scratch.go", Hidden, false, false}, // go build ignores _ names
		{".x.go", Hidden, false, false},       // and . names
		{"_notes.txt", Hidden, false, false},
		{".DS_Store", Hidden, false, false},
		{"_test.go", Hidden, false, false},
		{"main.go~", Temp, false, false},       // vim, JetBrains, Emacs backups
		{"4913", Temp, false, false},           // vim's probe
		{".main.go.swp", Temp, false, false},   // vim's swap
		{"main.go.tmp123", Temp, false, false}, // atomic savers
		{"#main.go#", Temp, false, false},      // Emacs auto-save
		{".#main.go", Temp, false, false},      // Emacs lock
		{"main.go___jb_tmp___", Temp, false, false},
		{"page.tmpl.swp", Temp, false, false},
		{"testdata/t.go", Source, true, false}, // the file is a source, its directory is skipped
		{"vendor/v/v.go", Source, true, false},
		{"node_modules/m/index.go", Source, true, false},
		{"greet/testdata/in.txt", Data, false, false},
		{"_old/o.go", Source, true, false},
		{".cache/c.go", Source, true, false},
		{".hotrun/stage/b1/logic/main.go", Source, true, false},
		{"../main.go", Source, true, false},
	}
	for _, tt := range tests {
		name := path.Base(tt.rel)
		k, why := Classify(name)
		if k != tt.kind {
			t.Errorf("Classify(%q) = %d, want %d", name, k, tt.kind)
		}
		if k.Built() != tt.built {
			t.Errorf("%q: Built() = %v, want %v", tt.rel, k.Built(), tt.built)
		}
		if (why == "") != k.Built() {
			t.Errorf("Classify(%q) gives reason %q: want one exactly when it is not built", name, why)
		}
		if got := InTree(tt.rel); got != tt.inTree {
			t.Errorf("InTree(%q) = %v, want %v", tt.rel, got, tt.inTree)
		}
	}
}

// TestSkipDir: the directories nothing in hotrun enters, and some it does.
func TestSkipDir(t *testing.T) {
	for name, skip := range map[string]bool{
		"vendor": true, "node_modules": true, "testdata": true, ".git": true, ".hotrun": true, "_old": true, "..": true,
		"greet": false, "static": false, "internal": false, "vendors": false, "test": false,
	} {
		if got := SkipDir(name) != ""; got != skip {
			t.Errorf("SkipDir(%q) = %q, want skipped %v", name, SkipDir(name), skip)
		}
	}
}

// TestSum: equal content, equal digest; the zero Digest is no content.
func TestSum(t *testing.T) {
	if Sum([]byte("a")) != Sum([]byte("a")) || Sum([]byte("a")) == Sum([]byte("b")) {
		t.Fatal("Sum does not tell content apart")
	}
	if Sum(nil) == (Digest{}) {
		t.Fatal("an empty file has the zero Digest, which stands for no file")
	}
}

// TestIsEditorTemp: the save patterns of vim, JetBrains, Emacs, GIO and
// atomic savers, and names that only look like them.
func TestIsEditorTemp(t *testing.T) {
	for name, want := range map[string]bool{
		"4913": true, "5036": true, ".a.go.swp": true, ".a.go.swx": true, "a.go~": true,
		"a.go___jb_tmp___": true, "a.go___jb_old___": true, "#a.go#": true, ".#a.go": true,
		"a.go.tmp": true, "a.go.tmp123": true, "a.go.tmp.4711": true, ".goutputstream-XYZ": true,
		"a.go": false, "page.tmpl": false, "template.go": false, "go.mod": false, "swap.go": false,
		"#": false, "v1.go": false,
	} {
		if got := isEditorTemp(name); got != want {
			t.Errorf("isEditorTemp(%q) = %v, want %v", name, got, want)
		}
	}
}
