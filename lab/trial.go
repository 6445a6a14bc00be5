package lab

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/hotrun-dev/hotrun/event"
	"github.com/hotrun-dev/hotrun/hot/protocol"
)

// Some limits hotrun never meets, because it avoids them: it builds the
// engine and every plugin with one go command and one set of flags, and
// every version to a new file with a new plugin path. A lab shows them
// with a trial: beside hotrun, it builds the logic the plain way (`go
// build -buildmode=plugin ./logic`, with the flags the step names) and
// opens the plugins in labhost, a small program of the project's that
// opens plugins as a program of your own would, and publishes what
// plugin.Open returned as an [event.Trial]. The step is checked from that
// event.

// trial is an experiment a step runs beside hotrun.
type trial struct {
	what string // what it builds and opens, for people
	// prepare runs when the step opens, on the source as it is before
	// the learner's save; nil for nothing to prepare.
	prepare func(ctx context.Context, b *bench) error
	// run runs once hotrun built the step's save, and reports each open.
	run func(ctx context.Context, b *bench) ([]event.TrialOpen, error)
}

// bench is where a trial works: the lab's project, whose .hotrun/lab
// holds what it builds.
type bench struct {
	dir string // the project
	out string // dir/.hotrun/lab
}

// labhost is the program a trial opens plugins in (the file the lab
// writes into the project; see labhostSource).
const labhost = "./labhost"

// build builds pkg (a plugin when plugin is set) to out, relative to the
// bench's output directory, with flags, and returns how, for people.
func (b *bench) build(ctx context.Context, flags []string, pkg, out string, plugin bool) (string, error) {
	args := []string{"build"}
	args = append(args, flags...)
	if plugin {
		args = append(args, "-buildmode=plugin")
	}
	args = append(args, "-o", filepath.Join(b.out, out), pkg)
	// GOWORK=off: a -modfile is refused in a workspace, and the project's
	// own go.work (when it has one) lists only the project.
	if err := goCmd(ctx, b.dir, []string{"CGO_ENABLED=1", "GOWORK=off"}, args...); err != nil {
		return "", err
	}
	how := "go build"
	for _, f := range flags {
		if !strings.HasPrefix(f, "-modfile") {
			how += " " + f
		}
	}
	if plugin {
		how += " -buildmode=plugin"
	}
	return how + " " + pkg, nil
}

// host is labhost, running: it opens the plugins it is told to.
type host struct {
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Scanner
	stderr *bytes.Buffer // read once the program ended: Wait is done with it
}

// startHost builds labhost with flags and starts it.
func (b *bench) startHost(ctx context.Context, flags []string) (*host, error) {
	if _, err := b.build(ctx, flags, labhost, "labhost", false); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, filepath.Join(b.out, "labhost"))
	cmd.Dir = b.dir
	return runHost(cmd)
}

// runHost starts cmd, a program that talks as labhost does.
func runHost(cmd *exec.Cmd) (*host, error) {
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	h := &host{cmd: cmd, in: in, out: bufio.NewScanner(out), stderr: new(bytes.Buffer)}
	cmd.Stderr = h.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("lab: start labhost: %w", err)
	}
	return h, nil
}

// open asks the host to open file (relative to the bench's output
// directory), built as built says.
func (h *host) open(b *bench, file, built string) event.TrialOpen {
	o := event.TrialOpen{File: filepath.ToSlash(filepath.Join(".hotrun", "lab", file)), Built: built}
	var r struct {
		Version int    `json:"version"`
		Error   string `json:"error"`
	}
	if _, err := fmt.Fprintln(h.in, filepath.Join(b.out, file)); err != nil || !h.out.Scan() {
		// A plugin from another Go ends the program with a fatal error
		// that no recover catches. close waits for the program's end, and
		// Wait for the copy of all it wrote to stderr, its last line too.
		h.close()
		o.Error = "labhost died: " + lastLine(h.stderr.String())
		return o
	}
	if err := json.Unmarshal(h.out.Bytes(), &r); err != nil {
		o.Error = "labhost said: " + h.out.Text()
		return o
	}
	o.Version, o.Error, o.Code = r.Version, r.Error, code(r.Error)
	return o
}

// close ends the host's input, and waits for its end. It may be called
// again: the second time it does nothing.
func (h *host) close() {
	h.in.Close()
	h.cmd.Wait()
}

// code names the kind of a plugin.Open failure as the engine library
// does (hot/lookup.go): Go's plugin package gives its failures no type,
// so its words are matched here, where they are read.
func code(msg string) string {
	switch {
	case msg == "":
		return ""
	case strings.Contains(msg, "plugin already loaded"):
		return protocol.CodeAlreadyLoaded
	case strings.Contains(msg, "different version of package"):
		return protocol.CodeDifferentPackage
	}
	return protocol.CodeOther
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" && !strings.HasPrefix(l, "goroutine ") {
			return l
		}
	}
	return "(no words)"
}

// labhostSource is the program trials open plugins in. It is written into
// the project of the labs that run trials, where a learner can read it.
const labhostSource = `// Command labhost opens Go plugins the plain way, as a program of your own
// would. A lab (hotrun lab) builds it, and plugins of the logic, the ways hotrun
// never does, to show what Go does then: it reads one plugin file a line on
// stdin, opens it, and writes one JSON line with the Version its Logic
// answers, or the error.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"plugin"

	"github.com/hotrun-dev/hotrun/example/game"
)

type result struct {
	File    string ` + "`json:\"file\"`" + `
	Version int    ` + "`json:\"version,omitempty\"`" + `
	Error   string ` + "`json:\"error,omitempty\"`" + `
}

func main() {
	out := json.NewEncoder(os.Stdout)
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		r := result{File: in.Text()}
		if p, err := plugin.Open(r.File); err != nil {
			r.Error = err.Error()
		} else if s, err := p.Lookup("Logic"); err != nil {
			r.Error = err.Error()
		} else if l, ok := s.(*game.Logic); !ok {
			r.Error = fmt.Sprintf("Logic is a %T, not a *game.Logic", s)
		} else {
			r.Version = (*l).Version()
		}
		out.Encode(r)
	}
}
`

// trialFiles are the files of a lab that runs trials.
func trialFiles() map[string]string {
	return map[string]string{"labhost/main.go": labhostSource}
}

// ensureOut makes the bench's output directory.
func (b *bench) ensureOut() error { return os.MkdirAll(b.out, 0o755) }
