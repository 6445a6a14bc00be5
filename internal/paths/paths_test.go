package paths

import (
	"path/filepath"
	"testing"
)

func TestWithin(t *testing.T) {
	root := filepath.FromSlash("/p/mod")
	tests := []struct {
		path, rel string
		ok        bool
	}{
		{"/p/mod", ".", true},
		{"/p/mod/logic/main.go", "logic/main.go", true},
		{"/p/mod/../mod/x.go", "x.go", true},
		{"/p/module/x.go", "", false}, // a prefix, not a parent
		{"/p/x.go", "", false},
		{"/elsewhere", "", false},
		{"relative/x.go", "", false}, // Rel of a relative and an absolute path fails
	}
	for _, tt := range tests {
		rel, ok := Within(root, filepath.FromSlash(tt.path))
		if ok != tt.ok || rel != filepath.FromSlash(tt.rel) {
			t.Errorf("Within(%q, %q) = %q, %v; want %q, %v", root, tt.path, rel, ok, tt.rel, tt.ok)
		}
	}
}
