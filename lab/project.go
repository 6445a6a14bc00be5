package lab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// A lab's project is a copy of the example, made from the files hotrun
// carries (example.go), never the learner's own files: the labs edit it.

// marker is the file that says a directory is a lab's project: only such a
// directory is reused or removed.
const marker = ".hotrun-lab"

// ErrNotProject says a directory holds files and is not a lab's project.
var ErrNotProject = errors.New("lab: the directory holds files and is not a lab's project")

// ProjectOf returns the name of the lab whose project dir is, or "".
func ProjectOf(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, marker))
	if err != nil {
		return ""
	}
	var m struct {
		Lab string `json:"lab"`
	}
	if json.Unmarshal(b, &m) != nil {
		return ""
	}
	return m.Lab
}

// Make makes the project of l in dir: the example, the lab's own files and
// edits, a go.mod that finds the engine library, and a hotrun.toml with the
// lab's probes. A dir that holds the project of l already is left as it
// is, the learner's edits in it, and Make returns false. A dir that holds
// anything else is refused with [ErrNotProject].
func Make(ctx context.Context, l *Lab, dir string) (made bool, err error) {
	switch name := ProjectOf(dir); {
	case name == l.Name:
		return false, nil
	case name != "":
		return false, fmt.Errorf("%w: %s is the project of lab %s", ErrNotProject, dir, name)
	}
	if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
		return false, fmt.Errorf("%w: %s", ErrNotProject, dir)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("lab: %w", err)
	}
	lib, err := findLibrary()
	if err != nil {
		return false, err
	}
	files, err := projectFiles(l, lib)
	if err != nil {
		return false, err
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return false, fmt.Errorf("lab: %w", err)
		}
		if err := os.WriteFile(p, []byte(files[name]), 0o644); err != nil {
			return false, fmt.Errorf("lab: %w", err)
		}
	}
	if err := settleModule(ctx, dir, lib); err != nil {
		return false, err
	}
	// The marker goes last: a project half made is no project.
	m, _ := json.Marshal(struct {
		Lab string `json:"lab"`
	}{l.Name})
	if err := os.WriteFile(filepath.Join(dir, marker), append(m, '\n'), 0o644); err != nil {
		return false, fmt.Errorf("lab: %w", err)
	}
	return true, nil
}

// projectFiles returns the files of l's project, by slash-separated path.
func projectFiles(l *Lab, lib library) (map[string]string, error) {
	files, err := exampleFiles()
	if err != nil {
		return nil, err
	}
	files["go.mod"] = goMod(files["go.mod"], lib, l.gomod)
	for name, text := range l.files {
		files[name] = text
	}
	for _, e := range l.setup {
		text, err := e.apply(files[e.file])
		if err != nil {
			return nil, fmt.Errorf("lab %s: setup: %w", l.Name, err)
		}
		files[e.file] = text
	}
	files["hotrun.toml"] = hotrunToml(l)
	return files, nil
}

// hotrunToml is the settings of a lab's session, in the project, so that
// plain `hotrun` runs it the same way.
func hotrunToml(l *Lab) string {
	var qs []string
	for _, p := range l.Probes() {
		qs = append(qs, strconv.Quote(p))
	}
	return "# hotrun.toml of a copy of hotrun's example, made by `hotrun lab " + l.Name + "`:\n" +
		"# that command runs it with the lab's steps; plain `hotrun` here runs it alone.\n" +
		"engine = \"./engine\"\nlogic = \"./logic\"\n\n" +
		"# The lab's probes: sent after every swap and engine start, shown with their answers.\n" +
		"probe = [" + strings.Join(qs, ", ") + "]\n"
}

// Probes are the requests the lab's session sends after every swap and
// engine start.
func (l *Lab) Probes() []string {
	if l.probes != nil {
		return l.probes
	}
	return defaultProbes
}

// Remove removes the project at dir, if it is a lab's.
func Remove(dir string) error {
	if ProjectOf(dir) == "" {
		if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("%w: %s (not removed)", ErrNotProject, dir)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	return nil
}
