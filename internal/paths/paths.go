// Package paths answers, once for all of hotrun, whether a path lies in a
// directory's tree, and where.
package paths

import "path/filepath"

// Within reports whether path lies in the tree at root (root itself
// included), and its path relative to root. Both are taken as they are,
// cleaned: symbolic links are not followed. The test is filepath.IsLocal of
// the relative path, so "../x" and, on Windows, another volume are out.
func Within(root, path string) (rel string, ok bool) {
	rel, err := filepath.Rel(root, path)
	if err != nil || !filepath.IsLocal(rel) {
		return "", false
	}
	return rel, true
}
