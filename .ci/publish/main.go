// Command publish writes Go modules into a module proxy directory, the
// layout GOPROXY=file://DIR reads (go help goproxy): for each module,
// DIR/<module path>/@v/<version>.zip, .mod and .info, and the version added
// to @v/list. The release check (../release-check) publishes hotrun and its
// engine library this way and installs them as a user would, before any tag
// exists.
//
// Usage:
//
//	publish -proxy DIR -version vX.Y.Z -repo GITDIR [-rev REV] SUBDIR...
//
// Each SUBDIR of the git work tree GITDIR ("." for its root) holds a
// go.mod; the module path comes from there. The zip of each is made by
// golang.org/x/mod/zip from the commit REV (HEAD by default) as the go
// command makes it from a tag: git archive's files, nested modules,
// vendor directories and symbolic links left out, and the repository's
// LICENSE added to a module in a subdirectory that has none. So its
// checksum is the one the public proxy will compute for the same tree.
//
// It is a module of its own so that golang.org/x/mod stays out of what
// `go install github.com/hotrun-dev/hotrun/cmd/hotrun` downloads.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	modzip "golang.org/x/mod/zip"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "publish:", err)
		}
		os.Exit(2)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("publish", flag.ContinueOnError)
	fs.SetOutput(stderr)
	proxy := fs.String("proxy", "", "the module proxy `dir` to write into (made when missing)")
	version := fs.String("version", "", "the `version` to publish each module at, e.g. v0.1.0")
	repo := fs.String("repo", "", "the git work `tree` the modules are in")
	rev := fs.String("rev", "HEAD", "the `commit` to publish")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *proxy == "" || *repo == "" || fs.NArg() == 0 {
		return errors.New("usage: publish -proxy DIR -version vX.Y.Z -repo GITDIR [-rev REV] SUBDIR...")
	}
	root, err := filepath.Abs(*repo)
	if err != nil {
		return err
	}
	if !semver.IsValid(*version) || semver.Canonical(*version) != *version || semver.Build(*version) != "" {
		return fmt.Errorf("-version %q: want a canonical semantic version like v0.1.0", *version)
	}
	for _, sub := range fs.Args() {
		path, err := publish(*proxy, *version, root, *rev, filepath.ToSlash(filepath.Clean(sub)))
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "published %s@%s from %s:%s\n", path, *version, *rev, sub)
	}
	return nil
}

// publish writes the module in sub of the repository at root, as commit
// rev has it, into proxy at version and returns its module path.
func publish(proxy, version, root, rev, sub string) (string, error) {
	file := "go.mod"
	if sub != "." {
		file = sub + "/go.mod"
	}
	gomod, err := exec.Command("git", "-C", root, "show", rev+":"+file).Output()
	if err != nil {
		return "", fmt.Errorf("read %s at %s: %w", file, rev, err)
	}
	f, err := modfile.ParseLax(file, gomod, nil)
	if err != nil {
		return "", err
	}
	if f.Module == nil {
		return "", fmt.Errorf("%s has no module line", file)
	}
	m := module.Version{Path: f.Module.Mod.Path, Version: version}
	if err := module.Check(m.Path, m.Version); err != nil {
		return "", err
	}
	escaped, err := module.EscapePath(m.Path)
	if err != nil {
		return "", err
	}
	vdir := filepath.Join(proxy, filepath.FromSlash(escaped), "@v")
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		return "", err
	}
	if sub == "." {
		sub = ""
	}
	var zip bytes.Buffer
	if err := modzip.CreateFromVCS(&zip, m, root, rev, sub); err != nil {
		return "", fmt.Errorf("zip %s: %w", m, err)
	}
	info, err := json.Marshal(struct {
		Version string
		Time    time.Time
	}{version, time.Now().UTC().Truncate(time.Second)})
	if err != nil {
		return "", err
	}
	for name, data := range map[string][]byte{".zip": zip.Bytes(), ".mod": gomod, ".info": info} {
		if err := os.WriteFile(filepath.Join(vdir, version+name), data, 0o644); err != nil {
			return "", err
		}
	}
	return m.Path, addToList(filepath.Join(vdir, "list"), version)
}

// addToList adds version to the proxy's version list, once.
func addToList(list, version string) error {
	b, err := os.ReadFile(list)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	versions := strings.Fields(string(b))
	if slices.Contains(versions, version) {
		return nil
	}
	versions = append(versions, version)
	semver.Sort(versions)
	return os.WriteFile(list, []byte(strings.Join(versions, "\n")+"\n"), 0o644)
}
