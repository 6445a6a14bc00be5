package runner

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/hotrun-dev/hotrun/generate"
	"github.com/hotrun-dev/hotrun/gosrc"
	"github.com/hotrun-dev/hotrun/watcher"
)

// TestGenerators: every step is due for the first build; a change makes
// due the steps that read one of its files (a step with no inputs reads
// them all); a report of exactly what a generator wrote is dropped once,
// while a later edit of the same file, or any other file, goes on.
func TestGenerators(t *testing.T) {
	dir := t.TempDir()
	templ, _ := generate.Parse("templ generate")
	sqlc, _ := generate.Parse("sqlc generate")
	g := newGenerators([]generate.Step{templ, sqlc})
	if got := g.take(); !slices.Equal(got, []int{0, 1}) {
		t.Fatalf("first build takes %v, want both", got)
	}
	if got := g.take(); len(got) != 0 {
		t.Fatalf("taken twice: %v", got)
	}
	g.mark(dir, []string{filepath.Join(dir, "logic/views/page.templ")})
	if got := g.take(); !slices.Equal(got, []int{0}) {
		t.Errorf("a .templ edit makes %v due, want templ alone", got)
	}
	if !g.reads(dir, filepath.Join(dir, "db/query.sql")) || g.reads(dir, filepath.Join(dir, "logic/main.go")) {
		t.Error("reads: sqlc reads .sql files, nobody reads main.go")
	}
	if all := newGenerators([]generate.Step{{Run: "go generate ./..."}}); !all.reads(dir, filepath.Join(dir, "logic/main.go")) {
		t.Error("a step with no inputs reads every file")
	}

	gen := filepath.Join(dir, "page_templ.go")
	mine := filepath.Join(dir, "main.go")
	// The watcher's Change carries the digest of every file it read.
	generated, edited := gosrc.Sum([]byte("generated")), gosrc.Sum([]byte("edited by hand"))
	g.written[gen] = generated
	c := g.filter(watcher.Change{Files: []string{gen, mine}, Digests: map[string]gosrc.Digest{gen: generated, mine: edited}})
	if !slices.Equal(c.Files, []string{mine}) {
		t.Errorf("filter kept %v, want the person's file alone", c.Files)
	}
	if c := g.filter(watcher.Change{Files: []string{gen}, Digests: map[string]gosrc.Digest{gen: generated}}); !slices.Equal(c.Files, []string{gen}) {
		t.Errorf("a second report of the generated file, an edit of it, is dropped: %v", c.Files)
	}
	g.written[gen] = generated
	if c := g.filter(watcher.Change{Files: []string{gen}, Digests: map[string]gosrc.Digest{gen: edited}}); len(c.Files) != 1 {
		t.Errorf("an edit over what a generator wrote is dropped: %v", c.Files)
	}
	g.written[gen] = gosrc.Digest{} // a generator removed it
	if c := g.filter(watcher.Change{Files: []string{gen, mine}, Digests: map[string]gosrc.Digest{mine: edited}}); !slices.Equal(c.Files, []string{mine}) {
		t.Errorf("the report of a file a generator removed is kept: %v", c.Files)
	}
}
