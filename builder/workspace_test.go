package builder

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestNewInWorkspace: a module in a workspace (a go.work above it that
// lists it and another module, as hotrun's repository runs its example) is
// the module of its own directory, not the list of the workspace's, and its
// plugin builds.
func TestNewInWorkspace(t *testing.T) {
	ws := t.TempDir()
	app := filepath.Join(ws, "app")
	if err := os.CopyFS(app, os.DirFS("testdata/app")); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(ws, "go.work"), "go 1.26\n\nuse (\n\t./app\n\t./other\n)\n")
	if err := os.MkdirAll(filepath.Join(ws, "other"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(ws, "other", "go.mod"), "module example.com/other\n\ngo 1.26\n")
	t.Setenv("GOWORK", "") // the go command finds go.work above the module

	b, err := New(context.Background(), Config{Dir: app, Engine: "./engine", Logic: "./logic"})
	if err != nil {
		t.Fatal(err)
	}
	if got := b.ModulePath(); got != "example.com/app" {
		t.Errorf("ModulePath() = %q, want example.com/app", got)
	}
	if testing.Short() {
		return
	}
	ctx := context.Background()
	if _, err := b.BuildEngine(ctx); err != nil {
		t.Fatal(err)
	}
	for n := 1; n <= 2; n++ { // the go command, then the fast path
		if _, err := b.BuildLogic(ctx, n, nil); err != nil {
			t.Fatalf("v%d: %v", n, err)
		}
	}
}
