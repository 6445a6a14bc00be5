package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hotrun-dev/hotrun/hot/protocol"
	"github.com/hotrun-dev/hotrun/internal/command"
	"github.com/hotrun-dev/hotrun/scaffold"
)

// This file is the one place that decides how a lab's go.mod finds the
// engine library (github.com/hotrun-dev/hotrun/hot), which the example's
// engine imports.

// library is where the engine library comes from for a lab's project.
type library struct {
	// Version is the version to require: the release this hotrun was
	// built with, or v0.0.0 with a replace directive.
	Version string
	// Dir, when set, is a local copy (a hotrun checkout's hot directory)
	// for a replace directive: a development build of hotrun has no
	// release to name.
	Dir string
}

// errNoLibrary says that this hotrun can name no engine library a lab's
// engine could build with.
var errNoLibrary = errors.New("lab: this hotrun names no released engine library and was not built from a checkout on this machine; set " + scaffold.EnvSrc + " to a hotrun checkout")

// findLibrary returns the engine library for a lab's go.mod: the version
// of it this hotrun was built with, when that is a release (`go install
// …@latest`: it is in the module cache already); otherwise the checkout a
// development build came from ($HOTRUN_SRC, or the source path recorded in
// the binary), by a replace directive.
func findLibrary() (library, error) {
	if v := protocol.LibraryVersion(); scaffold.Released(v) {
		return library{Version: v}, nil
	}
	checkout, err := scaffold.LocalCheckout()
	if err != nil {
		return library{}, fmt.Errorf("lab: %w", err)
	}
	if checkout == "" {
		return library{}, errNoLibrary
	}
	return library{Version: "v0.0.0", Dir: filepath.Join(checkout, "hot")}, nil
}

// goMod returns the lab project's go.mod: the example's module and go
// lines, the library's requirement, and extra lines a lab adds (its own
// dependencies).
func goMod(exampleMod string, lib library, extra string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "module %s\n\ngo %s\n\nrequire %s %s\n", modLine(exampleMod, "module"), modLine(exampleMod, "go"), scaffold.LibraryModule, lib.Version)
	if lib.Dir != "" {
		fmt.Fprintf(&b, "\nreplace %s => %s\n", scaffold.LibraryModule, lib.Dir)
	}
	if extra != "" {
		b.WriteString("\n" + extra)
	}
	return b.String()
}

// settleModule makes the project's module build where it lies: go.sum
// entries for a released library (`go get`, which finds it in the module
// cache that installing hotrun filled), and a go.work of its own when the
// project lies inside another workspace (a hotrun checkout's), which would
// otherwise take it for a module it does not list.
func settleModule(ctx context.Context, dir string, lib library) error {
	if lib.Dir == "" {
		if err := goCmd(ctx, dir, nil, "get", scaffold.LibraryModule+"@"+lib.Version); err != nil {
			return fmt.Errorf("lab: add the engine library %s to go.mod: %w", lib.Version, err)
		}
	}
	out, err := goOutput(ctx, dir, nil, "env", "GOWORK")
	if err != nil {
		return fmt.Errorf("lab: go env GOWORK: %w", err)
	}
	if w := strings.TrimSpace(out); w != "" && w != "off" && filepath.Dir(w) != dir {
		work := fmt.Sprintf("// The lab's own workspace: the one around it (%s) does not list this module.\ngo %s\n\nuse .\n", w, modLine(readFile(filepath.Join(dir, "go.mod")), "go"))
		if err := os.WriteFile(filepath.Join(dir, "go.work"), []byte(work), 0o644); err != nil {
			return fmt.Errorf("lab: %w", err)
		}
	}
	return nil
}

func readFile(p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}

// goCmd runs the go command in dir with env added, and returns its output
// in the error when it fails.
func goCmd(ctx context.Context, dir string, env []string, args ...string) error {
	_, err := goOutput(ctx, dir, env, args...)
	return err
}

func goOutput(ctx context.Context, dir string, env []string, args ...string) (string, error) {
	r, err := command.Run(ctx, dir, env, "go", args...)
	if err != nil {
		if msg := strings.TrimSpace(string(r.Stderr)); msg != "" {
			return string(r.Stdout), fmt.Errorf("go %s: %s", strings.Join(args, " "), msg)
		}
		return string(r.Stdout), fmt.Errorf("go %s: %w", strings.Join(args, " "), err)
	}
	return string(r.Stdout), nil
}
