package scaffold

import (
	"archive/zip"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A hotrun installed from a version requires the engine library at the
// version it was built with, through go get: a plain requirement, its
// checksums in go.sum, no replace directive; the skeleton then builds from
// the module proxy alone.
func TestWriteRelease(t *testing.T) {
	dir := module(t, map[string]string{"go.mod": "module example.com/yourapp\n\ngo 1.22\n"})
	proxy := publishLibrary(t, "v0.1.0")
	t.Setenv("GOPROXY", "file://"+filepath.ToSlash(proxy))
	t.Setenv("GONOSUMDB", hotrunModule) // published nowhere but here
	t.Setenv("GOMODCACHE", t.TempDir())
	t.Setenv("GOFLAGS", "-modcacherw") // so that the test can remove it
	t.Setenv("GOTOOLCHAIN", "local")

	res, err := Write(context.Background(), Options{Dir: dir, Library: "v0.1.0"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Require != LibraryModule+" v0.1.0" || res.Replace != "" || res.NoLibrary || res.Required != "" {
		t.Errorf("require %q, replace %q, no library %v, required %q", res.Require, res.Replace, res.NoLibrary, res.Required)
	}
	mod := read(t, dir, "go.mod")
	if !strings.Contains(mod, "require "+LibraryModule+" v0.1.0\n") || strings.Contains(mod, "replace") {
		t.Errorf("go.mod:\n%s", mod)
	}
	if !strings.Contains(read(t, dir, "go.sum"), LibraryModule+" v0.1.0 h1:") {
		t.Error("go.sum has no checksum of the library")
	}
	if res.GoVersion == "" || strings.Contains(mod, "go 1.22\n") {
		t.Errorf("go line not raised (GoVersion %q):\n%s", res.GoVersion, mod)
	}

	// A hotrun of another version: go.mod's requirement is the user's and
	// stays; the result names it.
	res, err = Write(context.Background(), Options{Dir: dir, Library: "v0.2.0"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Required != "v0.1.0" || res.Require != "" || read(t, dir, "go.mod") != mod {
		t.Errorf("with hotrun v0.2.0: required %q, require %q, go.mod now:\n%s", res.Required, res.Require, read(t, dir, "go.mod"))
	}

	if testing.Short() {
		return
	}
	t.Setenv("GOPROXY", "off") // from what go get fetched, nothing more
	for _, args := range [][]string{
		{"build", "-o", os.DevNull, "./engine"},
		{"build", "-buildmode=plugin", "-o", filepath.Join(t.TempDir(), "logic.so"), "./logic"},
	} {
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// A hotrun built from a checkout has no release to name: without a
// checkout for a replace directive (-local), go.mod is left alone and the
// result says so.
func TestWriteDevel(t *testing.T) {
	const gomod = "module example.com/yourapp\n\ngo 1.26.7\n"
	dir := module(t, map[string]string{"go.mod": gomod})
	res, err := Write(context.Background(), Options{Dir: dir, Library: "(devel)"})
	if err != nil {
		t.Fatal(err)
	}
	if !res.NoLibrary || res.Require != "" || res.Replace != "" {
		t.Errorf("no library %v, require %q, replace %q", res.NoLibrary, res.Require, res.Replace)
	}
	if len(res.Wrote()) == 0 {
		t.Error("wrote no skeleton")
	}
	if got := read(t, dir, "go.mod"); got != gomod {
		t.Errorf("go.mod changed:\n%s", got)
	}
}

// A module inside a directory whose go.work does not list it (a module
// made inside a hotrun checkout, next to hotrun's go.work) is read as a
// module of its own: its packages are found and adopted, not taken for an
// empty module.
func TestWriteForeignWorkspace(t *testing.T) {
	ws := module(t, map[string]string{
		"go.work":           "go 1.26.7\n\nuse ./other\n",
		"other/go.mod":      "module example.com/other\n\ngo 1.26.7\n",
		"app/go.mod":        "module example.com/chat\n\ngo 1.26.7\n",
		"app/room/room.go":  roomGo,
		"app/logic/main.go": logicGo,
	})
	t.Setenv("GOWORK", "") // found by the go command, above the module
	dir := filepath.Join(ws, "app")
	res, err := Write(context.Background(), Options{Dir: dir, Checkout: checkout(t)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Project == nil || res.Project.Unsure != "" || res.Project.Logic == nil || res.Project.Logic.Dir != "./logic" {
		t.Fatalf("project %+v: want the chat's parts found", res.Project)
	}
	if !strings.Contains(read(t, dir, "go.mod"), "replace "+LibraryModule+" => ") {
		t.Errorf("go.mod:\n%s", read(t, dir, "go.mod"))
	}
}

// publishLibrary makes a module proxy directory (GOPROXY=file://…) that
// serves this checkout's engine library at version, and returns it.
func publishLibrary(t *testing.T, version string) string {
	t.Helper()
	proxy := t.TempDir()
	src := filepath.Join(checkout(t), "hot")
	vdir := filepath.Join(proxy, filepath.FromSlash(LibraryModule), "@v")
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(vdir, version+".zip"))
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		w, err := zw.Create(LibraryModule + "@" + version + "/" + filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	})
	if err == nil {
		err = zw.Close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile(filepath.Join(src, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{
		version + ".mod":  string(gomod),
		version + ".info": `{"Version":"` + version + `"}`,
		"list":            version + "\n",
	} {
		if err := os.WriteFile(filepath.Join(vdir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return proxy
}
