package lab

import (
	_ "embed"
	"fmt"
	"strings"

	"github.com/rogpeppe/go-internal/txtar"
)

// exampleArchive is the repository's example/ (the engine, the shared
// package game and the logic), labs/ left out, as a txtar archive. A lab's
// project is a copy of it, so hotrun installed with `go install` carries
// the example with it. It can't be the directory itself: example/ is a
// module of its own (its go.mod), and go:embed takes no file of another
// module. TestExampleArchive keeps the two the same (go test ./lab
// -update writes it again).
//
//go:embed example.txtar
var exampleArchive []byte

// exampleFiles returns the example's files by slash-separated path.
func exampleFiles() (map[string]string, error) {
	a := txtar.Parse(exampleArchive)
	files := make(map[string]string, len(a.Files))
	for _, f := range a.Files {
		files[f.Name] = string(f.Data)
	}
	if _, ok := files["go.mod"]; !ok {
		return nil, fmt.Errorf("lab: the embedded example has no go.mod")
	}
	return files, nil
}

// modLine returns the value of the first line of a go.mod file that starts
// with the word key ("module", "go"), or "".
func modLine(gomod, key string) string {
	for _, line := range strings.Split(gomod, "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == key {
			return strings.Trim(f[1], `"`)
		}
	}
	return ""
}
