package builder

import (
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseDiagnostics feeds the compiler-output parser what a go build
// may print, and more. It must not panic; every diagnostic names a file,
// with a line and a column that are not negative; and a file's path is
// relative exactly when the file lies inside the project (root), as the
// screen and the editors expect.
func FuzzParseDiagnostics(f *testing.F) {
	const dir, root = "/proj/app", "/proj"
	f.Fuzz(func(t *testing.T, out string) {
		ds := parseDiagnostics(out, dir, root)
		if n := strings.Count(out, "\n") + 1; len(ds) > n {
			t.Fatalf("%d diagnostics from %d lines", len(ds), n)
		}
		for _, d := range ds {
			if d.File == "" || d.Line < 0 || d.Col < 0 {
				t.Fatalf("diagnostic %+v: want a file, a line and a column ≥ 0", d)
			}
			abs := d.File
			if !filepath.IsAbs(abs) {
				if !filepath.IsLocal(abs) {
					t.Fatalf("diagnostic %+v: a relative path outside the project", d)
				}
				abs = filepath.Join(root, abs)
			}
			if rel, err := filepath.Rel(root, abs); err == nil && filepath.IsLocal(rel) && filepath.IsAbs(d.File) {
				t.Fatalf("diagnostic %+v: a file inside the project (%s) left absolute", d, rel)
			}
		}
	})
}
