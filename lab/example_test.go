package lab

import (
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
)

var update = flag.Bool("update", false, "write example.txtar again from ../example")

// TestExampleArchive checks that the example every lab copies is the
// repository's example/, file for file (labs/ aside).
func TestExampleArchive(t *testing.T) {
	src := filepath.Join("..", "example")
	var want txtar.Archive
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			if rel == "labs" || rel == ".hotrun" {
				return filepath.SkipDir
			}
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		want.Files = append(want.Files, txtar.File{Name: filepath.ToSlash(rel), Data: b})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(want.Files, func(a, b txtar.File) int { return strings.Compare(a.Name, b.Name) })
	want.Comment = []byte("The repository's example/ (labs/ aside), which every lab copies: see example.go.\nWritten by go test ./lab -update; do not edit.\n")
	b := txtar.Format(&want)
	if *update {
		if err := os.WriteFile("example.txtar", b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if string(b) != string(exampleArchive) {
		t.Fatal("example.txtar is not ../example as it is now: run go test ./lab -run TestExampleArchive -update")
	}
}
